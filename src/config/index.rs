//! The index of stored keys: for each profile whose keys are in a store, which store and the
//! access key id. It holds no secret, so reading it needs no unlock: planning reads it to build
//! the cache key and to say in `--dry-run` and `list` where the keys are, and a cache hit opens
//! no store.
//!
//! It is `$XDG_DATA_HOME/mfaexec/key-ids` (else `~/.local/share/mfaexec/key-ids`), next to the
//! file store, one line per profile: `PROFILE<TAB>STORE<TAB>ACCESS_KEY_ID`. The directory is
//! 0700 and the file 0600; it is replaced atomically under the directory's lock.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag};

use crate::config::limits;

use crate::error::{Error, Result};
use crate::sys::environ::Environment;
use crate::sys::{atomic, files};

/// Which store holds a profile's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SecretService,
    Keychain,
    File,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::SecretService => "secret-service",
            Kind::Keychain => "keychain",
            Kind::File => "file",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "secret-service" => Some(Kind::SecretService),
            "keychain" => Some(Kind::Keychain),
            "file" => Some(Kind::File),
            _ => None,
        }
    }
}

const FILE: &str = "key-ids";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub store: Kind,
    pub access_key_id: String,
}

/// `$XDG_DATA_HOME/mfaexec`, else `~/.local/share/mfaexec`.
pub fn dir(env: &Environment) -> Result<PathBuf> {
    crate::sys::environ::xdg_dir(env, "XDG_DATA_HOME", ".local/share", "the key store")
}

/// The directory, created 0700 when missing.
pub fn prepare(env: &Environment) -> Result<PathBuf> {
    let dir = dir(env)?;
    prepare_dir(&dir)?;
    Ok(dir)
}

pub fn prepare_dir(dir: &Path) -> Result<()> {
    files::prepare_private_dir(dir, "XDG_DATA_HOME")
}

/// Checks the directory when it exists, as the cache's is checked: a symlink, another user's
/// or a group-writable directory is refused, never used (issue 18, defect 11). `Ok(false)`:
/// there is none yet.
pub fn check_dir(dir: &Path) -> Result<bool> {
    files::check_private_dir_if_there(dir, "XDG_DATA_HOME")
}

/// The index and the key file are small: an index line is under 200 bytes.
pub const FILE_CAP: u64 = 4 * 1024 * 1024;

/// The directory's lock, held across a store write and its index line, so that two mfaexec
/// processes never lose each other's keys. The kernel releases it when the holder dies.
/// Waited for at most `MFAEXEC_LOCK_TIMEOUT`, as the cache's lock is (issue 18, defect 8):
/// after a second the wait is said, naming the holder (an mfaexec writes its pid into the file
/// while it holds it, and empties it when done), and at the end it is one line.
pub fn lock(env: &Environment) -> Result<IndexLock> {
    let dir = prepare(env)?;
    let path = dir.join("lock");
    let timeout = limits::setting(env, &limits::LOCK_TIMEOUT).map(Duration::from_secs)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(OFlag::O_NOFOLLOW.bits() | OFlag::O_NONBLOCK.bits())
        .open(&path)
        .map_err(|e| Error::new(format!("cannot open {}: {e}", path.display())))?;
    let start = Instant::now();
    let mut told = false;
    loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut locked) => {
                let _ = locked.set_len(0);
                let _ = locked.write_all(std::process::id().to_string().as_bytes());
                return Ok(IndexLock { file: locked });
            }
            Err((f, errno)) if errno == Errno::EWOULDBLOCK || errno == Errno::EINTR => file = f,
            Err((_, errno)) => {
                return Err(Error::new(format!(
                    "cannot lock {}: {errno}",
                    path.display()
                )));
            }
        }
        let waited = start.elapsed();
        if !told && waited >= Duration::from_secs(1) {
            told = true;
            crate::say!(
                "mfaexec: waiting for {}, which holds {}",
                holder(&path),
                path.display()
            );
        }
        if waited >= timeout {
            return Err(Error::new(format!(
                "{} has held {} for over {}",
                holder(&path),
                path.display(),
                limits::format(timeout.as_secs())
            ))
            .hint("finish or stop it; MFAEXEC_LOCK_TIMEOUT sets how long to wait"));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The index lock, held until dropped; it empties the file first, so that a later wait is not
/// told an mfaexec that has finished holds it.
pub struct IndexLock {
    file: Flock<File>,
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

/// `another mfaexec (pid N)` when the lock file names one, else `another process` (flock(1),
/// say).
fn holder(path: &Path) -> String {
    let mut text = String::new();
    let pid = OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NOFOLLOW.bits() | OFlag::O_NONBLOCK.bits())
        .open(path)
        .and_then(|f| f.take(32).read_to_string(&mut text))
        .ok()
        .and_then(|_| text.trim().parse::<u32>().ok());
    match pid {
        Some(pid) => format!("another mfaexec (pid {pid})"),
        None => "another process".into(),
    }
}

/// The index file, for messages.
pub fn path(env: &Environment) -> Result<PathBuf> {
    Ok(dir(env)?.join(FILE))
}

/// One line of the index: a record, or a line mfaexec cannot read (edited by hand, written by
/// a later version, not UTF-8), which is kept byte for byte whenever the index is rewritten,
/// and is an error only for the profile it names (issue 18, defect 10).
enum Line {
    Record(String, Record),
    Other { number: usize, bytes: Vec<u8> },
}

impl Line {
    fn parse(number: usize, bytes: &[u8]) -> Line {
        if let Ok(text) = std::str::from_utf8(bytes)
            && let [profile, store, id] = text.split('\t').collect::<Vec<_>>()[..]
            && !profile.is_empty()
            && !id.is_empty()
            && let Some(store) = Kind::parse(store)
        {
            return Line::Record(
                profile.to_owned(),
                Record {
                    store,
                    access_key_id: id.to_owned(),
                },
            );
        }
        Line::Other {
            number,
            bytes: bytes.to_owned(),
        }
    }

    /// Whether the line is about `profile`: a record's profile, or the first field of a line
    /// not understood.
    fn is_about(&self, profile: &str) -> bool {
        match self {
            Line::Record(p, _) => p == profile,
            Line::Other { bytes, .. } => {
                bytes.split(|b| *b == b'\t').next() == Some(profile.as_bytes())
            }
        }
    }
}

fn read_all(env: &Environment) -> Result<Vec<Line>> {
    let dir = dir(env)?;
    if !check_dir(&dir)? {
        return Ok(Vec::new());
    }
    let path = dir.join(FILE);
    let hint = format!(
        "move {} away and store the keys again (mfaexec add PROFILE)",
        path.display()
    );
    let rules = files::Capped {
        cap: FILE_CAP,
        noun: "the key index",
        hint: &hint,
    };
    let Some(bytes) = files::read_capped(&path, &rules)? else {
        return Ok(Vec::new());
    };
    Ok(bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, line)| (i, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| Line::parse(i + 1, line))
        .collect())
}

