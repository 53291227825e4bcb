//! The rules every file and directory mfaexec reads or keeps its own data in goes by, in one
//! place: the AWS files, the key store's index and key file, and the session cache.
//!
//! - A file is read only when it is a regular file (through symlinks), checked before it is
//!   opened and again on the open descriptor, opened with `O_NONBLOCK`, and at most a cap long:
//!   a FIFO cannot hang a run and /dev/zero cannot fill memory (issue 18, defect 10).
//! - A private directory (the cache, the key store) is a real directory, not a symlink, owned
//!   by this user and closed to group and others; it is created 0700 when missing (defect 11).

use std::fs;
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use nix::fcntl::OFlag;

use crate::error::{Error, Result};

/// What a capped file is, for its messages: `noun` names it ("an AWS config file"), `hint`
/// is the fix for one that is not a regular file or is too big.
pub struct Capped<'a> {
    pub cap: u64,
    pub noun: &'a str,
    pub hint: &'a str,
}

/// The bytes of `path`, `None` when it does not exist.
pub fn read_capped(path: &Path, rules: &Capped) -> Result<Option<Vec<u8>>> {
    let shown = path.display();
    let os_error = |e: std::io::Error| Error::new(format!("cannot read {shown}: {e}"));
    let check = |meta: &fs::Metadata| -> Result<()> {
        if !meta.is_file() {
            return Err(Error::new(format!("{shown} is not a regular file")).hint(rules.hint));
        }
        if meta.len() > rules.cap {
            return Err(Error::new(format!(
                "{shown} is {} bytes, over the {} {} may have",
                meta.len(),
                size(rules.cap),
                rules.noun
            ))
            .hint(rules.hint));
        }
        Ok(())
    };
    match fs::metadata(path) {
        Ok(meta) => check(&meta)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(os_error(e)),
    }
    // O_NONBLOCK: should a FIFO be swapped in after the check, opening it does not wait.
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NONBLOCK.bits())
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(os_error(e)),
    };
    check(&file.metadata().map_err(os_error)?)?;
    let mut bytes = Vec::new();
    file.take(rules.cap + 1)
        .read_to_end(&mut bytes)
        .map_err(os_error)?;
    if bytes.len() as u64 > rules.cap {
        return Err(Error::new(format!(
            "{shown} grew over {} while it was read",
            size(rules.cap)
        )));
    }
    Ok(Some(bytes))
}

/// `4 MiB`, `64 KiB`, `100 bytes`.
fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / 1024 / 1024)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Opens (creating it 0600) a lock file for `flock`, never through a symlink.
pub fn open_lock_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(OFlag::O_NOFOLLOW.bits())
        .open(path)
}

/// Creates `dir` 0700 (and its parents) when missing, then checks it as [`check_private`]
/// does. `variable` is the setting that moves it (`XDG_CACHE_HOME`), named in the hint.
pub fn prepare_private_dir(dir: &Path, variable: &str) -> Result<()> {
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| Error::new(format!("cannot create {}: {e}", parent.display())))?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::new(format!("cannot create {}: {e}", dir.display()))),
    }
    check_private_dir(dir, variable)
}

/// Checks an existing `dir` without creating it; `Ok(false)` when it does not exist.
pub fn check_private_dir_if_there(dir: &Path, variable: &str) -> Result<bool> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        _ => check_private_dir(dir, variable).map(|()| true),
    }
}

fn check_private_dir(dir: &Path, variable: &str) -> Result<()> {
    let meta = fs::symlink_metadata(dir)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", dir.display())))?;
    check_private(dir, &meta, true, variable)
}

/// That `path` (described by `meta`, not followed through a symlink) is a directory, or a
/// regular file, owned by this user and closed to group and others.
pub fn check_private(path: &Path, meta: &fs::Metadata, is_dir: bool, variable: &str) -> Result<()> {
    let kind_ok = if is_dir {
        meta.file_type().is_dir()
    } else {
        meta.file_type().is_file()
    };
    if !kind_ok {
        return Err(Error::new(format!(
            "{} is not a {}{}",
            path.display(),
            if is_dir { "directory" } else { "regular file" },
            if meta.file_type().is_symlink() {
                " (it is a symlink, which mfaexec does not follow here)"
            } else {
                ""
            }
        ))
        .hint(format!(
            "remove it; mfaexec recreates it ({}), or point {variable} at a directory of yours",
            path.display()
        )));
    }
    let uid = nix::unistd::getuid().as_raw();
    if meta.uid() != uid {
        return Err(Error::new(format!(
            "{} belongs to another user (uid {})",
            path.display(),
            meta.uid()
        ))
        .hint(format!(
            "remove it, or point {variable} at a directory of yours"
        )));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::new(format!(
            "{} is open to group or others (mode {mode:o})",
            path.display()
        ))
        .hint(format!(
            "chmod {} {}",
            if is_dir { "700" } else { "600" },
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Capped = Capped {
        cap: 16,
        noun: "a test file",
        hint: "fix it",
    };

    #[test]
    fn only_a_regular_file_under_the_cap_is_read() {
        let dir = std::env::temp_dir().join(format!("mfaexec-files-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let small = dir.join("small");
        fs::write(&small, b"0123456789abcdef").unwrap();
        assert_eq!(read_capped(&small, &RULES).unwrap().unwrap().len(), 16);
        let big = dir.join("big");
        fs::write(&big, b"0123456789abcdefg").unwrap();
        let e = read_capped(&big, &RULES).unwrap_err().to_string();
        assert!(
            e.contains("17 bytes, over the 16 bytes a test file may have"),
            "{e}"
        );
        assert!(read_capped(&dir.join("absent"), &RULES).unwrap().is_none());
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let e = read_capped(&fifo, &RULES).unwrap_err().to_string();
        assert!(e.contains("is not a regular file"), "{e}");
        let e = read_capped(Path::new("/dev/zero"), &RULES)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a regular file"), "{e}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(4 * 1024 * 1024), "4 MiB");
        assert_eq!(size(64 * 1024), "64 KiB");
        assert_eq!(size(100), "100 bytes");
    }
}
