//! The daemon's side of the control socket: one JSON request per connection, one JSON line
//! back. Only a peer of the daemon's own uid is answered (SO_PEERCRED): the directory's mode
//! already keeps others out, and this holds even if it were opened up.
//!
//! Requests: `status`, `stop`, `revoke` (a token), and `hand` (a client's session, with the
//! profile and the environment it was obtained in; with `grant`, a token for it comes back).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::{Daemon, log_line};
use crate::cli::SessionArgs;
use crate::config::profile::{self, Request};
use crate::creds::{Keys, Secret, Session};
use crate::error::{Error, Result};
use crate::run::renewal::Renewal;
use crate::run::server::{Grant, Held};
use crate::session::{Memory, cache};
use crate::sys::environ::Environment;

/// A request is a profile, a session and an environment: well under this.
const MAX_REQUEST: u64 = 1024 * 1024;
/// A client sends its request at once.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) async fn accept(listener: tokio::net::UnixListener, daemon: Arc<Daemon>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        tokio::spawn(connection(stream, Arc::clone(&daemon)));
    }
}

async fn connection(stream: tokio::net::UnixStream, daemon: Arc<Daemon>) {
    let ours = nix::unistd::getuid().as_raw();
    let peer = stream.peer_cred().map(|c| c.uid());
    let (read, mut write) = stream.into_split();
    let answer = match peer {
        Ok(uid) if uid == ours => {
            let mut line = String::new();
            let mut reader = BufReader::new(read).take(MAX_REQUEST);
            match tokio::time::timeout(REQUEST_TIMEOUT, reader.read_line(&mut line)).await {
                Ok(Ok(_)) => handle(&daemon, &line).await,
                _ => Err(Error::new("no request came in time")),
            }
        }
        Ok(uid) => {
            log_line(&format!(
                "mfaexec: refused a client of uid {uid} on the control socket (serving uid {ours})"
            ));
            Err(Error::new(format!(
                "this mfaexec serve belongs to uid {ours}, and answers no other user"
            )))
        }
        Err(e) => Err(Error::new(format!("cannot tell who the client is: {e}"))),
    };
    let reply = match answer {
        Ok(value) => value,
        Err(e) => json!({ "ok": false, "error": e.message(), "hint": e.hint_text() }),
    };
    let _ = write.write_all(format!("{reply}\n").as_bytes()).await;
    let _ = write.shutdown().await;
}

async fn handle(daemon: &Arc<Daemon>, line: &str) -> Result<Value> {
    let request: Value = serde_json::from_str(line)
        .map_err(|e| Error::new(format!("the request is not JSON: {e}")))?;
    match request["op"].as_str() {
        Some("status") => Ok(status(daemon)),
        Some("stop") => {
            log_line("mfaexec: serve stops: asked by `serve --stop`");
            let _ = daemon.stop.send(true);
            Ok(json!({ "ok": true, "pid": std::process::id() }))
        }
        Some("revoke") => {
            let token = request["token"].as_str().unwrap_or_default().to_owned();
            let mut grants = daemon.shared.grants();
            let before = grants.len();
            grants.retain(|g| g.token.expose() != token);
            Ok(json!({ "ok": true, "revoked": before - grants.len() }))
        }
        Some("hand") => {
            let daemon = Arc::clone(daemon);
            // Reads the profile files and checks the cache: blocking work, off the runtime.
            tokio::task::spawn_blocking(move || hand(&daemon, &request))
                .await
                .map_err(|e| Error::new(format!("the hand-off failed: {e}")))?
        }
        _ => Err(Error::new("unknown request")),
    }
}

fn status(daemon: &Daemon) -> Value {
    let grants = daemon.shared.grants();
    let held = daemon.held();
    let profiles: Vec<Value> = held
        .iter()
        .map(|(_, h)| {
            let clients: Vec<Value> = grants
                .iter()
                .filter(|g| Arc::ptr_eq(&g.held, h))
                .map(|g| {
                    json!({
                        "client": g.client,
                        "idle": g.last_used.elapsed().as_secs(),
                        "requests": g.requests,
                    })
                })
                .collect();
            json!({
                "profile": h.renewal.plan.profile,
                "expiration": h.expiration(),
                "needs_user": h.needs_user(),
                "clients": clients,
            })
        })
        .collect();
    json!({
        "ok": true,
        "pid": std::process::id(),
        "socket": daemon.paths.socket.display().to_string(),
        "port": daemon.shared.port,
        "started": daemon.started,
        "idle": daemon.idle.as_secs(),
        "profiles": profiles,
    })
}

