//! `mfaexec env`: the session as shell code for the current shell.

use crate::cli::EnvArgs;
use crate::environ::Environment;
use crate::error::Result;
use crate::{shell, vars};

pub fn run(args: &EnvArgs, env: &Environment) -> Result<()> {
    let plan = super::plan(&args.session, env)?;
    if args.session.dry_run {
        return super::print_stdout(&super::dry_run_report(&plan, &args.session, env)?);
    }
    let session = crate::obtain::session(&plan, &args.session, env)?;
    let text = shell::render(args.format, &vars::for_session(&plan, &session))?;
    super::print_stdout(&text)
}
