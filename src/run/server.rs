//! `--server`: a container-credentials endpoint (AWS-RULES §9) on 127.0.0.1 for one command.
//!
//! Keys in the environment die with their session, halfway through a long `terraform apply`.
//! An SDK given an endpoint instead asks again before its credentials expire; the endpoint
//! answers with the session while more than `MFAEXEC_REFRESH_WINDOW` of it is left, and else
//! renews it as `mfaexec PROFILE` would: through the shared cache and its lock (a newer session
//! cached by another terminal is taken), a chain from its cached first hop, a direct session
//! with the code of `mfa_process`. It never prompts: the terminal belongs to the command, and a
//! renewal holds no `Terminal` to prompt with (`Asking::Never`). When only the user could renew
//! (a typed code, the key file's passphrase), that is remembered until the session cache changes:
//! requests meanwhile open no key source (issue 18, defect 5).
//!
//! Only a request from this machine with the run's token and a Host of this server is answered
//! (a web page in a browser can reach 127.0.0.1 through DNS rebinding, but not send the token).

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use tokio::sync::{Semaphore, oneshot, watch};

use crate::cli::{ExecArgs, SessionArgs};
use crate::config::limits;
use crate::config::profile::{self, Plan};
use crate::creds::{Secret, Session};
use crate::error::{Error, Result};
use crate::output::vars::{self, Vars};
use crate::run::child;
use crate::run::renewal::{Remembered, Renewal, Renewed};
use crate::session::{self as obtain, cache};
use crate::sys::environ::Environment;
use crate::sys::time::rfc3339;
use crate::sys::tty::{Asking, Terminal};

mod connections;

pub(crate) use connections::accept;

/// A request's head (request line and headers) beyond this is refused; hyper's minimum.
const MAX_HEAD_BYTES: usize = 8192;
const MAX_HEADERS: usize = 32;
/// A client that sends its head slower than this, or keeps a connection idle longer (before its
/// first request or between two), is dropped: an SDK sends its request at once.
const HEAD_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections served at once. At the limit a new connection takes the place of the oldest one
/// that has not presented the token (issue 18: 300 idle connections of any local process made
/// every request of the command get 503 at 64); only when all of them have, it gets an
/// immediate 503. Well under the usual 1024 descriptors.
const MAX_CONNECTIONS: usize = 256;
/// How long a connection over the limit may take to send its head before it is dropped.
const BUSY_TIMEOUT: Duration = Duration::from_secs(1);
/// After a renewal failed for another reason than a missing code (STS unreachable, the
/// mfa_process failing), requests within this time get the same answer: SDKs retry at once,
/// and each attempt could cost an MFA code.
const RETRY_AFTER: Duration = Duration::from_secs(10);
/// How long a request for a due, still valid session waits for a renewal before it gets the
/// current session: well under the 1 to 2 seconds SDKs give the endpoint.
const QUICK_RENEWAL: Duration = Duration::from_millis(500);
/// While only the user could renew, the cache is looked at again after this even if its
/// directory looks unchanged (a change within the file system's timestamp granularity). Such a
/// look opens no key source: it ends before them.
const NEEDS_USER_RECHECK: Duration = Duration::from_secs(30);

