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

/// Columns aligned on the widest cell, two spaces apart, the last one unpadded, no space at the
/// end of a line: the tables of `list`, `warm` and `serve --status`. The cells are shown as
/// they are (escape control characters before).
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(str::to_owned);
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
