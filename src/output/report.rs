//! The `--dry-run` report: what mfaexec would do for a plan and where each value came from,
//! the state of its cache entry, and the variables a child would get. No call, no prompt.

use crate::aws::sts;
use crate::cli::SessionArgs;
use crate::config::limits;
use crate::config::profile::{self, Plan, ProviderEndpoints, SourceKind};
use crate::creds::Session;
use crate::error::Result;
use crate::output::vars::{self, Vars};
use crate::session::cache::{self, Cache};
use crate::sys::environ::Environment;

/// What the cache says about a plan's session, for `--dry-run`, `-v` and `list`.
pub fn cache_state(plan: &Plan, env: &Environment) -> String {
    match Cache::open(env) {
        Ok(None) => "off (MFAEXEC_CACHE=off)".to_owned(),
        Err(e) => format!("unusable: {}", e.message()),
        Ok(Some(cache)) => match cache.read(&cache::key(plan), crate::sys::time::now()) {
            Some(entry) => format!(
                "a session of profile `{}`, {} left, expires {}",
                entry.profile,
                limits::format(
                    entry
                        .session
                        .expiration
                        .saturating_sub(crate::sys::time::now())
                        .max(0) as u64
                ),
                crate::sys::time::local_time(entry.session.expiration)
            ),
            None => "no session yet".to_owned(),
        },
    }
}

/// Where the first call's keys come from, said without unlocking or running anything.
fn keys_text(plan: &Plan, env: &Environment) -> String {
    match &plan.source.kind {
        SourceKind::Profile(p) => format!(
            "from the files (profile `{p}`), key {}",
            plan.source.access_key_id().unwrap_or("?")
        ),
        SourceKind::Store {
            store,
            access_key_id,
            ..
        } => format!(
            "from the {} store, key {access_key_id} (as recorded in {}); the store is opened only for a new session",
            store.name(),
            crate::config::index::path(env)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "the index of stored keys".to_owned())
        ),
        SourceKind::Process { profile, .. } => {
            let mut text = format!(
                "from the credential_process of profile `{profile}`, run only for a new session"
            );
            if !plan.hops.is_empty() {
                text.push_str(
                    "; if it returns a SessionToken, the AssumeRole is role chaining, capped at 1h",
                );
            }
            text
        }
        SourceKind::Environment => format!(
            "from the environment (AWS_ACCESS_KEY_ID), key {}",
            plan.source.access_key_id().unwrap_or("?")
        ),
        SourceKind::Sso(sso) => sso_text(sso, &source_endpoints(plan, &sso.profile, env), env),
        SourceKind::Login(login) => login_text(login, plan, env),
        SourceKind::WebIdentity(w) => format!(
            "none: AssumeRoleWithWebIdentity with the token in {}, session name {}",
            w.token_file, w.session_name
        ),
    }
}

/// The endpoints the source's provider is given: a chain's first call is made by the source
/// profile's own plan (session/mod.rs), with that profile's endpoint settings.
fn source_endpoints(plan: &Plan, source: &str, env: &Environment) -> ProviderEndpoints {
    if plan.hops.is_empty() {
        return plan.services.clone();
    }
    let request = profile::Request {
        profile: source,
        ..Default::default()
    };
    profile::plan(env, &request).map_or_else(|_| plan.services.clone(), |p| p.services)
}

/// Where an `aws login` profile's token lives and what it says, read without touching it;
/// the Sign-In endpoint that renews it, from the login profile's own plan.
fn login_text(login: &profile::Login, plan: &Plan, env: &Environment) -> String {
    use crate::config::login_token;
    let own;
    let source = if plan.hops.is_empty() {
        plan
    } else {
        let request = profile::Request {
            profile: &login.profile,
            ..Default::default()
        };
        match profile::plan(env, &request) {
            Ok(p) => {
                own = p;
                &own
            }
            Err(_) => plan,
        }
    };
    let place = login_token::path(env, login)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "~/.aws/login/cache (HOME is not set)".to_owned());
    let state = match login_token::state(env, login) {
        None => format!("no token yet: `{}` makes one", login.login_command()),
        Some(s) if s.expires > crate::sys::time::now() => format!(
            "credentials valid until {}",
            crate::sys::time::local_time(s.expires)
        ),
        Some(s) if s.refreshable => format!(
            "credentials expired {}, renewed from the session on the next new session (unless the console session has ended)",
            crate::sys::time::local_time(s.expires)
        ),
        Some(s) => format!(
            "credentials expired {} and nothing renews them: `{}` signs in again",
            crate::sys::time::local_time(s.expires),
            login.login_command()
        ),
    };
    let (url, from) = crate::aws::login::signin_url(source);
    format!(
        "`aws login` session of {}; token {place}; {state}; AWS Sign-In {url} (from {from})",
        login.session_arn
    )
}

