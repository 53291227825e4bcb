//! Where the MFA code comes from: `--token-code`, else the profile's `mfa_process`, else a
//! prompt on the terminal itself (`/dev/tty`), never stdin/stdout, so `eval "$(mfaexec env
//! prod)"`, pipes and credential_process (run by SDKs with stdout and stderr captured) keep
//! working.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::profile::Located;
use crate::error::{Error, Result};

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

/// A new session needs a code that only a user can type, and asking was ruled out.
pub fn code_needed(serial: &str) -> Error {
    Error::new(format!("a new session needs a typed MFA code for {serial}"))
}

/// Tells the user something on the terminal (not stderr, which may be captured).
pub fn say(text: &str) {
    if let Ok(mut tty) = OpenOptions::new().write(true).open("/dev/tty") {
        let _ = writeln!(tty, "{}", crate::error::visible(text));
    }
}

/// Tells the user something that is not a prompt: on the terminal when there is one (stderr may
/// be captured by an SDK running credential_process), else on stderr.
pub fn notice(text: &str) {
    match OpenOptions::new().write(true).open("/dev/tty") {
        Ok(mut tty) => {
            let _ = writeln!(tty, "{}", crate::error::visible(text));
        }
        Err(_) => crate::say!("{text}"),
    }
}

/// Set once mfaexec runs a command of its own (`--server`): see `detach_from_terminal`.
static DETACHED: AtomicBool = AtomicBool::new(false);

/// From now on an mfa_process runs in a session of its own, with no controlling terminal, and
/// only its own process group is killed after it. Under `--server` the terminal belongs to the
/// command: an mfa_process reading /dev/tty from mfaexec's process group, in the background
/// while the command holds the terminal, would stop mfaexec and the command (SIGTTIN); and
/// mfaexec as a subreaper would adopt, and kill, every orphan the command makes meanwhile
/// (a daemon it starts).
pub fn detach_from_terminal() {
    DETACHED.store(true, Ordering::Relaxed);
}

/// Where a helper command (an mfa_process, a credential_process of the key store) runs, and
/// where its stderr goes: on the terminal when there is one, except under `--server`.
pub(crate) fn process_place() -> (Stdio, Place) {
    if DETACHED.load(Ordering::Relaxed) {
        return (Stdio::inherit(), Place::OwnSession);
    }
    match OpenOptions::new().write(true).open("/dev/tty") {
        Ok(tty) => (Stdio::from(tty), Place::Terminal),
        Err(_) => (Stdio::inherit(), Place::OwnGroup),
    }
}

/// Where an mfa_process runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the terminal's process group, so it can ask for a passphrase there.
    Terminal,
    /// In a process group of its own (no terminal: an SDK runs credential_process).
    OwnGroup,
    /// In a session of its own, with no controlling terminal (`--server`).
    OwnSession,
}

/// setsid(1) of util-linux (Debian's essential set): it starts a new session and execs the
/// shell in place (mfaexec's child is never a process group leader, so it does not fork).
const SETSID: &str = "/usr/bin/setsid";

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

pub(crate) enum Bounded {
    Start(std::io::Error),
    TimedOut,
}

pub(crate) struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: Vec<u8>,
}

/// After the shell of an mfa_process has exited, how long its output may still take to arrive
/// (it is complete by then unless a background child holds the pipe open).
const AFTER_EXIT_GRACE: Duration = Duration::from_millis(200);

