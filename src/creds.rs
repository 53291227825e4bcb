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

/// The shape of an access key id as IAM and STS make them (`AKIA…`, `ASIA…`): 16 to 128
/// upper-case letters and digits. Anything else (a NUL, a newline, an escape sequence) is not
/// one, and once cached broke every later run ("nul byte found", issue 18).
pub fn is_key_id(text: &str) -> bool {
    (16..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Text with no control character: a NUL stops the command's exec, a newline splits an
/// exported line, an escape sequence reaches the terminal. What STS issues never holds one.
pub fn has_no_control(text: &str) -> bool {
    !text.chars().any(char::is_control)
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

    #[test]
    fn key_ids_and_secrets_have_the_shape_sts_gives() {
        assert!(is_key_id("ASIAABCDEFGH23456789"));
        assert!(is_key_id(&"A".repeat(128)));
        for bad in [
            "ASIA",
            "ASIAABCDEFGH2345678\0",
            "ASIAABCDEFGH2345678\n",
            "ASIA\u{1b}]0;pwn\u{7}XXXXXXXX",
            "asiaabcdefgh23456789",
            "ASIAABCDEFGH 3456789",
            &"A".repeat(129),
        ] {
            assert!(!is_key_id(bad), "{bad:?}");
        }
        assert!(has_no_control("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY="));
        assert!(has_no_control(
            "it's \"q\" $(x) \u{2019} é 日本 🦀 \u{a0}\u{2028}"
        ));
        for bad in [
            "a\0b", "a\nb", "a\tb", "a\rb", "a\u{1b}b", "a\u{7f}", "a\u{85}b",
        ] {
            assert!(!has_no_control(bad), "{bad:?}");
        }
    }
}
