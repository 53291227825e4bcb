//! A plan becomes a session: from the cache while enough of it is left, else from STS after
//! the MFA code, under the cache key's lock so that processes started together make one call.
//! A chain may start from the cached session of its first hops. This is the heart of mfaexec;
//! `cmd/` holds only the commands that use it.

pub mod cache;

use std::time::Duration;

use crate::aws::sts;
use crate::cli::SessionArgs;
use crate::config::limits;
use crate::config::limits::Origin;
use crate::config::profile::{self, Located, Plan, Request, SourceKind};
use crate::creds::{Keys, Session};
use crate::error::{Error, Result};
use crate::mfa;
use crate::sys::environ::Environment;
use crate::sys::time::local_time;
use crate::sys::tty::{Asking, Terminal};
use cache::Cache;

/// How many codes a prompting user may try when STS says one is wrong or used.
pub const CODE_TRIES: usize = 3;
/// A session's recorded issue time follows STS's clock by the call's latency: a session obtained
/// for exactly the asked duration may look a little shorter.
const ISSUE_SLACK_SECS: i64 = 60;

/// Gets the session: from the cache while enough of it is left, else from STS after the MFA
/// code, under the cache key's lock so that processes started together make one call.
/// `ask`: whether the code (or a key store's passphrase) may be asked on the terminal.
pub fn session(plan: &Plan, args: &SessionArgs, env: &Environment, ask: Asking) -> Result<Session> {
    session_remembering(plan, args, env, None, ask)
}

/// MFA codes that the caller hands out, in place of -t, the mfa_process or the prompt: `warm`,
/// whose sessions share devices, and a device takes each code once. Asked only when a call
/// needs a code, so a session found cached (or a chain from a cached hop) costs none.
pub trait CodeSource {
    /// The code of the first call.
    fn first(&mut self) -> Result<String>;
    /// Another code after STS refused the last one (`refused`: its error, to end with when no
    /// other code should be tried).
    fn after_refusal(&mut self, refused: Error) -> Result<String>;
}

/// As `session`, with the new session's MFA codes from `codes`.
pub fn session_with_codes(
    plan: &Plan,
    args: &SessionArgs,
    env: &Environment,
    ask: Asking,
    codes: &mut dyn CodeSource,
) -> Result<Session> {
    obtain(plan, args, env, None, ask, Some(codes))
}

/// The session of a chain's first hop, kept in the memory of a process that renews its session
/// (`--server`) when there is no cache to keep it in: the chain's later renewals go on from it
/// with no MFA code, as they would from the cached one.
#[derive(Default)]
pub struct Memory(std::sync::Mutex<Option<Session>>);

impl Memory {
    fn get(&self) -> Option<Session> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn keep(&self, session: Session) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(session);
    }
}

/// As `session`, keeping a chain's first hop in `memory` when there is no cache.
pub fn session_remembering(
    plan: &Plan,
    args: &SessionArgs,
    env: &Environment,
    memory: Option<&Memory>,
    ask: Asking,
) -> Result<Session> {
    obtain(plan, args, env, memory, ask, None)
}

/// The session, when the cache holds one this plan may use: what `session` returns first, with
/// no lock, no key store, no network and nothing printed. `None` in every other case, errors
/// included: the caller then goes the whole way, which reports them (`mfaexec` hands such a
/// run to `mfaexec-core`).
pub fn cached(plan: &Plan, args: &SessionArgs, env: &Environment) -> Option<Session> {
    if args.refresh {
        return None;
    }
    limits::check_settings(env).ok()?;
    crate::sys::process::refuse_nested(&plan.profile, env).ok()?;
    let cache = Cache::open(env).ok()??;
    let window = cache::refresh_window(env).ok()?;
    let entry = cache.read(&cache::key(plan), crate::sys::time::now())?;
    usable(plan, &entry, window).then_some(entry.session)
}

/// Whether a cached session serves this plan: enough of it is left (`window`, in seconds).
/// An explicit --duration longer than the cached session was obtained for gets a new one.
/// Comparing with what is *left* instead would make a repeated `-d 12h` (an alias, a
/// credential_process line) miss the cache on every call, a second after the first.
fn usable(plan: &Plan, entry: &cache::Entry, window: u64) -> bool {
    let left = entry
        .session
        .expiration
        .saturating_sub(crate::sys::time::now());
    let obtained_for = entry.session.expiration.saturating_sub(entry.issued);
    let longer_asked = matches!(plan.duration.origin, Origin::Flag)
        && obtained_for.saturating_add(ISSUE_SLACK_SECS) < plan.duration.secs as i64;
    left >= window as i64 && !longer_asked
}

