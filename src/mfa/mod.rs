//! Where the MFA code comes from: `--token-code`, else the profile's `mfa_process`, else a
//! prompt on the terminal itself (`/dev/tty`), never stdin/stdout, so `eval "$(mfaexec env
//! prod)"`, pipes and credential_process (run by SDKs with stdout and stderr captured) keep
//! working.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::sys::tty::{Asking, EXIT_INTERRUPTED, Terminal, Typed, has_terminal};

mod process;
pub mod window;
pub use process::from_process;

/// The TOTP time step of AWS virtual MFA devices (RFC 6238): a new code every 30 seconds,
/// counted from the Unix epoch.
const TOTP_STEP: u64 = 30;

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

pub fn no_terminal(serial: &str) -> Error {
    Error::new(format!(
        "an MFA code is needed for {serial}, but there is no terminal to ask on"
    ))
    .hint("pass the code with -t CODE, or run mfaexec from a terminal")
}

/// A new session needs a code that only a user can type, and asking was ruled out.
pub fn code_needed(serial: &str) -> Error {
    Error::new(format!("a new session needs a typed MFA code for {serial}")).class(
        crate::error::Class::NeedsUser {
            what: "a typed MFA code",
        },
    )
}

/// Waits until the next TOTP window has begun (a second into it, for clocks a little apart),
/// and says so first: a code works once, so after STS refused one the next window's is needed.
pub fn wait_for_next_code(ask: Asking, why: &str) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let into_window =
        Duration::from_millis((now.as_millis() % (u128::from(TOTP_STEP) * 1000)) as u64);
    let wait = Duration::from_secs(TOTP_STEP + 1).saturating_sub(into_window);
    ask.notice(&format!(
        "mfaexec: {why}; waiting {}s for the next code",
        wait.as_secs_f64().ceil() as u64
    ));
    std::thread::sleep(wait);
}

/// Asks on the terminal until a 6-digit code is typed.
pub fn prompt(terminal: Terminal, serial: &str) -> Result<String> {
    prompt_with(terminal, serial, &format!("Enter MFA code for {serial}: "))
}

/// As `prompt`, asking `question` (`warm` names the profile as well as the device).
pub fn prompt_with(terminal: Terminal, serial: &str, question: &str) -> Result<String> {
    if !has_terminal() {
        return Err(no_terminal(serial));
    }
    for _ in 0..MALFORMED_TRIES {
        let typed = match terminal.read_hidden(question) {
            Ok(Typed::Line(line)) => line,
            Ok(Typed::Interrupted) => {
                return Err(Error::new("interrupted at the MFA prompt").exit_code(EXIT_INTERRUPTED));
            }
            Ok(Typed::End) => {
                return Err(Error::new(format!(
                    "no MFA code for {serial}: the terminal sent end of input"
                ))
                .hint("type the 6 digits your MFA device shows, or pass them with -t CODE"));
            }
            Err(e) => {
                return Err(Error::new(format!(
                    "cannot read the MFA code from the terminal: {e}"
                )));
            }
        };
        let code = typed.trim();
        if is_code(code) {
            return Ok(code.to_owned());
        }
        terminal.say("mfaexec: an MFA code is 6 digits; try again");
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