/// Runs `sh -c command` with stdin from /dev/null, keeps at most `cap` bytes of its
/// stdout, and kills it when `timeout` passes. On a terminal it stays in the terminal's process
/// group, so it can still ask for a passphrase there. Without one (an SDK running
/// credential_process, capturing stderr) it gets a process group of its own, killed as a whole.
///
/// Either way a background child it leaves (`sleep 30 & echo 123456`) must not hold mfaexec:
/// stdout is read only until the shell has exited (plus a short grace) or the deadline, and
/// mfaexec is the children's subreaper meanwhile, so every leftover of its process group is
/// reparented to mfaexec and killed (a daemon in a session of its own is left running).
///
/// In a session of its own (`--server`, see `detach_from_terminal`) it has no terminal at all,
/// mfaexec is not a subreaper (it would adopt the command's orphans), and what is left in its
/// process group is killed.
pub(crate) fn run_bounded(
    command: &str,
    stderr: Stdio,
    place: Place,
    timeout: Duration,
    cap: usize,
) -> Result<Finished, Bounded> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc;
    use std::time::Instant;
    let own_session = place == Place::OwnSession && std::path::Path::new(SETSID).exists();
    let mut cmd = if own_session {
        let mut cmd = Command::new(SETSID);
        cmd.arg("/bin/sh");
        cmd
    } else {
        Command::new("/bin/sh")
    };
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    if place != Place::Terminal && !own_session {
        cmd.process_group(0);
    }
    let reaping = place != Place::OwnSession;
    if reaping {
        let _ = nix::sys::prctl::set_child_subreaper(true);
    }
    let mut reaper = Leftovers {
        before: if reaping {
            children_of(std::process::id())
        } else {
            Vec::new()
        },
        group: None,
    };
    let mut child = cmd.spawn().map_err(Bounded::Start)?;
    // Dropped before `reaper`: in a session of its own, its group's leftovers are killed.
    let _group = (!reaping).then(|| Group(child.id() as i32));
    // Its own group off a terminal; on one, the group it shares with mfaexec.
    if reaping {
        reaper.group = Some(if place == Place::Terminal {
            nix::unistd::getpgrp()
        } else {
            nix::unistd::Pid::from_raw(child.id() as i32)
        });
    }
    let mut pipe = child.stdout.take().expect("stdout is piped");
    let (chunks, received) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        // Past the cap the output is read and dropped here: a command printing without end
        // (`yes`) must neither fill the channel nor block on a full pipe.
        let (mut chunk, mut sent) = ([0u8; 4096], 0usize);
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            if sent < cap {
                sent += n;
                if chunks.send(chunk[..n].to_vec()).is_err() {
                    break;
                }
            }
        }
    });
    let mut kept = Vec::new();
    let mut keep = |chunk: Vec<u8>| {
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
    };
    let now = Instant::now();
    // A timeout is capped where it is read (MFAEXEC_MFA_PROCESS_TIMEOUT); this never overflows.
    let deadline = now.checked_add(timeout).unwrap_or(now);
    let status = loop {
        while let Ok(chunk) = received.try_recv() {
            keep(chunk);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            _ => {
                if place != Place::Terminal {
                    let group = nix::unistd::Pid::from_raw(child.id() as i32);
                    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
                }
                let _ = child.kill();
                let _ = child.wait();
                return Err(Bounded::TimedOut);
            }
        }
    };
    let until = (Instant::now() + AFTER_EXIT_GRACE).min(deadline.max(Instant::now()));
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(chunk) => keep(chunk),
            Err(_) => break,
        }
    }
    Ok(Finished {
        status,
        stdout: kept,
    })
}

/// The process group an mfa_process in a session of its own leads, killed when dropped: what
/// it left running in it (mfaexec is no subreaper then; init reaps them).
struct Group(i32);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(self.0),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Kills and reaps what an mfa_process left running in its process group (reparented to
/// mfaexec, its subreaper), and stops being a subreaper: dropped on every way out of
/// `run_bounded`. A daemon it started in a session of its own (an agent such as gpg-agent) is
/// left alone, and so are children mfaexec had before (the command of `--server`, which
/// renews with mfa_process and may share the terminal's group).
struct Leftovers {
    before: Vec<nix::unistd::Pid>,
    group: Option<nix::unistd::Pid>,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, kill};
        use nix::sys::wait::{WaitPidFlag, waitpid};
        let Some(group) = self.group else {
            let _ = nix::sys::prctl::set_child_subreaper(false);
            return;
        };
        // Killing one may reparent its own children to mfaexec: a few rounds catch them.
        for _ in 0..8 {
            let children: Vec<_> = children_of(std::process::id())
                .into_iter()
                .filter(|pid| !self.before.contains(pid))
                .filter(|pid| nix::unistd::getpgid(Some(*pid)) == Ok(group))
                .collect();
            if children.is_empty() {
                break;
            }
            for pid in &children {
                let _ = kill(*pid, Signal::SIGKILL);
            }
            for pid in children {
                let _ = waitpid(pid, Some(WaitPidFlag::__WALL));
            }
        }
        let _ = nix::sys::prctl::set_child_subreaper(false);
    }
}

