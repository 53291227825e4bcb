//! A fake IAM Identity Center on 127.0.0.1: the access portal's `GetRoleCredentials`
//! (`GET /federation/credentials`, the access token in `x-amz-sso_bearer_token`) and the OIDC
//! service's `CreateToken` (`POST /token`, the refresh path), reached through
//! `AWS_ENDPOINT_URL_SSO` and `AWS_ENDPOINT_URL_SSO_OIDC`. It records every call, and writes
//! token files in the AWS CLI's format (`~/.aws/sso/cache/<sha1>.json`).
//!
//! Wire formats are aws-sdk-sso's and aws-sdk-ssooidc's (restJson1): errors carry
//! `x-amzn-ErrorType`; a wrong or expired access token is 401 `UnauthorizedException`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};

use super::fake_sts::RoleSessionRegistrar;
use super::http::read_request;

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct SsoCall {
    /// `GetRoleCredentials` or `CreateToken` (or the path, for anything else).
    pub action: String,
    pub account_id: Option<String>,
    pub role_name: Option<String>,
    /// The access token of a GetRoleCredentials; the refresh token of a CreateToken.
    pub token: Option<String>,
    pub status: u16,
}

/// Role credentials the portal handed out.
#[derive(Clone, Debug)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration_unix: u64,
}

#[derive(Default)]
struct Portal {
    /// Access tokens the portal accepts, and until when (Unix seconds).
    access_tokens: HashMap<String, u64>,
    /// Refresh token -> the access token CreateToken answers with.
    refresh_tokens: HashMap<String, String>,
    calls: Vec<SsoCall>,
    issued: Vec<RoleCredentials>,
    counter: u64,
    /// How long the role credentials last.
    session_secs: u64,
}

pub struct FakeSso {
    addr: SocketAddr,
    portal: Arc<Mutex<Portal>>,
    registrar: Arc<Mutex<Option<RoleSessionRegistrar>>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl FakeSso {
    pub fn start() -> FakeSso {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake SSO");
        let addr = listener.local_addr().unwrap();
        let portal = Arc::new(Mutex::new(Portal {
            session_secs: 3600 * 8,
            ..Portal::default()
        }));
        let registrar: Arc<Mutex<Option<RoleSessionRegistrar>>> = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (portal, registrar, stop) = (portal.clone(), registrar.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (portal, registrar) = (portal.clone(), registrar.clone());
                    thread::spawn(move || serve(stream, &portal, &registrar));
                }
            })
        };
        FakeSso {
            addr,
            portal,
            registrar,
            stop,
            acceptor: Some(acceptor),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Registers every role session the portal hands out with the fake STS, so a chain can
    /// AssumeRole from it.
    pub fn register_with(&self, registrar: RoleSessionRegistrar) {
        *self.registrar.lock().unwrap() = Some(registrar);
    }

    /// How long the role credentials handed out from now on last.
    pub fn set_session_secs(&self, secs: u64) {
        self.portal.lock().unwrap().session_secs = secs;
    }

    /// An access token the portal accepts until `expires_unix`.
    pub fn accept_token(&self, token: &str, expires_unix: u64) {
        let mut p = self.portal.lock().unwrap();
        p.access_tokens.insert(token.to_owned(), expires_unix);
    }

    /// A refresh token that CreateToken turns into `access_token` (accepted for an hour).
    pub fn accept_refresh_token(&self, refresh_token: &str, access_token: &str) {
        let mut p = self.portal.lock().unwrap();
        p.refresh_tokens
            .insert(refresh_token.to_owned(), access_token.to_owned());
    }

    pub fn calls(&self) -> Vec<SsoCall> {
        self.portal.lock().unwrap().calls.clone()
    }

    pub fn calls_of(&self, action: &str) -> Vec<SsoCall> {
        self.calls()
            .into_iter()
            .filter(|c| c.action == action)
            .collect()
    }

    pub fn issued(&self) -> Vec<RoleCredentials> {
        self.portal.lock().unwrap().issued.clone()
    }
}

