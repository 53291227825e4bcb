//! The credential values every layer passes around: `Secret`, `Keys` and `Session`. Secrets
//! live in `Secret`, whose `Debug` never shows the value, so no `{:?}`, panic or log line can
//! leak one. Imports nothing from the crate, so any layer may use it.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The value is wiped from memory when dropped, so a long-term key read from a store does not
/// linger in freed memory.
impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// A set of AWS keys: long-term (no token) or temporary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl Keys {
    pub fn is_temporary(&self) -> bool {
        self.session_token.is_some()
    }
}

/// Temporary credentials from STS and when they end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub keys: Keys,
    /// Unix seconds.
    pub expiration: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        let keys = Keys {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: Secret::new("hunter2secret"),
            session_token: Some(Secret::new("tokenvalue")),
        };
        let shown = format!("{keys:?}");
        assert!(!shown.contains("hunter2secret") && !shown.contains("tokenvalue"));
        assert!(shown.contains("AKIAEXAMPLE"));
    }
}