/// Where an SSO profile's token lives and what it says, read without touching it.
fn sso_text(
    sso: &crate::config::profile::Sso,
    endpoints: &ProviderEndpoints,
    env: &Environment,
) -> String {
    use crate::config::sso_token;
    let place = sso_token::path(env, sso)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "~/.aws/sso/cache (HOME is not set)".to_owned());
    let state = match sso_token::state(env, sso) {
        None => format!("no token yet: `{}` makes one", sso.login_command()),
        Some(s) if s.expires > crate::sys::time::now() => {
            format!(
                "token valid until {}",
                crate::sys::time::local_time(s.expires)
            )
        }
        Some(s) if s.refreshable => format!(
            "token expired {}, renewed with its refresh token on the next new session",
            crate::sys::time::local_time(s.expires)
        ),
        Some(s) => format!(
            "token expired {}: `{}` signs in again",
            crate::sys::time::local_time(s.expires),
            sso.login_command()
        ),
    };
    let (url, from) = crate::aws::sso::portal_url(sso, endpoints);
    let renewal = match &endpoints.sso_oidc {
        Some(e) => format!("; token renewal at {} (from {})", e.value, e.from),
        None => String::new(),
    };
    let ignored = match &endpoints.ignored_by {
        Some(by) => format!("; configured endpoints switched off by {by}"),
        None => String::new(),
    };
    format!(
        "IAM Identity Center role credentials, account {}, role {}, start URL {}; token {place}; {state}; portal {url} (from {from}){renewal}{ignored}",
        sso.account_id, sso.role_name, sso.start_url
    )
}

/// The endpoint line of `--dry-run`: the URL the SDK's resolver gives, and why.
fn endpoint_report(plan: &Plan) -> String {
    let net = &plan.net;
    fn set(f: &Option<crate::config::network::Flag>) -> Option<&crate::config::network::Flag> {
        f.as_ref().filter(|f| f.value)
    }
    if let Some(e) = &plan.endpoint {
        let mut text = format!("{} (from {})", e.value, e.from);
        for (flag, name) in [(&net.use_fips, "FIPS"), (&net.use_dual_stack, "dual-stack")] {
            if let Some(f) = set(flag) {
                text.push_str(&format!(
                    "; {name} ({}) does not apply to an explicit endpoint",
                    f.from
                ));
            }
        }
        return text;
    }
    let url = match sts::resolve_endpoint(plan) {
        Ok(url) => url,
        Err(e) => return format!("none: {}", e.message()),
    };
    let mut why = vec![format!(
        "the SDK's endpoint rules for {}",
        plan.sts_region()
    )];
    if let Some(f) = set(&net.use_fips) {
        why.push(format!("FIPS from {}", f.from));
    }
    if let Some(f) = set(&net.use_dual_stack) {
        why.push(format!("dual-stack from {}", f.from));
    }
    if let Some(f) = set(&net.global_endpoint) {
        why.push(format!("legacy global endpoint from {}", f.from));
    }
    format!("{url} ({})", why.join(", "))
}

