//! A fake AWS Sign-In token endpoint on 127.0.0.1: `CreateOAuth2Token` (`POST /v1/token`, a
//! JSON body with `grantType = refresh_token`), as the SDK's `LoginCredentialsProvider` calls
//! it to renew an `aws login` session's credentials, reached through `AWS_ENDPOINT_URL_SIGNIN`
//! or a profile's `[services]` `signin`. It records every call, and writes token files in the
//! AWS CLI's format (`~/.aws/login/cache/<sha256 of the session ARN>.json`).
//!
//! Wire format is aws-sdk-signin's (restJson1, the body is the operation's payload): errors
//! carry `x-amzn-ErrorType`; an ended session is `AccessDeniedException` with
//! `{"error":"TOKEN_EXPIRED"}`.

#![allow(dead_code)]

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::fake_sso::rfc3339;
use super::http::read_request;

/// A P-256 key made for these tests with `openssl ecparam -name prime256v1 -genkey -noout`:
/// the DPoP key the AWS CLI keeps in the token file, which the SDK signs each renewal with.
pub const DPOP_KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIECa2Lmxcm4mMSGbjfofkTzowxGY83rday9EJOyDSQrhoAoGCCqGSM49\nAwEHoUQDQgAE/FjmjfIwg8I7CDwV5EzxtL+x478ENZWCjVRHLfrZqp18IrXMD9Gv\nM0VmzAURyQKKhZr6W2mr3N7PkoNZ+ASlsw==\n-----END EC PRIVATE KEY-----\n";

/// One CreateOAuth2Token call as the fake saw it.
#[derive(Clone, Debug)]
pub struct SigninCall {
    pub path: String,
    pub grant_type: Option<String>,
    pub refresh_token: Option<String>,
    /// The `DPoP` header was there (a JWT the SDK signed with the file's key).
    pub dpop: bool,
    pub status: u16,
}

/// Credentials the endpoint handed out.
#[derive(Clone, Debug)]
pub struct Issued {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

#[derive(Default)]
struct State {
    /// Refresh tokens of sessions that have not ended.
    refresh_tokens: Vec<String>,
    calls: Vec<SigninCall>,
    issued: Vec<Issued>,
    /// How long the credentials it hands out last (`expiresIn`).
    expires_in: u64,
}

pub struct FakeSignin {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeSignin {
    pub fn start() -> FakeSignin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake Sign-In");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            expires_in: 900,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (state, stop) = (state.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let state = state.clone();
                    thread::spawn(move || serve(stream, &state));
                }
            })
        };
        FakeSignin {
            addr,
            state,
            stop,
            acceptor: Some(acceptor),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A session whose refresh token renews its credentials.
    pub fn accept_refresh_token(&self, refresh_token: &str) {
        self.state
            .lock()
            .unwrap()
            .refresh_tokens
            .push(refresh_token.to_owned());
    }

    /// Every session ends: no refresh token renews any more.
    pub fn end_sessions(&self) {
        self.state.lock().unwrap().refresh_tokens.clear();
    }

    pub fn set_expires_in(&self, secs: u64) {
        self.state.lock().unwrap().expires_in = secs;
    }

    pub fn calls(&self) -> Vec<SigninCall> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn issued(&self) -> Vec<Issued> {
        self.state.lock().unwrap().issued.clone()
    }
}

impl Drop for FakeSignin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

/// The AWS CLI's name for a login token file.
pub fn token_path(home: &Path, session_arn: &str) -> PathBuf {
    let hex: String = Sha256::digest(session_arn.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    home.join(".aws/login/cache").join(format!("{hex}.json"))
}

/// Writes a token file as `aws login` does: the console session's credentials until
/// `expires_unix`, its refresh token, the client id and the DPoP key.
pub fn write_token(
    home: &Path,
    session_arn: &str,
    credentials: (&str, &str, &str),
    expires_unix: u64,
    refresh_token: &str,
) {
    let account = session_arn.split(':').nth(4).unwrap_or("111111111111");
    let json = serde_json::json!({
        "accessToken": {
            "accessKeyId": credentials.0,
            "secretAccessKey": credentials.1,
            "sessionToken": credentials.2,
            "accountId": account,
            "expiresAt": rfc3339(expires_unix),
        },
        "tokenType": "aws_sigv4",
        "refreshToken": refresh_token,
        "idToken": "eyJ.id.token",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "dpopKey": DPOP_KEY,
    });
    let path = token_path(home, session_arn);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let Ok(Some(request)) = read_request(&mut reader, &mut &stream) else {
        return;
    };
    let (method, path) = (&request.method, &request.path);
    let json: serde_json::Value =
        serde_json::from_slice(&request.body).unwrap_or(serde_json::Value::Null);
    let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let (status, error_type, answer) = {
        let mut s = state.lock().unwrap();
        let refresh_token = text("refreshToken");
        let known = refresh_token
            .as_ref()
            .is_some_and(|t| s.refresh_tokens.contains(t));
        let (status, error_type, answer) = match (method.as_str(), path.as_str()) {
            ("POST", "/v1/token")
                if known && text("grantType").as_deref() == Some("refresh_token") =>
            {
                let n = s.issued.len() + 1;
                let issued = Issued {
                    access_key_id: format!("ASIALOGIN{n:011}"),
                    secret_access_key: format!("SECRETLOGIN{n:029}"),
                    session_token: format!("TOKENLOGIN{n:040}"),
                };
                s.issued.push(issued.clone());
                let next = format!("REFRESH-next-{n}");
                s.refresh_tokens.push(next.clone());
                (
                    200,
                    None,
                    serde_json::json!({
                        "accessToken": {
                            "accessKeyId": issued.access_key_id,
                            "secretAccessKey": issued.secret_access_key,
                            "sessionToken": issued.session_token,
                        },
                        "tokenType": "aws_sigv4",
                        "expiresIn": s.expires_in,
                        "refreshToken": next,
                    })
                    .to_string(),
                )
            }
            ("POST", "/v1/token") => (
                400,
                Some("AccessDeniedException"),
                r#"{"error":"TOKEN_EXPIRED","message":"The session has expired"}"#.to_owned(),
            ),
            _ => (
                404,
                Some("ResourceNotFoundException"),
                r#"{"message":"not found"}"#.to_owned(),
            ),
        };
        s.calls.push(SigninCall {
            path: path.clone(),
            grant_type: text("grantType"),
            refresh_token,
            dpop: request.header("dpop").is_some(),
            status,
        });
        (status, error_type, answer)
    };
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.len()
    );
    if let Some(t) = error_type {
        out.push_str(&format!("x-amzn-ErrorType: {t}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&answer);
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
}
