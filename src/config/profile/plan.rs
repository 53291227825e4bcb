//! A profile name becomes a plan: the chain of roles, the MFA device, the duration settled
//! against AWS's limits, the region and the endpoint. Resolution follows the Rust SDK's
//! `resolve_chain`; a *source* profile's static keys win over its own role_arn.

use aws_config::profile::{Profile, ProfileSet};
use aws_runtime::env_config::EnvConfigValue;

use crate::config::limits::{self, Call, Origin, Settled};
use crate::creds::Keys;
use crate::error::{Error, Result};
use crate::sys::environ::Environment;

use super::{files::*, names::*, source::*};

/// A value and where it came from, for `--dry-run` and `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub value: String,
    pub from: String,
}

/// One AssumeRole call of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub profile: String,
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: String,
    pub source_identity: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mfa {
    pub serial: String,
    /// The profile whose `mfa_serial` this is.
    pub profile: String,
    /// `mfa_process` (aws-vault's key): a command printing the code, and the profile it is on.
    pub process: Option<Located>,
}

/// Everything decided before any STS call.
#[derive(Debug, Clone)]
pub struct Plan {
    pub profile: String,
    pub source: Source,
    /// AssumeRole calls in order; `hops[0]` is signed by the source keys. Empty: GetSessionToken.
    pub hops: Vec<Hop>,
    /// Sent on the first call (the only one signed by the user's own keys).
    pub mfa: Option<Mfa>,
    pub call: Call,
    pub duration: Settled,
    /// None: no region configured; STS is reached in us-east-1 and the child gets none.
    pub region: Option<Located>,
    pub endpoint: Option<Located>,
    /// The endpoints of the other services a source's SDK provider calls.
    pub services: ProviderEndpoints,
    /// Proxies, CA bundle and endpoint variants (src/net.rs).
    pub net: crate::config::network::Settings,
    /// The `Name` of a GetFederationToken call (console sign-in without a role).
    pub federation_name: Option<String>,
    /// One-line notices for stderr (a duration shortened, ...).
    pub notes: Vec<String>,
}

pub const DEFAULT_REGION: &str = "us-east-1";

/// The endpoints of the services the SDK's providers call besides STS: IAM Identity Center's
/// portal (`sso`) and token renewal (`sso_oidc`), and AWS Sign-In (`signin`, the token
/// renewal of `aws login`). Found by the rules of the STS endpoint, from the same profile;
/// `None`: the SDK's own endpoint rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderEndpoints {
    pub sso: Option<Located>,
    pub sso_oidc: Option<Located>,
    pub signin: Option<Located>,
    /// Where `ignore_configured_endpoint_urls` was switched on, if it was.
    pub ignored_by: Option<String>,
}

impl ProviderEndpoints {
    /// Checked (plain http only to loopback) where they are used, so that a variable for a
    /// service a profile never calls cannot fail its plan.
    fn resolve(set: &ProfileSet, env: &Environment) -> ProviderEndpoints {
        ProviderEndpoints {
            sso: configured_endpoint(set, env, "sso"),
            sso_oidc: configured_endpoint(set, env, "sso_oidc"),
            signin: configured_endpoint(set, env, "signin"),
            ignored_by: ignored_by(set, env),
        }
    }

    /// Refuses any of `these` that would send credentials in clear text (endpoint.rs).
    pub fn check(these: &[Option<&Located>]) -> Result<()> {
        for e in these.iter().flatten() {
            crate::config::endpoint::require_tls_beyond_loopback(&e.value, &e.from)?;
        }
        Ok(())
    }
}

impl Plan {
    /// `role admin in 222222222222`, or what kind of session token.
    pub fn describe(&self) -> String {
        match self.hops.last() {
            None if let SourceKind::Sso(sso) = &self.source.kind => {
                format!(
                    "role {} in {} via IAM Identity Center",
                    sso.role_name, sso.account_id
                )
            }
            None if let SourceKind::WebIdentity(w) = &self.source.kind => {
                let name = w.role_arn.rsplit('/').next().unwrap_or(&w.role_arn);
                let account = w.role_arn.split(':').nth(4).unwrap_or("?");
                format!("role {name} in {account} via web identity")
            }
            None if let SourceKind::Login(l) = &self.source.kind => {
                format!("the `aws login` session of {}", l.session_arn)
            }
            Some(hop) => {
                let parts: Vec<&str> = hop.role_arn.split(':').collect();
                let account = parts.get(4).copied().unwrap_or("?");
                let name = hop.role_arn.rsplit('/').next().unwrap_or(&hop.role_arn);
                format!("role {name} in {account}")
            }
            None if self.mfa.is_some() => "session token with MFA".to_owned(),
            None => "session token".to_owned(),
        }
    }

