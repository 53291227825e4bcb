//! What mfaexec hands to others, rendered: the child's variables, export lines for each shell,
//! and the credentials-file writer. Uses `session`, `config`, `creds` and `sys`.

pub mod credfile;
#[cfg(test)]
mod properties;
pub mod report;
pub mod shell;
pub mod vars;

use crate::error::{Error, Result};

/// Writes to stdout; a reader that went away (`mfaexec env prod | head -1`) ends the output
/// quietly, as for any Unix filter, instead of a panic.
pub fn print_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::new(format!("cannot write to stdout: {e}"))),
    }
}
