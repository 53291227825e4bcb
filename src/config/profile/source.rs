//! Where a plan's long-term keys come from: the files, a key store (by its index, with no
//! unlock), a `credential_process`, or the environment; and the credential_process loops
//! that would make mfaexec call itself.

use aws_config::profile::{Profile, ProfileSet};

use crate::creds::{Keys, Secret};
use crate::error::{Error, Result};
use crate::sys::environ::Environment;

use super::names::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// Keys from this profile (aws_access_key_id / aws_secret_access_key) in the files.
    Profile(String),
    /// This profile's keys in a key store; the id comes from the store's index (no unlock).
    Store {
        profile: String,
        store: crate::config::index::Kind,
        access_key_id: String,
    },
    /// This profile's `credential_process`, run only when a new session is needed.
    Process { profile: String, command: String },
    /// `credential_source = Environment`: mfaexec's own AWS_ACCESS_KEY_ID...
    Environment,
    /// IAM Identity Center: role credentials from the portal, with the AWS CLI's token.
    Sso(Sso),
    /// `role_arn` + `web_identity_token_file`: AssumeRoleWithWebIdentity with the file's token.
    WebIdentity(WebIdentity),
    /// `login_session` (`aws login`): the console session's credentials, with the AWS CLI's token.
    Login(Login),
}

/// An `aws login` profile (AWS CLI 2.32): `login_session`, the ARN of the identity that signed
/// in to the console. The AWS CLI keeps the session's token in `~/.aws/login/cache`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub profile: String,
    pub session_arn: String,
}

impl Login {
    /// The command that signs in again.
    pub fn login_command(&self) -> String {
        format!("aws login --profile {}", self.profile)
    }
}

/// A web identity profile: the role, the token file (an OIDC token that a CI system or
/// Kubernetes keeps fresh), and the session name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentity {
    pub profile: String,
    pub role_arn: String,
    pub token_file: String,
    pub session_name: String,
}

/// An IAM Identity Center profile: `sso_session` with its `[sso-session NAME]` section, or the
/// legacy `sso_start_url` on the profile itself; with `sso_account_id` and `sso_role_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sso {
    pub profile: String,
    /// `None`: a legacy profile, whose token is named by its start URL and cannot be refreshed.
    pub session: Option<String>,
    pub start_url: String,
    pub region: String,
    pub account_id: String,
    pub role_name: String,
}

impl Sso {
    /// What the token file is named after (the AWS CLI's rule): the session, else the start URL.
    pub fn token_name(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }

    /// The command that gets a new token.
    pub fn login_command(&self) -> String {
        match &self.session {
            Some(session) => format!("aws sso login --sso-session {session}"),
            None => format!("aws sso login --profile {}", self.profile),
        }
    }
}

/// Where the first call's keys come from. `keys` is known while planning for the files and the
/// environment; a store or a credential_process is read only when a new session is needed
/// (`obtain::load_keys`), never for a cache hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub kind: SourceKind,
    pub keys: Option<Keys>,
}

impl Source {
    pub fn describe(&self) -> String {
        match &self.kind {
            SourceKind::Profile(p) => format!("profile `{p}`"),
            SourceKind::Store { profile, store, .. } => {
                format!("profile `{profile}` in the {} store", store.name())
            }
            SourceKind::Process { profile, .. } => {
                format!("the credential_process of profile `{profile}`")
            }
            SourceKind::Environment => "the environment (credential_source = Environment)".into(),
            SourceKind::WebIdentity(w) => format!(
                "web identity (profile `{}`, role {}, token file {})",
                w.profile, w.role_arn, w.token_file
            ),
            SourceKind::Login(l) => format!(
                "the `aws login` session of {} (profile `{}`)",
                l.session_arn, l.profile
            ),
            SourceKind::Sso(sso) => format!(
                "IAM Identity Center ({}), role {} in {} (profile `{}`)",
                sso.session
                    .as_ref()
                    .map_or_else(|| sso.start_url.clone(), |s| format!("sso-session `{s}`")),
                sso.role_name,
                sso.account_id,
                sso.profile
            ),
        }
    }

