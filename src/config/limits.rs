//! STS duration rules in one place (AWS-RULES §2), and the duration syntax users type.
//!
//! Every duration is settled here before any STS call, so a duration AWS would refuse costs
//! neither a call nor an MFA code.

use crate::error::{Error, Result};

pub const MIN: u64 = 900;
pub const HOUR: u64 = 3600;
pub const ASSUME_ROLE_MAX: u64 = 43_200;
pub const SESSION_TOKEN_MAX: u64 = 129_600;

/// The most read of an answer from STS or the console federation endpoint: real answers are a
/// few KiB, so a bigger one is refused rather than held in memory.
pub const BODY_CAP: usize = 64 * 1024;

/// A duration setting read from the environment. Each has a maximum (documented in the table of
/// environment variables of docs/configuration.md): a larger value is refused with a clear error
/// instead of overflowing a clock or the SDK.
pub struct Setting {
    pub name: &'static str,
    pub default: u64,
    pub max: u64,
    /// Whether 0 is a meaningful value (a refresh window of 0: use a session to its end).
    pub zero_ok: bool,
    pub example: &'static str,
}

pub const STS_TIMEOUT: Setting = Setting {
    name: "MFAEXEC_STS_TIMEOUT",
    default: 30,
    max: 10 * 60,
    zero_ok: false,
    example: "60s",
};
pub const MFA_PROCESS_TIMEOUT: Setting = Setting {
    name: "MFAEXEC_MFA_PROCESS_TIMEOUT",
    default: 60,
    max: 10 * 60,
    zero_ok: false,
    example: "2m",
};
pub const CREDENTIAL_PROCESS_TIMEOUT: Setting = Setting {
    name: "MFAEXEC_CREDENTIAL_PROCESS_TIMEOUT",
    default: 60,
    max: 10 * 60,
    zero_ok: false,
    example: "2m",
};
pub const LOCK_TIMEOUT: Setting = Setting {
    name: "MFAEXEC_LOCK_TIMEOUT",
    default: 120,
    max: HOUR,
    zero_ok: true,
    example: "5m",
};
/// A key store in another process (the Secret Service, the keychain) that stops answering must
/// not hang a run, or a `--server` renewal, for ever (issue 18, defect 1). Long enough for a
/// person to answer an unlock dialog, which cannot be told apart from a hang.
pub const STORE_TIMEOUT: Setting = Setting {
    name: "MFAEXEC_STORE_TIMEOUT",
    default: 25,
    max: 10 * 60,
    zero_ok: false,
    example: "1m",
};
/// No session lasts longer than GetSessionToken's 36h, so no window needs to be longer.
pub const REFRESH_WINDOW: Setting = Setting {
    name: "MFAEXEC_REFRESH_WINDOW",
    default: 5 * 60,
    max: SESSION_TOKEN_MAX,
    zero_ok: true,
    example: "15m",
};

/// The TOTP time step `warm` waits out between two codes of one MFA device: AWS's is 30s (a
/// shorter one is for tests). Read only by `warm`, which checks it before asking any code, so it
/// is not in SETTINGS and costs the other commands nothing.
pub const TOTP_STEP: Setting = Setting {
    name: "MFAEXEC_TOTP_STEP",
    default: 30,
    max: 30,
    zero_ok: false,
    example: "30s",
};

/// How long a token of the daemon (`mfaexec serve`) may go unused before it is revoked: a
/// working day and a night. Read only by `serve`, so not in SETTINGS.
pub const SERVE_IDLE: Setting = Setting {
    name: "MFAEXEC_SERVE_IDLE",
    default: 12 * HOUR,
    max: 7 * 24 * HOUR,
    zero_ok: false,
    example: "12h",
};

pub const SETTINGS: [&Setting; 6] = [
    &STS_TIMEOUT,
    &STORE_TIMEOUT,
    &MFA_PROCESS_TIMEOUT,
    &CREDENTIAL_PROCESS_TIMEOUT,
    &LOCK_TIMEOUT,
    &REFRESH_WINDOW,
];

/// Checks every duration setting, used or not this time: a bad value is named at once, not on
/// the day it is first needed.
pub fn check_settings(env: &crate::sys::environ::Environment) -> Result<()> {
    SETTINGS.iter().try_for_each(|s| setting(env, s).map(drop))
}

/// The value of `setting` in `env`, its default when unset.
pub fn setting(env: &crate::sys::environ::Environment, setting: &Setting) -> Result<u64> {
    let name = setting.name;
    let hint = || format!("e.g. {name}={}", setting.example);
    let Some(text) = env.get(name) else {
        return Ok(setting.default);
    };
    let secs = parse(text).map_err(|e| Error::new(format!("{name}: {e}")).hint(hint()))?;
    if secs == 0 && !setting.zero_ok {
        return Err(Error::new(format!("{name}: must be more than 0s")).hint(hint()));
    }
    if secs > setting.max {
        return Err(Error::new(format!(
            "{name}: `{}` is over the maximum of {}",
            text.trim(),
            format(setting.max)
        ))
        .hint(hint()));
    }
    Ok(secs)
}

