//! The macOS login keychain, through keyring-core's Apple native store: a generic password per
//! profile, service `mfaexec`, account PROFILE. Built only on macOS, and untested: the project's
//! machines and CI run Linux.

use std::sync::Arc;

use apple_native_keyring_store::keychain::Store;
use keyring_core::api::CredentialStoreApi;
use zeroize::Zeroizing;

use super::{Backend, SERVICE, decode, encode};
use crate::creds::Keys;
use crate::error::{Error, Result};

pub struct Keychain {
    store: Arc<Store>,
}

impl Keychain {
    pub fn new() -> Result<Keychain> {
        let store =
            Store::new().map_err(|e| Error::new(format!("cannot open the login keychain: {e}")))?;
        Ok(Keychain { store })
    }

    fn entry(&self, profile: &str) -> Result<keyring_core::Entry> {
        self.store
            .build(SERVICE, profile, None)
            .map_err(|e| Error::new(e.to_string()))
    }
}

impl Backend for Keychain {
    fn get(&self, profile: &str) -> Result<Option<Keys>> {
        match self.entry(profile)?.get_secret() {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let text = std::str::from_utf8(&bytes)
                    .map_err(|_| Error::new("the stored item is not valid text"))?;
                decode(text).map(Some)
            }
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(Error::new(e.to_string())),
        }
    }

    fn set(&self, profile: &str, keys: &Keys) -> Result<()> {
        self.entry(profile)?
            .set_secret(encode(keys).expose().as_bytes())
            .map_err(|e| Error::new(e.to_string()))
    }

    fn delete(&self, profile: &str) -> Result<bool> {
        match self.entry(profile)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(Error::new(e.to_string())),
        }
    }
}
