//! Where an IAM user's long-term keys live when they are not in the credentials file: a key
//! store. One small interface (`Store`: get, set, delete a profile's keys, and the store's name
//! for messages) over three back ends, each in its own file:
//!
//! - `secret-service`: the freedesktop Secret Service on the session D-Bus (GNOME Keyring,
//!   KWallet, KeePassXC), through keyring-core's zbus store (pure Rust, no libdbus);
//! - `keychain`: the macOS login keychain (built only on macOS);
//! - `file`: one age-encrypted file (scrypt passphrase), for servers, SSH sessions and WSL.
//!
//! `MFAEXEC_STORE` chooses one; else macOS uses the keychain, and other systems the Secret
//! Service when one answers on the session bus, else the file.
//!
//! A store in another process (the Secret Service, the keychain) is called on a thread of its
//! own and waited for at most `MFAEXEC_STORE_TIMEOUT` (`bounded`): one that stops answering
//! fails the run with one line naming it, instead of hanging it (issue 18, defect 1).
//!
//! Opening a store may unlock it (a prompt, a passphrase), so a cache hit must never open one.
//! Which store holds a profile's keys, and their access key id, are therefore recorded in a
//! plain index (`index.rs`) that planning reads instead: the cache key is built from it.

mod file;
pub use crate::config::index::{self, Kind};
#[cfg(target_os = "macos")]
mod keychain;
pub mod process;
#[cfg(not(target_os = "macos"))]
mod secret_service;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use crate::config::limits;
use crate::config::profile::{Source, SourceKind};
use crate::creds::{Keys, Secret};
use crate::error::{Class, Error, Result};
use crate::sys::environ::Environment;
use crate::sys::tty::Asking;

/// The service name under which keys are filed (keychain service, Secret Service attribute).
pub const SERVICE: &str = "mfaexec";

/// What each back end does; the keys cross it whole (id and secret together), so a store is
/// self-contained and the index only repeats the id.
trait Backend {
    fn get(&self, profile: &str) -> Result<Option<Keys>>;
    fn set(&self, profile: &str, keys: &Keys) -> Result<()>;
    /// `false`: there was nothing to delete.
    fn delete(&self, profile: &str) -> Result<bool>;
}

/// An open key store.
pub struct Store {
    kind: Kind,
    backend: Box<dyn Backend>,
    env: Environment,
}

impl Store {
    /// The store chosen by `MFAEXEC_STORE`, else the system's default. `ask`: whether the file
    /// store may ask for its passphrase on the terminal.
    pub fn open(env: &Environment, ask: Asking) -> Result<Store> {
        match env.get("MFAEXEC_STORE") {
            Some(text) if !text.is_empty() => {
                let kind = Kind::parse(text).ok_or_else(|| {
                    Error::usage(format!("MFAEXEC_STORE `{text}` is not a key store"))
                        .hint("use secret-service, keychain or file")
                })?;
                Store::open_kind(kind, env, ask)
            }
            _ => Store::open_default(env, ask),
        }
    }

    /// The store that holds `profile`'s keys according to the index, else the chosen one.
    pub fn open_for(profile: &str, env: &Environment, ask: Asking) -> Result<Store> {
        match index::lookup(env, profile)? {
            Some(record) => {
                Store::open_recorded(profile, &record.access_key_id, record.store, env, ask)
            }
            None => Store::open(env, ask),
        }
    }

    /// The store the index names for `profile`'s key `id`. `MFAEXEC_STORE` does not apply (it
    /// chooses where new keys go), so a failure says so rather than pass on a hint to set it.
    pub fn open_recorded(
        profile: &str,
        id: &str,
        kind: Kind,
        env: &Environment,
        ask: Asking,
    ) -> Result<Store> {
        Store::open_kind(kind, env, ask).map_err(|e| {
            if e.class_of() == Class::NoAnswer {
                return Error::new(format!("profile `{profile}`: {}", e.message()))
                    .hint(e.hint_text().unwrap_or_default())
                    .class(Class::NoAnswer);
            }
            Error::new(format!(
                "profile `{profile}`: its key {id} is in the {} store, as the index of stored keys records, and that store cannot be opened: {}",
                kind.name(),
                e.message()
            ))
            .hint(format!(
                "make the {} store reachable (unlocked, running) and run again; MFAEXEC_STORE chooses the store of new keys only",
                kind.name()
            ))
        })
    }

