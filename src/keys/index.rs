//! The index of stored keys: for each profile whose keys are in a store, which store and the
//! access key id. It holds no secret, so reading it needs no unlock: planning reads it to build
//! the cache key and to say in `--dry-run` and `list` where the keys are, and a cache hit opens
//! no store.
//!
//! It is `$XDG_DATA_HOME/mfaexec/key-ids` (else `~/.local/share/mfaexec/key-ids`), next to the
//! file store, one line per profile: `PROFILE<TAB>STORE<TAB>ACCESS_KEY_ID`. The directory is
//! 0700 and the file 0600; it is replaced atomically under the directory's lock.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg, OFlag};

use super::Kind;
use crate::atomic;
use crate::environ::Environment;
use crate::error::{Error, Result};

const FILE: &str = "key-ids";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub store: Kind,
    pub access_key_id: String,
}

/// `$XDG_DATA_HOME/mfaexec`, else `~/.local/share/mfaexec`.
pub fn dir(env: &Environment) -> Result<PathBuf> {
    let base = match env.get("XDG_DATA_HOME") {
        Some(x) if Path::new(x).is_absolute() => PathBuf::from(x),
        _ => match env.get("HOME") {
            Some(home) => Path::new(home).join(".local/share"),
            None => {
                return Err(Error::new(
                    "neither XDG_DATA_HOME nor HOME is set, so there is no place for the key store",
                ));
            }
        },
    };
    Ok(base.join("mfaexec"))
}

/// The directory, created 0700 when missing.
pub fn prepare(env: &Environment) -> Result<PathBuf> {
    let dir = dir(env)?;
    prepare_dir(&dir)?;
    Ok(dir)
}

pub fn prepare_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        if let Some(parent) = dir.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Error::new(format!("cannot create {}: {e}", parent.display())))?;
        }
        match fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::new(format!("cannot create {}: {e}", dir.display()))),
        }
    }
    Ok(())
}

/// The directory's lock, held across a store write and its index line, so that two mfaexec
/// processes never lose each other's keys. The kernel releases it when the holder dies.
pub fn lock(env: &Environment) -> Result<Flock<File>> {
    let dir = prepare(env)?;
    let path = dir.join("lock");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(OFlag::O_NOFOLLOW.bits())
        .open(&path)
        .map_err(|e| Error::new(format!("cannot open {}: {e}", path.display())))?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| Error::new(format!("cannot lock {}: {e}", path.display())))
}

/// The index file, for messages.
pub fn path(env: &Environment) -> Result<PathBuf> {
    Ok(dir(env)?.join(FILE))
}

fn read_all(env: &Environment) -> Result<Vec<(String, Record)>> {
    let path = dir(env)?.join(FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::new(format!("cannot read {}: {e}", path.display()))),
    };
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut parts = line.split('\t');
            let (profile, store, id) = (parts.next()?, parts.next()?, parts.next()?);
            Some((
                profile.to_owned(),
                Record {
                    store: Kind::parse(store)?,
                    access_key_id: id.to_owned(),
                },
            ))
        })
        .collect())
}

fn write_all(env: &Environment, records: &[(String, Record)]) -> Result<()> {
    let dir = prepare(env)?;
    let text: String = records
        .iter()
        .map(|(p, r)| format!("{p}\t{}\t{}\n", r.store.name(), r.access_key_id))
        .collect();
    atomic::replace(&dir, &dir.join(FILE), ".key-ids.tmp-", text.as_bytes())
}

/// Where `profile`'s keys are stored, if they are.
pub fn lookup(env: &Environment, profile: &str) -> Result<Option<Record>> {
    Ok(read_all(env)?
        .into_iter()
        .find(|(p, _)| p == profile)
        .map(|(_, r)| r))
}

/// Records (or replaces) `profile`'s line. The caller holds `lock`.
pub fn record(env: &Environment, profile: &str, store: Kind, access_key_id: &str) -> Result<()> {
    if profile.contains(['\t', '\n', '\r']) {
        return Err(Error::new(format!(
            "profile `{}`: a profile name with a tab or line break cannot be indexed",
            profile.escape_default()
        )));
    }
    let mut records = read_all(env)?;
    records.retain(|(p, _)| p != profile);
    records.push((
        profile.to_owned(),
        Record {
            store,
            access_key_id: access_key_id.to_owned(),
        },
    ));
    write_all(env, &records)
}

/// Removes `profile`'s line. The caller holds `lock`.
pub fn forget(env: &Environment, profile: &str) -> Result<()> {
    let mut records = read_all(env)?;
    let before = records.len();
    records.retain(|(p, _)| p != profile);
    if records.len() == before {
        return Ok(());
    }
    write_all(env, &records)
}
