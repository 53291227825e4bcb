//! The freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC) on the session D-Bus,
//! through keyring-core's zbus store: pure Rust, encrypted transport (DH session), no libdbus.
//! An item per profile, with the attributes `service = mfaexec` and `username = PROFILE`, in the
//! default collection (the login keyring), so `secret-tool search service mfaexec` lists them.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::api::CredentialStoreApi;
use zbus_secret_service_keyring_store::Store;
use zeroize::Zeroizing;

use super::{Backend, SERVICE, encode};
use crate::creds::Keys;
use crate::error::{Error, Result};

pub struct SecretService {
    store: Arc<Store>,
}

impl SecretService {
    /// Connects to the session bus and opens a session with the Secret Service; fails when
    /// none answers.
    pub fn connect() -> Result<SecretService> {
        let store = Store::new().map_err(|e| {
            Error::new(format!(
                "the secret-service store: no Secret Service answers on the session D-Bus: {e}"
            ))
            .hint("start one (gnome-keyring-daemon, KeePassXC, KWallet), or use MFAEXEC_STORE=file")
        })?;
        Ok(SecretService { store })
    }

    fn entry(&self, profile: &str) -> Result<keyring_core::Entry> {
        let label = format!("mfaexec: AWS keys of profile {profile}");
        let modifiers = HashMap::from([("label", label.as_str())]);
        self.store
            .build(SERVICE, profile, Some(&modifiers))
            .map_err(failure)
    }
}

fn failure(e: keyring_core::Error) -> Error {
    use keyring_core::Error as K;
    match e {
        K::NoStorageAccess(inner) => Error::new(format!("the keyring is locked or refused access: {inner}"))
            .hint("unlock the login keyring (it unlocks at a desktop login; `gnome-keyring-daemon --unlock` otherwise)"),
        K::Ambiguous(items) => Error::new(format!(
            "{} items match; mfaexec keeps one per profile",
            items.len()
        ))
        .hint("delete the extra ones: secret-tool clear service mfaexec username PROFILE"),
        // Other variants carry no secret (BadEncoding would carry the bytes: not shown).
        K::BadEncoding(_) | K::BadDataFormat(..) => {
            Error::new("the stored item is not valid text")
        }
        other => Error::new(other.to_string()),
    }
}

impl Backend for SecretService {
    fn get(&self, profile: &str) -> Result<Option<Keys>> {
        match self.entry(profile)?.get_secret() {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let text = std::str::from_utf8(&bytes)
                    .map_err(|_| Error::new("the stored item is not valid text"))?;
                super::decode(text).map(Some)
            }
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(failure(e)),
        }
    }

    fn set(&self, profile: &str, keys: &Keys) -> Result<()> {
        let value = encode(keys);
        self.entry(profile)?
            .set_secret(value.expose().as_bytes())
            .map_err(failure)
    }

    fn delete(&self, profile: &str) -> Result<bool> {
        match self.entry(profile)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(failure(e)),
        }
    }
}