/// Runs the command with the endpoint: the session first (the MFA code, if one is needed, is
/// asked now, while the terminal is still mfaexec's), then the server, then the command.
pub fn run(args: &ExecArgs, plan: &Plan, env: &Environment, terminal: Terminal) -> Result<()> {
    let argv = crate::run::command::command_line(&args.command, env);
    if args.session.dry_run {
        let shown: Vec<String> = argv
            .iter()
            .map(|a| shell_words::quote(&a.to_string_lossy()).into_owned())
            .collect();
        let mut report = crate::output::report::dry_run_plan(plan, &args.session, env)?;
        report.push_str(&format!(
            "{:<11} a credentials endpoint on 127.0.0.1, on a port the kernel picks; the command runs as mfaexec's child and gets no keys\n",
            "server"
        ));
        if let Err(e) = refuse_default_keys(env) {
            report.push_str(&format!("{:<11} refused: {}\n", "note", e.message()));
        }
        report.push_str(&crate::output::report::vars_report(&vars::for_server(
            plan,
            "http://127.0.0.1:<port>/",
            "****",
        )));
        report.push_str(&format!("{:<11} {}\n", "command", shown.join(" ")));
        return crate::output::print_stdout(&report);
    }
    refuse_default_keys(env)?;
    let removed = Vars {
        unset: vars::for_server(plan, "", "").unset,
        set: vec![],
    };
    // Find the program before asking for a code: a typo must not cost an MFA code.
    let program = crate::run::command::find_program(
        &argv[0],
        &crate::run::command::child_environment(env, &removed),
    )?;
    if let Some(daemon) = crate::run::daemon::client::running(env)? {
        return with_daemon(args, plan, env, terminal, &daemon, &program, &argv);
    }
    // Without a cache, a chain's first hop is kept in memory for the renewals.
    let memory = obtain::Memory::default();
    let session = obtain::session_remembering(
        plan,
        &args.session,
        env,
        Some(&memory),
        Asking::Terminal(terminal),
    )?;
    // Before the server's threads start, so that none of them can die of these signals.
    child::hold_signals()?;
    // Renewals run mfa_process away from the terminal and the command's processes.
    crate::sys::process::detach_from_terminal();
    let endpoint = Endpoint::start(plan, &args.session, env, session, memory)?;
    let vars = vars::for_server(plan, &endpoint.uri(), endpoint.token.expose());
    if args.command.is_empty() {
        crate::say!(
            "mfaexec: starting {} with a credentials endpoint for profile `{}`; exit it to stop the endpoint",
            program.display(),
            plan.profile
        );
    }
    if args.session.verbose {
        crate::say!(
            "mfaexec: credentials endpoint on 127.0.0.1:{}; running {}",
            endpoint.port,
            program.display()
        );
    }
    // std, tokio and the cache open every descriptor close-on-exec (the listener and the
    // connections included): the command gets what mfaexec was given, none of its own.
    // The command gets the user's core limit, as after exec; mfaexec's own is 0 again at once
    // (and mfaexec stays non-dumpable throughout).
    crate::sys::coredump::restore_for_exec();
    let spawned = child::spawn(
        &program,
        &argv,
        &crate::run::command::child_environment(env, &vars),
    );
    crate::sys::coredump::forbid();
    let pid = match spawned {
        Ok(pid) => pid,
        Err(e) => {
            endpoint.stop();
            return Err(e);
        }
    };
    let ended = child::wait(pid);
    endpoint.stop();
    child::exit_like(ended?)
}

/// The command with a token of the running daemon (`mfaexec serve`) instead of an endpoint of
/// its own; the token is revoked when the command ends.
fn with_daemon(
    args: &ExecArgs,
    plan: &Plan,
    env: &Environment,
    terminal: Terminal,
    daemon: &crate::run::daemon::client::Running,
    program: &std::path::Path,
    argv: &[std::ffi::OsString],
) -> Result<()> {
    let session = obtain::session(plan, &args.session, env, Asking::Terminal(terminal))?;
    let client = format!("`{}`, pid {}", program.display(), std::process::id());
    let granted = daemon
        .hand(plan, &args.session, env, &session, Some(&client))?
        .ok_or_else(|| Error::new("mfaexec serve gave no token"))?;
    child::hold_signals()?;
    crate::sys::process::detach_from_terminal();
    let vars = vars::for_server(plan, &granted.uri, granted.token.expose());
    if args.command.is_empty() {
        crate::say!(
            "mfaexec: starting {} with the credentials daemon's endpoint for profile `{}`",
            program.display(),
            plan.profile
        );
    }
    if args.session.verbose {
        crate::say!(
            "mfaexec: the endpoint of mfaexec serve (pid {}); running {}",
            daemon.pid,
            program.display()
        );
    }
    crate::sys::coredump::restore_for_exec();
    let spawned = child::spawn(
        program,
        argv,
        &crate::run::command::child_environment(env, &vars),
    );
    crate::sys::coredump::forbid();
    let ended = spawned.and_then(child::wait);
    let _ = daemon.revoke(granted.token.expose());
    child::exit_like(ended?)
}

