//! Where the MFA code comes from: `--token-code`, else the profile's `mfa_process`, else a
//! prompt on the terminal itself (`/dev/tty`), never stdin/stdout, so `eval "$(mfaexec env
//! prod)"`, pipes and credential_process (run by SDKs with stdout and stderr captured) keep
//! working.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::profile::Located;

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

/// Tells the user something that is not a prompt: on the terminal when there is one (stderr may
/// be captured by an SDK running credential_process), else on stderr.
pub fn notice(text: &str) {
    match OpenOptions::new().write(true).open("/dev/tty") {
        Ok(mut tty) => {
            let _ = writeln!(tty, "{text}");
        }
        Err(_) => crate::say!("{text}"),
    }
}

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
    let (stderr, on_terminal) = match OpenOptions::new().write(true).open("/dev/tty") {
        Ok(tty) => (Stdio::from(tty), true),
        Err(_) => (Stdio::inherit(), false),
    };
    let output = run_bounded(
        &process.value,
        stderr,
        on_terminal,
        timeout,
        PROCESS_OUTPUT_CAP,
    ).map_err(|e| match e {
        Bounded::Start(e) => Error::new(format!("cannot start the {what}: /bin/sh: {e}"))
            .hint("mfa_process runs through /bin/sh -c; check that /bin/sh exists"),
        Bounded::TimedOut => Error::new(format!(
            "the {what} did not finish within {}",
            crate::limits::format(timeout.as_secs())
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

pub(crate) enum Bounded {
    Start(std::io::Error),
    TimedOut,
}

pub(crate) struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: Vec<u8>,
}

/// Runs `sh -c command` with stdin from /dev/null, keeps at most `cap` bytes of its
/// stdout, and kills it when `timeout` passes. On a terminal it stays in the terminal's process
/// group, so it can still ask for a passphrase there, and only it is killed. Without one (an SDK
/// running credential_process, capturing stderr) it gets a process group of its own, and the
/// whole group is killed, so no orphan keeps the captured stderr open.
pub(crate) fn run_bounded(
    command: &str,
    stderr: Stdio,
    on_terminal: bool,
    timeout: Duration,
    cap: usize,
) -> Result<Finished, Bounded> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    if !on_terminal {
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().map_err(Bounded::Start)?;
    let mut pipe = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut chunk = [0u8; 1024];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            let room = cap.saturating_sub(kept.len());
            kept.extend_from_slice(&chunk[..n.min(room)]);
        }
        kept
    });
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            _ => {
                if !on_terminal {
                    let group = nix::unistd::Pid::from_raw(child.id() as i32);
                    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
                }
                let _ = child.kill();
                let _ = child.wait();
                return Err(Bounded::TimedOut);
            }
        }
    };
    let stdout = reader.join().unwrap_or_default();
    Ok(Finished { status, stdout })
}

/// Waits until the next TOTP window has begun (a second into it, for clocks a little apart),
/// and says so first: a code works once, so after STS refused one the next window's is needed.
pub fn wait_for_next_code(why: &str) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let into_window =
        Duration::from_millis((now.as_millis() % (u128::from(TOTP_STEP) * 1000)) as u64);
    let wait = Duration::from_secs(TOTP_STEP + 1).saturating_sub(into_window);
    notice(&format!(
        "mfaexec: {why}; waiting {}s for the next code",
        wait.as_secs_f64().ceil() as u64
    ));
    std::thread::sleep(wait);
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
