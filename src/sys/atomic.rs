//! Replacing a file so that a crash or SIGKILL at any moment leaves the old content or the new,
//! never a mix, and no copy of it behind: the bytes are written and synced into an unnamed file
//! (`O_TMPFILE`) in the same directory, which a kill simply discards; it is given a name only
//! for the instant between `linkat` and the rename over the target; then the directory is
//! synced. Where `O_TMPFILE` is missing, an exclusively created 0600 temporary file is used
//! (never through a symlink). Either way, the next writer removes the temporary files of writers
//! that died (their pid is gone), whatever their age. Used for the session cache and the shared
//! credentials file, both of which hold secrets.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};

use crate::error::{Error, Result};

/// Temporary files whose writer cannot be told dead (a pid reused) go once this old.
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Replaces `target` (in `dir`) with `bytes`, mode 0600. Temporary names are
/// `<prefix><pid>-<nanos>-<n>`; those of dead writers are swept first.
pub fn replace(dir: &Path, target: &Path, prefix: &str, bytes: &[u8]) -> Result<()> {
    remove_stale_temporaries(dir, prefix);
    let failed = |e: std::io::Error| Error::new(format!("cannot write {}: {e}", target.display()));
    match replace_unnamed(dir, target, prefix, bytes) {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        Err(e) => return Err(failed(e)),
    }
    let (mut file, temp) = create_temporary(dir, prefix)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.set_permissions(fs::Permissions::from_mode(0o600)))
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&temp, target))
        .and_then(|()| File::open(dir)?.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(failed(e));
    }
    Ok(())
}

/// The O_TMPFILE way. `Ok(false)`: not available here (file system, kernel, or no /proc).
fn replace_unnamed(dir: &Path, target: &Path, prefix: &str, bytes: &[u8]) -> std::io::Result<bool> {
    let unsupported = |e: &std::io::Error| {
        e.raw_os_error().map(Errno::from_raw).is_some_and(|errno| {
            matches!(
                errno,
                Errno::EOPNOTSUPP | Errno::EISDIR | Errno::EINVAL | Errno::ENOENT
            )
        })
    };
    let mut file = match OpenOptions::new()
        .write(true)
        .mode(0o600)
        .custom_flags(OFlag::O_TMPFILE.bits())
        .open(dir)
    {
        Ok(file) => file,
        Err(e) if unsupported(&e) => return Ok(false),
        Err(e) => return Err(e),
    };
    file.write_all(bytes)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.sync_all()?;
    let directory = File::open(dir)?;
    let unnamed = format!("/proc/self/fd/{}", file.as_raw_fd());
    let mut attempt = 0u32;
    let temp = loop {
        let temp = temporary_name(dir, prefix, attempt);
        match nix::unistd::linkat(
            &directory,
            unnamed.as_str(),
            &directory,
            &temp,
            AtFlags::AT_SYMLINK_FOLLOW,
        ) {
            Ok(()) => break temp,
            Err(Errno::EEXIST) if attempt < 100 => attempt += 1,
            Err(Errno::ENOENT) if attempt == 0 && !Path::new(&unnamed).exists() => {
                return Ok(false);
            }
            Err(errno) => return Err(errno.into()),
        }
    };
    if let Err(e) = fs::rename(&temp, target) {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    directory.sync_all()?;
    Ok(true)
}

/// Whether a file can be created in `dir` (permissions, a read-only file system), without
/// leaving one: an unnamed file where O_TMPFILE works, else a named one removed at once.
pub fn probe(dir: &Path) -> std::io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .mode(0o600)
        .custom_flags(OFlag::O_TMPFILE.bits())
        .open(dir)
    {
        Ok(_) => return Ok(()),
        Err(e)
            if !e.raw_os_error().map(Errno::from_raw).is_some_and(|errno| {
                matches!(errno, Errno::EOPNOTSUPP | Errno::EISDIR | Errno::EINVAL)
            }) =>
        {
            return Err(e);
        }
        Err(_) => {}
    }
    let path = temporary_name(dir, ".mfaexec-probe-", 0);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(OFlag::O_NOFOLLOW.bits())
        .open(&path)?;
    fs::remove_file(&path)
}

fn temporary_name(dir: &Path, prefix: &str, attempt: u32) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    dir.join(format!(
        "{prefix}{}-{nanos:09}-{attempt}",
        std::process::id()
    ))
}

fn create_temporary(dir: &Path, prefix: &str) -> Result<(File, PathBuf)> {
    let mut attempt = 0u32;
    loop {
        let path = temporary_name(dir, prefix, attempt);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(OFlag::O_NOFOLLOW.bits())
            .open(&path)
        {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => {
                return Err(Error::new(format!(
                    "cannot create a file in {}: {e}",
                    dir.display()
                )));
            }
        }
    }
}

/// Temporary files (holding secrets, 0600) whose writer died before the rename: its pid (in
/// the name) no longer runs, or the file is over an hour old.
fn remove_stale_temporaries(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        let writer_gone = rest
            .split('-')
            .next()
            .and_then(|pid| pid.parse::<i32>().ok())
            .filter(|&pid| pid > 0)
            .is_some_and(|pid| {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) == Err(Errno::ESRCH)
            });
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        if writer_gone || old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_through_an_unnamed_file_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("file");
        fs::write(&target, "old").unwrap();
        // tmpfs and ext4 have O_TMPFILE: the unnamed way must be the one taken there.
        let taken = replace_unnamed(dir.path(), &target, ".t-", b"new").unwrap();
        assert!(taken, "O_TMPFILE unavailable in {}", dir.path().display());
        assert_eq!(fs::read(&target).unwrap(), b"new");
        replace(dir.path(), &target, ".t-", b"newer").unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["file"]);
        assert_eq!(fs::read(&target).unwrap(), b"newer");
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
