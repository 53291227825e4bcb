//! Names: the role session name CloudTrail shows, the local user behind it, and the profile
//! names suggested for a typo or an example.

use aws_config::profile::ProfileSet;

use crate::error::Error;
use crate::sys::environ::Environment;

use super::{files::*, source::*};

/// A profile to suggest for `mfaexec credential-process`: one with a role and an MFA device
/// (else just a role, else a device), not one of `avoid`.
pub(super) fn mfa_profile_example(set: &ProfileSet, avoid: &[String]) -> String {
    names(set)
        .into_iter()
        .filter(|n| !avoid.contains(n))
        .filter_map(|n| {
            let p = set.get_profile(&n)?;
            if get(p, "credential_process").is_some() {
                return None;
            }
            let rank = match (get(p, "role_arn"), get(p, "mfa_serial")) {
                (Some(_), Some(_)) => 0,
                (Some(_), None) => 1,
                (None, Some(_)) => 2,
                (None, None) => return None,
            };
            Some((rank, n))
        })
        .min()
        .map_or_else(|| "PROFILE".to_owned(), |(_, n)| n)
}

/// `mfaexec-<local user>`, so CloudTrail names the person behind every role session.
pub fn default_session_name(env: &Environment) -> String {
    session_name_for(&local_user(env), 64)
}

/// The person at the keyboard: `$USER`, `$LOGNAME`, else the passwd entry of this uid.
pub(super) fn local_user(env: &Environment) -> String {
    env.get("USER")
        .or_else(|| env.get("LOGNAME"))
        .map(str::to_owned)
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.name)
        })
        .unwrap_or_else(|| "user".to_owned())
}

/// `mfaexec-<user>` with every character STS would refuse replaced, cut to `max` characters.
pub fn session_name_for(user: &str, max: usize) -> String {
    let clean: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut name = format!("mfaexec-{clean}");
    name.truncate(max);
    name
}

pub(super) fn unknown_profile(set: &ProfileSet, name: &str) -> Error {
    Error::new(format!("profile `{name}` does not exist")).hint(suggest_hint(set, name))
}

pub(super) fn suggest_hint(set: &ProfileSet, name: &str) -> String {
    let close = closest(&names(set), name);
    if close.is_empty() {
        let all = names(set);
        if all.is_empty() {
            "no profiles are configured: see `aws configure`".to_owned()
        } else {
            format!("profiles: {}", all.join(", "))
        }
    } else {
        format!("did you mean {}?", close.join(" or "))
    }
}

/// Up to three names within a small edit distance, or containing / contained in `name`.
pub fn closest(names: &[String], name: &str) -> Vec<String> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .filter_map(|n| {
            let d = strsim::levenshtein(&n.to_lowercase(), &lower);
            let near = d <= (name.chars().count() / 3).max(2);
            let contains = n.to_lowercase().contains(&lower) || lower.contains(&n.to_lowercase());
            (near || contains).then_some((d, n))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| format!("`{n}`"))
        .collect()
}