/// The processes whose parent is `parent`, from /proc.
fn children_of(parent: u32) -> Vec<nix::unistd::Pid> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let after = &stat[stat.rfind(')')? + 1..];
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .map(nix::unistd::Pid::from_raw)
        .collect()
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

/// The exit code of a run interrupted at the prompt, as shells report SIGINT (128 + 2).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Asks on the terminal until a 6-digit code is typed.
pub fn prompt(serial: &str) -> Result<String> {
    if !has_terminal() {
        return Err(no_terminal(serial));
    }
    for _ in 0..MALFORMED_TRIES {
        let typed = match read_hidden(&format!("Enter MFA code for {serial}: ")) {
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
        say("mfaexec: an MFA code is 6 digits; try again");
    }
    Err(Error::new(format!(
        "no 6-digit MFA code for {serial} after {MALFORMED_TRIES} tries"
    ))
    .hint("type the 6 digits your MFA device shows, or pass them with -t CODE"))
}

/// A secret typed on the terminal without echo (a secret access key, a passphrase): up to `cap`
/// bytes; Ctrl-C and end of input are errors naming `what`.
pub fn read_secret(prompt: &str, what: &str, cap: usize) -> Result<zeroize::Zeroizing<String>> {
    match read_hidden_capped(prompt, cap) {
        Ok(Typed::Line(line)) => Ok(zeroize::Zeroizing::new(line)),
        Ok(Typed::Interrupted) => {
            Err(Error::new(format!("interrupted at the prompt for {what}"))
                .exit_code(EXIT_INTERRUPTED))
        }
        Ok(Typed::End) => Err(Error::new(format!(
            "no {what}: the terminal sent end of input"
        ))),
        Err(e) => Err(Error::new(format!(
            "cannot read {what} from the terminal: {e}"
        ))),
    }
}

enum Typed {
    Line(String),
    /// Ctrl-C, or Ctrl-\ (quit).
    Interrupted,
    /// Ctrl-D on an empty line, or the terminal went away.
    End,
}

/// The most kept of one typed line: a code is 6 digits.
const TYPED_CAP: usize = 64;

/// The terminal's own settings, put back when dropped: on every way out of the prompt (a code,
/// Ctrl-C, end of input, an error, a panic). While it lives, a signal that kills mfaexec
/// (SIGINT, SIGTERM, SIGHUP, SIGQUIT from `kill`, `timeout` or a hang-up) puts them back
/// first: see `watch_signals`.
struct Restore;

/// The terminal being read and its settings from before the prompt, while they are changed.
static CHANGED: std::sync::Mutex<Option<(std::fs::File, nix::sys::termios::Termios)>> =
    std::sync::Mutex::new(None);

fn changed() -> std::sync::MutexGuard<'static, Option<(std::fs::File, nix::sys::termios::Termios)>>
{
    CHANGED.lock().unwrap_or_else(|e| e.into_inner())
}

fn put_back(slot: &mut Option<(std::fs::File, nix::sys::termios::Termios)>) {
    if let Some((tty, saved)) = slot.take() {
        let _ = nix::sys::termios::tcsetattr(&tty, nix::sys::termios::SetArg::TCSANOW, &saved);
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        put_back(&mut changed());
    }
}

/// The signals that end mfaexec by default and may come while the terminal is changed.
const ENDING: [nix::sys::signal::Signal; 4] = [
    nix::sys::signal::Signal::SIGINT,
    nix::sys::signal::Signal::SIGTERM,
    nix::sys::signal::Signal::SIGHUP,
    nix::sys::signal::Signal::SIGQUIT,
];

/// Once per run, before the terminal is first changed: catches the ending signals that are not
/// ignored (an ignored one cannot kill mfaexec, and catching it would undo `nohup` for the
/// command run later), on a thread that puts the terminal back, then dies of the signal as
/// it would have (`emulate_default_handler`). The thread blocks these signals itself, so that
/// `child::hold_signals` still gets them all while a command runs. signal-hook cannot give a
/// signal its default action back, so this stays for the rest of the run; the thread keeps
/// that action.
fn watch_signals() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let ignored = ignored_signals();
        let caught: Vec<i32> = ENDING
            .iter()
            .filter(|s| !ignored.contains(&(**s as i32)))
            .map(|s| *s as i32)
            .collect();
        let Ok(mut signals) = signal_hook::iterator::Signals::new(&caught) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("mfaexec-prompt-signals".into())
            .spawn(move || {
                let mut own = nix::sys::signal::SigSet::empty();
                for s in ENDING {
                    own.add(s);
                }
                let _ = own.thread_block();
                for signal in signals.forever() {
                    // Held until mfaexec is gone: the prompt cannot change the terminal again.
                    let mut slot = changed();
                    put_back(&mut slot);
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                }
            });
    });
}

