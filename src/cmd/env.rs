//! `mfaexec env`: the session as shell code for the current shell.

use crate::cli::EnvArgs;
use crate::error::Result;
use crate::output::{shell, vars};
use crate::sys::environ::Environment;

pub fn run(args: &EnvArgs, env: &Environment, terminal: crate::sys::tty::Terminal) -> Result<()> {
    let plan = super::plan(&args.session, env)?;
    if args.session.dry_run {
        return crate::output::print_stdout(&crate::output::report::dry_run_report(
            &plan,
            &args.session,
            env,
        )?);
    }
    let session = crate::session::session(
        &plan,
        &args.session,
        env,
        crate::sys::tty::Asking::Terminal(terminal),
    )?;
    let text = shell::render(args.format, &vars::for_session(&plan, &session))?;
    crate::output::print_stdout(&text)
}