    /// The access key id when it is known without unlocking or running anything.
    pub fn access_key_id(&self) -> Option<&str> {
        match (&self.kind, &self.keys) {
            (_, Some(keys)) => Some(&keys.access_key_id),
            (SourceKind::Store { access_key_id, .. }, None) => Some(access_key_id),
            _ => None,
        }
    }

    /// Temporary keys as far as planning knows (a credential_process may still return some).
    pub fn is_temporary(&self) -> bool {
        matches!(self.kind, SourceKind::Sso(_) | SourceKind::Login(_))
            || self.keys.as_ref().is_some_and(Keys::is_temporary)
    }

    /// A short name for where the keys come from, for `list`.
    pub fn origin(&self) -> String {
        match &self.kind {
            SourceKind::Profile(_) => "file".to_owned(),
            SourceKind::Store { store, .. } => store.name().to_owned(),
            SourceKind::Process { .. } => "credential_process".to_owned(),
            SourceKind::Environment => "environment".to_owned(),
            SourceKind::Sso(_) => "sso".to_owned(),
            SourceKind::WebIdentity(_) => "web-identity".to_owned(),
            SourceKind::Login(_) => "login".to_owned(),
        }
    }

    /// The source is one of the SDK's providers (IAM Identity Center, web identity, `aws
    /// login`): temporary credentials, no keys, no MFA code.
    pub fn is_provided(&self) -> bool {
        matches!(
            self.kind,
            SourceKind::Sso(_) | SourceKind::WebIdentity(_) | SourceKind::Login(_)
        )
    }
}

/// Whether `name`'s section in the files holds `aws_access_key_id` or `aws_secret_access_key`.
pub fn has_file_keys(set: &ProfileSet, name: &str) -> bool {
    set.get_profile(name).is_some_and(|p| {
        get(p, "aws_access_key_id").is_some() || get(p, "aws_secret_access_key").is_some()
    })
}

/// The profiles whose own section in the files holds key `access_key_id`.
pub fn file_holders_of(set: &ProfileSet, access_key_id: &str) -> Vec<String> {
    set.profiles()
        .filter(|name| {
            set.get_profile(name)
                .and_then(|p| get(p, "aws_access_key_id"))
                .is_some_and(|id| id == access_key_id)
        })
        .map(str::to_owned)
        .collect()
}

pub(super) fn get<'p>(profile: &'p Profile, key: &str) -> Option<&'p str> {
    profile.get(key).map(str::trim).filter(|v| !v.is_empty())
}

