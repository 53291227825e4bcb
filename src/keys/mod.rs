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

use crate::config::profile::{Source, SourceKind};
use crate::creds::{Keys, Secret};
use crate::error::{Error, Result};
use crate::sys::environ::Environment;

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
    /// The store chosen by `MFAEXEC_STORE`, else the system's default.
    pub fn open(env: &Environment) -> Result<Store> {
        match env.get("MFAEXEC_STORE") {
            Some(text) if !text.is_empty() => {
                let kind = Kind::parse(text).ok_or_else(|| {
                    Error::usage(format!("MFAEXEC_STORE `{text}` is not a key store"))
                        .hint("use secret-service, keychain or file")
                })?;
                Store::open_kind(kind, env)
            }
            _ => Store::open_default(env),
        }
    }

    /// The store that holds `profile`'s keys according to the index, else the chosen one.
    pub fn open_for(profile: &str, env: &Environment) -> Result<Store> {
        match index::lookup(env, profile)? {
            Some(record) => Store::open_recorded(profile, &record.access_key_id, record.store, env),
            None => Store::open(env),
        }
    }

    /// The store the index names for `profile`'s key `id`. `MFAEXEC_STORE` does not apply (it
    /// chooses where new keys go), so a failure says so rather than pass on a hint to set it.
    pub fn open_recorded(profile: &str, id: &str, kind: Kind, env: &Environment) -> Result<Store> {
        Store::open_kind(kind, env).map_err(|e| {
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
    fn open_default(env: &Environment) -> Result<Store> {
        Store::open_kind(Kind::Keychain, env)
    }

    /// The Secret Service when one answers on the session bus, else the file.
    #[cfg(not(target_os = "macos"))]
    fn open_default(env: &Environment) -> Result<Store> {
        match secret_service::SecretService::connect() {
            Ok(backend) => Ok(Store {
                kind: Kind::SecretService,
                backend: Box::new(backend),
                env: env.clone(),
            }),
            Err(_) => Store::open_kind(Kind::File, env),
        }
    }

    pub fn open_kind(kind: Kind, env: &Environment) -> Result<Store> {
        let backend: Box<dyn Backend> = match kind {
            Kind::File => Box::new(file::FileStore::new(env)?),
            #[cfg(not(target_os = "macos"))]
            Kind::SecretService => Box::new(secret_service::SecretService::connect()?),
            #[cfg(target_os = "macos")]
            Kind::Keychain => Box::new(keychain::Keychain::new()?),
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

    /// Stores `keys` for `profile` (replacing any), then records their id in the index. When
    /// the index cannot be written, the store is put back as it was, so that store and index
    /// never disagree and a key replaced here (maybe the only working one) is not lost.
    pub fn set(&self, profile: &str, keys: &Keys) -> Result<()> {
        check_keys(keys)?;
        let _lock = index::lock(&self.env)?;
        let previous = self.backend.get(profile);
        self.backend
            .set(profile, keys)
            .map_err(|e| self.about(profile, e))?;
        let Err(e) = index::record(&self.env, profile, self.kind, &keys.access_key_id) else {
            return Ok(());
        };
        let undone = match &previous {
            Ok(Some(was)) => self.backend.set(profile, was),
            Ok(None) => self.backend.delete(profile).map(|_| ()),
            Err(r) => Err(Error::new(format!(
                "what it held before could not be read: {}",
                r.message()
            ))),
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

    /// Deletes `profile`'s keys and their index line. `false`: the store had none.
    pub fn delete(&self, profile: &str) -> Result<bool> {
        let _lock = index::lock(&self.env)?;
        let deleted = self
            .backend
            .delete(profile)
            .map_err(|e| self.about(profile, e))?;
        index::forget(&self.env, profile)?;
        Ok(deleted)
    }

    fn about(&self, profile: &str, e: Error) -> Error {
        let named = Error::new(format!(
            "profile `{profile}`: {} store: {}",
            self.name(),
            e.message()
        ));
        match e.hint_text() {
            Some(hint) => named.hint(hint),
            None => named,
        }
    }
}

/// The keys of a source that planning could not read without unlocking or running something:
/// a store (opened here, once) or a credential_process (run here, once).
pub fn load(source: &Source, env: &Environment) -> Result<Keys> {
    if let Some(keys) = &source.keys {
        return Ok(keys.clone());
    }
    match &source.kind {
        SourceKind::Store {
            profile,
            store,
            access_key_id,
        } => {
            let opened = Store::open_recorded(profile, access_key_id, *store, env)?;
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
