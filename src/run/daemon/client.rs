//! The client's side of the control socket: is a daemon running, start one, hand it a session,
//! revoke a token, ask its status, stop it. Blocking, with timeouts: no command waits without
//! end on a daemon that stopped answering.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Paths;
use crate::cli::SessionArgs;
use crate::config::limits;
use crate::config::profile::Plan;
use crate::creds::{Secret, Session};
use crate::error::{Error, Result};
use crate::sys::environ::Environment;

/// A daemon answers at once; a hand-off reads the profile files.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `serve --background` (and a command that starts the daemon) waits for it to answer.
const START_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_ANSWER: u64 = 1024 * 1024;

/// A running daemon, as its status found it.
pub struct Running {
    pub pid: u64,
    pub socket: PathBuf,
    pub status: Value,
}

/// A token of the daemon for one profile.
pub struct Granted {
    pub uri: String,
    pub token: Secret,
}

/// The running daemon, or `None` when there is none (no socket, or a stale one). A directory
/// that is not this user's alone is refused: a socket in it could be anyone's, and a session
/// handed to it would be theirs.
pub fn running(env: &Environment) -> Result<Option<Running>> {
    let paths = Paths::of(env)?;
    if !crate::sys::files::check_private_dir_if_there(&paths.dir, super::DIR_VARIABLE)? {
        return Ok(None);
    }
    let status = match call_at(&paths.socket, &json!({ "op": "status" })) {
        Ok(status) => status,
        Err(Unreached::NotThere) => return Ok(None),
        Err(Unreached::Failed(e)) => return Err(e),
    };
    Ok(Some(Running {
        pid: status["pid"].as_u64().unwrap_or_default(),
        socket: paths.socket,
        status,
    }))
}

/// The running daemon, started in the background first when there is none (`verbose`: it logs
/// each request).
pub fn start(env: &Environment, verbose: bool) -> Result<Running> {
    if let Some(daemon) = running(env)? {
        return Ok(daemon);
    }
    let log = super::log_path(env)?;
    if let Some(dir) = log.parent() {
        crate::sys::files::prepare_private_dir(dir, "XDG_STATE_HOME")?;
    }
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&log)
            .map_err(|e| Error::new(format!("cannot open {}: {e}", log.display())))?
    };
    let err = file
        .try_clone()
        .map_err(|e| Error::new(format!("cannot open {}: {e}", log.display())))?;
    let exe = std::env::current_exe()
        .map_err(|e| Error::new(format!("cannot start mfaexec serve: {e}")))?;
    let mut child = std::process::Command::new(exe)
        .arg("serve")
        .arg("--detached")
        .args(verbose.then_some("-v"))
        // A daemon keeps no directory of the user's busy (an unmount, a removed checkout).
        .current_dir("/")
        .env_clear()
        .envs(env.for_children())
        .stdin(std::process::Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|e| Error::new(format!("cannot start mfaexec serve: {e}")))?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(daemon) = running(env)? {
            return Ok(daemon);
        }
        // One that lost the race to another starting daemon ends at once, with 0; that one
        // answers soon.
        let ended = child.try_wait().ok().flatten();
        if let Some(status) = ended
            && !status.success()
        {
            return Err(Error::new(format!(
                "mfaexec serve did not start ({status}): {}",
                last_line(&log)
            ))
            .hint(format!("its log is {}", log.display())));
        }
        if Instant::now() >= deadline {
            return Err(Error::new(format!(
                "mfaexec serve did not answer within {}s",
                START_TIMEOUT.as_secs()
            ))
            .hint(format!("see its log, {}", log.display())));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn last_line(log: &std::path::Path) -> String {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text[text.len().saturating_sub(4096)..]).into_owned();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| crate::error::visible(l).into_owned())
        .unwrap_or_else(|| "it wrote nothing".to_owned())
}

impl Running {
    /// Hands the daemon `session`, obtained for `plan` with `args` in `env`, to hold (`warm`).
    pub fn hold(
        &self,
        plan: &Plan,
        args: &SessionArgs,
        env: &Environment,
        session: &Session,
    ) -> Result<()> {
        self.call(&hand_request(plan, args, env, session, None))
            .map(drop)
    }

    /// As `hold`, and a token for the session for `client` (who asks, for `serve --status`).
    pub fn grant(
        &self,
        plan: &Plan,
        args: &SessionArgs,
        env: &Environment,
        session: &Session,
        client: &str,
    ) -> Result<Granted> {
        let answer = self.call(&hand_request(plan, args, env, session, Some(client)))?;
        match (answer["uri"].as_str(), answer["token"].as_str()) {
            (Some(uri), Some(token)) => Ok(Granted {
                uri: uri.to_owned(),
                token: Secret::new(token),
            }),
            _ => Err(Error::new("mfaexec serve gave no token")),
        }
    }

    pub fn revoke(&self, token: &str) -> Result<u64> {
        let answer = self.call(&json!({ "op": "revoke", "token": token }))?;
        Ok(answer["revoked"].as_u64().unwrap_or_default())
    }