fn obtain(
    plan: &Plan,
    args: &SessionArgs,
    env: &Environment,
    memory: Option<&Memory>,
    ask: Asking,
    codes: Option<&mut dyn CodeSource>,
) -> Result<Session> {
    limits::check_settings(env)?;
    crate::sys::process::refuse_nested(&plan.profile, env)?;
    let cache = match Cache::open(env) {
        Ok(cache) => cache,
        Err(e) => {
            warn_no_cache(&e);
            None
        }
    };
    let Some(cache) = cache else {
        return fresh_session(plan, args, env, None, memory, None, ask, codes);
    };
    let key = cache::key(plan);
    let window = cache::refresh_window(env)?;
    let usable = |entry: &cache::Entry| usable(plan, entry, window);
    let hit = |entry: cache::Entry| {
        if args.verbose {
            crate::say!(
                "mfaexec: using the cached session for {} ({}), {} left",
                plan.profile,
                plan.describe(),
                limits::format(
                    entry
                        .session
                        .expiration
                        .saturating_sub(crate::sys::time::now())
                        .max(0) as u64
                )
            );
        }
        entry.session
    };
    if !args.refresh
        && let Some(entry) = cache
            .read(&key, crate::sys::time::now())
            .filter(|e| usable(e))
    {
        return Ok(hit(entry));
    }
    // Before the lock, which other runs of this session wait for: what only the user could give
    // (a renewal stops here, having opened nothing: issue 18, defects 2 and 5), and the keys of
    // a store in another process, which may not answer (issue 18, defect 1). Under the lock, a
    // store's wait would become every other run's wait.
    let prefix = if args.refresh {
        None
    } else {
        cached_prefix(plan, args, env, &cache)
    };
    let mut early = None;
    if prefix.is_none() {
        code_from(plan, args, ask, codes.is_some())?;
        if plan.source.keys.is_none()
            && matches!(
                plan.source.kind,
                SourceKind::Store {
                    store: crate::keys::Kind::SecretService | crate::keys::Kind::Keychain,
                    ..
                }
            )
        {
            log_reading_keys(plan, args);
            early = Some(crate::keys::load(&plan.source, env, ask)?);
        }
    }
    let profile = plan.profile.clone();
    let lock = cache.lock(&key, cache::lock_timeout(env)?, &|holder| {
        let holder = holder.map(|p| format!(" (pid {p})")).unwrap_or_default();
        crate::say!("mfaexec: waiting for another mfaexec{holder} getting a session for {profile}");
    });
    let _lock = match lock {
        Ok(lock) => lock,
        Err(cache::LockFailure::TimedOut(e)) => return Err(e),
        Err(cache::LockFailure::Unusable(e)) => {
            warn_no_cache(&e);
            return fresh_session(plan, args, env, None, memory, early, ask, codes);
        }
    };
    // Whoever held the lock may have just written the session this process needs.
    if !args.refresh
        && let Some(entry) = cache
            .read(&key, crate::sys::time::now())
            .filter(|e| usable(e))
    {
        return Ok(hit(entry));
    }
    let session = fresh_session(plan, args, env, Some(&cache), None, early, ask, codes)?;
    let entry = cache::Entry {
        profile: plan.profile.clone(),
        role_arn: plan.hops.last().map(|h| h.role_arn.clone()),
        session: session.clone(),
        issued: crate::sys::time::now(),
    };
    if let Err(e) = cache.write(&key, &entry) {
        crate::say!(
            "mfaexec: warning: the session was not cached: {}",
            e.message()
        );
    }
    Ok(session)
}

/// Never write the secret anywhere else: say why, and go on without a cache.
fn warn_no_cache(e: &Error) {
    crate::say!(
        "mfaexec: warning: not using the session cache: {}",
        e.message()
    );
    if let Some(hint) = e.hint_text() {
        crate::say!("hint: {hint}");
    }
}

/// Where the MFA code of a new session comes from, settled before any key source is opened.
enum CodeFrom<'p> {
    None,
    Flag(String),
    Process(&'p Located),
    /// Typed at the terminal: only with the foreground's `Terminal`.
    Typed(Terminal),
    /// From the caller's `CodeSource`.
    Supplied,
}