    #[cfg(target_os = "macos")]
    fn open_default(env: &Environment, ask: Asking) -> Result<Store> {
        Store::open_kind(Kind::Keychain, env, ask)
    }

    /// The Secret Service when one answers on the session bus, else the file. One that is on
    /// the bus but does not answer in time is an error, not a reason to put keys elsewhere.
    #[cfg(not(target_os = "macos"))]
    fn open_default(env: &Environment, ask: Asking) -> Result<Store> {
        let limit = store_timeout(env)?;
        match bounded(
            Kind::SecretService,
            limit,
            secret_service::SecretService::connect,
        ) {
            Ok(backend) => Ok(Store {
                kind: Kind::SecretService,
                backend: Box::new(Bounded::new(Kind::SecretService, limit, backend)),
                env: env.clone(),
            }),
            Err(e) if e.class_of() == Class::NoAnswer => Err(e),
            Err(_) => Store::open_kind(Kind::File, env, ask),
        }
    }

    pub fn open_kind(kind: Kind, env: &Environment, ask: Asking) -> Result<Store> {
        let backend: Box<dyn Backend> = match kind {
            Kind::File => Box::new(file::FileStore::new(env, ask)?),
            #[cfg(not(target_os = "macos"))]
            Kind::SecretService => {
                let limit = store_timeout(env)?;
                let backend = bounded(kind, limit, secret_service::SecretService::connect)?;
                Box::new(Bounded::new(kind, limit, backend))
            }
            #[cfg(target_os = "macos")]
            Kind::Keychain => {
                let limit = store_timeout(env)?;
                let backend = bounded(kind, limit, keychain::Keychain::new)?;
                Box::new(Bounded::new(kind, limit, backend))
            }
            #[cfg(target_os = "macos")]
            Kind::SecretService => {
                return Err(
                    Error::new("the secret-service store is not available on macOS")
                        .hint("use MFAEXEC_STORE=keychain or MFAEXEC_STORE=file"),
                );
            }
            #[cfg(not(target_os = "macos"))]
            Kind::Keychain => {
                return Err(Error::new("the keychain store exists only on macOS")
                    .hint("use MFAEXEC_STORE=secret-service or MFAEXEC_STORE=file"));
            }
        };
        Ok(Store {
            kind,
            backend,
            env: env.clone(),
        })
    }

    /// `secret-service`, `keychain` or `file`, for messages.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// The keys stored for `profile`.
    pub fn get(&self, profile: &str) -> Result<Option<Keys>> {
        self.backend
            .get(profile)
            .map_err(|e| self.about(profile, e))
    }

    /// Stores `keys` for `profile` (replacing any), then records their id in the index: one
    /// transaction (issue 18, defect 3). Everything that can be refused is checked first (the
    /// keys, the name, what the store held before), so that only I/O can fail once the store is
    /// written; then, when the index cannot be written, the store is put back as it was, so that
    /// store and index never disagree and a key replaced here (maybe the only working one) is
    /// not lost.
    pub fn set(&self, profile: &str, keys: &Keys) -> Result<()> {
        check_keys(keys)?;
        index::check_profile(profile)?;
        let _lock = index::lock(&self.env)?;
        let previous = self
            .backend
            .get(profile)
            .map_err(|e| self.about(profile, e))?;
        self.backend
            .set(profile, keys)
            .map_err(|e| self.about(profile, e))?;
        let Err(e) = index::record(&self.env, profile, self.kind, &keys.access_key_id) else {
            return Ok(());
        };
        let undone = match &previous {
            Some(was) => self.backend.set(profile, was),
            None => self.backend.delete(profile).map(|_| ()),
        };
        Err(match undone {
            Ok(()) => e,
            Err(u) => Error::new(format!(
                "{}; and the {} store, which now holds {} for profile `{profile}`, could not be put back as it was: {}",
                e.message(),
                self.name(),
                keys.access_key_id,
                u.message()
            )),
        })
    }