fn static_keys(profile: &Profile) -> Result<Option<Keys>> {
    match (
        get(profile, "aws_access_key_id"),
        get(profile, "aws_secret_access_key"),
    ) {
        (Some(id), Some(secret)) => Ok(Some(Keys {
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new(secret),
            session_token: get(profile, "aws_session_token").map(Secret::new),
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::new(format!(
            "profile `{}` has aws_access_key_id but no aws_secret_access_key",
            profile.name()
        ))
        .hint("add the secret key (`aws configure --profile NAME` writes both)")),
        (None, Some(_)) => Err(Error::new(format!(
            "profile `{}` has aws_secret_access_key but no aws_access_key_id",
            profile.name()
        ))
        .hint("add the access key id (`aws configure --profile NAME` writes both)")),
    }
}

/// A profile's long-term keys when they are in the files or in a key store (by the store's
/// index: nothing is unlocked here).
pub(super) fn long_term_source(profile: &Profile, env: &Environment) -> Result<Option<Source>> {
    if let Some(keys) = static_keys(profile)? {
        return Ok(Some(Source {
            kind: SourceKind::Profile(profile.name().to_owned()),
            keys: Some(keys),
        }));
    }
    Ok(
        crate::config::index::lookup(env, profile.name())?.map(|record| Source {
            kind: SourceKind::Store {
                profile: profile.name().to_owned(),
                store: record.store,
                access_key_id: record.access_key_id,
            },
            keys: None,
        }),
    )
}

/// The end of the chain: a profile without role_arn takes its keys from the files, else the
/// key store, else its credential_process. `visited` is the chain from the named profile to
/// this one.
pub(super) fn base_source(
    set: &ProfileSet,
    profile: &Profile,
    visited: &[&str],
    env: &Environment,
) -> Result<Source> {
    if let Some(source) = long_term_source(profile, env)? {
        return Ok(source);
    }
    let via = match visited {
        [_] | [] => String::new(),
        [top, ..] => format!(" (source of profile `{top}`)"),
    };
    if let Some(command) = get(profile, "credential_process") {
        if let Some(target) = mfaexec_target(command) {
            return Err(mfaexec_source(
                set,
                profile.name(),
                target.as_deref(),
                visited,
                &via,
            ));
        }
        return Ok(Source {
            kind: SourceKind::Process {
                profile: profile.name().to_owned(),
                command: command.to_owned(),
            },
            keys: None,
        });
    }
    if let Some(sso) = sso_source(set, profile, &via)? {
        return Ok(Source {
            kind: SourceKind::Sso(sso),
            keys: None,
        });
    }
    if let Some(arn) = get(profile, "login_session") {
        return Ok(Source {
            kind: SourceKind::Login(login_source(profile.name(), arn, &via)?),
            keys: None,
        });
    }
    let unsupported = [("web_identity_token_file", "web identity")];
    if let Some((_, what)) = unsupported.iter().find(|(k, _)| get(profile, k).is_some()) {
        return Err(Error::new(format!(
            "profile `{}`{via} gets its credentials from {what}, which mfaexec does not support",
            profile.name()
        ))
        .hint("mfaexec starts from an IAM user's long-term keys (aws_access_key_id); use the AWS CLI for this profile"));
    }
    Err(Error::new(format!(
        "profile `{}`{via} has no credentials: no aws_access_key_id and no role_arn",
        profile.name()
    ))
    .hint(format!(
        "store your IAM user's keys with `mfaexec add {}`, or add role_arn and source_profile",
        profile.name()
    )))
}

/// `login_session`: an ARN (`arn:aws:iam::123456789012:user/NAME`, a root or assumed-role
/// ARN too). It names the token file and reaches the terminal, so its shape is checked.
fn login_source(pname: &str, arn: &str, via: &str) -> Result<Login> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && arn.len() <= 2048
        && arn.bytes().all(|b| b.is_ascii_graphic());
    if !ok {
        return Err(Error::new(format!(
            "profile `{pname}`{via}: login_session `{arn}` is not an ARN"
        ))
        .hint("`aws login` writes it, like arn:aws:iam::123456789012:user/NAME; run `aws login` again to rewrite the profile"));
    }
    Ok(Login {
        profile: pname.to_owned(),
        session_arn: arn.to_owned(),
    })
}

/// The IAM Identity Center settings of a profile, checked as the AWS CLI checks them; `None`
/// when it has neither `sso_session` nor `sso_start_url`.
fn sso_source(set: &ProfileSet, profile: &Profile, via: &str) -> Result<Option<Sso>> {
    let pname = profile.name();
    let session = get(profile, "sso_session");
    let legacy_url = get(profile, "sso_start_url");
    if session.is_none() && legacy_url.is_none() {
        return Ok(None);
    }
    let missing = |key: &str, place: &str| {
        Error::new(format!(
            "profile `{pname}`{via} uses IAM Identity Center but has no {key}{place}"
        ))
        .hint("`aws configure sso` writes a complete profile")
    };
    let (start_url, region) = match session {
        Some(name) => {
            let section = set.sso_session(name).ok_or_else(|| {
                Error::new(format!(
                    "profile `{pname}`{via}: sso_session `{name}` has no [sso-session {name}] section"
                ))
                .hint("`aws configure sso-session` writes one")
            })?;
            let in_section = format!(" in [sso-session {name}]");
            let value = |key: &str| {
                section
                    .get(key)
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| missing(key, &in_section))
            };
            (value("sso_start_url")?, value("sso_region")?)
        }
        None => (
            legacy_url.unwrap_or_default().to_owned(),
            get(profile, "sso_region")
                .ok_or_else(|| missing("sso_region", ""))?
                .to_owned(),
        ),
    };
    let account_id = get(profile, "sso_account_id").ok_or_else(|| missing("sso_account_id", ""))?;
    let role_name = get(profile, "sso_role_name").ok_or_else(|| missing("sso_role_name", ""))?;
    // Both reach a URL's query and the terminal; AWS's own shapes keep them plain.
    if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::new(format!(
            "profile `{pname}`{via}: sso_account_id `{account_id}` is not an AWS account id"
        ))
        .hint("it is the 12 digits of the account"));
    }
    if !super::plan::fits_shape(role_name, 1, 128, "+=,.@-") {
        return Err(Error::new(format!(
            "profile `{pname}`{via}: sso_role_name `{role_name}` is not a permission set name"
        ))
        .hint("it is the name of the permission set, as the access portal shows it"));
    }
    if !super::plan::fits_shape(&region, 1, 64, "-") {
        return Err(Error::new(format!(
            "profile `{pname}`{via}: sso_region `{region}` is not valid"
        ))
        .hint("a region looks like eu-west-1"));
    }
    Ok(Some(Sso {
        profile: pname.to_owned(),
        session: session.map(str::to_owned),
        start_url,
        region,
        account_id: account_id.to_owned(),
        role_name: role_name.to_owned(),
    }))
}