/// A client's session: held (next to a held session of the same profile and settings, the one
/// that lasts longer is kept), and with `grant` a new token for it.
fn hand(daemon: &Daemon, request: &Value) -> Result<Value> {
    let text = |name: &str| request[name].as_str().map(str::to_owned);
    let profile_name =
        text("profile").ok_or_else(|| Error::new("the hand-off names no profile"))?;
    let env = Environment::from_text_pairs(
        request["env"]
            .as_array()
            .map(|pairs| {
                pairs
                    .iter()
                    .filter_map(|p| Some((p[0].as_str()?.to_owned(), p[1].as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default(),
    );
    let args = SessionArgs {
        profile: Some(profile_name.clone()),
        duration: text("duration"),
        token_code: None,
        region: text("region"),
        refresh: false,
        dry_run: false,
        verbose: daemon.verbose,
        sso_login: false,
    };
    let plan = profile::plan(
        &env,
        &Request {
            profile: &profile_name,
            duration: args.duration.as_deref(),
            region: args.region.as_deref(),
            console: false,
        },
    )?;
    let session = session_of(&request["session"])?;
    let key = cache::key(&plan);
    let window = cache::refresh_window(&env)? as i64;
    let held = {
        let mut all = daemon.held();
        match all.iter().find(|(k, _)| *k == key) {
            Some((_, held)) => {
                held.offer(session);
                Arc::clone(held)
            }
            None => {
                let held = Held::new(
                    Renewal::new(&plan, &args, &env, Memory::default()),
                    session,
                    window,
                    Some(daemon.paths.notices.clone()),
                );
                all.push((key, Arc::clone(&held)));
                log_line(&format!(
                    "mfaexec: holding the session of profile `{profile_name}`"
                ));
                held
            }
        }
    };
    if request["grant"].as_bool() != Some(true) {
        return Ok(json!({ "ok": true }));
    }
    let token = crate::run::server::new_token()?;
    let path = format!("/profile/{}", path_segment(&profile_name));
    let client = text("client").unwrap_or_else(|| "a client".to_owned());
    let client: String = crate::error::visible(&client).chars().take(200).collect();
    log_line(&format!(
        "mfaexec: a token for profile `{profile_name}` to {client}"
    ));
    daemon.shared.grant(Grant {
        token: token.clone(),
        path: Some(path.clone()),
        held,
        client,
        last_used: Instant::now(),
        requests: 0,
    });
    Ok(json!({
        "ok": true,
        "uri": format!("http://127.0.0.1:{}{path}", daemon.shared.port),
        "token": token.expose(),
    }))
}

/// The session as a client sends it, checked as a cached one is (issue 18: no control
/// characters, a key id of the AWS shape).
fn session_of(value: &Value) -> Result<Session> {
    let field = |name: &str| {
        value[name]
            .as_str()
            .filter(|t| !t.is_empty() && crate::creds::has_no_control(t))
            .map(str::to_owned)
    };
    let bad = || Error::new("the hand-off holds no sound session");
    let session = Session {
        keys: Keys {
            access_key_id: field("AccessKeyId").ok_or_else(bad)?,
            secret_access_key: Secret::new(field("SecretAccessKey").ok_or_else(bad)?),
            session_token: field("Token").map(Secret::new),
        },
        expiration: value["Expiration"].as_i64().ok_or_else(bad)?,
    };
    if !crate::creds::is_key_id(&session.keys.access_key_id) {
        return Err(bad());
    }
    if session.expiration <= crate::sys::time::now() {
        return Err(Error::new("the session handed to the daemon has expired"));
    }
    Ok(session)
}

/// A profile name as one path segment: unreserved characters as they are, every other byte
/// percent-encoded (RFC 3986 §2.3), so the path names the profile and nothing else.
pub(super) fn path_segment(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_name_is_one_path_segment() {
        assert_eq!(path_segment("prod"), "prod");
        assert_eq!(path_segment("team/prod x"), "team%2Fprod%20x");
        assert_eq!(path_segment("é"), "%C3%A9");
        assert_eq!(path_segment("../a"), "..%2Fa");
    }
}
