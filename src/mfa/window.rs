//! Codes for several sessions in one run (`warm`). AWS accepts a code once per device
//! (AWS-RULES §4), so a second session on a device waits for the next TOTP window, with a
//! countdown, and no code is handed out twice, whether typed or printed by an mfa_process, and
//! whether STS took it or refused it.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::profile::Mfa;
use crate::error::{Error, Result};
use crate::sys::tty::Terminal;

/// Where a code came from, for `warm`'s table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeFrom {
    Process,
    Typed,
}

/// How many times a typed code that was already used is asked again before giving up.
const REUSED_TRIES: usize = 3;

/// A second into the next window before asking: the device's clock and this one may be a
/// little apart.
const SLACK_MS: u64 = 1000;

/// The codes handed out in this run, per MFA device (its serial).
pub struct Codes {
    step_ms: u64,
    process_timeout: Duration,
    used: HashMap<String, Vec<Used>>,
}

struct Used {
    code: String,
    /// Unix milliseconds when the code was taken.
    at_ms: u64,
    profile: String,
}

impl Codes {
    /// `step`: the TOTP time step (30s for AWS); `process_timeout`: how long an mfa_process may run.
    pub fn new(step: Duration, process_timeout: Duration) -> Codes {
        Codes {
            step_ms: (step.as_millis() as u64).max(1),
            process_timeout,
            used: HashMap::new(),
        }
    }

    /// A code for a new session of `profile` on `mfa`'s device: from its mfa_process, else
    /// typed on the terminal; never one already handed out for that device. When the device
    /// gave a code in the current window, waits for the next window first, so that it shows
    /// (or the mfa_process prints) a new one.
    pub fn next(
        &mut self,
        profile: &str,
        mfa: &Mfa,
        terminal: Terminal,
    ) -> Result<(String, CodeFrom)> {
        let serial = mfa.serial.as_str();
        if let Some(last) = self.used.get(serial).and_then(|u| u.last())
            && last.at_ms / self.step_ms == now_ms() / self.step_ms
        {
            let why = format!(
                "mfaexec: profile `{profile}` needs a new code from {serial}: this one went to `{}`",
                last.profile
            );
            self.wait(&why);
        }
        let (code, from) = match &mfa.process {
            Some(process) => {
                let mut code = crate::mfa::from_process(process, self.process_timeout)?;
                if self.was_used(serial, &code) {
                    self.wait(&format!(
                        "mfaexec: the mfa_process of profile `{}` printed a code already used for {serial}",
                        process.from
                    ));
                    code = self.process_code_once_more(profile, mfa, process)?;
                }
                (code, CodeFrom::Process)
            }
            None => (self.typed(profile, serial, terminal)?, CodeFrom::Typed),
        };
        self.take(profile, serial, &code);
        Ok((code, from))
    }

    /// Another code for `profile` after STS refused the last one handed out for it (`why`: what
    /// STS said). That code stays recorded: it is never handed out again, as a code STS refused
    /// may have been used elsewhere. Typed: asked again at once (the refused one may be a typo).
    /// From mfa_process: its next window's code, the process run once more.
    pub fn after_refusal(
        &mut self,
        profile: &str,
        mfa: &Mfa,
        terminal: Terminal,
        why: &str,
    ) -> Result<(String, CodeFrom)> {
        let serial = mfa.serial.as_str();
        let (code, from) = match &mfa.process {
            Some(process) => {
                self.wait(&format!("mfaexec: profile `{profile}`: {why}"));
                (
                    self.process_code_once_more(profile, mfa, process)?,
                    CodeFrom::Process,
                )
            }
            None => {
                terminal.say(&format!(
                    "mfaexec: profile `{profile}`: {why}; wait for the next code"
                ));
                (self.typed(profile, serial, terminal)?, CodeFrom::Typed)
            }
        };
        self.take(profile, serial, &code);
        Ok((code, from))
    }

    /// The mfa_process's code in a window after one whose code was used: an error if it prints
    /// a used code again (it reads another device, or its clock is off).
    fn process_code_once_more(
        &self,
        profile: &str,
        mfa: &Mfa,
        process: &crate::config::profile::Located,
    ) -> Result<String> {
        let serial = mfa.serial.as_str();
        let code = crate::mfa::from_process(process, self.process_timeout)?;
        if self.was_used(serial, &code) {
            return Err(Error::new(format!(
                "profile `{profile}`: the mfa_process of profile `{}` printed the same code again in the next TOTP window",
                process.from
            ))
            .hint(format!(
                "check that it reads the device of mfa_serial ({serial}), and the clocks"
            )));
        }
        Ok(code)
    }

