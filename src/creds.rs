//! Credentials and sessions. Secrets live in `Secret`, whose `Debug` never shows the value, so
//! no `{:?}`, panic or log line can leak one.

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

/// RFC 3339 in UTC, the form of `AWS_CREDENTIAL_EXPIRATION` and credential_process.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `21:48`, or `Sun 09:48` when not today, in the local time zone.
pub fn local_time(unix: i64) -> String {
    let zone = jiff::tz::TimeZone::system();
    let (Ok(then), Ok(now)) = (
        jiff::Timestamp::from_second(unix),
        jiff::Timestamp::from_second(crate::session::cache::now()),
    ) else {
        return rfc3339(unix);
    };
    let (then, now) = (then.to_zoned(zone.clone()), now.to_zoned(zone));
    if then.date() == now.date() {
        then.strftime("%H:%M").to_string()
    } else {
        then.strftime("%a %H:%M").to_string()
    }
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_900_000_000), "2030-03-17T17:46:40Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

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
