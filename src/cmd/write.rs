//! `mfaexec write` (being built in this change).

use crate::cli::WriteArgs;
use crate::environ::Environment;
use crate::error::{Error, Result};

pub fn run(_args: &WriteArgs, _env: &Environment) -> Result<()> {
    Err(Error::new("write: being built"))
}
