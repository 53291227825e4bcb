//! One file per subcommand; this module holds the flow they share: profile → plan → session.

pub mod clear;
pub mod completions;
pub mod credential_process;
pub mod env;
pub mod exec;
pub mod init;
pub mod list;
pub mod login;
pub mod use_;
pub mod write;

use std::time::Duration;

use crate::cache::{self, Cache};
use crate::cli::SessionArgs;
use crate::environ::Environment;
use crate::error::{Error, Result};
use crate::limits::Origin;
use crate::profile::{self, Plan, Request};
use crate::session::Session;
use crate::vars::{self, Vars};
use crate::{limits, mfa, sts};

/// How many codes a prompting user may try when STS says one is wrong or used.
const CODE_TRIES: usize = 3;
const DEFAULT_STS_TIMEOUT: u64 = 30;
/// A session's recorded issue time follows STS's clock by the call's latency: a session obtained
/// for exactly the asked duration may look a little shorter.
const ISSUE_SLACK_SECS: i64 = 60;

/// Writes to stdout; a reader that went away (`mfaexec env prod | head -1`) ends the output
/// quietly, as for any Unix filter, instead of a panic.
pub fn print_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::new(format!("cannot write to stdout: {e}"))),
    }
}

pub fn log_to_stderr(verbose: bool) -> impl Fn(&str) {
    move |text: &str| {
        if verbose {
            eprintln!("mfaexec: {text}");
        }
    }
}

/// Reads the files and settles the plan; no network.
pub fn plan(args: &SessionArgs, env: &Environment) -> Result<Plan> {
    plan_with(args, env, false)
}

/// The plan of a console sign-in: a profile without a role gets GetFederationToken.
pub fn console_plan(args: &SessionArgs, env: &Environment) -> Result<Plan> {
    plan_with(args, env, true)
}

fn plan_with(args: &SessionArgs, env: &Environment, console: bool) -> Result<Plan> {
    let name = profile::profile_name(args.profile.as_deref(), env)?;
    let plan = profile::plan(
        env,
        &Request {
            profile: name,
            duration: args.duration.as_deref(),
            region: args.region.as_deref(),
            console,
        },
    )?;
    let code_needed = plan.mfa.is_some();
    if let Some(code) = &args.token_code {
        mfa::from_flag(code)?;
        if !code_needed && plan.federation_name.is_some() {
            let mut plan = plan;
            plan.notes
                .push("--token-code is not used: GetFederationToken takes no MFA code".to_owned());
            return Ok(plan);
        }
        if !code_needed {
            return Err(Error::usage(format!(
                "--token-code was given, but profile `{}` has no mfa_serial",
                plan.profile
            ))
            .hint("add mfa_serial (your MFA device's ARN) to the profile, or leave out -t"));
        }
    }
    Ok(plan)
}

/// What the cache says about a plan's session, for `--dry-run`, `-v` and `list`.
pub fn cache_state(plan: &Plan, env: &Environment) -> String {
    match Cache::open(env) {
        Ok(None) => "off (MFAEXEC_CACHE=off)".to_owned(),
        Err(e) => format!("unusable: {}", e.message()),
        Ok(Some(cache)) => match cache.read(&cache::key(plan), cache::now()) {
            Some(entry) => format!(
                "a session of profile `{}`, {} left, expires {}",
                entry.profile,
                limits::format(entry.session.expiration.saturating_sub(cache::now()).max(0) as u64),
                local_time(entry.session.expiration)
            ),
            None => "no session yet".to_owned(),
        },
    }
}