fn write_all(env: &Environment, lines: &[Line]) -> Result<()> {
    let dir = prepare(env)?;
    let mut bytes = Vec::new();
    for line in lines {
        match line {
            Line::Record(p, r) => bytes.extend_from_slice(
                format!("{p}\t{}\t{}", r.store.name(), r.access_key_id).as_bytes(),
            ),
            Line::Other { bytes: other, .. } => bytes.extend_from_slice(other),
        }
        bytes.push(b'\n');
    }
    atomic::replace(&dir, &dir.join(FILE), ".key-ids.tmp-", &bytes)
}

/// Where `profile`'s keys are stored, if they are. A line about `profile` that cannot be read
/// is an error naming it, never taken as "not stored".
pub fn lookup(env: &Environment, profile: &str) -> Result<Option<Record>> {
    for line in read_all(env)? {
        if !line.is_about(profile) {
            continue;
        }
        match line {
            Line::Record(_, r) => return Ok(Some(r)),
            Line::Other { number, bytes } => {
                let path = path(env)?;
                return Err(Error::new(format!(
                    "profile `{profile}`: {} line {number}: `{}` is not PROFILE<TAB>STORE<TAB>ACCESS_KEY_ID (STORE one of secret-service, keychain, file)",
                    path.display(),
                    match std::str::from_utf8(&bytes) {
                        Ok(text) => text.escape_default().to_string(),
                        Err(_) => bytes.escape_ascii().to_string(),
                    }
                ))
                .hint(format!(
                    "correct the line, or delete it and store the key again (mfaexec add {profile})"
                )));
            }
        }
    }
    Ok(None)
}

/// The profiles whose recorded key is `access_key_id`.
pub fn holders_of(env: &Environment, access_key_id: &str) -> Result<Vec<String>> {
    Ok(read_all(env)?
        .into_iter()
        .filter_map(|line| match line {
            Line::Record(p, r) if r.access_key_id == access_key_id => Some(p),
            _ => None,
        })
        .collect())
}

/// Whether `profile` can have a line: checked before anything is written for it (a store
/// written first, then refused here, was issue 18, defect 3).
pub fn check_profile(profile: &str) -> Result<()> {
    if profile.is_empty() || profile.contains(['\t', '\n', '\r']) {
        return Err(Error::usage(format!(
            "profile `{}`: a profile name that is empty or holds a tab or line break cannot be indexed",
            profile.escape_default()
        )));
    }
    Ok(())
}

/// Records (or replaces) `profile`'s line. The caller holds `lock`.
pub fn record(env: &Environment, profile: &str, store: Kind, access_key_id: &str) -> Result<()> {
    check_profile(profile)?;
    let mut lines = read_all(env)?;
    lines.retain(|line| !line.is_about(profile));
    lines.push(Line::Record(
        profile.to_owned(),
        Record {
            store,
            access_key_id: access_key_id.to_owned(),
        },
    ));
    write_all(env, &lines)
}

/// Removes `profile`'s line. The caller holds `lock`.
pub fn forget(env: &Environment, profile: &str) -> Result<()> {
    let mut lines = read_all(env)?;
    let before = lines.len();
    lines.retain(|line| !line.is_about(profile));
    if lines.len() == before {
        return Ok(());
    }
    write_all(env, &lines)
}