    pub fn sts_region(&self) -> &str {
        self.region
            .as_ref()
            .map_or(DEFAULT_REGION, |r| r.value.as_str())
    }
}

/// What the command line and environment contribute to a plan.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub profile: &'a str,
    pub duration: Option<&'a str>,
    pub region: Option<&'a str>,
    /// For the console: a profile without a role gets GetFederationToken, because the
    /// federation endpoint refuses GetSessionToken credentials (AWS-RULES §5).
    pub console: bool,
}

/// Picks the profile: the argument, else `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`.
pub fn profile_name<'a>(arg: Option<&'a str>, env: &'a Environment) -> Result<&'a str> {
    arg.or_else(|| env.get("AWS_PROFILE"))
        .or_else(|| env.get("AWS_DEFAULT_PROFILE"))
        .ok_or_else(|| {
            Error::usage("no profile given and AWS_PROFILE is not set").hint(
                "name one: mfaexec PROFILE -- COMMAND (`aws configure list-profiles` lists them)",
            )
        })
}

/// Loads the files with `req.profile` selected (its `[services]` section decides the endpoint)
/// and resolves it. Every command plans through here, so all agree on a profile's cache key.
pub fn plan(env: &Environment, req: &Request<'_>) -> Result<Plan> {
    let files = Files::for_run(env)?;
    if let Some(plan) = files.quick_plan(env, req) {
        return Ok(plan);
    }
    let set = files.parsed_for(env, req.profile)?;
    check_chain_length(&set, req.profile)?;
    resolve(&set, req, env)
}

/// The most `source_profile` links a plan follows. Real chains have two or three; each hop is
/// an STS call, and AWS caps chained sessions at 1h anyway.
pub const MAX_CHAIN: usize = 32;

/// Refuses a `source_profile` chain longer than MAX_CHAIN, naming it, before resolving it (a
/// loop is left to `resolve`, which names it as a loop).
pub(super) fn check_chain_length(set: &ProfileSet, name: &str) -> Result<()> {
    let mut chain: Vec<&str> = vec![name];
    let mut current = name;
    while let Some(profile) = set.get_profile(current) {
        let next = match (get(profile, "role_arn"), get(profile, "source_profile")) {
            (Some(_), Some(next)) if next != current && !chain.contains(&next) => next,
            _ => return Ok(()),
        };
        chain.push(next);
        if chain.len() > MAX_CHAIN + 1 {
            let shown = format!(
                "{} -> ... -> {}",
                chain[..3].join(" -> "),
                chain[chain.len() - 2..].join(" -> ")
            );
            // "-> ..." at the end only when the chain goes on past the last one shown.
            let goes_on = set.get_profile(next).is_some_and(|p| {
                get(p, "role_arn").is_some() && get(p, "source_profile").is_some()
            });
            let tail = if goes_on { " -> ..." } else { "" };
            return Err(Error::new(format!(
                "profile `{name}`: its source_profile chain is longer than {MAX_CHAIN} links: {shown}{tail}"
            ))
            .hint("point source_profile of a profile near the start at the profile that holds your keys"));
        }
        current = next;
    }
    Ok(())
}

