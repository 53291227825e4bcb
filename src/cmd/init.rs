//! `mfaexec init` (being built in this change).

use crate::cli::InitArgs;
use crate::environ::Environment;
use crate::error::{Error, Result};

pub fn run(_args: &InitArgs, _env: &Environment) -> Result<()> {
    Err(Error::new("init: being built"))
}