    /// Rewrites `profile`'s index line to `held`, the id this store holds (checked again under
    /// the lock), after the two were found to disagree.
    pub fn resync(&self, profile: &str, held: &str) -> Result<()> {
        let _lock = index::lock(&self.env)?;
        match self.get(profile)? {
            Some(keys) if keys.access_key_id == held => {
                index::record(&self.env, profile, self.kind, held)
            }
            _ => Err(Error::new(format!(
                "the {} store changed meanwhile",
                self.name()
            ))),
        }
    }

    /// Deletes `profile`'s keys and their index line, both or neither: when the index cannot be
    /// written, the keys are put back. `false`: the store had none.
    pub fn delete(&self, profile: &str) -> Result<bool> {
        let _lock = index::lock(&self.env)?;
        let previous = self
            .backend
            .get(profile)
            .map_err(|e| self.about(profile, e))?;
        let deleted = self
            .backend
            .delete(profile)
            .map_err(|e| self.about(profile, e))?;
        let Err(e) = index::forget(&self.env, profile) else {
            return Ok(deleted);
        };
        let Some(was) = previous else {
            return Err(e);
        };
        Err(match self.backend.set(profile, &was) {
            Ok(()) => e,
            Err(u) => Error::new(format!(
                "{}; and key {} of profile `{profile}`, deleted from the {} store, could not be put back: {}",
                e.message(),
                was.access_key_id,
                self.name(),
                u.message()
            )),
        })
    }

    fn about(&self, profile: &str, e: Error) -> Error {
        if e.class_of() == Class::NoAnswer {
            // The message names the store already.
            return Error::new(format!("profile `{profile}`: {}", e.message()))
                .hint(e.hint_text().unwrap_or_default())
                .class(Class::NoAnswer);
        }
        let named = Error::new(format!(
            "profile `{profile}`: {} store: {}",
            self.name(),
            e.message()
        ))
        .class(e.class_of());
        match e.hint_text() {
            Some(hint) => named.hint(hint),
            None => named,
        }
    }
}

/// The keys of a source that planning could not read without unlocking or running something:
/// a store (opened here, once) or a credential_process (run here, once).
pub fn load(source: &Source, env: &Environment, ask: Asking) -> Result<Keys> {
    if let Some(keys) = &source.keys {
        return Ok(keys.clone());
    }
    match &source.kind {
        SourceKind::Store {
            profile,
            store,
            access_key_id,
        } => {
            let opened = Store::open_recorded(profile, access_key_id, *store, env, ask)?;
            stored_keys(&opened, profile, access_key_id)
        }
        SourceKind::Process { profile, command } => process::run(profile, command, env),
        SourceKind::Profile(p) => Err(Error::new(format!(
            "profile `{p}`: its keys were not read from the files"
        ))),
        SourceKind::Environment => Err(Error::new(
            "the keys of credential_source = Environment were not read",
        )),
        SourceKind::Sso(sso) => Err(Error::new(format!(
            "profile `{}`: its credentials come from IAM Identity Center, not from keys",
            sso.profile
        ))),
        SourceKind::WebIdentity(w) => Err(Error::new(format!(
            "profile `{}`: its credentials come from web identity, not from keys",
            w.profile
        ))),
        SourceKind::Login(l) => Err(Error::new(format!(
            "profile `{}`: its credentials come from `aws login`, not from keys",
            l.profile
        ))),
    }
}