pub fn resolve(set: &ProfileSet, req: &Request<'_>, env: &Environment) -> Result<Plan> {
    let name = req.profile;
    let top = set
        .get_profile(name)
        .ok_or_else(|| unknown_profile(set, name))?;

    // Walk source_profile links to the keys, collecting role hops from the target backwards.
    let mut hops_rev: Vec<(&Profile, String)> = Vec::new();
    let mut visited: Vec<&str> = Vec::new();
    let mut current = top;
    let source = loop {
        let pname = current.name();
        if visited.contains(&pname) {
            visited.push(pname);
            return Err(Error::new(format!(
                "profile `{name}`: source_profile links form a loop: {}",
                visited.join(" -> ")
            ))
            .hint("make the last source_profile in the loop a profile with aws_access_key_id"));
        }
        visited.push(pname);
        if visited.len() > 1
            && let Some(source) = long_term_source(current, env)?
        {
            break source;
        }
        let Some(role_arn) = get(current, "role_arn") else {
            break base_source(set, current, &visited, env)?;
        };
        check_role_arn(pname, role_arn)?;
        if let Some(file) = get(current, "web_identity_token_file") {
            break web_identity_source(current, role_arn, file, env)?;
        }
        hops_rev.push((current, role_arn.to_owned()));
        match (
            get(current, "source_profile"),
            get(current, "credential_source"),
        ) {
            (Some(_), Some(_)) => {
                return Err(Error::new(format!(
                    "profile `{pname}` has both source_profile and credential_source"
                ))
                .hint("keep exactly one of them: source_profile names a profile with keys"));
            }
            (None, None) => {
                return Err(Error::new(format!(
                    "profile `{pname}` has role_arn but neither source_profile nor credential_source"
                ))
                .hint("add `source_profile = NAME`, naming the profile that holds your IAM user's keys"));
            }
            (None, Some(cs)) => break environment_source(pname, cs, env)?,
            (Some(sp), None) if sp == pname => {
                // A profile may name itself to use its own keys for its own role.
                break long_term_source(current, env)?.ok_or_else(|| {
                    Error::new(format!(
                        "profile `{pname}` is its own source_profile but has no aws_access_key_id"
                    ))
                    .hint("point source_profile at the profile that holds your IAM user's keys")
                })?;
            }
            (Some(sp), None) => {
                current = set.get_profile(sp).ok_or_else(|| {
                    Error::new(format!(
                        "profile `{pname}`: source_profile `{sp}` does not exist"
                    ))
                    .hint(suggest_hint(set, sp))
                })?;
            }
        }
    };

    let mut hops = Vec::with_capacity(hops_rev.len());
    for (profile, role_arn) in hops_rev.into_iter().rev() {
        hops.push(Hop {
            profile: profile.name().to_owned(),
            external_id: checked(profile, "external_id", 2, 1224, "+=,.@:/-")?,
            // The shape has no `:`, so the reserved `aws:` prefix is refused too.
            source_identity: checked(profile, "source_identity", 2, 64, "+=,.@-")?,
            session_name: match checked(profile, "role_session_name", 2, 64, "+=,.@-")? {
                Some(n) => n,
                None => default_session_name(env),
            },
            role_arn,
        });
    }

    let sso = source.is_provided();
    // The portal's credentials are the proof of sign-in: AWS takes no MFA code from a role
    // session, so an mfa_serial on the way is not sent.
    let mut mfa = if sso {
        None
    } else {
        find_mfa(set, &hops, &source)?
    };
    let mut notes = Vec::new();
    let mut federation_name = None;
    let call = if hops.is_empty() && matches!(source.kind, SourceKind::WebIdentity(_)) {
        Call::WebIdentity
    } else if hops.is_empty() && matches!(source.kind, SourceKind::Login(_)) {
        Call::LoginSession
    } else if hops.is_empty() && sso {
        Call::SsoRoleCredentials
    } else if hops.is_empty() && req.console {
        if source.is_temporary() {
            return Err(Error::new(format!(
                "profile `{name}` holds temporary credentials and no role_arn: the console needs a role, or long-term keys for GetFederationToken"
            ))
            .hint("add role_arn and source_profile to the profile, or use a profile with long-term keys"));
        }
        let root = mfa.as_ref().is_some_and(|m| is_root_serial(&m.serial));
        if mfa.take().is_some() {
            notes.push(format!(
                "profile `{name}` has no role: the console session comes from GetFederationToken, which takes no MFA code, so it carries no MFA context"
            ));
        }
        federation_name = Some(session_name_for(&local_user(env), 32));
        if root {
            Call::GetFederationTokenRoot
        } else {
            Call::GetFederationToken
        }
    } else if hops.is_empty() {
        if source.is_temporary() {
            return Err(Error::new(format!(
                "profile `{name}` holds temporary credentials (aws_session_token) and no role_arn: there is nothing for mfaexec to do"
            ))
            .hint(format!("use it directly (AWS_PROFILE={name}), or name it as source_profile of a role profile")));
        }
        if mfa.as_ref().is_some_and(|m| is_root_serial(&m.serial)) {
            Call::GetSessionTokenRoot
        } else {
            Call::GetSessionToken
        }
    } else if hops.len() > 1 || source.is_temporary() {
        Call::AssumeRoleChained
    } else {
        Call::AssumeRole
    };

    let mut requested = requested_duration(top, req.duration, env)?;
    if call.is_provided() && requested.take().is_some() {
        notes.push(format!(
            "profile `{name}`: the duration is not asked for: {}",
            call.rule()
        ));
    }
    let duration = limits::settle(requested, call, name)?;
    notes.extend(duration.note.clone());

    Ok(Plan {
        profile: name.to_owned(),
        region: region(top, req.region, env)?,
        endpoint: match configured_endpoint(set, env, "sts") {
            Some(e) => {
                crate::config::endpoint::require_tls_beyond_loopback(&e.value, &e.from)?;
                Some(e)
            }
            None => None,
        },
        services: ProviderEndpoints::resolve(set, env),
        net: crate::config::network::settings(top, env)?,
        federation_name,
        source,
        hops,
        mfa,
        call,
        duration,
        notes,
    })
}