/// Settings of the `default` profile that an SDK uses before it asks a container endpoint
/// (AWS-RULES §9): with any of them the command would not use the endpoint at all.
const BEFORE_THE_ENDPOINT: [&str; 7] = [
    "aws_access_key_id",
    "aws_session_token",
    "role_arn",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
];

/// An SDK takes the `default` profile's credentials (static keys, a role it assumes itself, a
/// credential_process, SSO, web identity) before it asks the endpoint: the command would
/// silently run with those, never with the endpoint's session.
pub(crate) fn refuse_default_keys(env: &Environment) -> Result<()> {
    let set = profile::load(env, "default")?;
    let Some(default) = set.get_profile("default") else {
        return Ok(());
    };
    let Some(key) = BEFORE_THE_ENDPOINT
        .iter()
        .find(|key| default.get(key).is_some())
    else {
        return Ok(());
    };
    if matches!(*key, "aws_access_key_id" | "aws_session_token") {
        return Err(Error::new(format!(
            "--server: the `default` profile holds static keys (`{key}`), which the command's SDK would use instead of the endpoint"
        ))
        .hint(
            "move them to the key store with `mfaexec import default`, or put them under another profile name (e.g. [alice]) and use that as source_profile",
        ));
    }
    Err(Error::new(format!(
        "--server: the `default` profile has `{key}`, with which the command's SDK would get credentials itself instead of asking the endpoint"
    ))
    .hint(format!(
        "move `{key}` and the settings that go with it to a profile of another name, leaving [default] without credentials"
    )))
}

/// The running endpoint; `stop` closes its port.
pub struct Endpoint {
    port: u16,
    token: Secret,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Endpoint {
    /// Listens on 127.0.0.1 on a port the kernel picks, serving `session` until it needs renewal.
    pub fn start(
        plan: &Plan,
        args: &SessionArgs,
        env: &Environment,
        session: Session,
        memory: obtain::Memory,
    ) -> Result<Endpoint> {
        let failed =
            |e: std::io::Error| Error::new(format!("cannot start the credentials endpoint: {e}"));
        let (listener, port) = bind_loopback()?;
        let token = new_token()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(failed)?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(failed)?
        };
        let held = Held::new(
            Renewal::new(plan, args, env, memory),
            session,
            cache::refresh_window(env)? as i64,
            None,
        );
        let shared = Arc::new(Shared::new(port, args.verbose));
        shared.grant(Grant {
            token: token.clone(),
            path: None,
            held,
            client: "the command".to_owned(),
            last_used: Instant::now(),
            requests: 0,
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mfaexec-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::spawn(connections::accept(listener, shared));
                    let _ = stopped.await;
                });
                // Drops the accepting task and every connection now, closing the port, without
                // waiting for a renewal under way (its thread ends with the process).
                runtime.shutdown_background();
            })
            .map_err(failed)?;
        Ok(Endpoint {
            port,
            token,
            stop,
            thread,
        })
    }

    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Stops serving and closes the port.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// A listener on 127.0.0.1, on a port the kernel picks, ready for tokio.
pub(crate) fn bind_loopback() -> Result<(std::net::TcpListener, u16)> {
    let failed =
        |e: std::io::Error| Error::new(format!("cannot start the credentials endpoint: {e}"));
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(failed)?;
    listener.set_nonblocking(true).map_err(failed)?;
    let port = listener.local_addr().map_err(failed)?.port();
    Ok((listener, port))
}

/// 256 bits from the OS's random source, as 64 hex digits (a valid header value as is).
pub(crate) fn new_token() -> Result<Secret> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::new(format!(
            "cannot get random bytes for the endpoint's token: {e}"
        ))
    })?;
    Ok(Secret::new(
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    ))
}

/// What the endpoint answers: the grants, each a token for one held session. `--server` has
/// one, for its command; the daemon (`mfaexec serve`) one per client and profile.
pub(crate) struct Shared {
    pub(crate) port: u16,
    verbose: bool,
    grants: std::sync::Mutex<Vec<Grant>>,
    pub(crate) connections: Arc<Semaphore>,
}