    /// A code typed for `profile`, asked again (after the next window) while it is one already
    /// handed out.
    fn typed(&self, profile: &str, serial: &str, terminal: Terminal) -> Result<String> {
        let question = format!("Enter MFA code for profile `{profile}` ({serial}): ");
        let mut code = crate::mfa::prompt_with(terminal, serial, &question)?;
        let mut tries = 1;
        while self.was_used(serial, &code) {
            if tries == REUSED_TRIES {
                return Err(Error::new(format!(
                    "profile `{profile}`: every code typed for {serial} was already used in this run"
                ))
                .hint("a code works once: type the one your device shows after it changes"));
            }
            tries += 1;
            self.wait("mfaexec: that code was already used, and a code works once");
            code = crate::mfa::prompt_with(terminal, serial, &question)?;
        }
        Ok(code)
    }

    /// Records `code` as handed out, before STS is asked: accepted or refused, it is not
    /// handed out again.
    fn take(&mut self, profile: &str, serial: &str, code: &str) {
        self.used.entry(serial.to_owned()).or_default().push(Used {
            code: code.to_owned(),
            at_ms: now_ms(),
            profile: profile.to_owned(),
        });
    }

    fn was_used(&self, serial: &str, code: &str) -> bool {
        self.used
            .get(serial)
            .is_some_and(|u| u.iter().any(|used| used.code == code))
    }

    /// Waits until the next window has begun, saying `why` with a countdown on the terminal
    /// (one line on stderr without one).
    fn wait(&self, why: &str) {
        let into = now_ms() % self.step_ms;
        let wait = Duration::from_millis(self.step_ms + SLACK_MS - into);
        let why = crate::error::visible(why);
        let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") else {
            crate::say!("{why}; the next code in {}s", seconds(wait));
            std::thread::sleep(wait);
            return;
        };
        // The countdown on a line of its own, short enough not to wrap: `\r` redraws one row.
        let _ = writeln!(tty, "{why}");
        let end = std::time::Instant::now() + wait;
        loop {
            let left = end.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let _ = write!(tty, "\rmfaexec: the next code in {}s \x1b[K", seconds(left));
            let _ = tty.flush();
            std::thread::sleep(left.min(Duration::from_secs(1)));
        }
        let _ = writeln!(tty, "\rmfaexec: the next code now\x1b[K");
    }
}

fn seconds(d: Duration) -> u64 {
    d.as_secs_f64().ceil() as u64
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(process: &str) -> Mfa {
        Mfa {
            serial: "arn:aws:iam::111111111111:mfa/alice".into(),
            profile: "default".into(),
            process: Some(crate::config::profile::Located {
                value: process.into(),
                from: "default".into(),
            }),
        }
    }

    #[test]
    fn a_second_code_of_a_device_waits_for_the_next_window_and_another_device_does_not() {
        let step_ms = 2000;
        let mut codes = Codes::new(Duration::from_millis(step_ms), Duration::from_secs(10));
        // Nanoseconds: a different 6 digits on every run.
        let mfa = device("date +%N | cut -c1-6");
        // From the start of a window, so that the first code is surely taken in it.
        while now_ms() % step_ms > 100 {
            std::thread::sleep(Duration::from_millis(10));
        }
        let window = now_ms() / step_ms;
        let (first, _) = codes.next("a", &mfa, Terminal::for_tests()).unwrap();
        let other = Mfa {
            serial: "arn:aws:iam::111111111111:mfa/bob".into(),
            ..mfa.clone()
        };
        codes.next("b", &other, Terminal::for_tests()).unwrap();
        assert_eq!(now_ms() / step_ms, window, "another device does not wait");
        let (second, _) = codes.next("c", &mfa, Terminal::for_tests()).unwrap();
        assert!(now_ms() / step_ms > window);
        assert_ne!(first, second);
    }

    #[test]
    fn a_code_printed_twice_is_not_handed_out_twice() {
        let mut codes = Codes::new(Duration::from_millis(50), Duration::from_secs(10));
        let mfa = device("echo 123456");
        assert_eq!(
            codes.next("a", &mfa, Terminal::for_tests()).unwrap(),
            ("123456".to_owned(), CodeFrom::Process)
        );
        let err = codes.next("b", &mfa, Terminal::for_tests()).unwrap_err();
        assert!(
            err.message().contains("printed the same code again"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn a_refused_code_is_not_handed_out_again() {
        let mut codes = Codes::new(Duration::from_millis(50), Duration::from_secs(10));
        let mfa = device("echo 123456");
        codes.next("a", &mfa, Terminal::for_tests()).unwrap();
        let err = codes
            .after_refusal("a", &mfa, Terminal::for_tests(), "the code was refused")
            .unwrap_err();
        assert!(
            err.message().contains("printed the same code again"),
            "{}",
            err.message()
        );
    }
}
