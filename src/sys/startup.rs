//! What std's own `main` wrapper does before `main`, less what a cache hit does not need.
//!
//! mfaexec has its own C `main` (`#![no_main]` in main.rs): std's wrapper reads and parses
//! /proc/self/maps at every start to place a guard for its stack-overflow message, and sets up
//! an alternate signal stack, which cost a cache hit about a tenth of its own work. What the
//! wrapper does that matters is done here, the same way:
//! - file descriptors 0, 1 and 2 are open, on /dev/null if they were closed, so that no file
//!   mfaexec opens (a cache entry, a credentials file) can become its stdout;
//! - SIGPIPE is ignored, so a closed pipe is an error to report, not a silent death. std's
//!   `Command` still gives each child the default SIGPIPE back, as before.
//!
//! std's stdout buffer is flushed by `std::process::exit`, which main.rs ends with.
//! A stack overflow is now a plain SIGSEGV, without std's one-line message.

use std::os::fd::BorrowedFd;

use nix::fcntl::{FcntlArg, OFlag, fcntl, open};
use nix::sys::signal::{SigHandler, Signal, signal};
use nix::sys::stat::Mode;

/// Called first thing in `main`, before any file is opened. (Not in a unit-test build, whose
/// `main` is the harness's: tests/exec.rs checks it on the binary.)
#[cfg_attr(test, allow(dead_code))]
pub fn prepare() {
    for fd in 0..=2 {
        // SAFETY: only asks whether the descriptor is open; nothing is read or closed.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        if fcntl(fd, FcntlArg::F_GETFD).is_err() {
            // The lowest free descriptor is the one just found closed. Without it, writing a
            // secret to "stdout" could write it into a file: stop rather than go on.
            match open("/dev/null", OFlag::O_RDWR, Mode::empty()) {
                Ok(null) => std::mem::forget(null),
                Err(_) => std::process::abort(),
            }
        }
    }
    // SAFETY: SIG_IGN runs no code of ours in a signal handler.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigIgn) };
}