/// A token, what it reaches, and who holds it.
pub(crate) struct Grant {
    pub(crate) token: Secret,
    /// The request path the token is good for: the daemon serves many profiles, each under a
    /// path of its own, and a token of one gets 403 at another's. `None`: any path (`--server`).
    pub(crate) path: Option<String>,
    pub(crate) held: Arc<Held>,
    /// Who asked for it (`env --server`, pid 123), for `serve --status`; no secret.
    pub(crate) client: String,
    pub(crate) last_used: Instant,
    pub(crate) requests: u64,
}

/// One session the endpoint serves and renews.
pub(crate) struct Held {
    pub(crate) renewal: Renewal,
    window: i64,
    /// Where the daemon leaves "only a typed code can renew" for the next mfaexec the user
    /// runs (`daemon::notices`); `None` under `--server`, whose stderr is the user's terminal.
    notices: Option<std::path::PathBuf>,
    /// Never held across an await: a renewal runs on a thread of its own and puts its result
    /// here, so requests (which a client may drop at any time) never own it.
    state: std::sync::Mutex<State>,
    /// Counts the renewals that ended; requests waiting for one watch it.
    renewed: watch::Sender<u64>,
}

impl Shared {
    pub(crate) fn new(port: u16, verbose: bool) -> Shared {
        Shared {
            port,
            verbose,
            grants: std::sync::Mutex::new(Vec::new()),
            connections: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        }
    }

    pub(crate) fn grants(&self) -> std::sync::MutexGuard<'_, Vec<Grant>> {
        self.grants.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn grant(&self, grant: Grant) {
        self.grants().push(grant);
    }

    /// The grant `given` is the token of, if any; every grant is compared whole, so the time
    /// taken does not tell how much of a token was right.
    fn find(&self, given: &[u8]) -> Option<usize> {
        let grants = self.grants();
        let mut found = None;
        for (i, grant) in grants.iter().enumerate() {
            if same_bytes(given, grant.token.expose().as_bytes()) {
                found = Some(i);
            }
        }
        found
    }

    /// Whether `given` is any grant's token (`connections` keeps such connections).
    pub(crate) fn knows(&self, given: &[u8]) -> bool {
        self.find(given).is_some()
    }
}

