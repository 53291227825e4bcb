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
use tokio::sync::{Semaphore, oneshot};

use crate::cli::{ExecArgs, SessionArgs};
use crate::config::limits;
use crate::config::profile::{self, Plan};
use crate::creds::{Secret, Session};
use crate::error::{Error, Result};
use crate::output::vars::{self, Vars};
use crate::run::child;
use crate::run::renewal::Renewal;
use crate::session::{self as obtain, cache};
use crate::sys::environ::Environment;
use crate::sys::time::rfc3339;
use crate::sys::tty::{Asking, Terminal};

mod connections;
mod held;

pub(crate) use held::Held;
use held::credentials;

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
    let ended = run_command(&program, &argv, env, &vars);
    endpoint.stop();
    child::exit_like(ended?)
}

/// Starts the command with `vars` and waits for it to end.
fn run_command(
    program: &std::path::Path,
    argv: &[std::ffi::OsString],
    env: &Environment,
    vars: &Vars,
) -> Result<child::Ended> {
    // std, tokio and the cache open every descriptor close-on-exec (the listener and the
    // connections included): the command gets what mfaexec was given, none of its own.
    // The command gets the user's core limit, as after exec; mfaexec's own is 0 again at once
    // (and mfaexec stays non-dumpable throughout).
    crate::sys::coredump::restore_for_exec();
    let spawned = child::spawn(
        program,
        argv,
        &crate::run::command::child_environment(env, vars),
    );
    crate::sys::coredump::forbid();
    child::wait(spawned?)
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
    let granted = daemon.grant(plan, &args.session, env, &session, &client)?;
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
    let ended = run_command(program, argv, env, &vars);
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

#[cfg(test)]
mod tests {
    use super::*;

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
