//! The one command mfaexec does not exec (`--server`): it runs as mfaexec's child, in the
//! terminal's foreground process group like any command a shell starts, so Ctrl-C, Ctrl-Z and
//! resizes reach it directly. mfaexec passes SIGTERM and SIGHUP on, lets SIGINT and SIGQUIT go
//! to the child alone, and ends as the child ended: its exit code, or death by its signal.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use nix::errno::Errno;
use nix::sys::signal::{self, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
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
/// block them would die of them.
pub fn hold_signals() -> Result<()> {
    held()
        .thread_block()
        .map_err(|e| Error::new(format!("cannot block signals: {e}")))
}

/// Starts `program` with `argv` (whose first word is the name it is called by) and exactly
/// `env`, with a clean signal state, as a shell gives it: no signal blocked, none ignored but
/// what mfaexec's own parent ignored (nohup), SIGPIPE at its default; and SIGTERM for it when
/// mfaexec dies, even by SIGKILL, so that it never runs on with a dead endpoint.
///
/// Through mfaexec itself (`__start-command`, see `start_command`), forked and exec'd by std,
/// because no safe call does all of it: glibc's posix_spawn starts the child with signals 32
/// and 33 ignored (its internal SIGCANCEL and SIGSETXID), which survive exec and which no
/// posix_spawn attribute resets (issue 18); std forks and execs when a group id is given
/// (mfaexec's own: always allowed, changes nothing), but passes a blocked signal mask on; and
/// `PR_SET_PDEATHSIG` must be set in the child itself, before the command's exec, which with
/// std alone takes an `unsafe` `pre_exec`. One more mfaexec start (under a millisecond) per
/// `--server` run. Call from the main thread: the kernel sends the signal when the thread that
/// forked the child ends.
pub fn spawn(program: &Path, argv: &[OsString], env: &[(OsString, OsString)]) -> Result<Pid> {
    let shown = program.display();
    let child = Command::new("/proc/self/exe")
        .arg0("mfaexec")
        .arg("__start-command")
        .arg("--parent")
        .arg(std::process::id().to_string())
        .arg("--program")
        .arg(program)
        .arg("--")
        .args(argv)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .gid(nix::unistd::getgid().as_raw())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidInput => Error::new(format!(
                "cannot run {shown}: an argument or variable holds a NUL byte"
            )),
            _ => Error::new(format!(
                "cannot run {shown}: cannot start mfaexec again: {e}"
            )),
        })?;
    // Waited for by pid (`wait`), not through `Child`, which is dropped without a wait.
    Ok(Pid::from_raw(child.id() as i32))
}

/// `__start-command`: in the child `spawn` forked, asks for SIGTERM when mfaexec dies, clears
/// the signal mask, gives the user's core limit back and execs the command in place (same
/// pid). Returns only on failure, with 127 or 126 as a shell would.
pub fn start_command(parent: u32, program: &std::ffi::OsStr, argv: &[OsString]) -> Error {
    let shown = Path::new(program).display();
    if let Err(e) = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM) {
        crate::say!("mfaexec: warning: the command will not be stopped if mfaexec is killed: {e}");
    }
    // mfaexec may have died before the request above: then nobody serves the command.
    if nix::unistd::getppid().as_raw() as u32 != parent {
        return Error::new(format!(
            "cannot run {shown}: the mfaexec that started it has ended"
        ));
    }
    let _ = signal::sigprocmask(
        signal::SigmaskHow::SIG_SETMASK,
        Some(&SigSet::empty()),
        None,
    );
    crate::sys::coredump::restore_for_exec();
    let Some((name, args)) = argv.split_first() else {
        return Error::new(format!("cannot run {shown}: no name to call it by"));
    };
    // std's exec resets SIGPIPE, which Rust programs ignore, to its default.
    let error = Command::new(program).arg0(name).args(args).exec();
    Error::exec_failed(shown, &error)
}