impl Held {
    pub(crate) fn new(
        renewal: Renewal,
        session: Session,
        window: i64,
        notices: Option<std::path::PathBuf>,
    ) -> Arc<Held> {
        Arc::new(Held {
            renewal,
            window,
            notices,
            state: std::sync::Mutex::new(State::new(session)),
            renewed: watch::channel(0).0,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session held now (renewed or not), for `serve --status`.
    pub(crate) fn expiration(&self) -> i64 {
        self.lock().session.expiration
    }

    /// Only the user could renew it, as last found.
    pub(crate) fn needs_user(&self) -> bool {
        self.lock().needs_user.is_some()
    }

    /// Takes a session handed over by a client when it lasts longer than the one held: a user
    /// who ran `mfaexec PROFILE -r` hands a new one.
    pub(crate) fn offer(&self, session: Session) {
        let mut state = self.lock();
        if session.expiration > state.session.expiration {
            *state = State::new(session);
        }
    }
}

struct State {
    session: Session,
    /// How long the session had left when the endpoint got it.
    lifetime: i64,
    /// The "session has ended" line was printed for this session.
    ended_said: bool,
    /// When the last renewal failed for another reason than a missing code.
    failed: Option<Instant>,
    /// What the last renewal that did not succeed said: the answer once the session expired.
    last_error: Option<String>,
    /// A renewal is under way (one at a time).
    renewing: bool,
    /// Only the user could renew, as found when the cache looked like this.
    needs_user: Option<Remembered>,
}

impl State {
    fn new(session: Session) -> State {
        let lifetime = session.expiration.saturating_sub(crate::sys::time::now());
        State {
            session,
            lifetime,
            ended_said: false,
            failed: None,
            last_error: None,
            renewing: false,
            needs_user: None,
        }
    }

    /// Less than the refresh window is left. A window as long as the session itself would renew
    /// on every request; then half the session's lifetime stands in for it.
    fn due(&self, window: i64) -> bool {
        let window = if window >= self.lifetime {
            self.lifetime / 2
        } else {
            window
        };
        self.session
            .expiration
            .saturating_sub(crate::sys::time::now())
            < window
    }
}

pub(crate) async fn respond(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (status, body, note) = answer(shared, &req).await;
    if shared.verbose {
        let path: String = req.uri().path().chars().take(64).collect();
        crate::say!(
            "mfaexec: endpoint: {} {} -> {}: {note}",
            req.method(),
            path.escape_debug(),
            status.as_u16()
        );
    }
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// The status, the JSON body, and the `-v` note (never a secret).
async fn answer(shared: &Arc<Shared>, req: &Request<Incoming>) -> (StatusCode, String, String) {
    let refuse = |message: &str| {
        (
            StatusCode::FORBIDDEN,
            serde_json::json!({ "Message": message }).to_string(),
            message.to_owned(),
        )
    };
    if !host_is_ours(req, shared.port) {
        return refuse(&format!(
            "the Host is not 127.0.0.1:{0} or localhost:{0}",
            shared.port
        ));
    }
    if req.method() != Method::GET {
        return refuse("only GET is answered");
    }
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let held = {
        let Some(found) = shared.find(given) else {
            return refuse("a missing or wrong authorization token");
        };
        let mut grants = shared.grants();
        let grant = &mut grants[found];
        if grant
            .path
            .as_deref()
            .is_some_and(|path| path != req.uri().path())
        {
            return refuse("the authorization token is not for this profile");
        }
        grant.last_used = Instant::now();
        grant.requests += 1;
        Arc::clone(&grant.held)
    };
    match credentials(&held).await {
        Ok(session) => {
            let keys = &session.keys;
            let body = serde_json::json!({
                "AccessKeyId": keys.access_key_id,
                "SecretAccessKey": keys.secret_access_key.expose(),
                "Token": keys.session_token.as_ref().map(|t| t.expose()),
                "Expiration": rfc3339(session.expiration),
            });
            let left = session
                .expiration
                .saturating_sub(crate::sys::time::now())
                .max(0) as u64;
            (
                StatusCode::OK,
                body.to_string(),
                format!(
                    "the session of {}, {} left",
                    held.renewal.plan.profile,
                    limits::format(left)
                ),
            )
        }
        Err(message) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "Message": message }).to_string(),
            message,
        ),
    }
}

/// The Host header names this server: a page that reached 127.0.0.1 through a DNS name of its
/// own (rebinding) sends that name.
/// Exactly one Host header (RFC 9112 §3.2: a request with more is refused).
fn host_is_ours(req: &Request<Incoming>, port: u16) -> bool {
    let mut hosts = req.headers().get_all(HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        return false;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let ours = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    let authority_ok = req
        .uri()
        .authority()
        .is_none_or(|a| ours.contains(&a.as_str().to_ascii_lowercase()));
    ours.contains(&host) && authority_ok
}

/// Compares in time independent of where the first difference is.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session to hand out. While it is not due, the current one. Once due, a renewal starts
/// in the background (one at a time, held by `Held`, so a client giving up cannot start a
/// second), and the current session is still handed out, after a short wait for a quick
/// renewal, until it has really expired; only then do requests wait for the renewal.
async fn credentials(held: &Arc<Held>) -> std::result::Result<Session, String> {
    let mut renewed = held.renewed.subscribe();
    let grace = Instant::now() + QUICK_RENEWAL;
    let mut waited = false;
    loop {
        let expired = {
            let mut state = held.lock();
            if !state.due(held.window) {
                return Ok(state.session.clone());
            }
            let recently_failed = state.failed.is_some_and(|at| at.elapsed() < RETRY_AFTER);
            let needs_user = state.needs_user.as_ref().is_some_and(|r| {
                r.at.elapsed() < NEEDS_USER_RECHECK && r.stamp == held.renewal.cache_stamp()
            });
            if !state.renewing && !waited && !recently_failed && !needs_user {
                start_renewal(held, &mut state);
            }
            let expired = state.session.expiration <= crate::sys::time::now();
            if !state.renewing || (!expired && Instant::now() >= grace) {
                return if expired {
                    Err(state.last_error.clone().unwrap_or_else(|| {
                        format!(
                            "the session of profile `{}` has ended",
                            held.renewal.plan.profile
                        )
                    }))
                } else {
                    Ok(state.session.clone())
                };
            }
            expired
        };
        if expired {
            let _ = renewed.changed().await;
        } else {
            let left = grace.saturating_duration_since(Instant::now());
            let _ = tokio::time::timeout(left, renewed.changed()).await;
        }
        waited = true;
    }
}

/// Starts the renewal on a thread of its own (obtain::session blocks: a lock, an mfa_process,
/// its own runtime for STS), which puts its result in the state when it ends.
fn start_renewal(held: &Arc<Held>, state: &mut State) {
    state.renewing = true;
    let renewing = Arc::clone(held);
    let stamp = held.renewal.cache_stamp();
    let started = std::thread::Builder::new()
        .name("mfaexec-renew".into())
        .spawn(move || {
            let renewed = renewing.renewal.obtain(stamp);
            renewing.renewed(renewed);
        });
    if let Err(e) = started {
        state.renewing = false;
        held.record(
            state,
            Renewed::Failed(Error::new(format!("cannot start the renewal: {e}"))),
        );
    }
}

impl Held {
    /// The end of a renewal: its result in the state, and the waiting requests woken.
    fn renewed(&self, renewed: Renewed) {
        {
            let mut state = self.lock();
            state.renewing = false;
            self.record(&mut state, renewed);
        }
        self.renewed.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn record(&self, state: &mut State, renewed: Renewed) {
        let profile = &self.renewal.plan.profile;
        match renewed {
            Renewed::Session(session) => *state = State::new(session),
            Renewed::NeedsUser { what, hint, stamp } => {
                state.needs_user = Some(Remembered {
                    stamp,
                    at: Instant::now(),
                });
                let again = self.renewal.again();
                if !state.ended_said {
                    state.ended_said = true;
                    let left = state
                        .session
                        .expiration
                        .saturating_sub(crate::sys::time::now())
                        .max(0);
                    log(&format!(
                        "mfaexec: the session of profile `{profile}` ends in {} and only {what} can renew it: {again}",
                        limits::format(left as u64)
                    ));
                    if let Some(hint) = hint {
                        log(&format!("hint: {hint}"));
                    }
                    if let Some(notices) = &self.notices {
                        crate::run::daemon::notices::leave(notices, &self.renewal.notice(what));
                    }
                }
                state.last_error = Some(format!(
                    "the session of profile `{profile}` has ended and only {what} can renew it: {again}"
                ));
            }
            Renewed::Failed(e) => {
                let message = format!(
                    "cannot renew the session of profile `{profile}`: {}",
                    e.message()
                );
                log(&format!("mfaexec: {message}"));
                if let Some(hint) = e.hint_text() {
                    log(&format!("hint: {hint}"));
                }
                state.failed = Some(Instant::now());
                state.last_error = Some(message);
            }
        }
    }
}

/// A line on stderr: the user's terminal under `--server`, the log under the daemon (whose
/// stderr is its log, and whose lines are stamped with the time there).
fn log(line: &str) {
    crate::run::daemon::log_line(line);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::creds::Keys;

    fn state(left: i64, lifetime: i64) -> State {
        let session = Session {
            keys: Keys {
                access_key_id: "ASIAX".into(),
                secret_access_key: Secret::new("s"),
                session_token: Some(Secret::new("t")),
            },
            expiration: crate::sys::time::now() + left,
        };
        State {
            lifetime,
            ..State::new(session)
        }
    }

    #[test]
    fn due_within_the_window_or_half_a_session_shorter_than_it() {
        assert!(!state(400, 3600).due(300));
        assert!(state(200, 3600).due(300));
        // A window longer than the session would renew at every request.
        assert!(!state(2000, 3600).due(7200));
        assert!(state(1700, 3600).due(7200));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"ab", b"abc"));
        assert!(!same_bytes(b"", b"abc"));
        let token = new_token().unwrap();
        assert_eq!(token.expose().len(), 64);
        assert_ne!(token.expose(), new_token().unwrap().expose());
    }
}
