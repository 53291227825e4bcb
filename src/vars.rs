//! The variables a child gets (exec) or a shell is given (env): one list, so both agree.

use crate::profile::Plan;
use crate::session::{Session, rfc3339};

/// Removed from the child's environment, so no earlier credentials or profile selection can
/// shadow the session (an SDK prefers AWS_PROFILE over keys in some setups).
pub const REMOVED: [&str; 6] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vars {
    /// Removed and not set again.
    pub unset: Vec<&'static str>,
    pub set: Vec<(&'static str, String)>,
}

pub fn for_session(plan: &Plan, session: &Session) -> Vars {
    let keys = &session.keys;
    let mut set = vec![
        ("AWS_ACCESS_KEY_ID", keys.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            keys.secret_access_key.expose().to_owned(),
        ),
    ];
    if let Some(token) = &keys.session_token {
        set.push(("AWS_SESSION_TOKEN", token.expose().to_owned()));
    }
    set.push(("AWS_CREDENTIAL_EXPIRATION", rfc3339(session.expiration)));
    if let Some(region) = &plan.region {
        set.push(("AWS_REGION", region.value.clone()));
        set.push(("AWS_DEFAULT_REGION", region.value.clone()));
    }
    set.push(("MFAEXEC_PROFILE", plan.profile.clone()));
    let unset = REMOVED
        .iter()
        .copied()
        .filter(|name| !set.iter().any(|(n, _)| n == name))
        .collect();
    Vars { unset, set }
}