/// The code's source: -t, else the caller's (`supplied`), else the profile's mfa_process, else
/// the terminal, if asking is allowed; else an error of class `NeedsUser`.
fn code_from<'p>(
    plan: &'p Plan,
    args: &SessionArgs,
    ask: Asking,
    supplied: bool,
) -> Result<CodeFrom<'p>> {
    Ok(match (&plan.mfa, &args.token_code, ask) {
        (None, _, _) => CodeFrom::None,
        (Some(_), Some(flag), _) => CodeFrom::Flag(mfa::from_flag(flag)?),
        (Some(_), None, _) if supplied => CodeFrom::Supplied,
        (Some(m), None, _) if m.process.is_some() => {
            CodeFrom::Process(m.process.as_ref().expect("guarded by is_some"))
        }
        (Some(_), None, Asking::Terminal(terminal)) => CodeFrom::Typed(terminal),
        (Some(m), None, Asking::Never) => return Err(mfa::code_needed(&m.serial)),
    })
}

fn log_reading_keys(plan: &Plan, args: &SessionArgs) {
    let log = crate::error::log_to_stderr(args.verbose);
    match &plan.source.kind {
        SourceKind::Store { profile, store, .. } => log(&format!(
            "reading the key of profile `{profile}` from the {} store",
            store.name()
        )),
        SourceKind::Process { profile, .. } => log(&format!(
            "running the credential_process of profile `{profile}`"
        )),
        SourceKind::Profile(_)
        | SourceKind::Environment
        | SourceKind::Sso(_)
        | SourceKind::WebIdentity(_)
        | SourceKind::Login(_) => {}
    }
}

/// A new session from STS: asks for the code (unless given), and asks again after a refused
/// code when the user is at the terminal. `early`: the keys, when they were read before the
/// cache lock.
#[allow(clippy::too_many_arguments)]
fn fresh_session(
    plan: &Plan,
    args: &SessionArgs,
    env: &Environment,
    cache: Option<&Cache>,
    memory: Option<&Memory>,
    early: Option<Keys>,
    ask: Asking,
    mut codes: Option<&mut dyn CodeSource>,
) -> Result<Session> {
    let log = crate::error::log_to_stderr(args.verbose);
    for note in &plan.notes {
        crate::say!("mfaexec: {note}");
    }
    let timeout = sts_timeout(env)?;
    // A bad proxy, CA bundle or endpoint variant is told before any MFA code is asked.
    let net = crate::aws::net::Network::load(&plan.net)?;
    sts::resolve_endpoint(plan)?;
    // A chain may start from the cached session of its first hops (`mfaexec prod` earlier
    // today): then no MFA code is needed, only the remaining hops.
    let window = cache::refresh_window(env)? as i64;
    let remembered = memory
        .and_then(Memory::get)
        .filter(|s| {
            plan.hops.len() > 1 && s.expiration.saturating_sub(crate::sys::time::now()) >= window
        })
        .map(|s| (1, s.keys, plan.hops[0].profile.clone()));
    let prefix = match cache {
        Some(cache) if !args.refresh => cached_prefix(plan, args, env, cache),
        _ => None,
    };
    if let Some((hop, keys, from)) = prefix.or(remembered) {
        log(&format!(
            "starting the chain from the cached session of profile `{from}`"
        ));
        let start = sts::Start {
            hop,
            keys,
            first_hop_secs: None,
        };
        let mut sessions = sts::obtain_hops(plan, start, None, timeout, &net, &log)
            .map_err(sts::Failure::into_error)?;
        let session = sessions.pop().expect("a chain makes at least one call");
        announce(plan, &session);
        return Ok(session);
    }
    if plan.source.is_provided() {
        return provided_session(plan, args, env, (timeout, &net), &log, memory, ask);
    }
    // Whether only the user could give the code is settled before any key source is opened.
    let from = code_from(plan, args, ask, codes.is_some())?;
    // The keys: read from a store, or from a credential_process, only now that a session is
    // really needed, and only once.
    let keys = match early {
        Some(keys) => keys,
        None => {
            log_reading_keys(plan, args);
            crate::keys::load(&plan.source, env, ask)?
        }
    };
    let chained;
    let plan = if keys.is_temporary() && !plan.source.is_temporary() {
        chained = with_temporary_keys(plan)?;
        for note in &chained.notes[plan.notes.len()..] {
            crate::say!("mfaexec: {note}");
        }
        &chained
    } else {
        plan
    };
    // Hop 0 of a chain is a direct AssumeRole from long-term keys: it gets its own profile's
    // duration (not the 1h of the chain) and is cached under that profile for later chains.
    let first = if plan.hops.len() > 1 && !keys.is_temporary() {
        prefix_plan(plan, 1, args, env)
    } else {
        None
    };
    let process = match &from {
        CodeFrom::Process(p) => Some(*p),
        _ => None,
    };
    let typing = match &from {
        CodeFrom::Typed(terminal) => Some(*terminal),
        _ => None,
    };
    let supplied = matches!(from, CodeFrom::Supplied);
    let serial = plan.mfa.as_ref().map_or("", |m| m.serial.as_str());
    let mut code = match from {
        CodeFrom::None => None,
        CodeFrom::Flag(code) => Some(code),
        CodeFrom::Process(p) => {
            log(&format!("running the mfa_process of profile `{}`", p.from));
            Some(mfa::from_process(p, mfa_process_timeout(env)?)?)
        }
        CodeFrom::Typed(terminal) => Some(mfa::prompt(terminal, serial)?),
        CodeFrom::Supplied => Some(codes.as_deref_mut().expect("supplied").first()?),
    };
    let mut tries = 1;
    let mut sessions = loop {
        let start = sts::Start {
            hop: 0,
            keys: keys.clone(),
            first_hop_secs: first.as_ref().map(|p| p.duration.secs),
        };
        match sts::obtain_hops(plan, start, code.as_deref(), timeout, &net, &log) {
            Ok(sessions) => break sessions,
            // The caller's codes: how often, and which, is for it to say.
            Err(sts::Failure::InvalidCode(e)) if supplied => {
                code = Some(codes.as_deref_mut().expect("supplied").after_refusal(e)?);
            }
            Err(sts::Failure::InvalidCode(e)) if typing.is_some() && tries < CODE_TRIES => {
                let terminal = typing.expect("guarded by is_some");
                tries += 1;
                terminal.say(&format!(
                    "mfaexec: {}; {}",
                    e.message(),
                    "wait for the next code"
                ));
                code = Some(mfa::prompt(terminal, serial)?);
            }
            // From mfa_process, one more code from the next TOTP window: the refused one may
            // have been used moments ago (another profile's session in the same 30s). Never a
            // loop: a process printing wrong codes would burn them for ever.
            Err(sts::Failure::InvalidCode(e)) if tries == 1 && process.is_some() => {
                tries += 1;
                let p = process.expect("guarded by is_some");
                mfa::wait_for_next_code(ask, e.message());
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
                return Err(process_codes_refused(e, p, serial));
            }
            Err(failure) => return Err(failure.into_error()),
        }
    };
    if let (Some(memory), true, Some(first_session)) =
        (memory, plan.hops.len() > 1, sessions.first())
    {
        memory.keep(first_session.clone());
    }
    if let (Some(cache), Some(first), Some(first_session)) = (cache, &first, sessions.first()) {
        let entry = cache::Entry {
            profile: first.profile.clone(),
            role_arn: first.hops.last().map(|h| h.role_arn.clone()),
            session: first_session.clone(),
            issued: crate::sys::time::now(),
        };
        if let Err(e) = cache.write(&cache::key(first), &entry) {
            crate::say!(
                "mfaexec: warning: the session was not cached: {}",
                e.message()
            );
        }
    }
    let session = sessions.pop().expect("every plan makes at least one call");
    announce(plan, &session);
    Ok(session)
}