/// Which STS call, as far as duration limits care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// AssumeRole signed by long-term keys.
    AssumeRole,
    /// AssumeRole signed by temporary credentials: capped at 1 hour by AWS.
    AssumeRoleChained,
    /// GetSessionToken for an IAM user.
    GetSessionToken,
    /// GetSessionToken for a root user: AWS silently cuts anything over 1 hour.
    GetSessionTokenRoot,
    /// GetFederationToken for an IAM user (console sign-in without a role).
    GetFederationToken,
    /// GetFederationToken for a root user: at most 1 hour.
    GetFederationTokenRoot,
    /// IAM Identity Center's GetRoleCredentials: the permission set decides the duration.
    SsoRoleCredentials,
    /// AssumeRoleWithWebIdentity through the SDK's provider, which asks for STS's default.
    WebIdentity,
    /// An `aws login` session's credentials through the SDK's provider: AWS Sign-In decides.
    LoginSession,
}

impl Call {
    pub fn max(self) -> u64 {
        match self {
            Call::AssumeRole => ASSUME_ROLE_MAX,
            Call::AssumeRoleChained | Call::GetSessionTokenRoot | Call::GetFederationTokenRoot => {
                HOUR
            }
            Call::GetSessionToken | Call::GetFederationToken => SESSION_TOKEN_MAX,
            Call::SsoRoleCredentials => ASSUME_ROLE_MAX,
            Call::WebIdentity | Call::LoginSession => HOUR,
        }
    }

    pub fn default_secs(self) -> u64 {
        match self {
            Call::AssumeRole
            | Call::AssumeRoleChained
            | Call::GetSessionTokenRoot
            | Call::GetFederationTokenRoot
            | Call::SsoRoleCredentials
            | Call::WebIdentity
            | Call::LoginSession => HOUR,
            Call::GetSessionToken | Call::GetFederationToken => ASSUME_ROLE_MAX,
        }
    }

    /// Why this maximum applies, in the user's terms.
    pub fn rule(self) -> &'static str {
        match self {
            Call::AssumeRole => {
                "AssumeRole with long-term keys allows 15m to 12h, and no more than the role's MaxSessionDuration"
            }
            Call::AssumeRoleChained => {
                "role chaining (AssumeRole with temporary credentials) is capped at 1h by AWS"
            }
            Call::GetSessionToken => "GetSessionToken for an IAM user allows 15m to 36h",
            Call::GetSessionTokenRoot => "GetSessionToken for a root user allows 15m to 1h",
            Call::GetFederationToken => "GetFederationToken for an IAM user allows 15m to 36h",
            Call::GetFederationTokenRoot => "GetFederationToken for a root user allows 15m to 1h",
            Call::SsoRoleCredentials => {
                "IAM Identity Center gives what the permission set's session duration allows (1h to 12h)"
            }
            Call::WebIdentity => {
                "the SDK's web identity provider asks for no duration, so STS gives its default of 1h"
            }
            Call::LoginSession => {
                "AWS Sign-In gives an `aws login` session's credentials for minutes at a time (15m), renewed from the session"
            }
        }
    }

    /// The STS operation this call is.
    pub fn operation(self) -> &'static str {
        match self {
            Call::AssumeRole | Call::AssumeRoleChained => "AssumeRole",
            Call::GetSessionToken | Call::GetSessionTokenRoot => "GetSessionToken",
            Call::GetFederationToken | Call::GetFederationTokenRoot => "GetFederationToken",
            Call::SsoRoleCredentials => "GetRoleCredentials",
            Call::WebIdentity => "AssumeRoleWithWebIdentity",
            Call::LoginSession => "LoginSession",
        }
    }

    /// The session comes from one of the SDK's providers, which asks for no duration.
    pub fn is_provided(self) -> bool {
        matches!(
            self,
            Call::SsoRoleCredentials | Call::WebIdentity | Call::LoginSession
        )
    }
}

/// Where a requested duration came from; it decides whether an over-long value is refused or
/// shortened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env,
    Profile(String),
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag => f.write_str("--duration"),
            Origin::Env => f.write_str("MFAEXEC_DURATION"),
            Origin::Profile(p) => write!(f, "duration_seconds of profile `{p}`"),
            Origin::Default => f.write_str("the default"),
        }
    }
}

/// A duration settled against the limits of the call that will be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub secs: u64,
    pub origin: Origin,
    /// Set when a value from the profile was shortened to fit; said to the user in one line.
    pub note: Option<String>,
}

