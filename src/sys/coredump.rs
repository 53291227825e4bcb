//! No core file of mfaexec holds a secret: before anything is read, its own core limit is 0 and
//! it is marked non-dumpable (which also covers a `core_pattern` pipe, where the kernel ignores
//! the core limit, and keeps other processes of the user from reading its memory through
//! /proc without ptrace rights). The command it execs gets the user's own core limit back, and
//! execve makes it dumpable again.

use std::sync::OnceLock;

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// The user's core limit (soft, hard) as mfaexec found it.
static USER_LIMIT: OnceLock<(u64, u64)> = OnceLock::new();

/// Called first thing in `main`. Failures are ignored: a system without prctl or rlimits has
/// no core dumps of this kind to stop, and refusing to run would protect nothing.
pub fn forbid() {
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_CORE) {
        let _ = USER_LIMIT.set((soft, hard));
        // Only the soft limit: the hard one stays, so the child's can be raised back.
        let _ = setrlimit(Resource::RLIMIT_CORE, 0, hard);
    }
    let _ = nix::sys::prctl::set_dumpable(false);
}

/// Gives the user's core limit back, just before exec.
pub fn restore_for_exec() {
    if let Some(&(soft, hard)) = USER_LIMIT.get() {
        let _ = setrlimit(Resource::RLIMIT_CORE, soft, hard);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbids_core_dumps_and_gives_the_limit_back() {
        let (soft, hard) = getrlimit(Resource::RLIMIT_CORE).unwrap();
        forbid();
        assert_eq!(getrlimit(Resource::RLIMIT_CORE).unwrap(), (0, hard));
        assert!(!nix::sys::prctl::get_dumpable().unwrap());
        restore_for_exec();
        assert_eq!(getrlimit(Resource::RLIMIT_CORE).unwrap(), (soft, hard));
        let _ = nix::sys::prctl::set_dumpable(true);
    }
}