/// Gets the session: from the cache while enough of it is left, else from STS after the MFA
/// code, under the cache key's lock so that processes started together make one call.
pub fn session(plan: &Plan, args: &SessionArgs, env: &Environment) -> Result<Session> {
    let cache = match Cache::open(env) {
        Ok(cache) => cache,
        Err(e) => {
            warn_no_cache(&e);
            None
        }
    };
    let Some(cache) = cache else {
        return fresh_session(plan, args, env, None);
    };
    let key = cache::key(plan);
    let window = cache::refresh_window(env)?;
    // An explicit --duration longer than the cached session was obtained for gets a new one.
    // Comparing with what is *left* instead would make a repeated `-d 12h` (an alias, a
    // credential_process line) miss the cache on every call, a second after the first.
    let usable = |entry: &cache::Entry| {
        let left = entry.session.expiration.saturating_sub(cache::now());
        let obtained_for = entry.session.expiration.saturating_sub(entry.issued);
        let longer_asked = matches!(plan.duration.origin, Origin::Flag)
            && obtained_for + ISSUE_SLACK_SECS < plan.duration.secs as i64;
        left >= window as i64 && !longer_asked
    };
    let hit = |entry: cache::Entry| {
        if args.verbose {
            eprintln!(
                "mfaexec: using the cached session for {} ({}), {} left",
                plan.profile,
                describe(plan),
                limits::format(entry.session.expiration.saturating_sub(cache::now()).max(0) as u64)
            );
        }
        entry.session
    };
    if !args.refresh
        && let Some(entry) = cache.read(&key, cache::now()).filter(|e| usable(e))
    {
        return Ok(hit(entry));
    }
    let profile = plan.profile.clone();
    let lock = cache.lock(&key, cache::lock_timeout(env)?, &|holder| {
        let holder = holder.map(|p| format!(" (pid {p})")).unwrap_or_default();
        eprintln!("mfaexec: waiting for another mfaexec{holder} getting a session for {profile}");
    });
    let _lock = match lock {
        Ok(lock) => lock,
        Err(cache::LockFailure::TimedOut(e)) => return Err(e),
        Err(cache::LockFailure::Unusable(e)) => {
            warn_no_cache(&e);
            return fresh_session(plan, args, env, None);
        }
    };
    // Whoever held the lock may have just written the session this process needs.
    if !args.refresh
        && let Some(entry) = cache.read(&key, cache::now()).filter(|e| usable(e))
    {
        return Ok(hit(entry));
    }
    let session = fresh_session(plan, args, env, Some(&cache))?;
    let entry = cache::Entry {
        profile: plan.profile.clone(),
        role_arn: plan.hops.last().map(|h| h.role_arn.clone()),
        session: session.clone(),
        issued: cache::now(),
    };
    if let Err(e) = cache.write(&key, &entry) {
        eprintln!(
            "mfaexec: warning: the session was not cached: {}",
            e.message()
        );
    }
    Ok(session)
}

/// Never write the secret anywhere else: say why, and go on without a cache.
fn warn_no_cache(e: &Error) {
    eprintln!(
        "mfaexec: warning: not using the session cache: {}",
        e.message()
    );
    if let Some(hint) = e.hint_text() {
        eprintln!("hint: {hint}");
    }
}

/// `role admin in 222222222222`, or what kind of session token.
pub fn describe(plan: &Plan) -> String {
    match plan.hops.last() {
        Some(hop) => {
            let parts: Vec<&str> = hop.role_arn.split(':').collect();
            let account = parts.get(4).copied().unwrap_or("?");
            let name = hop.role_arn.rsplit('/').next().unwrap_or(&hop.role_arn);
            format!("role {name} in {account}")
        }
        None if plan.mfa.is_some() => "session token with MFA".to_owned(),
        None => "session token".to_owned(),
    }
}

/// `21:48`, or `Sun 09:48` when not today, in the local time zone.
pub fn local_time(unix: i64) -> String {
    let zone = jiff::tz::TimeZone::system();
    let (Ok(then), Ok(now)) = (
        jiff::Timestamp::from_second(unix),
        jiff::Timestamp::from_second(cache::now()),
    ) else {
        return crate::session::rfc3339(unix);
    };
    let (then, now) = (then.to_zoned(zone.clone()), now.to_zoned(zone));
    if then.date() == now.date() {
        then.strftime("%H:%M").to_string()
    } else {
        then.strftime("%a %H:%M").to_string()
    }
}

