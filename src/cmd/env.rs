//! `mfaexec env`: the session as shell code for the current shell.

use std::io::Write;

use crate::cli::EnvArgs;
use crate::environ::Environment;
use crate::error::{Error, Result};
use crate::{shell, vars};

pub fn run(args: &EnvArgs, env: &Environment) -> Result<()> {
    let plan = super::plan(&args.session, env)?;
    if args.session.dry_run {
        print!("{}", super::dry_run_report(&plan, &args.session));
        return Ok(());
    }
    let session = super::session(&plan, &args.session, env)?;
    let text = shell::render(args.format, &vars::for_session(&plan, &session))?;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        // A reader that went away (`mfaexec env prod | head -1`) is not our failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::new(format!("cannot write to stdout: {e}"))),
    }
}