/// The keys `store` holds for `profile`, which the index says are `access_key_id`. When the
/// store holds another key, the index is brought in line with the store (which holds the
/// secret, and so the key that may be the only working one) and the run stops: its plan, and
/// cache key, were made from the index's id.
pub fn stored_keys(store: &Store, profile: &str, access_key_id: &str) -> Result<Keys> {
    let keys = store.get(profile)?.ok_or_else(|| {
        Error::new(format!(
            "profile `{profile}`: the {} store has no key for it, though the index of stored keys says it holds {access_key_id}",
            store.name()
        ))
        .hint(format!("add it again: mfaexec remove {profile} -f; mfaexec add {profile}"))
    })?;
    if keys.access_key_id == access_key_id {
        return Ok(keys);
    }
    let held = &keys.access_key_id;
    let said = format!(
        "profile `{profile}`: the {} store holds key {held}, but the index of stored keys said {access_key_id}",
        store.name()
    );
    Err(match store.resync(profile, held) {
        Ok(()) => Error::new(format!(
            "{said}; the index now says {held}, as the store does"
        ))
        .hint(format!("run the command again to use {held}")),
        Err(e) => {
            let path = index::path(&store.env)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "the index".into());
            Error::new(format!("{said}, and the index could not be corrected: {}", e.message()))
                .hint(format!(
                    "correct the line of `{profile}` in {path} to end in {held}; `mfaexec remove {profile}` would delete {held}, which may be the only key that works"
                ))
        }
    })
}

/// `MFAEXEC_STORE_TIMEOUT`: how long a store in another process may take to answer one call.
fn store_timeout(env: &Environment) -> Result<Duration> {
    limits::setting(env, &limits::STORE_TIMEOUT).map(Duration::from_secs)
}

/// Calls given up on (`bounded`) that have not returned yet: while one is out, the store is
/// taken as not answering at once, rather than leaving one more thread stuck on it (a
/// `--server` renewing again and again).
static ABANDONED: AtomicUsize = AtomicUsize::new(0);

fn no_answer(kind: Kind, limit: Duration, still: bool) -> Error {
    Error::new(format!(
        "the {} store did not answer within {}{}",
        kind.name(),
        limits::format(limit.as_secs()),
        if still {
            " (an earlier call to it is still waiting)"
        } else {
            ""
        }
    ))
    .hint(format!(
        "is its daemon running, and not waiting on an unlock dialog? {} sets how long to wait (e.g. {})",
        limits::STORE_TIMEOUT.name,
        limits::STORE_TIMEOUT.example
    ))
    .class(Class::NoAnswer)
}

/// Runs `call` (one call to a store in another process) on a thread of its own, and waits for
/// it at most `limit`; then gives up on it. An abandoned call ends with the process (an exit,
/// an exec), or returns late, when its answer is dropped (a `Secret` zeroizes itself). Never
/// for the file store: its only wait is a passphrase typed at the terminal, and a read given up
/// on would leave the terminal without echo.
fn bounded<T: Send + 'static>(
    kind: Kind,
    limit: Duration,
    call: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    const RUNNING: u8 = 0;
    const RETURNED: u8 = 1;
    const GIVEN_UP: u8 = 2;
    if ABANDONED.load(Ordering::SeqCst) > 0 {
        return Err(no_answer(kind, limit, true));
    }
    let state = Arc::new(AtomicU8::new(RUNNING));
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let returned = Arc::clone(&state);
    std::thread::Builder::new()
        .name("mfaexec-store".into())
        .spawn(move || {
            let answer = call();
            if returned.swap(RETURNED, Ordering::SeqCst) == GIVEN_UP {
                ABANDONED.fetch_sub(1, Ordering::SeqCst);
            }
            let _ = tx.send(answer);
        })
        .map_err(|e| {
            Error::new(format!(
                "cannot start a call to the {} store: {e}",
                kind.name()
            ))
        })?;
    match rx.recv_timeout(limit) {
        Ok(answer) => answer,
        Err(_) => {
            if state
                .compare_exchange(RUNNING, GIVEN_UP, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                ABANDONED.fetch_add(1, Ordering::SeqCst);
                return Err(no_answer(kind, limit, false));
            }
            // It returned just now.
            rx.recv().map_err(|_| no_answer(kind, limit, false))?
        }
    }
}