/// Checks `requested` against `call`'s limits. An explicit request (flag or environment) that
/// does not fit is refused; one from `duration_seconds` is shortened with a note, because the
/// profile is shared by every call and AWS's own tools treat it as a preference.
pub fn settle(requested: Option<(u64, Origin)>, call: Call, profile: &str) -> Result<Settled> {
    let Some((secs, origin)) = requested else {
        return Ok(Settled {
            secs: call.default_secs(),
            origin: Origin::Default,
            note: None,
        });
    };
    if secs < MIN {
        return Err(Error::new(format!(
            "profile `{profile}`: a session of {} from {origin} is shorter than the 15m minimum of STS",
            format(secs)
        ))
        .hint("ask for at least 15m, e.g. --duration 1h"));
    }
    if secs <= call.max() {
        return Ok(Settled {
            secs,
            origin,
            note: None,
        });
    }
    match (&origin, call) {
        (
            Origin::Profile(_),
            Call::AssumeRoleChained | Call::GetSessionTokenRoot | Call::GetFederationTokenRoot,
        ) => Ok(Settled {
            secs: call.max(),
            note: Some(format!(
                "profile `{profile}`: using 1h instead of {} from {origin}: {}",
                format(secs),
                call.rule()
            )),
            origin,
        }),
        (_, Call::AssumeRoleChained) => Err(Error::new(format!(
            "profile `{profile}`: role chaining limits sessions to 1h, but {} was asked for with {origin}",
            format(secs)
        ))
        .hint(
            "AssumeRole with temporary credentials is capped at 1h by AWS; point source_profile at a profile with long-term keys (aws_access_key_id) to get up to 12h, or ask for --duration 1h",
        )),
        (_, Call::GetSessionTokenRoot | Call::GetFederationTokenRoot) => Err(Error::new(format!(
            "profile `{profile}`: a root user's session lasts at most 1h, but {} was asked for with {origin}",
            format(secs)
        ))
        .hint("ask for --duration 1h or less, or use an IAM user instead of the root user")),
        _ => Err(Error::new(format!(
            "profile `{profile}`: a session of {} from {origin} is longer than the {} maximum: {}",
            format(secs),
            format(call.max()),
            call.rule()
        ))
        .hint(format!("ask for {} or less", format(call.max())))),
    }
}

/// Parses `3600`, `90m`, `12h`, `1h30m`, `45s`, `1h30m15s`: a plain number is seconds, otherwise
/// hours, minutes and seconds in that order, each at most once.
pub fn parse(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a duration (use seconds like 3600, or 90m, 12h, 1h30m)");
    if text.is_empty() {
        return Err(bad());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u64>().map_err(|_| bad());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut last_unit = 0; // 3 = h, 2 = m, 1 = s: units must come in decreasing order
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let (rank, factor) = match c {
            'h' => (3, 3600),
            'm' => (2, 60),
            's' => (1, 1),
            _ => return Err(bad()),
        };
        if number.is_empty() || (last_unit != 0 && rank >= last_unit) {
            return Err(bad());
        }
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(factor)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
        last_unit = rank;
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// `12h`, `1h30m`, `15m`, `59m59s`, `0s`.
pub fn format(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse("3600"), Ok(3600));
        assert_eq!(parse("90m"), Ok(5400));
        assert_eq!(parse("12h"), Ok(43200));
        assert_eq!(parse("1h30m"), Ok(5400));
        assert_eq!(parse("1h30m15s"), Ok(5415));
        assert_eq!(parse(" 45s "), Ok(45));
    }

    #[test]
    fn refuses_malformed_durations() {
        for bad in [
            "",
            "h",
            "12x",
            "1m1h",
            "1h1h",
            "12 h",
            "-5",
            "1.5h",
            "99999999999999999999",
            "5".repeat(30).as_str(),
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format(43200), "12h");
        assert_eq!(format(5400), "1h30m");
        assert_eq!(format(900), "15m");
        assert_eq!(format(3599), "59m59s");
        assert_eq!(format(0), "0s");
    }

    #[test]
    fn explicit_over_long_chained_duration_is_refused() {
        let e = settle(Some((7200, Origin::Flag)), Call::AssumeRoleChained, "prod").unwrap_err();
        assert!(e.message().contains("role chaining limits sessions to 1h"));
        assert!(e.hint_text().unwrap().contains("source_profile"));
    }

    #[test]
    fn profile_duration_is_shortened_for_chains_with_a_note() {
        let s = settle(
            Some((43200, Origin::Profile("prod".into()))),
            Call::AssumeRoleChained,
            "prod",
        )
        .unwrap();
        assert_eq!(s.secs, 3600);
        assert!(s.note.unwrap().contains("using 1h instead of 12h"));
    }

    #[test]
    fn limits_per_call() {
        assert!(settle(Some((43200, Origin::Flag)), Call::AssumeRole, "p").is_ok());
        assert!(settle(Some((43201, Origin::Flag)), Call::AssumeRole, "p").is_err());
        assert!(settle(Some((129600, Origin::Env)), Call::GetSessionToken, "p").is_ok());
        assert!(settle(Some((129601, Origin::Env)), Call::GetSessionToken, "p").is_err());
        assert!(settle(Some((899, Origin::Flag)), Call::AssumeRole, "p").is_err());
        assert!(settle(Some((7200, Origin::Flag)), Call::GetSessionTokenRoot, "p").is_err());
        // Profile values over an API maximum are an error too: only chaining and root shorten.
        assert!(
            settle(
                Some((86400, Origin::Profile("p".into()))),
                Call::AssumeRole,
                "p"
            )
            .is_err()
        );
        assert_eq!(
            settle(None, Call::GetSessionToken, "p").unwrap().secs,
            43200
        );
        assert_eq!(settle(None, Call::AssumeRole, "p").unwrap().secs, 3600);
    }
}
