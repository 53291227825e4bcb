//! `mfaexec credential-process` (being built in this change).

use crate::cli::CredentialProcessArgs;
use crate::environ::Environment;
use crate::error::{Error, Result};

pub fn run(_args: &CredentialProcessArgs, _env: &Environment) -> Result<()> {
    Err(Error::new("credential-process: being built"))
}