/// A plan for a call signed by `keys` outside the session flow (`mfaexec add` testing a new
/// key): the profile's region and STS endpoint, whether or not the profile exists yet.
pub fn for_keys(env: &Environment, name: &str, keys: Keys) -> Result<Plan> {
    let set = load(env, name)?;
    let region = match set.get_profile(name) {
        Some(profile) => region(profile, None, env)?,
        None => env
            .get("AWS_REGION")
            .map(|v| (v, "AWS_REGION"))
            .or_else(|| {
                env.get("AWS_DEFAULT_REGION")
                    .map(|v| (v, "AWS_DEFAULT_REGION"))
            })
            .map(|(value, from)| Located {
                value: value.to_owned(),
                from: from.to_owned(),
            }),
    };
    // A profile that does not exist yet has only the environment's network settings.
    let empty = Profile::new(name, std::collections::HashMap::new());
    let net = crate::config::network::settings(set.get_profile(name).unwrap_or(&empty), env)?;
    Ok(Plan {
        profile: name.to_owned(),
        net,
        source: Source {
            kind: SourceKind::Profile(name.to_owned()),
            keys: Some(keys),
        },
        hops: Vec::new(),
        mfa: None,
        call: Call::GetSessionToken,
        duration: limits::settle(None, Call::GetSessionToken, name)?,
        region,
        endpoint: match configured_endpoint(&set, env, "sts") {
            Some(e) => {
                crate::config::endpoint::require_tls_beyond_loopback(&e.value, &e.from)?;
                Some(e)
            }
            None => None,
        },
        services: ProviderEndpoints::default(),
        federation_name: None,
        notes: Vec::new(),
    })
}

fn check_role_arn(pname: &str, arn: &str) -> Result<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[1]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(is_role_path_and_name);
    if ok {
        Ok(())
    } else {
        Err(Error::new(format!(
            "profile `{pname}`: role_arn `{arn}` is not an IAM role ARN"
        ))
        .hint("it looks like arn:aws:iam::123456789012:role/NAME (the role's page in the IAM console shows it)"))
    }
}

/// IAM's rules for a role's path and name (`/division/NAME`): the path printable ASCII without
/// spaces, the name 1 to 64 letters, digits and `+=,.@_-`. Nothing else reaches STS, or the
/// terminal through `list` and `--dry-run`.
fn is_role_path_and_name(text: &str) -> bool {
    let (path, name) = text.rsplit_once('/').unwrap_or(("", text));
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        && path.len() <= 511
        && path.bytes().all(|b| b.is_ascii_graphic())
}

/// A profile value checked against STS's shape rules (AWS-RULES §3) so a typo is named here
/// instead of costing an MFA code on a ValidationError.
fn checked(
    profile: &Profile,
    key: &str,
    min: usize,
    max: usize,
    extra: &str,
) -> Result<Option<String>> {
    let Some(value) = get(profile, key) else {
        return Ok(None);
    };
    if fits_shape(value, min, max, extra) {
        Ok(Some(value.to_owned()))
    } else {
        Err(Error::new(format!(
            "profile `{}`: {key} `{value}` is not valid",
            profile.name()
        ))
        .hint(format!(
            "AWS accepts {min} to {max} characters: letters, digits, _ and {extra}"
        )))
    }
}

pub fn fits_shape(value: &str, min: usize, max: usize, extra: &str) -> bool {
    let n = value.chars().count();
    (min..=max).contains(&n)
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c))
}

fn find_mfa(set: &ProfileSet, hops: &[Hop], source: &Source) -> Result<Option<Mfa>> {
    // The code goes on the first call, the one signed by the user's own keys; the serial may be
    // written on any profile of the chain, nearest to that call first. `mfa_process` is
    // inherited the same way, independently: it may sit on the role profile while the serial
    // sits on the profile with the keys.
    let mut candidates: Vec<&str> = Vec::new();
    if let Some(first) = hops.first() {
        candidates.push(&first.profile);
    }
    if let SourceKind::Profile(p) = &source.kind {
        candidates.push(p);
    }
    candidates.extend(hops.iter().skip(1).map(|h| h.profile.as_str()));
    let profiles: Vec<&Profile> = candidates
        .iter()
        .filter_map(|name| set.get_profile(name))
        .collect();
    let process = profiles.iter().find_map(|profile| {
        get(profile, "mfa_process").map(|command| Located {
            value: command.to_owned(),
            from: profile.name().to_owned(),
        })
    });
    for profile in profiles {
        let pname = profile.name();
        if let Some(serial) = get(profile, "mfa_serial") {
            if !fits_shape(serial, 9, 256, "+=/:,.@-") {
                return Err(Error::new(format!(
                    "profile `{pname}`: mfa_serial `{serial}` is not valid"
                ))
                .hint("it is your MFA device's ARN, like arn:aws:iam::123456789012:mfa/NAME (IAM console → your user → Security credentials)"));
            }
            return Ok(Some(Mfa {
                serial: serial.to_owned(),
                profile: pname.to_owned(),
                process,
            }));
        }
    }
    Ok(None)
}

