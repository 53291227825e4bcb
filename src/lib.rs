//! mfaexec: MFA-protected AWS credentials for a whole working day, handed only to the command
//! that needs them.
//!
//! Two programs share this library. `mfaexec` (src/main.rs), the one users run, does a cache hit
//! of `mfaexec PROFILE -- CMD` by itself and hands every other run, unchanged, to
//! `mfaexec-core` (src/core.rs), which does everything: a hit pays at its start for the whole
//! binary it runs (its relocations, its symbol look-ups, its pages), and everything is most of
//! 8 MB that a hit never runs (docs/performance.md). Both start in `sys::startup`, not in std's
//! `main` wrapper: see there for why.

mod aws;
mod cli;
mod cmd;
mod config;
mod creds;
mod error;
mod keys;
mod mfa;
mod output;
mod run;
mod session;
mod sys;

use std::io::Write;

use cli::Command;
use sys::environ::Environment;

/// `mfaexec`: a cache hit of `mfaexec PROFILE -- CMD` becomes the command here, and one of
/// `credential-process` prints its JSON; anything else
/// (another subcommand, a miss, `--server`, an error to report) becomes `mfaexec-core` with the
/// same arguments and environment, before anything is printed or changed. Returns only when
/// neither could be started.
pub fn front() -> i32 {
    sys::startup::prepare();
    // Before any secret is read, as in `core`: no core file of mfaexec may hold one.
    sys::coredump::forbid();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(command) = cli::parse_hit(&args).map(|cli| cli.command) {
        // The SDK's warnings wait: said on a hit, left to mfaexec-core, which parses the files
        // again, otherwise.
        sys::sdklog::install_held();
        let env = Environment::from_process();
        sys::process::note_depth(&env);
        match &command {
            Command::Exec(exec) => cmd::exec::run_cached(exec, &env),
            Command::CredentialProcess(args) => {
                if let Some(result) = cmd::credential_process::run_cached(args, &env) {
                    return exit_code(result);
                }
            }
            _ => {}
        }
    }
    exit_code(Err(run::handover::to_core(&args)))
}

/// `mfaexec-core`: parse, dispatch, print the error, exit.
pub fn core() -> i32 {
    sys::startup::prepare();
    run()
}

/// The exit code.
fn run() -> i32 {
    // Before any secret is read (issue 10): no core file of mfaexec may hold one.
    sys::coredump::forbid();
    let cli = match cli::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(word) = misplaced_command(&e) {
                let err = error::Error::usage(format!(
                    "unexpected argument `{word}`: the command goes after `--`"
                ))
                .hint(format!("mfaexec PROFILE -- {word} ..."));
                let _ = std::io::stderr().write_all(err.render().as_bytes());
                return 2;
            }
            // --help and --version are "errors" to clap; they print to stdout and exit 0.
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let verbose = match &cli.command {
        Command::Exec(a) => a.session.verbose,
        Command::Env(a) => a.session.verbose,
        Command::Login(a) => a.session.verbose,
        Command::CredentialProcess(a) => a.session.verbose,
        Command::Write(a) => a.session.verbose,
        Command::Warm(a) => a.verbose,
        _ => false,
    };
    sys::sdklog::install(verbose);
    let env = Environment::from_process();
    sys::process::note_depth(&env);
    // What the daemon left for the user (a session only a typed code can renew); not in the
    // daemon itself, nor in the hidden start of a `--server` command.
    if !matches!(cli.command, Command::Serve(_) | Command::Launch(_)) {
        run::daemon::notices::show(&env);
    }
    // The one right to read the terminal: the commands pass it down to every prompt; a
    // `--server` renewal, on a thread of its own, cannot hold it (issue 18, defect 2).
    let terminal = sys::tty::Terminal::take().expect("main takes the terminal once");
    let result = match &cli.command {
        Command::Exec(args) => cmd::exec::run(args, &env, terminal),
        Command::Env(args) => cmd::env::run(args, &env, terminal),
        Command::List(args) => cmd::list::run(args, &env),
        Command::Clear(args) => cmd::clear::run(args, &env),
        Command::Login(args) => cmd::login::run(args, &env, terminal),
        Command::Warm(args) => cmd::warm::run(args, &env, terminal),
        Command::Serve(args) => cmd::serve::run(args, &env),
        Command::CredentialProcess(args) => cmd::credential_process::run(args, &env, terminal),
        Command::Write(args) => cmd::write::run(args, &env, terminal),
        Command::Use(args) => cmd::use_::run(args, &env),
        Command::Rotate(args) => cmd::rotate::run(args, &env, terminal),
        Command::Init(args) => cmd::init::run(args, &env),
        Command::Add(args) => cmd::add::run(args, &env, terminal),
        Command::Import(args) => cmd::import::run(args, &env, terminal),
        Command::Remove(args) => cmd::remove::run(args, &env, terminal),
        Command::Completions(args) => cmd::completions::run(args, &env),
        Command::Man => cmd::completions::man(&env),
        Command::Launch(args) => Err(run::child::start_command(
            args.parent,
            &args.program,
            &args.argv,
        )),
    };
    exit_code(result)
}

/// The exit code of a run, its error said on stderr.
fn exit_code(result: error::Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().write_all(e.render().as_bytes());
            u8::try_from(e.code()).map_or(1, i32::from)
        }
    }
}

/// `mfaexec prod terraform plan`: a word where the command should follow `--`.
fn misplaced_command(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(word)) if !word.starts_with('-') => Some(word.clone()),
        _ => None,
    }
}
