//! The one command mfaexec does not exec (`--server`): it runs as mfaexec's child, in the
//! terminal's foreground process group like any command a shell starts, so Ctrl-C, Ctrl-Z and
//! resizes reach it directly. mfaexec passes SIGTERM and SIGHUP on, lets SIGINT and SIGQUIT go
//! to the child alone, and ends as the child ended: its exit code, or death by its signal.

use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex};

use nix::errno::Errno;
use nix::sys::signal::{self, SigSet, Signal};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// The signals mfaexec takes on itself while the child runs.
fn held() -> SigSet {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGTERM,
        Signal::SIGHUP,
    ] {
        set.add(s);
    }
    set
}

/// Blocks the held signals in this thread, and so in every thread started after it; one thread
/// reads them with sigwait (`wait`). Call before any other thread starts: a thread that did not
/// block them would die of them. The child does not inherit the mask (std resets it on spawn),
/// so SIGINT and SIGQUIT keep their usual effect there.
pub fn hold_signals() -> Result<()> {
    held()
        .thread_block()
        .map_err(|e| Error::new(format!("cannot block signals: {e}")))
}

/// Waits for the child, passing SIGTERM and SIGHUP on; SIGINT and SIGQUIT, which the terminal
/// sends to the child as well, are dropped.
pub fn wait(mut child: Child) -> Result<ExitStatus> {
    let pid = Pid::from_raw(child.id() as i32);
    // Set once the child has ended, before it is reaped: a signal must never reach another
    // process that was given the pid afterwards.
    let ended = Arc::new(Mutex::new(false));
    let forwarder = {
        let ended = Arc::clone(&ended);
        std::thread::Builder::new()
            .name("mfaexec-signals".into())
            .spawn(move || {
                let set = held();
                while let Ok(sig) = set.wait() {
                    if matches!(sig, Signal::SIGTERM | Signal::SIGHUP) {
                        let ended = ended.lock().unwrap_or_else(|e| e.into_inner());
                        if !*ended {
                            let _ = signal::kill(pid, sig);
                        }
                    }
                }
            })
    };
    if let Err(e) = forwarder {
        crate::say!("mfaexec: warning: SIGTERM and SIGHUP will not reach the command: {e}");
    }
    loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Ok(_) => break,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(Error::new(format!("cannot wait for the command: {e}"))),
        }
    }
    *ended.lock().unwrap_or_else(|e| e.into_inner()) = true;
    child
        .wait()
        .map_err(|e| Error::new(format!("cannot wait for the command: {e}")))
}

/// Ends mfaexec as the child ended: with its exit code, or killed by its signal, so that the
/// shell (and a script's `$?`, and `set -e`) sees what it would have seen without mfaexec.
pub fn exit_like(status: ExitStatus) -> ! {
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;
    let _ = std::io::stdout().flush();
    if let Some(code) = status.code() {
        std::process::exit(code);
    }
    let number = status.signal().unwrap_or(0);
    if let Ok(sig) = Signal::try_from(number) {
        let mut set = SigSet::empty();
        set.add(sig);
        let _ = set.thread_unblock();
        // Twice: a handler std installs (SIGSEGV, SIGBUS) resets itself to the default on the
        // first, and a signal that is ignored (SIGPIPE in Rust programs) falls through to exit.
        let _ = signal::raise(sig);
        let _ = signal::raise(sig);
    }
    std::process::exit(128 + number)
}
