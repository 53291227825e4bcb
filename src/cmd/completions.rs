//! `mfaexec completions` (being built in this change).

use crate::cli::CompletionsArgs;
use crate::environ::Environment;
use crate::error::{Error, Result};

pub fn run(_args: &CompletionsArgs, _env: &Environment) -> Result<()> {
    Err(Error::new("completions: being built"))
}

pub fn man(_env: &Environment) -> Result<()> {
    Err(Error::new("man: being built"))
}