/// How the child ended.
pub enum Ended {
    Exited(i32),
    Killed(Signal),
}

/// Waits for the child, passing SIGTERM and SIGHUP on; SIGINT and SIGQUIT, which the terminal
/// sends to the child as well, are dropped.
pub fn wait(pid: Pid) -> Result<Ended> {
    // Set once the child has ended, before it is reaped: a signal must never reach another
    // process that was given the pid afterwards.
    let ended = Arc::new(Mutex::new(false));
    let forwarder = {
        let ended = Arc::clone(&ended);
        std::thread::Builder::new()
            .name("mfaexec-signals".into())
            .spawn(move || {
                let set = held();
                // signalfd rather than sigwait: it says who sent the signal.
                let Ok(signals) = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC) else {
                    // Without it, sigwait, forwarding every one.
                    while let Ok(sig) = set.wait() {
                        forward(pid, sig, &ended);
                    }
                    return;
                };
                loop {
                    let info = match signals.read_signal() {
                        Ok(Some(info)) => info,
                        Ok(None) | Err(Errno::EINTR) => continue,
                        Err(_) => return,
                    };
                    let Ok(sig) = Signal::try_from(info.ssi_signo as i32) else {
                        continue;
                    };
                    if sent_to_the_child_too(pid, info.ssi_code) {
                        continue;
                    }
                    forward(pid, sig, &ended);
                }
            })
    };
    if let Err(e) = forwarder {
        crate::say!("mfaexec: warning: SIGTERM and SIGHUP will not reach the command: {e}");
    }
    let failed = |e: Errno| Error::new(format!("cannot wait for the command: {}", e.desc()));
    loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Ok(_) => break,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(failed(e)),
        }
    }
    *ended.lock().unwrap_or_else(|e| e.into_inner()) = true;
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(Ended::Exited(code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(Ended::Killed(sig)),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(e) => return Err(failed(e)),
        }
    }
}

/// Passes SIGTERM and SIGHUP to the child, unless it has ended.
fn forward(pid: Pid, sig: Signal, ended: &Mutex<bool>) {
    if matches!(sig, Signal::SIGTERM | Signal::SIGHUP) {
        let ended = ended.lock().unwrap_or_else(|e| e.into_inner());
        if !*ended {
            let _ = signal::kill(pid, sig);
        }
    }
}

/// `si_code` of a signal the kernel sent itself (linux/include/uapi/asm-generic/siginfo.h).
const SI_KERNEL: i32 = 0x80;

/// The kernel sends SIGHUP itself in two cases: to the session leader when its terminal hangs
/// up (mfaexec is the leader when it was started with `exec` in the terminal's first shell:
/// the child gets nothing unless mfaexec passes it on), and, when the session leader exits,
/// to the terminal's foreground process group as a whole. In the second case a child still in
/// mfaexec's process group got the signal too, and passing it on would deliver it twice.
fn sent_to_the_child_too(child: Pid, code: i32) -> bool {
    use nix::unistd::{getpgid, getpgrp, getpid, getsid};
    code == SI_KERNEL
        && getsid(None).ok() != Some(getpid())
        && getpgid(Some(child)).ok() == Some(getpgrp())
}

/// Ends mfaexec as the child ended: with its exit code, or killed by its signal, so that the
/// shell (and a script's `$?`, and `set -e`) sees what it would have seen without mfaexec.
pub fn exit_like(ended: Ended) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let sig = match ended {
        Ended::Exited(code) => std::process::exit(code),
        Ended::Killed(sig) => sig,
    };
    let mut set = SigSet::empty();
    set.add(sig);
    let _ = set.thread_unblock();
    // Twice: a handler std installs (SIGSEGV, SIGBUS) resets itself to the default on the
    // first, and a signal that is ignored (SIGPIPE in Rust programs) falls through to exit.
    let _ = signal::raise(sig);
    let _ = signal::raise(sig);
    std::process::exit(128 + sig as i32)
}