/// The `--dry-run` report: what would be called, with what, for how long; `dry_run_report`
/// adds what the child would get (secrets masked). Nothing secret is in a plan's printable parts.
pub fn dry_run_plan(plan: &Plan, args: &SessionArgs, env: &Environment) -> Result<String> {
    // An unusable proxy or CA bundle fails the dry run with the error the run gives before
    // any MFA code: a dry run that exits 0 would say the settings are fine.
    let net = crate::aws::net::Network::load(&plan.net)?;
    let mut out = String::new();
    let mut line = |label: &str, text: String| out.push_str(&format!("{label:<11} {text}\n"));
    let key = match plan.source.access_key_id() {
        Some(id) => format!("key {id}"),
        None if plan.source.is_provided() => {
            "the role credentials (role chaining, at most 1h)".to_owned()
        }
        None => "the key it prints".to_owned(),
    };
    let mut chain: Vec<String> = plan
        .hops
        .iter()
        .rev()
        .map(|h| format!("`{}` (role {})", h.profile, h.role_arn))
        .collect();
    chain.push(format!(
        "{} ({})",
        plan.source.describe(),
        match (&plan.source.kind, plan.source.access_key_id()) {
            (SourceKind::Sso(_) | SourceKind::WebIdentity(_), _) => {
                "temporary role credentials".to_owned()
            }
            (SourceKind::Login(_), _) => "temporary console session credentials".to_owned(),
            (_, None) => "keys printed when it runs".to_owned(),
            (_, Some(id)) if plan.source.is_temporary() => format!("temporary key {id}"),
            (_, Some(id)) => format!("long-term key {id}"),
        }
    ));
    line("profile", plan.profile.clone());
    line("chain", chain.join(" <- "));
    line("keys", keys_text(plan, env));
    let code_from = match (&plan.mfa, &args.token_code) {
        (None, _) => "no MFA".to_owned(),
        (Some(m), Some(_)) => format!(
            "MFA {} (from profile `{}`), code from --token-code",
            m.serial, m.profile
        ),
        (Some(m), None) => match &m.process {
            Some(p) => format!(
                "MFA {} (from profile `{}`), code from the mfa_process of profile `{}`",
                m.serial, m.profile, p.from
            ),
            None => format!(
                "MFA {} (from profile `{}`), code asked on the terminal",
                m.serial, m.profile
            ),
        },
    };
    if let Some(name) = &plan.federation_name {
        line(
            "call",
            format!(
                "sts:GetFederationToken with {key} of {}; name {name}, a policy passing the user's own permissions through, no MFA",
                plan.source.describe()
            ),
        );
    } else if let (true, SourceKind::WebIdentity(w)) = (plan.hops.is_empty(), &plan.source.kind) {
        line(
            "call",
            format!(
                "sts:AssumeRoleWithWebIdentity {} with the token in {}, unsigned; no MFA",
                w.role_arn, w.token_file
            ),
        );
    } else if let (true, SourceKind::Login(l)) = (plan.hops.is_empty(), &plan.source.kind) {
        line(
            "call",
            format!(
                "none while the `aws login` credentials of {} are good, else signin:CreateOAuth2Token with the session's refresh token, by the SDK's provider; no MFA",
                l.session_arn
            ),
        );
    } else if let (true, SourceKind::Sso(sso)) = (plan.hops.is_empty(), &plan.source.kind) {
        line(
            "call",
            format!(
                "sso:GetRoleCredentials for role {} in {}, with the token of {}; no MFA",
                sso.role_name,
                sso.account_id,
                sso.session
                    .as_ref()
                    .map_or_else(|| sso.start_url.clone(), |s| format!("sso-session `{s}`"))
            ),
        );
    } else if plan.hops.is_empty() {
        line(
            "call",
            format!(
                "sts:GetSessionToken with {key} of {}; {code_from}",
                plan.source.describe()
            ),
        );
    }
    for (i, hop) in plan.hops.iter().enumerate() {
        let signer = if i == 0 {
            format!("{key} of {}; {code_from}", plan.source.describe())
        } else {
            format!("the session of {}", plan.hops[i - 1].role_arn)
        };
        let mut extra = format!("session name {}", hop.session_name);
        if let Some(x) = &hop.external_id {
            extra.push_str(&format!(", external id {x}"));
        }
        if let Some(s) = &hop.source_identity {
            extra.push_str(&format!(", source identity {s}"));
        }
        line(
            "call",
            format!("sts:AssumeRole {} with {signer}; {extra}", hop.role_arn),
        );
    }
    let duration = if plan.call.is_provided() {
        format!("not asked for: {}", plan.call.rule())
    } else {
        format!(
            "{} ({}s) from {}; limit {}: {}",
            limits::format(plan.duration.secs),
            plan.duration.secs,
            plan.duration.origin,
            limits::format(plan.call.max()),
            plan.call.rule()
        )
    };
    line("duration", duration);
    for note in &plan.notes {
        line("note", note.clone());
    }
    line(
        "region",
        match &plan.region {
            Some(r) => format!("{} (from {})", r.value, r.from),
            None => format!("{} (none configured)", profile::DEFAULT_REGION),
        },
    );
    line("endpoint", endpoint_report(plan));
    let endpoint = sts::endpoint_text(plan);
    line("proxy", format!("STS: {}", net.route(&endpoint).describe()));
    line("CA bundle", net.describe_roots());
    line(
        "cache",
        if args.refresh {
            format!("{} (--refresh: replaced)", cache_state(plan, env))
        } else {
            cache_state(plan, env)
        },
    );
    if !args.refresh
        && let Ok(Some(cache)) = Cache::open(env)
        && let Some((hop, _, from)) = crate::session::cached_prefix(plan, args, env, &cache)
    {
        line(
            "chain",
            format!(
                "when a new session is needed, it starts at hop {} from the cached session of profile `{from}`: no MFA code",
                hop + 1
            ),
        );
    }
    Ok(out)
}

/// The `--dry-run` report of a command given the session's keys.
pub fn dry_run_report(plan: &Plan, args: &SessionArgs, env: &Environment) -> Result<String> {
    let placeholder = Session {
        keys: crate::creds::Keys {
            access_key_id: "<from STS>".into(),
            secret_access_key: crate::creds::Secret::new("****"),
            session_token: Some(crate::creds::Secret::new("****")),
        },
        expiration: 0,
    };
    let mut out = dry_run_plan(plan, args, env)?;
    out.push_str(&vars_report(&vars::for_session(plan, &placeholder)));
    // Each line escaped as stderr is: the plan shows the profiles' own values.
    Ok(out
        .lines()
        .map(|line| format!("{}\n", crate::error::visible(line)))
        .collect())
}

/// The `unset` and `set` lines of a `--dry-run` report; values that come only from STS or
/// from the run itself are shown as `<...>` by the caller's placeholder values.
pub fn vars_report(vars: &Vars) -> String {
    let Vars { unset, set } = vars;
    let mut out = format!("{:<11} {}\n", "unset", unset.join(" "));
    for (name, value) in set {
        let shown = if *name == "AWS_CREDENTIAL_EXPIRATION" {
            "<from STS>"
        } else {
            value
        };
        out.push_str(&format!("{:<11} {name}={shown}\n", "set"));
    }
    out
}
