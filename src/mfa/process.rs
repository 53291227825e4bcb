//! The profile's `mfa_process`: a command that prints the MFA code (a YubiKey, a password
//! manager), run bounded and kept off the command's input.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use crate::config::profile::Located;
use crate::error::{Error, Result};
use crate::mfa::is_code;
use crate::sys::process::{Bounded, process_place, run_bounded};

/// Runs the profile's `mfa_process` through `/bin/sh -c` and takes the code from its stdout:
/// exactly 6 digits, with any whitespace around them.
///
/// Its stdin is /dev/null, so it cannot eat input meant for the command mfaexec runs next
/// (`mfaexec prod -- aws s3 cp - s3://b/k < file`). Its stderr goes to the terminal when there
/// is one, so a "touch your key" message is seen even when an SDK captures mfaexec's stderr.
/// Its stdout is never shown: a wrong command (`op item get aws` without `--otp`) may print
/// passwords there.
pub fn from_process(process: &Located, timeout: Duration) -> Result<String> {
    let what = format!("mfa_process of profile `{}`", process.from);
    let (stderr, place) = process_place();
    let output = run_bounded(
        &process.value,
        stderr,
        place,
        timeout,
        PROCESS_OUTPUT_CAP,
    )
    .map_err(|e| match e {
        Bounded::Start(e) => Error::new(format!("cannot start the {what}: /bin/sh: {e}"))
            .hint("mfa_process runs through /bin/sh -c; check that /bin/sh exists"),
        Bounded::TimedOut => Error::new(format!(
            "the {what} did not finish within {}",
            crate::config::limits::format(timeout.as_secs())
        ))
        .hint("it may be waiting for a key touch or an unlock; MFAEXEC_MFA_PROCESS_TIMEOUT sets how long to wait"),
    })?;
    let look = "run the mfa_process command in a terminal to see why (mfaexec never shows what it prints on stdout, which may hold secrets)";
    if let Some(signal) = output.status.signal() {
        return Err(Error::new(format!("the {what} was killed by signal {signal}")).hint(look));
    }
    match output.status.code() {
        Some(0) => {}
        Some(127) => {
            return Err(Error::new(format!(
                "the {what} failed with exit status 127: its command was not found"
            ))
            .hint("check the command's name and that it is on PATH (e.g. `ykman`, `op`)"));
        }
        Some(126) => {
            return Err(Error::new(format!(
                "the {what} failed with exit status 126: its command cannot be executed"
            ))
            .hint("check the command's permissions (chmod +x)"));
        }
        Some(code) => {
            return Err(
                Error::new(format!("the {what} failed with exit status {code}")).hint(look),
            );
        }
        None => return Err(Error::new(format!("the {what} failed")).hint(look)),
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let code = text.trim();
    if is_code(code) {
        return Ok(code.to_owned());
    }
    let printed = if code.is_empty() {
        "printed nothing".to_owned()
    } else {
        format!(
            "printed {} line(s) but not a 6-digit code alone",
            code.lines().count()
        )
    };
    Err(Error::new(format!("the {what} {printed}")).hint(
        "it must print only the code, e.g. `ykman oath accounts code --single NAME` or `op item get NAME --otp` (its output is not shown, as it may hold secrets)",
    ))
}

/// What an mfa_process prints is read up to this size; a code is 6 digits, so more is never
/// kept (a command printing without end must not fill memory).
const PROCESS_OUTPUT_CAP: usize = 4096;