impl Drop for FakeSso {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

/// The ARN of the role IAM Identity Center makes for a permission set in an account.
pub fn sso_role_arn(account: &str, role_name: &str) -> String {
    format!(
        "arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_{role_name}_0123456789abcdef"
    )
}

/// The AWS CLI's name for a token file: sha1 of the sso-session name (or legacy start URL).
pub fn token_path(home: &Path, name: &str) -> PathBuf {
    let hex: String = Sha1::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    home.join(".aws/sso/cache").join(format!("{hex}.json"))
}

/// Writes a token file as `aws sso login` does. `refresh`: a refresh token with a client
/// registration valid for 90 days.
pub fn write_token(
    home: &Path,
    name: &str,
    start_url: &str,
    region: &str,
    access_token: &str,
    expires_unix: u64,
    refresh: Option<&str>,
) {
    let mut json = serde_json::json!({
        "startUrl": start_url,
        "region": region,
        "accessToken": access_token,
        "expiresAt": rfc3339(expires_unix),
    });
    if let Some(refresh) = refresh {
        let obj = json.as_object_mut().unwrap();
        obj.insert("refreshToken".into(), refresh.into());
        obj.insert("clientId".into(), "CLIENTID".into());
        obj.insert("clientSecret".into(), "CLIENTSECRET".into());
        obj.insert(
            "registrationExpiresAt".into(),
            rfc3339(now() + 90 * 86400).into(),
        );
    }
    let path = token_path(home, name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}

pub fn rfc3339(unix: u64) -> String {
    super::fake_sts::rfc3339(unix)
}

fn serve(
    stream: TcpStream,
    portal: &Mutex<Portal>,
    registrar: &Mutex<Option<RoleSessionRegistrar>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let Ok(Some(request)) = read_request(&mut reader, &mut &stream) else {
        return;
    };
    let (method, path, body) = (&request.method, request.path.as_str(), &request.body);
    let query: HashMap<String, String> = request
        .query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), decode(v)))
        .collect();
    let (status, answer) = {
        let mut p = portal.lock().unwrap();
        match (method.as_str(), path) {
            ("GET", "/federation/credentials") => {
                let token = request.header("x-amz-sso_bearer_token").map(str::to_owned);
                let valid = token
                    .as_ref()
                    .and_then(|t| p.access_tokens.get(t))
                    .is_some_and(|&until| until > now());
                let (status, answer) = if valid {
                    p.counter += 1;
                    let n = p.counter;
                    let creds = RoleCredentials {
                        access_key_id: format!("ASIASSO{n:013}"),
                        secret_access_key: format!("SECRETTEMPSSO{n:027}"),
                        session_token: format!("TOKENTEMPSSO{n:040}"),
                        expiration_unix: now() + p.session_secs,
                    };
                    if let (Some(register), Some(account), Some(role)) = (
                        registrar.lock().unwrap().as_ref(),
                        query.get("account_id"),
                        query.get("role_name"),
                    ) {
                        register(
                            &creds.access_key_id,
                            &creds.secret_access_key,
                            &creds.session_token,
                            &sso_role_arn(account, role),
                            creds.expiration_unix,
                        );
                    }
                    p.issued.push(creds.clone());
                    (
                        200,
                        serde_json::json!({"roleCredentials": {
                            "accessKeyId": creds.access_key_id,
                            "secretAccessKey": creds.secret_access_key,
                            "sessionToken": creds.session_token,
                            "expiration": creds.expiration_unix * 1000,
                        }})
                        .to_string(),
                    )
                } else {
                    (
                        401,
                        r#"{"message":"Session token not found or invalid"}"#.to_owned(),
                    )
                };
                p.calls.push(SsoCall {
                    action: "GetRoleCredentials".into(),
                    account_id: query.get("account_id").cloned(),
                    role_name: query.get("role_name").cloned(),
                    token,
                    status,
                });
                (status, answer)
            }
            ("POST", "/token") => {
                let json: serde_json::Value =
                    serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
                let refresh = json
                    .get("refreshToken")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
                let access = refresh
                    .as_ref()
                    .and_then(|r| p.refresh_tokens.get(r))
                    .cloned();
                let (status, answer) = match access {
                    Some(access) => {
                        p.access_tokens.insert(access.clone(), now() + 3600);
                        (
                            200,
                            serde_json::json!({
                                "accessToken": access,
                                "tokenType": "Bearer",
                                "expiresIn": 3600,
                                "refreshToken": refresh.clone().unwrap_or_default(),
                            })
                            .to_string(),
                        )
                    }
                    None => (
                        400,
                        r#"{"error":"invalid_grant","error_description":"bad refresh token"}"#
                            .to_owned(),
                    ),
                };
                p.calls.push(SsoCall {
                    action: "CreateToken".into(),
                    account_id: None,
                    role_name: None,
                    token: refresh,
                    status,
                });
                (status, answer)
            }
            _ => {
                p.calls.push(SsoCall {
                    action: path.to_owned(),
                    account_id: None,
                    role_name: None,
                    token: None,
                    status: 404,
                });
                (404, r#"{"message":"not found"}"#.to_owned())
            }
        }
    };
    let error_type = match status {
        200 => None,
        401 => Some("UnauthorizedException"),
        400 => Some("InvalidGrantException"),
        _ => Some("ResourceNotFoundException"),
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

fn decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
