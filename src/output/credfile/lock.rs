//! The credentials file's lock: an `flock` on a sidecar file, since the rename that replaces
//! the file would take a lock on the file itself with it.

use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use crate::config::limits;
use crate::error::{Error, Result};

/// An `flock` on a sidecar file, held across read → modify → rename (the credentials file
/// itself cannot carry the lock: the rename replaces its inode). The holder removes the file
/// before unlocking; a waiter that then gets the lock on the removed file sees that the path no
/// longer leads to it and starts again, so the removal is safe.
pub(super) struct FileLock {
    path: PathBuf,
    _file: Flock<File>,
}

impl FileLock {
    pub(super) fn take(path: &Path, timeout: Duration) -> Result<FileLock> {
        let start = Instant::now();
        let cannot =
            |e: &dyn std::fmt::Display| Error::new(format!("cannot lock {}: {e}", path.display()));
        loop {
            let file = crate::sys::files::open_lock_file(path).map_err(|e| cannot(&e))?;
            let mut file = file;
            let locked = loop {
                match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                    Ok(locked) => break locked,
                    Err((f, errno))
                        if errno == nix::errno::Errno::EWOULDBLOCK
                            || errno == nix::errno::Errno::EINTR =>
                    {
                        file = f;
                    }
                    Err((_, errno)) => return Err(cannot(&errno)),
                }
                if start.elapsed() >= timeout {
                    return Err(Error::new(format!(
                        "another mfaexec has held {} for over {}",
                        path.display(),
                        limits::format(timeout.as_secs())
                    ))
                    .hint(format!(
                        "if no mfaexec is running, remove {}; MFAEXEC_LOCK_TIMEOUT sets how long to wait",
                        path.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(10));
            };
            let held = locked.metadata().map_err(|e| cannot(&e))?;
            let same = fs::symlink_metadata(path)
                .is_ok_and(|now| now.dev() == held.dev() && now.ino() == held.ino());
            if same {
                return Ok(FileLock {
                    path: path.to_path_buf(),
                    _file: locked,
                });
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Removed while still locked; the lock itself goes when `_file` is dropped next.
        let _ = fs::remove_file(&self.path);
    }
}