/// `role_arn` with `web_identity_token_file`: the role is assumed with the token, unsigned, so
/// it is the source itself and not a hop signed by something else.
pub(super) fn web_identity_source(
    profile: &Profile,
    role_arn: &str,
    token_file: &str,
    env: &Environment,
) -> Result<Source> {
    let pname = profile.name();
    let token_file = match (token_file.strip_prefix("~/"), env.get("HOME")) {
        (Some(rest), Some(home)) => format!("{}/{rest}", home.trim_end_matches('/')),
        _ => token_file.to_owned(),
    };
    let session_name = match get(profile, "role_session_name") {
        Some(n) if super::plan::fits_shape(n, 2, 64, "+=,.@-") => n.to_owned(),
        Some(n) => {
            return Err(Error::new(format!(
                "profile `{pname}`: role_session_name `{n}` is not valid"
            ))
            .hint("AWS accepts 2 to 64 characters: letters, digits, _ and +=,.@-"));
        }
        None => default_session_name(env),
    };
    Ok(Source {
        kind: SourceKind::WebIdentity(WebIdentity {
            profile: pname.to_owned(),
            role_arn: role_arn.to_owned(),
            token_file,
            session_name,
        }),
        keys: None,
    })
}

/// A profile whose `credential_process` is mfaexec itself. mfaexec never runs such a
/// credential_process, so nothing can actually loop; but the profile it names may lead back here, and then the
/// AWS CLI or an SDK using this profile would run mfaexec for it again and again (each run
/// refusing): say so, and name the profile to point it at.
fn mfaexec_source(
    set: &ProfileSet,
    this: &str,
    target: Option<&str>,
    visited: &[&str],
    via: &str,
) -> Error {
    let on_the_way: Vec<String> = visited.iter().map(|s| (*s).to_owned()).collect();
    let example = |avoid: &[String]| {
        format!(
            "credential_process = mfaexec credential-process {}",
            mfa_profile_example(set, avoid)
        )
    };
    let Some(target) = target else {
        return Error::new(format!(
            "profile `{this}`{via}: its credential_process runs mfaexec without naming a profile, so mfaexec would take AWS_PROFILE, which is this profile when a tool selected it"
        ))
        .hint(format!(
            "name the profile that has role_arn and mfa_serial: {}",
            example(&on_the_way)
        ));
    };
    if let Some(chain) = mfaexec_loop(set, target, visited) {
        return Error::new(format!(
            "profile `{this}`{via}: its credential_process runs `mfaexec credential-process {target}`, which leads back to itself ({}), so it would run mfaexec again and again",
            chain.join(" -> ")
        ))
        .hint(format!(
            "point it at the profile that has role_arn and mfa_serial, not at `{target}`: {}",
            example(&chain)
        ));
    }
    let fix = match visited {
        [.., hop, _] => {
            format!("in profile `{hop}`, write `source_profile = {target}` instead of `{this}`")
        }
        _ => format!(
            "name `{target}` instead of `{this}`: mfaexec gets the session of `{target}` itself"
        ),
    };
    Error::new(format!(
        "profile `{this}`{via} gets its credentials from `mfaexec credential-process {target}`, which is for the AWS CLI and SDKs: mfaexec does not run itself as a credential_process"
    ))
    .hint(fix)
}