/// A new session from STS: asks for the code (unless given), and asks again after a refused
/// code when the user is at the terminal.
fn fresh_session(
    plan: &Plan,
    args: &SessionArgs,
    env: &Environment,
    cache: Option<&Cache>,
) -> Result<Session> {
    let log = log_to_stderr(args.verbose);
    for note in &plan.notes {
        eprintln!("mfaexec: {note}");
    }
    let timeout = sts_timeout(env)?;
    // A chain may start from the cached session of its first hops (`mfaexec prod` earlier
    // today): then no MFA code is needed, only the remaining hops.
    if let Some(cache) = cache
        && !args.refresh
        && let Some((hop, keys, from)) = cached_prefix(plan, args, env, cache)
    {
        log(&format!(
            "starting the chain from the cached session of profile `{from}`"
        ));
        let start = sts::Start {
            hop,
            keys,
            first_hop_secs: None,
        };
        let mut sessions =
            sts::obtain_hops(plan, start, None, timeout, &log).map_err(sts::Failure::into_error)?;
        let session = sessions.pop().expect("a chain makes at least one call");
        announce(plan, &session);
        return Ok(session);
    }
    // Hop 0 of a chain is a direct AssumeRole from long-term keys: it gets its own profile's
    // duration (not the 1h of the chain) and is cached under that profile for later chains.
    let first = if plan.hops.len() > 1 {
        prefix_plan(plan, 1, args, env)
    } else {
        None
    };
    // The code: -t, else the profile's mfa_process, else the terminal.
    let process = match (&plan.mfa, &args.token_code) {
        (Some(m), None) => m.process.as_ref(),
        _ => None,
    };
    let prompting = plan.mfa.is_some() && args.token_code.is_none() && process.is_none();
    let mut code = match (&plan.mfa, &args.token_code, process) {
        (None, _, _) => None,
        (Some(_), Some(flag), _) => Some(mfa::from_flag(flag)?),
        (Some(_), None, Some(p)) => {
            log(&format!("running the mfa_process of profile `{}`", p.from));
            Some(mfa::from_process(p, mfa_process_timeout(env)?)?)
        }
        (Some(m), None, None) => Some(mfa::prompt(&m.serial)?),
    };
    let mut tries = 1;
    let mut sessions = loop {
        let start = sts::Start {
            hop: 0,
            keys: plan.source.keys.clone(),
            first_hop_secs: first.as_ref().map(|p| p.duration.secs),
        };
        match sts::obtain_hops(plan, start, code.as_deref(), timeout, &log) {
            Ok(sessions) => break sessions,
            Err(sts::Failure::InvalidCode(e)) if prompting && tries < CODE_TRIES => {
                tries += 1;
                mfa::say(&format!(
                    "mfaexec: {}; {}",
                    e.message(),
                    "wait for the next code"
                ));
                let serial = &plan
                    .mfa
                    .as_ref()
                    .expect("prompting implies a serial")
                    .serial;
                code = Some(mfa::prompt(serial)?);
            }
            // From mfa_process, one more code from the next TOTP window: the refused one may
            // have been used moments ago (another profile's session in the same 30s). Never a
            // loop: a process printing wrong codes would burn them for ever.
            Err(sts::Failure::InvalidCode(e)) if tries == 1 && process.is_some() => {
                tries += 1;
                let p = process.expect("guarded by is_some");
                mfa::wait_for_next_code(e.message());
                let next = mfa::from_process(p, mfa_process_timeout(env)?)?;
                if code.as_deref() == Some(next.as_str()) {
                    return Err(e.hint(format!(
                        "the mfa_process of profile `{}` printed the same code again in the next 30s window: check that it reads the device of mfa_serial, and the clocks",
                        p.from
                    )));
                }
                code = Some(next);
            }
            Err(sts::Failure::InvalidCode(e)) if process.is_some() => {
                let p = process.expect("guarded by is_some");
                return Err(e.hint(format!(
                    "the codes came from the mfa_process of profile `{}`: check that it reads the device of mfa_serial ({})",
                    p.from,
                    plan.mfa.as_ref().map_or("", |m| m.serial.as_str())
                )));
            }
            Err(failure) => return Err(failure.into_error()),
        }
    };
    if let (Some(cache), Some(first), Some(first_session)) = (cache, &first, sessions.first()) {
        let entry = cache::Entry {
            profile: first.profile.clone(),
            role_arn: first.hops.last().map(|h| h.role_arn.clone()),
            session: first_session.clone(),
            issued: cache::now(),
        };
        if let Err(e) = cache.write(&cache::key(first), &entry) {
            eprintln!(
                "mfaexec: warning: the session was not cached: {}",
                e.message()
            );
        }
    }
    let session = sessions.pop().expect("every plan makes at least one call");
    announce(plan, &session);
    Ok(session)
}

/// The one line a new session gets on stderr.
fn announce(plan: &Plan, session: &Session) {
    eprintln!(
        "mfaexec: new session for {} ({}), expires {} ({})",
        plan.profile,
        describe(plan),
        local_time(session.expiration),
        limits::format(plan.duration.secs)
    );
}

/// The plan of the profile behind hop `k - 1` of `plan`, when it is exactly the first `k` hops
/// of `plan` (same keys, roles, parameters, MFA device and STS partition or endpoint): its
/// cached session can then stand in for those hops.
fn prefix_plan(plan: &Plan, k: usize, args: &SessionArgs, env: &Environment) -> Option<Plan> {
    let request = Request {
        profile: &plan.hops[k - 1].profile,
        duration: None,
        region: args.region.as_deref(),
        console: false,
    };
    let prefix = profile::plan(env, &request).ok()?;
    let serial = |p: &Plan| p.mfa.as_ref().map(|m| m.serial.clone());
    let endpoint = |p: &Plan| p.endpoint.as_ref().map(|e| e.value.clone());
    let same = prefix.hops[..] == plan.hops[..k]
        && prefix.source == plan.source
        && serial(&prefix) == serial(plan)
        && endpoint(&prefix) == endpoint(plan)
        && cache::partition(prefix.sts_region()) == cache::partition(plan.sts_region());
    same.then_some(prefix)
}