/// The end of the tries when STS refused the codes an mfa_process printed: it may read
/// another device.
pub fn process_codes_refused(refused: Error, process: &Located, serial: &str) -> Error {
    refused.hint(format!(
        "the codes came from the mfa_process of profile `{}`: check that it reads the device of mfa_serial ({serial})",
        process.from
    ))
}

/// A session from one of the SDK's providers (IAM Identity Center, web identity): the role
/// credentials themselves for such a profile; for a chain from one, its AssumeRole calls
/// signed by them (role chaining, 1h). The role credentials are the source profile's own
/// session, taken through `session_remembering`: cached under its key and lock, so a chain's
/// renewal starts from them and many processes make one provider call.
fn provided_session(
    plan: &Plan,
    args: &SessionArgs,
    env: &Environment,
    (timeout, net): (Duration, &crate::aws::net::Network),
    log: sts::Log<'_>,
    memory: Option<&Memory>,
    ask: Asking,
) -> Result<Session> {
    let source_profile = match &plan.source.kind {
        SourceKind::Sso(sso) if plan.hops.is_empty() => {
            // `--sso-login` opens a browser sign-in: only with the user at the terminal.
            let sign_in = match ask {
                Asking::Terminal(terminal) if args.sso_login => Some(terminal),
                _ => None,
            };
            let session = crate::aws::sso::role_credentials(
                sso,
                &plan.services,
                env,
                sign_in,
                timeout,
                net,
                log,
            )?;
            announce(plan, &session);
            return Ok(session);
        }
        SourceKind::Login(login) if plan.hops.is_empty() => {
            let sign_in = match ask {
                Asking::Terminal(terminal) if args.sso_login => Some(terminal),
                _ => None,
            };
            let session =
                crate::aws::login::credentials(login, plan, env, sign_in, (timeout, net), log)?;
            announce(plan, &session);
            return Ok(session);
        }
        SourceKind::WebIdentity(w) if plan.hops.is_empty() => {
            let session =
                crate::aws::web_identity::role_credentials(plan, w, env, timeout, net, log)?;
            announce(plan, &session);
            return Ok(session);
        }
        SourceKind::Sso(sso) => &sso.profile,
        SourceKind::WebIdentity(w) => &w.profile,
        SourceKind::Login(l) => &l.profile,
        _ => unreachable!("only provider sources come here"),
    };
    let request = Request {
        profile: source_profile,
        duration: None,
        region: args.region.as_deref(),
        console: false,
    };
    let source = session_remembering(&profile::plan(env, &request)?, args, env, memory, ask)?;
    let start = sts::Start {
        hop: 0,
        keys: source.keys,
        first_hop_secs: None,
    };
    let mut sessions =
        sts::obtain_hops(plan, start, None, timeout, net, log).map_err(sts::Failure::into_error)?;
    let session = sessions.pop().expect("a chain makes at least one call");
    announce(plan, &session);
    Ok(session)
}

