//! `mfaexec use` (being built in this change).

use crate::cli::UseArgs;
use crate::environ::Environment;
use crate::error::{Error, Result};

pub fn run(_args: &UseArgs, _env: &Environment) -> Result<()> {
    Err(Error::new("use: being built"))
}
