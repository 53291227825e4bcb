//! Helper commands mfaexec runs and waits for (an mfa_process, a key store's
//! credential_process): where they run (the terminal's process group, a group or a session of
//! their own), and a bounded run that caps their output and time and cleans up what they leave.

use std::fs::OpenOptions;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::sys::environ::{Environment, NEVER_PASSED};

/// Set for every helper mfaexec runs (an mfa_process, a credential_process): one more than
/// mfaexec's own. A helper that runs mfaexec again (a wrapper script around `mfaexec
/// credential-process`) is seen at once, where the check of the profile files cannot see it.
pub const DEPTH_VAR: &str = "MFAEXEC_DEPTH";

/// mfaexec's own depth, from `DEPTH_VAR` (0 when it was not started by a helper of mfaexec).
static DEPTH: AtomicU32 = AtomicU32::new(0);

/// How many mfaexec runs, each through a helper, started this one.
pub fn depth(env: &Environment) -> u32 {
    env.get(DEPTH_VAR).and_then(|d| d.parse().ok()).unwrap_or(0)
}

/// Remembers mfaexec's depth for the helpers it starts: called once, in `main`.
pub fn note_depth(env: &Environment) {
    DEPTH.store(depth(env), Ordering::Relaxed);
}

/// Refuses to get a session in an mfaexec started by a helper of another mfaexec. That one is
/// waiting for this one, often under the cache lock of the same session: going on would run the
/// helper again, level after level (issue 18: 25 levels, then a minute on its own lock).
pub fn refuse_nested(profile: &str, env: &Environment) -> Result<()> {
    let depth = depth(env);
    if depth == 0 {
        return Ok(());
    }
    Err(Error::new(format!(
        "profile `{profile}`: this mfaexec was started by an mfa_process or credential_process of another mfaexec ({DEPTH_VAR}={depth}), which waits for it: it would run itself again and again"
    ))
    .hint("mfaexec does not run itself as a helper: point the credential_process at the tool that holds the keys, or the mfa_process at the one that makes the code"))
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
    for name in NEVER_PASSED {
        cmd.env_remove(name);
    }
    let depth = DEPTH.load(Ordering::Relaxed).saturating_add(1);
    cmd.env(DEPTH_VAR, depth.to_string())
        // A group id (mfaexec's own: always allowed, changes nothing) makes std fork and exec
        // rather than posix_spawn, whose child starts with glibc's signals 32 and 33 ignored
        // through the exec (issue 18, defect 15); the fork path resets the mask and SIGPIPE.
        .gid(nix::unistd::getgid().as_raw())
        .arg("-c")
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