/// The profile a `credential_process` command runs mfaexec for: `mfaexec credential-process
/// NAME` (or `mfaexec env NAME --format json`), through any path to the binary. `None`: not
/// mfaexec; `Some(None)`: mfaexec without a profile (it would take AWS_PROFILE).
fn mfaexec_target(command: &str) -> Option<Option<String>> {
    let words = shell_words::split(command).ok()?;
    let (program, rest) = words.split_first()?;
    let base = std::path::Path::new(program).file_name()?.to_str()?;
    if base.strip_suffix(".exe").unwrap_or(base) != "mfaexec" {
        return None;
    }
    let (subcommand, args) = rest.split_first()?;
    if subcommand != "credential-process" && subcommand != "env" {
        return None;
    }
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--" => return Some(args.next().cloned()),
            "-d" | "--duration" | "-t" | "--token-code" | "--region" | "--format" => {
                args.next();
            }
            flag if flag.starts_with('-') => {}
            name => return Some(Some(name.to_owned())),
        }
    }
    Some(None)
}

/// Follows what resolving `target` would do, as `resolve` does: source_profile links, and any
/// further mfaexec credential_process at their end. `Some(chain)` when that reaches a profile
/// already on the way here.
fn mfaexec_loop(set: &ProfileSet, target: &str, visited: &[&str]) -> Option<Vec<String>> {
    let mut chain: Vec<String> = visited.iter().map(|s| (*s).to_owned()).collect();
    let mut next = target.to_owned();
    // The named profile of an mfaexec run: its own keys do not end the walk, its role does.
    let mut named = true;
    loop {
        if chain.contains(&next) {
            chain.push(next);
            return Some(chain);
        }
        chain.push(next.clone());
        let profile = set.get_profile(&next)?;
        let has_keys = get(profile, "aws_access_key_id").is_some();
        if has_keys && !named {
            return None;
        }
        next = match (get(profile, "role_arn"), get(profile, "source_profile")) {
            (Some(_), Some(source)) if source != next => {
                named = false;
                source.to_owned()
            }
            (Some(_), _) => return None,
            (None, _) if has_keys => return None,
            (None, _) => {
                named = true;
                mfaexec_target(get(profile, "credential_process")?)??
            }
        };
    }
}

pub(super) fn environment_source(
    pname: &str,
    credential_source: &str,
    env: &Environment,
) -> Result<Source> {
    match credential_source {
        "Environment" => {}
        "Ec2InstanceMetadata" | "EcsContainer" => {
            return Err(Error::new(format!(
                "profile `{pname}`: credential_source = {credential_source} is not supported by mfaexec"
            ))
            .hint("mfaexec supports source_profile and credential_source = Environment"));
        }
        other => {
            return Err(Error::new(format!(
                "profile `{pname}`: credential_source `{other}` is not valid"
            ))
            .hint("use Environment (mfaexec also knows Ec2InstanceMetadata and EcsContainer, but does not support them)"));
        }
    }
    match (env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => Ok(Source {
            kind: SourceKind::Environment,
            keys: Some(Keys {
                access_key_id: id.to_owned(),
                secret_access_key: Secret::new(secret),
                session_token: env.get("AWS_SESSION_TOKEN").map(Secret::new),
            }),
        }),
        _ => Err(Error::new(format!(
            "profile `{pname}`: credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"
        ))
        .hint("export your IAM user's keys in those two variables, or use source_profile instead")),
    }
}
