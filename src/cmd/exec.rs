//! `mfaexec exec`: replaces mfaexec with the command, the session's credentials in its
//! environment only. After exec nothing of mfaexec remains: exit code, signals and terminal are
//! the command's.

use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::cli::ExecArgs;
use crate::error::{Error, Result};
use crate::output::vars::{self, Vars};
use crate::run::command::{child_environment, command_line, find_program};
use crate::sys::environ::Environment;

pub fn run(args: &ExecArgs, env: &Environment, terminal: crate::sys::tty::Terminal) -> Result<()> {
    let plan = super::plan(&args.session, env)?;
    if args.server {
        return crate::run::server::run(args, &plan, env, terminal);
    }
    let argv = command_line(&args.command, env);
    if args.session.dry_run {
        let shown: Vec<String> = argv
            .iter()
            .map(|a| shell_words::quote(&a.to_string_lossy()).into_owned())
            .collect();
        let report = crate::output::report::dry_run_report(&plan, &args.session, env)?;
        return crate::output::print_stdout(&format!(
            "{report}{:<11} {}\n",
            "command",
            shown.join(" ")
        ));
    }
    // Find the program before asking for a code: a typo must not cost an MFA code.
    let program = find_program(&argv[0], &child_environment(env, &Vars::removing()))?;
    let session = crate::session::session(
        &plan,
        &args.session,
        env,
        crate::sys::tty::Asking::Terminal(terminal),
    )?;
    Err(start(&plan, &session, &program, &argv, args, env))
}

/// `mfaexec`'s own run, not mfaexec-core's: `run` for a session the cache holds. It then does
/// not return: the command replaces mfaexec. It returns in every other case (a miss, a
/// renewal, `--server`, `--dry-run`, `-v`, any error), having printed and changed nothing, and
/// mfaexec-core starts over with the same arguments.
pub fn run_cached(args: &ExecArgs, env: &Environment) {
    if args.server {
        return;
    }
    let Some((plan, session)) = super::cached(&args.session, env) else {
        return;
    };
    let argv = command_line(&args.command, env);
    let Ok(program) = find_program(&argv[0], &child_environment(env, &Vars::removing())) else {
        return;
    };
    super::hit_said(env);
    // A command that cannot be started is reported by mfaexec-core, from its own attempt.
    let _ = start(&plan, &session, &program, &argv, args, env);
}

/// Replaces mfaexec with the command, the session in its environment; returns only the error
/// of a command that could not be started.
fn start(
    plan: &crate::config::profile::Plan,
    session: &crate::creds::Session,
    program: &std::path::Path,
    argv: &[std::ffi::OsString],
    args: &ExecArgs,
    env: &Environment,
) -> Error {
    let vars = vars::for_session(plan, session);
    let child_env = child_environment(env, &vars);
    if args.command.is_empty() {
        crate::say!(
            "mfaexec: starting {} with the credentials of profile `{}`; exit it to drop them",
            program.display(),
            plan.profile
        );
    }
    if args.session.verbose {
        crate::say!("mfaexec: exec {}", program.display());
    }
    crate::sys::coredump::restore_for_exec();
    let error = Command::new(program)
        .arg0(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .envs(child_env)
        .exec();
    // exec only returns on failure.
    Error::exec_failed(program.display(), &error)
}
