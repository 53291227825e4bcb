//! What mfaexec hands to others, rendered: the child's variables, export lines for each shell,
//! and the credentials-file writer. Uses `session`, `config`, `creds` and `sys`.

pub mod credfile;
#[cfg(test)]
mod properties;
pub mod shell;
pub mod vars;