pub fn is_root_serial(serial: &str) -> bool {
    serial.ends_with(":mfa/root-account-mfa-device") || serial.ends_with(":root")
}

fn requested_duration(
    top: &Profile,
    flag: Option<&str>,
    env: &Environment,
) -> Result<Option<(u64, Origin)>> {
    if let Some(text) = flag {
        let secs = limits::parse(text)
            .map_err(|e| Error::usage(format!("--duration: {e}")).hint("e.g. --duration 12h"))?;
        return Ok(Some((secs, Origin::Flag)));
    }
    if let Some(text) = env.get("MFAEXEC_DURATION") {
        let secs = limits::parse(text).map_err(|e| {
            Error::new(format!("MFAEXEC_DURATION: {e}")).hint("e.g. MFAEXEC_DURATION=12h")
        })?;
        return Ok(Some((secs, Origin::Env)));
    }
    if let Some(text) = get(top, "duration_seconds") {
        let secs = text.parse::<u64>().map_err(|_| {
            Error::new(format!(
                "profile `{}`: duration_seconds `{text}` is not a number of seconds",
                top.name()
            ))
            .hint("write it in seconds, e.g. duration_seconds = 43200 for 12h (the AWS CLI reads it too)")
        })?;
        return Ok(Some((secs, Origin::Profile(top.name().to_owned()))));
    }
    Ok(None)
}

fn region(top: &Profile, flag: Option<&str>, env: &Environment) -> Result<Option<Located>> {
    let from_env = || {
        env.get("AWS_REGION")
            .map(|v| (v, "AWS_REGION"))
            .or_else(|| {
                env.get("AWS_DEFAULT_REGION")
                    .map(|v| (v, "AWS_DEFAULT_REGION"))
            })
            .map(|(v, from)| (v.to_owned(), from.to_owned()))
    };
    let from_profile =
        || get(top, "region").map(|v| (v.to_owned(), format!("profile `{}`", top.name())));
    // Inside an mfaexec environment (its subshell, or a shell after `use`), the region
    // variables were most likely set by mfaexec for the previous profile: the profile's own
    // region comes first then, so `mfaexec use prod-us` after `use prod-eu` is not sent to
    // eu-west-1. --region always wins.
    let inside_mfaexec = env.get("MFAEXEC_PROFILE").is_some();
    let found = match flag {
        Some(v) => Some((v.to_owned(), "--region".to_owned())),
        None if inside_mfaexec => from_profile().or_else(from_env),
        None => from_env().or_else(from_profile),
    };
    let Some((value, from)) = found else {
        return Ok(None);
    };
    // A region becomes part of a host name and of the child's environment.
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(
            Error::usage(format!("region `{value}` from {from} is not valid"))
                .hint("a region looks like eu-west-1"),
        );
    }
    Ok(Some(Located { value, from }))
}

/// A service's endpoint exactly as AWS SDKs pick it (for `service` = `sts`:
/// `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the profile's `[services]` section, its
/// `endpoint_url`); all off when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or the profile's
/// `ignore_configured_endpoint_urls` is true.
fn configured_endpoint(set: &ProfileSet, env: &Environment, service: &str) -> Option<Located> {
    if ignored_by(set, env).is_some() {
        return None;
    }
    let aws_env = env.to_aws_env();
    let (value, source) = EnvConfigValue::new()
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .service_id(service)
        .load(&aws_env, Some(set))?;
    let value = value.trim().to_owned();
    (!value.is_empty()).then(|| Located {
        value,
        from: source.to_string(),
    })
}

/// Where configured endpoints are switched off, if they are.
fn ignored_by(set: &ProfileSet, env: &Environment) -> Option<String> {
    EnvConfigValue::new()
        .env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .profile("ignore_configured_endpoint_urls")
        .load(&env.to_aws_env(), Some(set))
        .filter(|(v, _)| v.trim().eq_ignore_ascii_case("true"))
        .map(|(_, source)| source.to_string())
}
