//! The variables a child gets (exec) or a shell is given (env): one list, so both agree.

use crate::config::profile::Plan;
use crate::creds::Session;
use crate::sys::time::rfc3339;

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

impl Vars {
    /// Only the session variables removed: the environment a program is looked up in.
    pub fn removing() -> Vars {
        Vars {
            unset: REMOVED.to_vec(),
            set: vec![],
        }
    }
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

/// Also removed for `--server`: keys and their expiry would win over the endpoint, and an SDK
/// reads the relative URI and the token file before the full URI and the token (AWS-RULES §9).
pub const SERVER_REMOVED: [&str; 5] = [
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

/// The variables of a command run with `--server`: the endpoint and its token instead of keys,
/// the region and profile marker as exec sets them.
pub fn for_server(plan: &Plan, uri: &str, token: &str) -> Vars {
    let mut set = vec![
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.to_owned()),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token.to_owned()),
    ];
    if let Some(region) = &plan.region {
        set.push(("AWS_REGION", region.value.clone()));
        set.push(("AWS_DEFAULT_REGION", region.value.clone()));
    }
    set.push(("MFAEXEC_PROFILE", plan.profile.clone()));
    let unset = REMOVED
        .iter()
        .chain(SERVER_REMOVED.iter())
        .copied()
        .filter(|name| !set.iter().any(|(n, _)| n == name))
        .collect();
    Vars { unset, set }
}
