//! Where the MFA code comes from: `--token-code`, else a prompt on the terminal itself
//! (`/dev/tty`), never stdin/stdout, so `eval "$(mfaexec env prod)"` and pipes keep working.

use std::fs::OpenOptions;
use std::io::Write;

use crate::error::{Error, Result};

/// How many malformed entries are asked again before giving up (EOF on the terminal would
/// otherwise loop for ever).
const MALFORMED_TRIES: usize = 5;

pub fn is_code(text: &str) -> bool {
    text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit())
}

/// A code given on the command line, checked before any call.
pub fn from_flag(text: &str) -> Result<String> {
    let code = text.trim();
    if is_code(code) {
        Ok(code.to_owned())
    } else {
        Err(
            Error::usage("--token-code: the MFA code must be exactly 6 digits")
                .hint("pass the code your MFA device shows now, e.g. -t 123456"),
        )
    }
}

/// The terminal, if this process has one.
pub fn has_terminal() -> bool {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

pub fn no_terminal(serial: &str) -> Error {
    Error::new(format!(
        "an MFA code is needed for {serial}, but there is no terminal to ask on"
    ))
    .hint("pass the code with -t CODE, or run mfaexec from a terminal")
}

/// Tells the user something on the terminal (not stderr, which may be captured).
pub fn say(text: &str) {
    if let Ok(mut tty) = OpenOptions::new().write(true).open("/dev/tty") {
        let _ = writeln!(tty, "{text}");
    }
}

/// Asks on the terminal until a 6-digit code is typed.
pub fn prompt(serial: &str) -> Result<String> {
    if !has_terminal() {
        return Err(no_terminal(serial));
    }
    for _ in 0..MALFORMED_TRIES {
        let typed = rpassword::prompt_password(format!("Enter MFA code for {serial}: "))
            .map_err(|e| Error::new(format!("cannot read the MFA code from the terminal: {e}")))?;
        let code = typed.trim();
        if is_code(code) {
            return Ok(code.to_owned());
        }
        say("mfaexec: an MFA code is 6 digits; try again");
    }
    Err(Error::new(format!(
        "no 6-digit MFA code for {serial} after {MALFORMED_TRIES} tries"
    ))
    .hint("type the 6 digits your MFA device shows, or pass them with -t CODE"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_exactly_six_digits() {
        assert!(is_code("012345"));
        for bad in ["12345", "1234567", "12345a", "", " 12345", "１２３４５６"] {
            assert!(!is_code(bad), "{bad:?}");
        }
        assert_eq!(from_flag(" 123456 ").unwrap(), "123456");
        assert_eq!(from_flag("12345").unwrap_err().code(), 2);
    }
}