/// The plan once a credential_process turned out to give temporary credentials (a
/// SessionToken): AssumeRole from them is role chaining, capped at 1h by AWS, and
/// GetSessionToken cannot be called with them at all.
fn with_temporary_keys(plan: &Plan) -> Result<Plan> {
    let source = plan.source.describe();
    if plan.hops.is_empty() {
        return Err(Error::new(format!(
            "profile `{}`: {source} returned temporary credentials (a SessionToken), and the profile has no role_arn: there is nothing for mfaexec to do",
            plan.profile
        ))
        .hint("use the profile directly, or name it as source_profile of a role profile"));
    }
    let mut plan = plan.clone();
    plan.call = limits::Call::AssumeRoleChained;
    let requested = match &plan.duration.origin {
        Origin::Default => None,
        origin => Some((plan.duration.secs, origin.clone())),
    };
    plan.duration = limits::settle(requested, plan.call, &plan.profile)?;
    plan.notes.extend(plan.duration.note.clone());
    plan.notes.push(format!(
        "{source} returned temporary credentials (a SessionToken): the AssumeRole is role chaining, capped at 1h"
    ));
    Ok(plan)
}

/// The one line a new session gets on stderr.
fn announce(plan: &Plan, session: &Session) {
    // IAM Identity Center is asked for no duration: what it gave is what the session has.
    let secs = match plan.call {
        call if call.is_provided() => session
            .expiration
            .saturating_sub(crate::sys::time::now())
            .max(0) as u64,
        _ => plan.duration.secs,
    };
    crate::say!(
        "mfaexec: new session for {} ({}), expires {} ({})",
        plan.profile,
        plan.describe(),
        local_time(session.expiration),
        limits::format(secs)
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
        && crate::config::endpoint::partition(prefix.sts_region())
            == crate::config::endpoint::partition(plan.sts_region());
    same.then_some(prefix)
}

/// The longest cached prefix of a chain, outside the refresh window: the hop to go on from,
/// the keys to sign it with, and the profile whose session they are.
pub fn cached_prefix(
    plan: &Plan,
    args: &SessionArgs,
    env: &Environment,
    cache: &Cache,
) -> Option<(usize, crate::creds::Keys, String)> {
    let window = cache::refresh_window(env).ok()? as i64;
    (1..plan.hops.len()).rev().find_map(|k| {
        let prefix = prefix_plan(plan, k, args, env)?;
        let entry = cache.read(&cache::key(&prefix), crate::sys::time::now())?;
        let left = entry
            .session
            .expiration
            .saturating_sub(crate::sys::time::now());
        (left >= window).then_some((k, entry.session.keys, prefix.profile))
    })
}

/// `MFAEXEC_MFA_PROCESS_TIMEOUT`: how long an mfa_process may take (a key to touch, a vault
/// to unlock) before it is stopped; default one minute.
fn mfa_process_timeout(env: &Environment) -> Result<Duration> {
    limits::setting(env, &limits::MFA_PROCESS_TIMEOUT).map(Duration::from_secs)
}

pub fn sts_timeout(env: &Environment) -> Result<Duration> {
    limits::setting(env, &limits::STS_TIMEOUT).map(Duration::from_secs)
}