    /// Stops the daemon and waits until its socket is gone.
    pub fn stop(&self) -> Result<()> {
        self.call(&json!({ "op": "stop" }))?;
        let deadline = Instant::now() + START_TIMEOUT;
        while self.socket.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// The profiles whose sessions the daemon holds.
    pub fn served(&self) -> Vec<String> {
        self.status["profiles"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|p| p["profile"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn call(&self, request: &Value) -> Result<Value> {
        call_at(&self.socket, request).map_err(|e| match e {
            Unreached::NotThere => Error::new(format!(
                "mfaexec serve stopped answering on {}",
                self.socket.display()
            )),
            Unreached::Failed(e) => e,
        })
    }
}

/// The `hand` request: the session, the profile and the settings it was obtained with, and the
/// environment it was obtained in; with `client`, a token is asked for.
fn hand_request(
    plan: &Plan,
    args: &SessionArgs,
    env: &Environment,
    session: &Session,
    client: Option<&str>,
) -> Value {
    let keys = &session.keys;
    json!({
        "op": "hand",
        "profile": plan.profile,
        "duration": args.duration,
        "region": args.region,
        "env": env.text_pairs(),
        "session": {
            "AccessKeyId": keys.access_key_id,
            "SecretAccessKey": keys.secret_access_key.expose(),
            "Token": keys.session_token.as_ref().map(|t| t.expose()),
            "Expiration": session.expiration,
        },
        "grant": client.is_some(),
        "client": client,
    })
}

enum Unreached {
    /// No daemon listens: no socket, or one that refuses connections (a killed daemon's).
    NotThere,
    Failed(Error),
}

fn call_at(socket: &std::path::Path, request: &Value) -> std::result::Result<Value, Unreached> {
    let failed = |e: std::io::Error| {
        Unreached::Failed(Error::new(format!(
            "cannot talk to mfaexec serve on {}: {e}",
            socket.display()
        )))
    };
    let mut stream = match UnixStream::connect(socket) {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(Unreached::NotThere);
        }
        Err(e) => return Err(failed(e)),
    };
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .map_err(failed)?;
    stream
        .set_write_timeout(Some(ANSWER_TIMEOUT))
        .map_err(failed)?;
    stream
        .write_all(format!("{request}\n").as_bytes())
        .map_err(failed)?;
    let mut line = String::new();
    BufReader::new((&stream).take(MAX_ANSWER))
        .read_line(&mut line)
        .map_err(failed)?;
    let answer: Value = serde_json::from_str(&line).map_err(|_| {
        Unreached::Failed(Error::new(format!(
            "mfaexec serve on {} gave no answer",
            socket.display()
        )))
    })?;
    if answer["ok"].as_bool() == Some(true) {
        return Ok(answer);
    }
    let mut e = Error::new(format!(
        "mfaexec serve: {}",
        answer["error"].as_str().unwrap_or("refused")
    ));
    if let Some(hint) = answer["hint"].as_str() {
        e = e.hint(hint);
    }
    Err(Unreached::Failed(e))
}

/// `serve --status`: the daemon, then a row per held session and one per client.
pub fn status_text(status: &Value) -> String {
    let now = crate::sys::time::now();
    let mut out = format!(
        "mfaexec serve: pid {}, up {}, socket {}, endpoint 127.0.0.1:{}; tokens unused for {} are revoked\n",
        status["pid"],
        limits::format(
            now.saturating_sub(status["started"].as_i64().unwrap_or(now))
                .max(0) as u64
        ),
        status["socket"].as_str().unwrap_or("-"),
        status["port"],
        limits::format(status["idle"].as_u64().unwrap_or_default()),
    );
    let profiles = status["profiles"].as_array().cloned().unwrap_or_default();
    if profiles.is_empty() {
        out.push_str("no sessions held\n");
        return out;
    }
    let mut rows = Vec::new();
    let mut clients = Vec::new();
    for p in &profiles {
        let name = crate::error::visible(p["profile"].as_str().unwrap_or("-")).into_owned();
        let left = p["expiration"].as_i64().unwrap_or(0) - now;
        let mut session = if left > 0 {
            format!("{} left", limits::format(left as u64))
        } else {
            "expired".to_owned()
        };
        if p["needs_user"].as_bool() == Some(true) {
            session.push_str(", needs the user to renew");
        }
        let served = p["clients"].as_array().cloned().unwrap_or_default();
        rows.push([name.clone(), session, served.len().to_string()]);
        for c in &served {
            clients.push([
                name.clone(),
                crate::error::visible(c["client"].as_str().unwrap_or("-")).into_owned(),
                limits::format(c["idle"].as_u64().unwrap_or_default()),
                c["requests"].to_string(),
            ]);
        }
    }
    out.push_str(&crate::output::table(
        ["PROFILE", "SESSION", "CLIENTS"],
        &rows,
    ));
    if !clients.is_empty() {
        out.push('\n');
        out.push_str(&crate::output::table(
            ["PROFILE", "CLIENT", "IDLE", "REQUESTS"],
            &clients,
        ));
    }
    out
}
