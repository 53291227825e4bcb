//! `mfaexec env`: the session as shell code for the current shell; with `--server`, the
//! variables of the credentials daemon instead of keys.

use crate::cli::{EnvArgs, Format};
use crate::error::{Error, Result};
use crate::output::{shell, vars};
use crate::sys::environ::Environment;
use crate::sys::tty::{Asking, Terminal};

pub fn run(args: &EnvArgs, env: &Environment, terminal: Terminal) -> Result<()> {
    let plan = super::plan(&args.session, env)?;
    if args.server {
        return served(args, &plan, env, terminal);
    }
    if args.session.dry_run {
        return crate::output::print_stdout(&crate::output::report::dry_run_report(
            &plan,
            &args.session,
            env,
        )?);
    }
    let session = crate::session::session(&plan, &args.session, env, Asking::Terminal(terminal))?;
    let text = shell::render(args.format, &vars::for_session(&plan, &session))?;
    crate::output::print_stdout(&text)
}

/// `env --server`: the session obtained here (prompting in this terminal when a code is
/// needed), handed to the daemon, which is started when none runs; the shell gets the
/// endpoint's URI and a token for this profile alone, and loses any keys it held.
fn served(
    args: &EnvArgs,
    plan: &crate::config::profile::Plan,
    env: &Environment,
    terminal: Terminal,
) -> Result<()> {
    if args.format == Format::Json {
        return Err(Error::usage(
            "--server prints the variables of the daemon's endpoint, not the credential_process JSON",
        )
        .hint("leave out --format json, or use `mfaexec credential-process PROFILE`"));
    }
    if args.session.dry_run {
        let mut report = crate::output::report::dry_run_plan(plan, &args.session, env)?;
        report.push_str(&format!(
            "{:<11} the credentials daemon (mfaexec serve; started if it is not running) gets the session and a token for this profile\n",
            "server"
        ));
        if let Err(e) = crate::run::server::refuse_default_keys(env) {
            report.push_str(&format!("{:<11} refused: {}\n", "note", e.message()));
        }
        report.push_str(&crate::output::report::vars_report(&vars::for_server(
            plan,
            "http://127.0.0.1:<port>/profile/<profile>",
            "****",
        )));
        return crate::output::print_stdout(&report);
    }
    crate::run::server::refuse_default_keys(env)?;
    let session = crate::session::session(plan, &args.session, env, Asking::Terminal(terminal))?;
    let daemon = crate::run::daemon::client::start(env, false)?;
    let client = format!("env --server, pid {}", nix::unistd::getppid().as_raw());
    let granted = daemon.grant(plan, &args.session, env, &session, &client)?;
    let text = shell::render(
        args.format,
        &vars::for_server(plan, &granted.uri, granted.token.expose()),
    )?;
    crate::output::print_stdout(&text)
}