/// A store in another process whose every call is `bounded`.
struct Bounded<B> {
    kind: Kind,
    limit: Duration,
    inner: Arc<B>,
}

impl<B> Bounded<B> {
    fn new(kind: Kind, limit: Duration, inner: B) -> Bounded<B> {
        Bounded {
            kind,
            limit,
            inner: Arc::new(inner),
        }
    }
}

impl<B: Backend + Send + Sync + 'static> Backend for Bounded<B> {
    fn get(&self, profile: &str) -> Result<Option<Keys>> {
        let (inner, profile) = (Arc::clone(&self.inner), profile.to_owned());
        bounded(self.kind, self.limit, move || inner.get(&profile))
    }

    fn set(&self, profile: &str, keys: &Keys) -> Result<()> {
        let (inner, profile, keys) = (Arc::clone(&self.inner), profile.to_owned(), keys.clone());
        bounded(self.kind, self.limit, move || inner.set(&profile, &keys))
    }

    fn delete(&self, profile: &str) -> Result<bool> {
        let (inner, profile) = (Arc::clone(&self.inner), profile.to_owned());
        bounded(self.kind, self.limit, move || inner.delete(&profile))
    }
}

/// Long-term keys as AWS issues them: an id of letters and digits, a secret without spaces or
/// line breaks (it must survive every store's encoding and the INI files).
pub fn check_keys(keys: &Keys) -> Result<()> {
    let id = &keys.access_key_id;
    if id.len() < 16 || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::new(format!("`{id}` is not an AWS access key id"))
            .hint("an access key id is 16 to 128 letters and digits, like AKIAIOSFODNN7EXAMPLE"));
    }
    let secret = keys.secret_access_key.expose();
    if secret.is_empty() || secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::new(format!(
            "the secret access key of {id} is empty or holds spaces or line breaks"
        ))
        .hint("paste the secret exactly as IAM showed it"));
    }
    if keys.session_token.is_some() {
        return Err(Error::new(format!(
            "{id} has a session token: a key store holds only long-term keys"
        )));
    }
    Ok(())
}

/// The stored form: the id and the secret on two lines.
fn encode(keys: &Keys) -> Secret {
    Secret::new(format!(
        "{}\n{}",
        keys.access_key_id,
        keys.secret_access_key.expose()
    ))
}

fn decode(text: &str) -> Result<Keys> {
    let mut lines = text.lines();
    match (lines.next(), lines.next(), lines.next()) {
        (Some(id), Some(secret), None) if !id.is_empty() && !secret.is_empty() => Ok(Keys {
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new(secret),
            session_token: None,
        }),
        _ => Err(Error::new(
            "the stored item is not an mfaexec key (an access key id and a secret on two lines)",
        )
        .hint("delete it with `mfaexec remove PROFILE -f` and add the key again")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_the_stored_form() {
        let keys = Keys {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        };
        assert_eq!(decode(encode(&keys).expose()).unwrap(), keys);
        assert!(decode("AKIA only").is_err());
        assert!(decode("a\nb\nc").is_err());
    }

    #[test]
    fn keys_are_checked_before_they_are_stored() {
        let mut keys = Keys {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new("secret"),
            session_token: None,
        };
        assert!(check_keys(&keys).is_ok());
        keys.secret_access_key = Secret::new("two words");
        assert!(check_keys(&keys).is_err());
        keys.secret_access_key = Secret::new("secret");
        keys.access_key_id = "AKIA-bad".into();
        assert!(check_keys(&keys).is_err());
    }
}