/// The longest cached prefix of a chain, outside the refresh window: the hop to go on from,
/// the keys to sign it with, and the profile whose session they are.
fn cached_prefix(
    plan: &Plan,
    args: &SessionArgs,
    env: &Environment,
    cache: &Cache,
) -> Option<(usize, crate::session::Keys, String)> {
    let window = cache::refresh_window(env).ok()? as i64;
    (1..plan.hops.len()).rev().find_map(|k| {
        let prefix = prefix_plan(plan, k, args, env)?;
        let entry = cache.read(&cache::key(&prefix), cache::now())?;
        let left = entry.session.expiration.saturating_sub(cache::now());
        (left >= window).then_some((k, entry.session.keys, prefix.profile))
    })
}

/// `MFAEXEC_MFA_PROCESS_TIMEOUT`: how long an mfa_process may take (a key to touch, a vault
/// to unlock) before it is stopped; default one minute.
fn mfa_process_timeout(env: &Environment) -> Result<Duration> {
    match env.get("MFAEXEC_MFA_PROCESS_TIMEOUT") {
        None => Ok(Duration::from_secs(60)),
        Some(text) => match limits::parse(text) {
            Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
            Ok(_) => Err(Error::new(
                "MFAEXEC_MFA_PROCESS_TIMEOUT: must be more than 0s",
            )),
            Err(e) => Err(Error::new(format!("MFAEXEC_MFA_PROCESS_TIMEOUT: {e}"))),
        },
    }
}

pub fn sts_timeout(env: &Environment) -> Result<Duration> {
    match env.get("MFAEXEC_STS_TIMEOUT") {
        None => Ok(Duration::from_secs(DEFAULT_STS_TIMEOUT)),
        Some(text) => match limits::parse(text) {
            Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
            Ok(_) => Err(Error::new("MFAEXEC_STS_TIMEOUT: must be more than 0s")),
            Err(e) => Err(Error::new(format!("MFAEXEC_STS_TIMEOUT: {e}"))),
        },
    }
}

/// The `--dry-run` report: what would be called, with what, for how long, and what the child
/// would get (secrets masked). Nothing secret is in a plan's printable parts.
pub fn dry_run_report(plan: &Plan, args: &SessionArgs, env: &Environment) -> String {
    let mut out = String::new();
    let mut line = |label: &str, text: String| out.push_str(&format!("{label:<11} {text}\n"));
    let keys = &plan.source.keys;
    let mut chain: Vec<String> = plan
        .hops
        .iter()
        .rev()
        .map(|h| format!("`{}` (role {})", h.profile, h.role_arn))
        .collect();
    chain.push(format!(
        "{} ({} key {})",
        plan.source.describe(),
        if keys.is_temporary() {
            "temporary"
        } else {
            "long-term"
        },
        keys.access_key_id
    ));
    line("profile", plan.profile.clone());
    line("chain", chain.join(" <- "));
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
                "sts:GetFederationToken with key {} of {}; name {name}, a policy passing the user's own permissions through, no MFA",
                keys.access_key_id,
                plan.source.describe()
            ),
        );
    } else if plan.hops.is_empty() {
        line(
            "call",
            format!(
                "sts:GetSessionToken with key {} of {}; {code_from}",
                keys.access_key_id,
                plan.source.describe()
            ),
        );
    }
    for (i, hop) in plan.hops.iter().enumerate() {
        let signer = if i == 0 {
            format!(
                "key {} of {}; {code_from}",
                keys.access_key_id,
                plan.source.describe()
            )
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
    line(
        "duration",
        format!(
            "{} ({}s) from {}; limit {}: {}",
            limits::format(plan.duration.secs),
            plan.duration.secs,
            plan.duration.origin,
            limits::format(plan.call.max()),
            plan.call.rule()
        ),
    );
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
    line(
        "endpoint",
        match &plan.endpoint {
            Some(e) => format!("{} (from {})", e.value, e.from),
            None => format!("{} (default)", sts::endpoint_text(plan)),
        },
    );
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
        && let Some((hop, _, from)) = cached_prefix(plan, args, env, &cache)
    {
        line(
            "chain",
            format!(
                "when a new session is needed, it starts at hop {} from the cached session of profile `{from}`: no MFA code",
                hop + 1
            ),
        );
    }
    let placeholder = Session {
        keys: crate::session::Keys {
            access_key_id: "<from STS>".into(),
            secret_access_key: crate::session::Secret::new("****"),
            session_token: Some(crate::session::Secret::new("****")),
        },
        expiration: 0,
    };
    let Vars { unset, set } = vars::for_session(plan, &placeholder);
    line("unset", unset.join(" "));
    for (name, value) in set {
        let shown = if name == "AWS_CREDENTIAL_EXPIRATION" {
            "<from STS>".to_owned()
        } else {
            value
        };
        line("set", format!("{name}={shown}"));
    }
    out
}
