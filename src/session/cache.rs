//! The session cache: one MFA code per session lifetime.
//!
//! Entries live in `$XDG_CACHE_HOME/mfaexec` (else `~/.cache/mfaexec`), one JSON file per cache
//! key, the directory 0700 and the files 0600, both owned by the user. Writes are atomic (an
//! exclusive temporary file in the same directory, synced, then renamed over the entry), so a
//! crash leaves the old entry or the new one, never half of one. Nothing is opened through a
//! symlink. A lock file per key (`flock`, released by the kernel when its holder dies) is held
//! across "look → ask for the code → call STS → write", so processes started together make one
//! call; a cache hit takes no lock at all.
//!
//! Only STS session credentials are stored here, never long-term keys.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg, OFlag};
use sha2::{Digest, Sha256};

use crate::config::endpoint::partition;
use crate::config::limits;
use crate::config::profile::{Plan, SourceKind};
use crate::creds::{Keys, Secret, Session};
use crate::error::{Error, Result};
use crate::sys::environ::Environment;
use crate::sys::{atomic, files};

const FORMAT_VERSION: u64 = 1;

/// Where the cache is, and whether it may be used.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache directory, created 0700 if missing. `Ok(None)`: switched off
    /// (`MFAEXEC_CACHE=off`). `Err`: present but unsafe or unusable; the caller warns and goes on
    /// without a cache rather than put a secret anywhere else.
    pub fn open(env: &Environment) -> Result<Option<Cache>> {
        if let Some(setting) = env.get("MFAEXEC_CACHE") {
            match setting.to_ascii_lowercase().as_str() {
                "off" | "0" | "false" | "no" => return Ok(None),
                "on" | "1" | "true" | "yes" => {}
                other => {
                    return Err(Error::new(format!("MFAEXEC_CACHE `{other}` is not valid"))
                        .hint("use MFAEXEC_CACHE=off to switch the session cache off"));
                }
            }
        }
        let dir = Cache::dir(env)?;
        Cache::prepare(&dir)?;
        Ok(Some(Cache { dir }))
    }

    /// The directory without creating or checking it (for `clear` and `list`).
    pub fn dir(env: &Environment) -> Result<PathBuf> {
        crate::sys::environ::xdg_dir(env, "XDG_CACHE_HOME", ".cache", "the session cache")
    }

    /// Creates the directory 0700, or checks that the existing one is a real directory, ours,
    /// and closed to group and others.
    fn prepare(dir: &Path) -> Result<()> {
        files::prepare_private_dir(dir, "XDG_CACHE_HOME")
    }

    fn entry_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The cached session for `key`, if there is a sound one. An expired, corrupt, foreign or
    /// loose one is ignored and left to the next write (under the key's lock) to replace: a
    /// reader deleting it without the lock could delete the fresh entry another process has
    /// just renamed in, and cost a second MFA prompt. `clear` removes old entries.
    pub fn read(&self, key: &str, now: i64) -> Option<Entry> {
        let entry = read_entry(&self.entry_path(key)).ok()??;
        (entry.session.expiration > now).then_some(entry)
    }

    /// Writes `entry` atomically (src/atomic.rs): a crash leaves the old entry or the new one.
    pub fn write(&self, key: &str, entry: &Entry) -> Result<()> {
        atomic::replace(
            &self.dir,
            &self.entry_path(key),
            ".tmp-",
            entry.to_json().as_bytes(),
        )
    }

    /// Every entry file with its parsed content (unreadable ones as None).
    pub fn entries(&self) -> Vec<(PathBuf, Option<Entry>)> {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<(PathBuf, Option<Entry>)> = dir
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                let entry = read_entry(&p).ok().flatten();
                (p, entry)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The entry for `key` as it is, expired or not (for `list`).
    pub fn peek(&self, key: &str) -> Option<Entry> {
        read_entry(&self.entry_path(key)).ok().flatten()
    }

    /// Takes the lock of `key`, waiting for another mfaexec that holds it. `waiting` is called
    /// once, after a second, with the holder's pid when known.
    pub fn lock(
        &self,
        key: &str,
        timeout: Duration,
        waiting: &dyn Fn(Option<u32>),
    ) -> Result<Lock, LockFailure> {
        let unusable = LockFailure::Unusable;
        let path = self.dir.join(format!("{key}.lock"));
        let file = crate::sys::files::open_lock_file(&path)
            .map_err(|e| unusable(Error::new(format!("cannot open {}: {e}", path.display()))))?;
        let meta = file
            .metadata()
            .map_err(|e| unusable(Error::new(format!("cannot read {}: {e}", path.display()))))?;
        check_private(&path, &meta, false).map_err(unusable)?;
        let start = Instant::now();
        let mut file = file;
        let mut told = false;
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(mut locked) => {
                    // Say who holds it, for the message of those who wait.
                    let _ = locked.set_len(0);
                    let _ = locked.write_all(std::process::id().to_string().as_bytes());
                    return Ok(Lock { _file: locked });
                }
                Err((f, errno))
                    if errno == nix::errno::Errno::EWOULDBLOCK
                        || errno == nix::errno::Errno::EINTR =>
                {
                    file = f;
                }
                Err((_, errno)) => {
                    return Err(unusable(Error::new(format!(
                        "cannot lock {}: {errno}",
                        path.display()
                    ))));
                }
            }
            let waited = start.elapsed();
            if !told && waited >= Duration::from_secs(1) {
                told = true;
                waiting(holder_pid(&path));
            }
            if waited >= timeout {
                let holder = holder_pid(&path)
                    .map(|p| format!(" (pid {p})"))
                    .unwrap_or_default();
                return Err(LockFailure::TimedOut(
                    Error::new(format!(
                        "another mfaexec{holder} has been getting this session for over {}",
                        limits::format(timeout.as_secs())
                    ))
                    .hint("finish or stop that one; MFAEXEC_LOCK_TIMEOUT sets how long to wait"),
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// Why a lock was not taken: another process kept it too long (an error: its session is on the
/// way), or the lock file cannot be used (go on without the cache, as for an unsafe directory).
#[derive(Debug)]
pub enum LockFailure {
    TimedOut(Error),
    Unusable(Error),
}

/// Held while one process gets a session; released when dropped or when the process dies.
pub struct Lock {
    _file: Flock<File>,
}

fn holder_pid(path: &Path) -> Option<u32> {
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// A file or directory that may hold secrets: not a symlink, ours, closed to group and others.
fn check_private(path: &Path, meta: &fs::Metadata, is_dir: bool) -> Result<()> {
    files::check_private(path, meta, is_dir, "XDG_CACHE_HOME")
}

/// Reads an entry without following a symlink. `Ok(None)`: absent, corrupt, or not private.
fn read_entry(path: &Path) -> std::io::Result<Option<Entry>> {
    let mut file = match OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NOFOLLOW.bits() | OFlag::O_NONBLOCK.bits())
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // ELOOP: a symlink; never read through it.
        Err(_) => return Ok(None),
    };
    let meta = file.metadata()?;
    if check_private(path, &meta, false).is_err() || meta.len() > 64 * 1024 {
        return Ok(None);
    }
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(Entry::from_json(&text))
}

/// One cached session and what it was for (shown by `list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub profile: String,
    /// The role the session is for, or None for a GetSessionToken session.
    pub role_arn: Option<String>,
    pub session: Session,
    /// Unix seconds.
    pub issued: i64,
}

impl Entry {
    fn to_json(&self) -> String {
        let keys = &self.session.keys;
        serde_json::json!({
            "version": FORMAT_VERSION,
            "profile": self.profile,
            "role_arn": self.role_arn,
            "issued": self.issued,
            "expiration": self.session.expiration,
            "access_key_id": keys.access_key_id,
            "secret_access_key": keys.secret_access_key.expose(),
            "session_token": keys.session_token.as_ref().map(Secret::expose),
        })
        .to_string()
    }

    fn from_json(text: &str) -> Option<Entry> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        if v.get("version")?.as_u64()? != FORMAT_VERSION {
            return None;
        }
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        // What `list` and `--dry-run` show of an entry: a hand-edited one holding control
        // characters is damage, not a session.
        let shown = |k: &str| s(k).filter(|t| !t.chars().any(char::is_control));
        // Only what STS could have issued (the check of `aws::sts` on its answers): a key id, and
        // secrets without control characters. A hand-edited or damaged entry is not served.
        let secret = |k: &str| s(k).filter(|t| !t.is_empty() && crate::creds::has_no_control(t));
        let token = secret("session_token")?;
        if s("role_arn").is_some() && shown("role_arn").is_none() {
            return None;
        }
        Some(Entry {
            profile: shown("profile")?,
            role_arn: shown("role_arn"),
            issued: v.get("issued")?.as_i64()?,
            session: Session {
                keys: Keys {
                    access_key_id: s("access_key_id").filter(|k| crate::creds::is_key_id(k))?,
                    secret_access_key: Secret::new(secret("secret_access_key")?),
                    session_token: Some(Secret::new(token)),
                },
                expiration: v.get("expiration")?.as_i64()?,
            },
        })
    }
}

/// Everything that decides which session a plan gets: the signing key, each hop's role and
/// parameters, the MFA device, the call, and where STS is. A change to any of them is a
/// different key, so a config change never serves a stale session. The region matters only
/// through the partition (a session from aws-cn is no good in aws) or an explicit endpoint.
pub fn key(plan: &Plan) -> String {
    // Keys moved from the files into a store (`mfaexec import`) are the same keys: a session
    // cached before the move stays valid. A credential_process's key id is known only once it
    // has run, so its command stands in for it: a cache hit runs nothing.
    let (key, source) = match &plan.source.kind {
        SourceKind::Profile(_) | SourceKind::Store { .. } => (
            plan.source.access_key_id().unwrap_or("").to_owned(),
            "profile",
        ),
        SourceKind::Process { command, .. } => (format!("process:{command}"), "process"),
        SourceKind::Environment => (
            plan.source.access_key_id().unwrap_or("").to_owned(),
            "environment",
        ),
        // What the portal is asked for, not the token: a hit reads no token file.
        SourceKind::Sso(sso) => (
            format!(
                "sso:{}|{}|{}|{}|{}",
                sso.start_url,
                sso.session.as_deref().unwrap_or(""),
                sso.region,
                sso.account_id,
                sso.role_name
            ),
            "sso",
        ),
        SourceKind::WebIdentity(w) => (
            format!(
                "web-identity:{}|{}|{}",
                w.role_arn, w.token_file, w.session_name
            ),
            "web-identity",
        ),
        // The session's ARN names the token file; a hit reads no token.
        SourceKind::Login(l) => (format!("login:{}", l.session_arn), "login"),
    };
    let mut text = format!(
        "v{FORMAT_VERSION}\ncall={}\nkey={key}\nsource={source}\nmfa={}\nfederation={}\n",
        plan.call.operation(),
        plan.mfa.as_ref().map(|m| m.serial.as_str()).unwrap_or(""),
        plan.federation_name.as_deref().unwrap_or(""),
    );
    for hop in &plan.hops {
        text.push_str(&format!(
            "hop={}|{}|{}|{}\n",
            hop.role_arn,
            hop.external_id.as_deref().unwrap_or(""),
            hop.session_name,
            hop.source_identity.as_deref().unwrap_or("")
        ));
    }
    match &plan.endpoint {
        Some(e) => text.push_str(&format!("endpoint={}\n", e.value)),
        None => text.push_str(&format!("partition={}\n", partition(plan.sts_region()))),
    }
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// `MFAEXEC_REFRESH_WINDOW`: a cached session with less than this left is replaced.
pub fn refresh_window(env: &Environment) -> Result<u64> {
    limits::setting(env, &limits::REFRESH_WINDOW)
}

pub fn lock_timeout(env: &Environment) -> Result<Duration> {
    limits::setting(env, &limits::LOCK_TIMEOUT).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            profile: "prod".into(),
            role_arn: Some("arn:aws:iam::1:role/x".into()),
            issued: 100,
            session: Session {
                keys: Keys {
                    access_key_id: "ASIAEXAMPLE23456".into(),
                    // Quotes, a space and non-ASCII: anything but a control character.
                    secret_access_key: Secret::new("s'\" /+= \u{2019}é"),
                    session_token: Some(Secret::new("t")),
                },
                expiration: 2000,
            },
        }
    }

    #[test]
    fn entries_round_trip_and_reject_damage() {
        let e = entry();
        let text = e.to_json();
        assert_eq!(Entry::from_json(&text), Some(e.clone()));
        assert_eq!(Entry::from_json(&text[..text.len() / 2]), None);
        assert_eq!(Entry::from_json("{}"), None);
        assert_eq!(
            Entry::from_json(&text.replace("\"version\":1", "\"version\":9")),
            None
        );
        // See: issue 18, defect 13: what STS cannot give is damage, never served.
        for key_id in [
            "ASIAEXAMPLE2345\0",
            "ASIAEXAMPLE2345\n",
            "ASIA",
            "asiaexample23456",
        ] {
            let mut bad = e.clone();
            bad.session.keys.access_key_id = key_id.into();
            assert_eq!(Entry::from_json(&bad.to_json()), None, "{key_id:?}");
        }
        for secret in ["abc\ndef", "abc\0", "\u{1b}]0;x\u{7}", "\u{85}"] {
            let mut bad = e.clone();
            bad.session.keys.secret_access_key = Secret::new(secret);
            assert_eq!(Entry::from_json(&bad.to_json()), None, "secret {secret:?}");
            let mut bad = e.clone();
            bad.session.keys.session_token = Some(Secret::new(secret));
            assert_eq!(Entry::from_json(&bad.to_json()), None, "token {secret:?}");
        }
    }

    #[test]
    fn partitions_by_region() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }
}
