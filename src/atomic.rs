//! Replacing a file so that a crash or SIGKILL at any moment leaves the old content or the new,
//! never a mix: an exclusively created 0600 temporary file in the same directory (never through
//! a symlink), written, synced, renamed over the target, and the directory synced. Used for the
//! session cache and the shared credentials file, both of which hold secrets.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::OFlag;

use crate::error::{Error, Result};

/// Temporary files left by a writer that died before its rename are removed once this old.
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Replaces `target` (in `dir`) with `bytes`, mode 0600. Temporary files are named
/// `<prefix><pid>-<nanos>-<n>`; old ones of the same prefix are swept first.
pub fn replace(dir: &Path, target: &Path, prefix: &str, bytes: &[u8]) -> Result<()> {
    remove_stale_temporaries(dir, prefix);
    let (mut file, temp) = create_temporary(dir, prefix)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.set_permissions(fs::Permissions::from_mode(0o600)))
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&temp, target))
        .and_then(|()| File::open(dir)?.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(Error::new(format!(
            "cannot write {}: {e}",
            target.display()
        )));
    }
    Ok(())
}

fn create_temporary(dir: &Path, prefix: &str) -> Result<(File, PathBuf)> {
    let mut attempt = 0u32;
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = dir.join(format!(
            "{prefix}{}-{nanos:09}-{attempt}",
            std::process::id()
        ));
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

/// Temporary files (holding secrets, 0600) whose writer died before the rename.
fn remove_stale_temporaries(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(prefix) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}