/// The signals this process ignores (`SigIgn` in /proc/self/status: read without `sigaction`).
fn ignored_signals() -> Vec<i32> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .unwrap_or(0);
    (1..=64).filter(|n| mask & (1u64 << (n - 1)) != 0).collect()
}

/// Reads one line from /dev/tty without echo. Signals from the keyboard are off while it
/// reads, so Ctrl-C arrives as a byte and the settings are restored before mfaexec exits
/// (killed by SIGINT with echo off, it would leave the user's shell without echo).
fn read_hidden(prompt: &str) -> std::io::Result<Typed> {
    read_hidden_capped(prompt, TYPED_CAP)
}

/// `read_hidden` keeping up to `cap` bytes of the line, UTF-8 included (a passphrase).
fn read_hidden_capped(prompt: &str, cap: usize) -> std::io::Result<Typed> {
    use nix::sys::termios::{self, LocalFlags, SetArg, SpecialCharacterIndices};
    use std::io::Read;
    let tty = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    let saved = termios::tcgetattr(&tty)?;
    let mut quiet = saved.clone();
    quiet.local_flags &=
        !(LocalFlags::ECHO | LocalFlags::ICANON | LocalFlags::ISIG | LocalFlags::IEXTEN);
    quiet.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
    quiet.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
    // The terminal's own keys for interrupt, quit, suspend and end of input (0: none).
    let key = |i: SpecialCharacterIndices| saved.control_chars[i as usize];
    let (intr, quit, susp, eof) = (
        key(SpecialCharacterIndices::VINTR),
        key(SpecialCharacterIndices::VQUIT),
        key(SpecialCharacterIndices::VSUSP),
        key(SpecialCharacterIndices::VEOF),
    );
    watch_signals();
    *changed() = Some((tty.try_clone()?, saved));
    let restore = Restore;
    termios::tcsetattr(&tty, SetArg::TCSAFLUSH, &quiet)?;
    let mut tty = tty;
    tty.write_all(prompt.as_bytes())?;
    tty.flush()?;
    let mut line: Vec<u8> = Vec::new();
    let typed = loop {
        let mut byte = [0u8; 1];
        match tty.read(&mut byte) {
            Ok(0) => break Typed::End,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        match byte[0] {
            0 => {}
            b if b == intr || b == quit => break Typed::Interrupted,
            b if b == eof && line.is_empty() => break Typed::End,
            b if b == susp => {
                tty.write_all(
                    b"\r\nmfaexec: cannot suspend at this prompt: type the code, or interrupt\r\n",
                )?;
                tty.write_all(prompt.as_bytes())?;
                tty.flush()?;
                line.clear();
            }
            b'\r' | b'\n' => break Typed::Line(String::from_utf8_lossy(&line).into_owned()),
            0x7f | 0x08 => {
                // A whole character: its UTF-8 continuation bytes, then its first byte.
                while let Some(b) = line.pop() {
                    if b & 0xc0 != 0x80 {
                        break;
                    }
                }
            }
            0x15 => line.clear(),
            b if (b.is_ascii_graphic() || b == b' ' || b >= 0x80) && line.len() < cap => {
                line.push(b);
            }
            _ => {}
        }
    };
    let _ = tty.write_all(b"\n");
    drop(restore);
    Ok(typed)
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
