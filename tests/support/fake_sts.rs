//! A fake AWS STS endpoint on 127.0.0.1, faithful where mfaexec's behaviour depends on it.
//!
//! The rules it enforces (duration limits, parameter shapes, MFA single use, role chaining,
//! exact error codes and messages, wire format) come from `AWS-RULES.md` §2, §3, §4 and §6.
//! It speaks just enough HTTP/1.1 for the real `aws-sdk-sts` client: one request per
//! connection, answered with `Connection: close`, so the client never reuses a connection the
//! fake might already have closed.
//!
//! Signatures are not verified; the caller is identified by the access key id in the
//! `Authorization` header and the session token in `X-Amz-Security-Token`.

// A shared test helper: not every test uses every item.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::http::{Request, read_request};
use super::totp;

#[path = "fake_iam.rs"]
pub mod fake_iam;

/// The awsQuery namespace of STS (AWS-RULES §6).
const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// How long a connection may sit idle before the fake gives up on it.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Public model
// ---------------------------------------------------------------------------------------------

/// An IAM user (or an account's root user) with one long-term access key and, optionally, a
/// virtual MFA device.
#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub account: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub mfa_serial: Option<String>,
    pub totp_seed: Vec<u8>,
    pub active: bool,
    pub root: bool,
}

impl User {
    /// An active IAM user with a fresh `AKIA…` key, a secret containing `SECRETLONGTERM`, and a
    /// virtual MFA device `arn:aws:iam::ACCOUNT:mfa/NAME` with a random seed.
    pub fn new(name: &str, account: &str) -> User {
        User {
            name: name.to_string(),
            account: account.to_string(),
            access_key_id: format!("AKIA{}", random_string(16, UPPER_ALNUM)),
            secret_access_key: format!("SECRETLONGTERM{}", random_string(26, MIXED_ALNUM)),
            mfa_serial: Some(format!("arn:aws:iam::{account}:mfa/{name}")),
            totp_seed: random_bytes(20),
            active: true,
            root: false,
        }
    }

    /// The root user of `account`, whose MFA serial is the root device
    /// `arn:aws:iam::ACCOUNT:mfa/root-account-mfa-device` (AWS-RULES §2).
    pub fn root(account: &str) -> User {
        User {
            root: true,
            mfa_serial: Some(format!(
                "arn:aws:iam::{account}:mfa/root-account-mfa-device"
            )),
            ..User::new("root", account)
        }
    }

    /// `arn:aws:iam::ACCOUNT:user/NAME`, or `arn:aws:iam::ACCOUNT:root` for a root user.
    pub fn arn(&self) -> String {
        if self.root {
            format!("arn:aws:iam::{}:root", self.account)
        } else {
            format!("arn:aws:iam::{}:user/{}", self.account, self.name)
        }
    }
}

/// An IAM role and the parts of its trust policy the fake models.
#[derive(Clone, Debug)]
pub struct Role {
    pub arn: String,
    /// The role's `MaxSessionDuration` (3600..43200 in IAM).
    pub max_session_duration: u64,
    /// Trusted principal ARNs: a user ARN, an account root `arn:aws:iam::ACCT:root` (every user
    /// and role session of that account), or a role ARN (sessions of that role).
    pub trusted: Vec<String>,
    /// Trust policy condition `aws:MultiFactorAuthPresent`.
    pub require_mfa: bool,
    /// Trust policy condition `sts:ExternalId`.
    pub external_id: Option<String>,
}

impl Role {
    /// A role with IAM's default `MaxSessionDuration` of 3600 that trusts nobody yet.
    pub fn new(arn: &str) -> Role {
        Role {
            arn: arn.to_string(),
            max_session_duration: 3600,
            trusted: Vec::new(),
            require_mfa: false,
            external_id: None,
        }
    }

    /// The role's name: the last path segment of its ARN.
    pub fn name(&self) -> String {
        role_name(&self.arn)
    }
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Call {
    pub action: String,
    /// Every form (or query) parameter except `Action` and `Version`.
    pub params: BTreeMap<String, String>,
    /// The access key id that signed the request ("" if there was no `Authorization`).
    pub access_key_id: String,
    pub session_token: Option<String>,
    pub status: u16,
    pub error_code: Option<String>,
}

/// A fault to inject; each queued fault is consumed by the next request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// 400 `Throttling` "Rate exceeded".
    Throttle,
    /// This HTTP status with an error body: 503 `ServiceUnavailable`, other 5xx
    /// `InternalFailure`, anything else `InjectedFault`.
    Status(u16),
    /// Sleep, then answer normally.
    Delay(Duration),
    /// Exactly this AWS error: `<Type>` is `Sender` for a 4xx status and `Receiver` for a 5xx.
    /// The request is not looked at, so nothing (an MFA code, say) is spent.
    Error {
        status: u16,
        code: String,
        message: String,
    },
    /// Answer normally (the code is spent, the credentials issued), then send the success body
    /// through this function: a truncated, damaged or huge answer.
    Rewrite(fn(String) -> String),
    /// As Rewrite, and without a Content-Length: the body ends when the connection closes.
    RewriteUnsized(fn(String) -> String),
}

/// One set of temporary credentials the fake handed out.
#[derive(Clone, Debug)]
pub struct Issued {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration_unix: u64,
    pub from_action: String,
    pub role_arn: Option<String>,
    pub mfa: bool,
    /// AssumeRole called with temporary credentials (role chaining).
    pub chained: bool,
}

/// One request to the fake console federation endpoint (`/federation`).
#[derive(Clone, Debug)]
pub struct FederationCall {
    pub method: String,
    pub action: String,
    /// The keys of the `Session` JSON, in the order sent.
    pub session_keys: Vec<String>,
    /// `sessionId` of the `Session` JSON: the access key id of the credentials.
    pub access_key_id: Option<String>,
    pub session_duration: Option<String>,
    /// The query string of the request URL (credentials must never be there).
    pub query: String,
    pub status: u16,
    /// The SigninToken answered, on success.
    pub signin_token: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/// The fake STS server; it stops when dropped.
pub struct FakeSts {
    addr: SocketAddr,
    world: Arc<Mutex<World>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeSts {
    /// Starts an empty fake on an ephemeral port of 127.0.0.1.
    pub fn start() -> FakeSts {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake STS");
        let addr = listener.local_addr().expect("fake STS address");
        let world = Arc::new(Mutex::new(World::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let world = Arc::clone(&world);
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name("fake-sts-accept".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let world = Arc::clone(&world);
                        let _ = thread::Builder::new()
                            .name("fake-sts-conn".into())
                            .spawn(move || serve_connection(stream, &world));
                    }
                })
                .expect("spawn fake STS accept thread")
        };
        FakeSts {
            addr,
            world,
            stop,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a user, or replaces the one with the same access key id (e.g. to deactivate it).
    pub fn add_user(&self, user: User) {
        let mut world = self.lock();
        let user_id = format!("AIDA{}", random_string(17, UPPER_ALNUM));
        let entry = world
            .users
            .entry(user.access_key_id.clone())
            .or_insert_with(|| UserEntry {
                user: user.clone(),
                user_id,
            });
        entry.user = user;
    }

    /// Adds a role, or replaces the one with the same ARN.
    pub fn add_role(&self, role: Role) {
        let mut world = self.lock();
        let role_id = format!("AROA{}", random_string(17, UPPER_ALNUM));
        let entry = world
            .roles
            .entry(role.arn.clone())
            .or_insert_with(|| RoleEntry {
                role: role.clone(),
                role_id,
            });
        entry.role = role;
    }

    /// A code the fake accepts right now and that has not been used: the first of the current,
    /// next and previous TOTP windows whose code is unused. Up to 3 codes per clock position;
    /// call `advance_clock(30)` for more. Panics if the device is unknown or none is left.
    pub fn code(&self, mfa_serial: &str) -> String {
        let world = self.lock();
        let seed = world.seed_of(mfa_serial);
        let now = world.now();
        [0, 1, -1]
            .into_iter()
            .map(|window| totp::code_at(&seed, shift(now, window * totp::STEP_SECS as i64)))
            .find(|code| {
                !world
                    .used_codes
                    .contains(&(mfa_serial.to_string(), code.clone()))
            })
            .unwrap_or_else(|| {
                panic!("no unused TOTP code left for {mfa_serial}; call advance_clock(30)")
            })
    }

    /// A well-formed code from far outside the accepted window, so always rejected.
    pub fn stale_code(&self, mfa_serial: &str) -> String {
        let world = self.lock();
        let seed = world.seed_of(mfa_serial);
        let now = world.now();
        let valid = world.valid_codes(&seed, now);
        // An hour back (120 windows), skipping the one-in-a-million collision with a valid code.
        (120..)
            .map(|windows: i64| totp::code_at(&seed, shift(now, -windows * totp::STEP_SECS as i64)))
            .find(|code| !valid.contains(code))
            .expect("some stale code differs from the valid ones")
    }

    /// Moves the fake's clock forward: fresh TOTP windows, and issued credentials age.
    pub fn advance_clock(&self, secs: u64) {
        self.lock().clock_offset += secs;
    }

    /// The fake's current time (real time plus every `advance_clock`), in Unix seconds.
    pub fn now(&self) -> u64 {
        self.lock().now()
    }

    /// Every request received, in order, faulted ones too.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Queues a fault for a later request (FIFO, one fault per request).
    pub fn inject(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    /// Every set of temporary credentials issued, in order.
    /// The console federation endpoint of this fake: `MFAEXEC_FEDERATION_ENDPOINT`.
    pub fn federation_url(&self) -> String {
        format!("{}/federation", self.url())
    }

    /// Sends the next successful federation answer through a `Rewrite` or `RewriteUnsized`.
    pub fn rewrite_federation(&self, fault: Fault) {
        assert!(matches!(
            fault,
            Fault::Rewrite(_) | Fault::RewriteUnsized(_)
        ));
        self.lock().federation_rewrites.push_back(fault);
    }

    /// Every request to the federation endpoint, in order.
    pub fn federation_calls(&self) -> Vec<FederationCall> {
        lock(&self.world).federation_calls.clone()
    }

    pub fn issued(&self) -> Vec<Issued> {
        self.lock().issued.clone()
    }

    /// Makes the next successful AssumeRole, GetSessionToken or GetFederationToken issue exactly
    /// these values (each call queues one set, used in order). They are registered like any
    /// issued credentials, so later calls signed with them work, as far as the SDK can send them:
    /// the session token and access key id travel in HTTP headers, so the SDK refuses to sign
    /// with ones holding a line break (non-ASCII, quotes and the like are fine). The secret is
    /// never sent.
    ///
    /// Anything XML 1.0 can carry is fine in the answer (quotes, `$()`, backticks, backslashes,
    /// newlines, non-ASCII); other control characters panic here, as no XML parser takes them.
    pub fn next_credentials(
        &self,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: &str,
    ) {
        for (what, value) in [
            ("access key id", access_key_id),
            ("secret access key", secret_access_key),
            ("session token", session_token),
        ] {
            if let Some(c) = value.chars().find(|&c| !is_xml_char(c)) {
                panic!("fake STS: the {what} holds {c:?}, which XML 1.0 cannot carry");
            }
        }
        let mut world = self.lock();
        assert!(
            !world.users.contains_key(access_key_id),
            "fake STS: {access_key_id} is a user's long-term key"
        );
        world.next_credentials.push_back(NextCredentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            session_token: session_token.to_string(),
        });
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    /// Makes AssumeRoleWithWebIdentity accept `token` (an OIDC token's text, as read from
    /// `web_identity_token_file`) for `role_arn`.
    pub fn accept_web_identity(&self, role_arn: &str, token: &str) {
        self.lock()
            .web_identity
            .insert((role_arn.to_string(), token.to_string()));
    }

    /// A function that registers role credentials issued elsewhere (IAM Identity Center's
    /// portal) as a session of a role: AssumeRole signed with them is role chaining (1h cap),
    /// admitted by trust policies naming that role, and accepted by the federation endpoint.
    /// Arguments: access key id, secret access key, session token, role ARN, expiration (Unix
    /// seconds).
    pub fn role_session_registrar(&self) -> RoleSessionRegistrar {
        let world = Arc::clone(&self.world);
        Box::new(
            move |access_key_id, secret_access_key, session_token, role_arn, expiration_unix| {
                let mut world = lock(&world);
                let account = arn_account(role_arn);
                // The identity behind a portal session has no IAM user; a hidden one stands in as
                // the origin of the chain.
                let origin = User {
                    mfa_serial: None,
                    ..User::new("sso-user", &account)
                };
                let origin_key = origin.access_key_id.clone();
                world.users.insert(
                    origin_key.clone(),
                    UserEntry {
                        user: origin,
                        user_id: format!("AIDA{}", random_string(17, UPPER_ALNUM)),
                    },
                );
                world.sessions.insert(
                    access_key_id.to_string(),
                    Session {
                        token: session_token.to_string(),
                        expiration_unix,
                        origin_key,
                        kind: SessionKind::Role {
                            role_arn: role_arn.to_string(),
                            role_id: format!("AROA{}", random_string(17, UPPER_ALNUM)),
                            session_name: "sso-user".to_string(),
                        },
                        mfa: false,
                    },
                );
                world.issued.push(Issued {
                    access_key_id: access_key_id.to_string(),
                    secret_access_key: secret_access_key.to_string(),
                    session_token: session_token.to_string(),
                    expiration_unix,
                    from_action: "GetRoleCredentials".to_string(),
                    role_arn: Some(role_arn.to_string()),
                    mfa: false,
                    chained: false,
                });
            },
        )
    }
}

/// See [`FakeSts::role_session_registrar`].
pub type RoleSessionRegistrar = Box<dyn Fn(&str, &str, &str, &str, u64) + Send + Sync>;

impl Drop for FakeSts {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag. Connection threads are left to finish on
        // their own (they have I/O timeouts), so a stuck client cannot hang the test.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn lock(world: &Mutex<World>) -> MutexGuard<'_, World> {
    // A panicking test thread must not take the fake down with it.
    world
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct World {
    clock_offset: u64,
    users: HashMap<String, UserEntry>,
    roles: HashMap<String, RoleEntry>,
    /// Temporary credentials by `ASIA…` access key id.
    sessions: HashMap<String, Session>,
    /// (serial, code) pairs already accepted: a TOTP code is single-use (AWS-RULES §4).
    used_codes: HashSet<(String, String)>,
    calls: Vec<Call>,
    faults: VecDeque<Fault>,
    issued: Vec<Issued>,
    /// Values for the next issued credentials, from `FakeSts::next_credentials`.
    next_credentials: VecDeque<NextCredentials>,
    federation_calls: Vec<FederationCall>,
    /// `Rewrite` or `RewriteUnsized` faults for the next federation answers.
    federation_rewrites: VecDeque<Fault>,
    iam: fake_iam::Iam,
    /// (role ARN, web identity token) pairs that AssumeRoleWithWebIdentity accepts.
    web_identity: HashSet<(String, String)>,
}

struct NextCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
}

struct UserEntry {
    user: User,
    user_id: String,
}

struct RoleEntry {
    role: Role,
    role_id: String,
}

#[derive(Clone)]
struct Session {
    token: String,
    expiration_unix: u64,
    /// The long-term key of the user who originally obtained this chain of credentials.
    origin_key: String,
    kind: SessionKind,
    /// MFA was given when these credentials (or ones earlier in the chain) were obtained.
    mfa: bool,
}

#[derive(Clone)]
enum SessionKind {
    /// From GetSessionToken: acts as the user itself.
    User,
    /// From AssumeRole.
    Role {
        role_arn: String,
        role_id: String,
        session_name: String,
    },
    /// From GetFederationToken.
    Federated { name: String },
}

/// Who is calling: the long-term identity and, for temporary credentials, the session.
struct Caller {
    user: User,
    user_id: String,
    session: Option<Session>,
}

impl Caller {
    fn arn(&self) -> String {
        match self.session.as_ref().map(|s| &s.kind) {
            None | Some(SessionKind::User) => self.user.arn(),
            Some(SessionKind::Role {
                role_arn,
                session_name,
                ..
            }) => assumed_role_arn(role_arn, session_name),
            Some(SessionKind::Federated { name }) => {
                format!("arn:aws:sts::{}:federated-user/{name}", self.user.account)
            }
        }
    }

    fn user_id(&self) -> String {
        match self.session.as_ref().map(|s| &s.kind) {
            // The root user's UserId is the account id.
            None | Some(SessionKind::User) if self.user.root => self.user.account.clone(),
            None | Some(SessionKind::User) => self.user_id.clone(),
            Some(SessionKind::Role {
                role_id,
                session_name,
                ..
            }) => format!("{role_id}:{session_name}"),
            Some(SessionKind::Federated { name }) => format!("{}:{name}", self.user.account),
        }
    }

    fn account(&self) -> String {
        match self.session.as_ref().map(|s| &s.kind) {
            Some(SessionKind::Role { role_arn, .. }) => arn_account(role_arn),
            _ => self.user.account.clone(),
        }
    }

    /// Whether a trust policy listing `trusted` principal ARNs admits this caller.
    fn trusted_by(&self, trusted: &[String]) -> bool {
        let (own_arns, account) = match self.session.as_ref().map(|s| &s.kind) {
            None | Some(SessionKind::User) => (vec![self.user.arn()], self.user.account.clone()),
            Some(SessionKind::Role { role_arn, .. }) => {
                (vec![role_arn.clone(), self.arn()], arn_account(role_arn))
            }
            // Federated users may not call AssumeRole at all.
            Some(SessionKind::Federated { .. }) => return false,
        };
        let account_root = format!("arn:aws:iam::{account}:root");
        trusted
            .iter()
            .any(|t| *t == account_root || own_arns.contains(t))
    }

    fn mfa_carried(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.mfa)
    }
}

impl World {
    /// The fake clock: real Unix time plus every `advance_clock`.
    fn now(&self) -> u64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
        real + self.clock_offset
    }

    fn seed_of(&self, mfa_serial: &str) -> Vec<u8> {
        self.users
            .values()
            .find(|e| e.user.mfa_serial.as_deref() == Some(mfa_serial))
            .map(|e| e.user.totp_seed.clone())
            .unwrap_or_else(|| panic!("fake STS: no user has MFA device {mfa_serial}"))
    }

    /// Codes of the previous, current and next windows: AWS tolerates one step of skew.
    fn valid_codes(&self, seed: &[u8], now: u64) -> Vec<String> {
        [-1, 0, 1]
            .into_iter()
            .map(|window| totp::code_at(seed, shift(now, window * totp::STEP_SECS as i64)))
            .collect()
    }

    /// Mints temporary credentials valid for `duration` seconds of the fake clock.
    fn issue(
        &mut self,
        duration: u64,
        origin_key: &str,
        kind: SessionKind,
        mfa: bool,
        from_action: &str,
    ) -> Issued {
        let role_arn = match &kind {
            SessionKind::Role { role_arn, .. } => Some(role_arn.clone()),
            _ => None,
        };
        let values = self
            .next_credentials
            .pop_front()
            .unwrap_or_else(|| NextCredentials {
                access_key_id: format!("ASIA{}", random_string(16, UPPER_ALNUM)),
                secret_access_key: format!("SECRETTEMP{}", random_string(30, MIXED_ALNUM)),
                session_token: format!("IQoJTOKENTEMP{}", random_string(120, MIXED_ALNUM)),
            });
        let issued = Issued {
            access_key_id: values.access_key_id,
            secret_access_key: values.secret_access_key,
            session_token: values.session_token,
            expiration_unix: self.now() + duration,
            from_action: from_action.to_string(),
            role_arn,
            mfa,
            chained: false,
        };
        self.sessions.insert(
            issued.access_key_id.clone(),
            Session {
                token: issued.session_token.clone(),
                expiration_unix: issued.expiration_unix,
                origin_key: origin_key.to_string(),
                kind,
                mfa,
            },
        );
        self.issued.push(issued.clone());
        issued
    }
}

// ---------------------------------------------------------------------------------------------
// Errors (AWS-RULES §4; messages verbatim)
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct StsError {
    status: u16,
    code: String,
    message: String,
}

impl StsError {
    fn new(status: u16, code: &str, message: impl Into<String>) -> StsError {
        StsError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    fn access_denied(message: impl Into<String>) -> StsError {
        StsError::new(403, "AccessDenied", message)
    }

    fn validation(message: impl Into<String>) -> StsError {
        StsError::new(400, "ValidationError", message)
    }

    fn invalid_token() -> StsError {
        StsError::new(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
    }
}

const MFA_BOTH: &str =
    "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.";
// Two spaces after "code." — that is what AWS sends.
const MFA_WRONG_SERIAL: &str = "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.";
const MFA_BAD_CODE: &str = "MultiFactorAuthentication failed with invalid MFA one time pass code.";
const CHAINING_LIMIT: &str = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.";
const ROLE_MAX: &str =
    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.";

// ---------------------------------------------------------------------------------------------
// Parameter shapes (AWS-RULES §2, §3), reported in AWS's "N validation errors detected" form
// ---------------------------------------------------------------------------------------------

/// Collects shape violations; AWS reports all of them in one ValidationError.
#[derive(Default)]
struct Shapes {
    errors: Vec<String>,
}

/// `\w` in AWS's (Java) patterns is `[a-zA-Z0-9_]`.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A pattern from the STS API model, as quoted in messages, and the test every character must
/// pass (the model's patterns are all `[class]*`).
type Pattern = (&'static str, fn(char) -> bool);

const NAME_PATTERN: Pattern = (r"[\w+=,.@-]*", |c| is_word(c) || "+=,.@-".contains(c));
const SERIAL_PATTERN: Pattern = (r"[\w+=/:,.@-]*", |c| is_word(c) || "+=/:,.@-".contains(c));
const EXTERNAL_ID_PATTERN: Pattern = (r"[\w+=,.@:\/-]*", |c| is_word(c) || "+=,.@:/-".contains(c));
const DIGITS_PATTERN: Pattern = (r"[\d]*", |c| c.is_ascii_digit());

impl Shapes {
    fn violation(&mut self, value: Option<&str>, member: &str, constraint: String) {
        let value = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_string(),
        };
        self.errors.push(format!(
            "Value {value} at '{member}' failed to satisfy constraint: Member must {constraint}"
        ));
    }

    /// A required member.
    fn required(&mut self, member: &str, value: Option<&str>) {
        if value.is_none() {
            self.violation(None, member, "not be null".to_string());
        }
    }

    /// A string member's length (in characters) and pattern, if present.
    fn string(
        &mut self,
        member: &str,
        value: Option<&str>,
        (min, max): (usize, usize),
        pattern: Option<Pattern>,
    ) {
        let Some(v) = value else { return };
        let len = v.chars().count();
        if len < min {
            self.violation(
                value,
                member,
                format!("have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.violation(
                value,
                member,
                format!("have length less than or equal to {max}"),
            );
        }
        if let Some((text, allowed)) = pattern
            && !v.chars().all(allowed)
        {
            self.violation(
                value,
                member,
                format!("satisfy regular expression pattern: {text}"),
            );
        }
    }

    /// An integer member's range, if present.
    fn integer(&mut self, member: &str, value: Option<&str>, (min, max): (i64, i64)) {
        let Some(v) = value else { return };
        match v.trim().parse::<i64>() {
            Ok(n) if n < min => self.violation(
                value,
                member,
                format!("have value greater than or equal to {min}"),
            ),
            Ok(n) if n > max => self.violation(
                value,
                member,
                format!("have value less than or equal to {max}"),
            ),
            Ok(_) => {}
            Err(_) => self.violation(value, member, "be an integer".to_string()),
        }
    }

    fn finish(self) -> Result<(), StsError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(StsError::validation(format!(
                "1 validation error detected: {}",
                self.errors[0]
            ))),
            n => Err(StsError::validation(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }
}

/// The API's `DurationSeconds` range for an action (AWS-RULES §2), before any role, root or
/// chaining limit.
fn duration_range(action: &str) -> (i64, i64) {
    match action {
        "AssumeRole" => (900, 43200),
        // GetSessionToken and GetFederationToken for IAM users.
        _ => (900, 129600),
    }
}

/// The ValidationError message AWS gives for `DurationSeconds=secs` on `action`, if out of
/// the API's range; `None` if the shape is fine.
pub fn duration_shape_error(action: &str, secs: i64) -> Option<String> {
    let mut shapes = Shapes::default();
    shapes.integer(
        "durationSeconds",
        Some(&secs.to_string()),
        duration_range(action),
    );
    shapes.finish().err().map(|e| e.message)
}

/// Shapes of the MFA members shared by AssumeRole and GetSessionToken.
fn check_mfa_shapes(shapes: &mut Shapes, params: &Params) {
    shapes.string(
        "serialNumber",
        params.get("SerialNumber"),
        (9, 256),
        Some(SERIAL_PATTERN),
    );
    // A TOTP code is exactly 6 digits.
    shapes.string(
        "tokenCode",
        params.get("TokenCode"),
        (6, 6),
        Some(DIGITS_PATTERN),
    );
}

// ---------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------

struct Params(BTreeMap<String, String>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `DurationSeconds`, already shape-checked, or the action's default.
    fn duration(&self, default: u64) -> u64 {
        self.get("DurationSeconds")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default)
    }
}

/// Checks the MFA parameters against the caller's device and the TOTP windows. Returns the
/// (serial, code) pair to mark as used if the whole call succeeds, or `None` if no MFA was given.
fn check_mfa(
    world: &World,
    caller: &Caller,
    params: &Params,
) -> Result<Option<(String, String)>, StsError> {
    let (serial, code) = match (params.get("SerialNumber"), params.get("TokenCode")) {
        (None, None) => return Ok(None),
        (Some(serial), Some(code)) => (serial, code),
        _ => return Err(StsError::access_denied(MFA_BOTH)),
    };
    // The device must belong to the user behind the credentials (for temporary credentials,
    // the user who originally obtained them).
    if caller.user.mfa_serial.as_deref() != Some(serial) {
        return Err(StsError::access_denied(MFA_WRONG_SERIAL));
    }
    // Valid in the previous, current or next window, and never accepted before.
    let valid = world.valid_codes(&caller.user.totp_seed, world.now());
    let pair = (serial.to_string(), code.to_string());
    if !valid.iter().any(|c| c == code) || world.used_codes.contains(&pair) {
        return Err(StsError::access_denied(MFA_BAD_CODE));
    }
    Ok(Some(pair))
}

fn assume_role(world: &mut World, caller: &Caller, params: &Params) -> Result<String, StsError> {
    // 1. Shapes, before anything else.
    let mut shapes = Shapes::default();
    shapes.required("roleArn", params.get("RoleArn"));
    shapes.string("roleArn", params.get("RoleArn"), (20, 2048), None);
    shapes.required("roleSessionName", params.get("RoleSessionName"));
    shapes.string(
        "roleSessionName",
        params.get("RoleSessionName"),
        (2, 64),
        Some(NAME_PATTERN),
    );
    shapes.integer(
        "durationSeconds",
        params.get("DurationSeconds"),
        duration_range("AssumeRole"),
    );
    check_mfa_shapes(&mut shapes, params);
    shapes.string(
        "externalId",
        params.get("ExternalId"),
        (2, 1224),
        Some(EXTERNAL_ID_PATTERN),
    );
    shapes.string(
        "sourceIdentity",
        params.get("SourceIdentity"),
        (2, 64),
        Some(NAME_PATTERN),
    );
    shapes.finish()?;
    let role_arn = params.get("RoleArn").unwrap_or_default();
    let session_name = params.get("RoleSessionName").unwrap_or_default();

    // 2. MFA.
    let mfa_code = check_mfa(world, caller, params)?;

    // 3. Authorization: root, trust policy and its conditions.
    if caller.user.root && caller.session.is_none() {
        return Err(StsError::access_denied(
            "Roles may not be assumed by root accounts.",
        ));
    }
    let not_authorized = || {
        StsError::access_denied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            caller.arn()
        ))
    };
    let Some(entry) = world.roles.get(role_arn) else {
        return Err(not_authorized());
    };
    let role = entry.role.clone();
    let role_id = entry.role_id.clone();
    let mfa = mfa_code.is_some() || caller.mfa_carried();
    let external_id_ok = match &role.external_id {
        Some(expected) => params.get("ExternalId") == Some(expected.as_str()),
        None => true,
    };
    if !caller.trusted_by(&role.trusted) || (role.require_mfa && !mfa) || !external_id_ok {
        return Err(not_authorized());
    }

    // 4. Duration: AssumeRole with temporary credentials (from AssumeRole or GetSessionToken)
    // is role chaining, capped at 1 hour whatever the role allows.
    let duration = params.duration(3600);
    if caller.session.is_some() && duration > 3600 {
        return Err(StsError::validation(CHAINING_LIMIT));
    }
    if duration > role.max_session_duration {
        return Err(StsError::validation(ROLE_MAX));
    }

    // Success: only now is the code spent.
    if let Some(pair) = mfa_code {
        world.used_codes.insert(pair);
    }
    let origin_key = caller.user.access_key_id.clone();
    let kind = SessionKind::Role {
        role_arn: role.arn.clone(),
        role_id: role_id.clone(),
        session_name: session_name.to_string(),
    };
    let mut issued = world.issue(duration, &origin_key, kind, mfa, "AssumeRole");
    if caller.session.is_some() {
        issued.chained = true;
        if let Some(last) = world.issued.last_mut() {
            last.chained = true;
        }
    }
    let mut xml = credentials_xml(&issued);
    xml.push_str(&format!(
        "<AssumedRoleUser><AssumedRoleId>{}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser>",
        escape(&format!("{role_id}:{session_name}")),
        escape(&assumed_role_arn(&role.arn, session_name)),
    ));
    if let Some(source_identity) = params.get("SourceIdentity") {
        xml.push_str(&format!(
            "<SourceIdentity>{}</SourceIdentity>",
            escape(source_identity)
        ));
    }
    Ok(xml)
}

fn get_session_token(
    world: &mut World,
    caller: &Caller,
    params: &Params,
) -> Result<String, StsError> {
    let mut shapes = Shapes::default();
    shapes.integer(
        "durationSeconds",
        params.get("DurationSeconds"),
        duration_range("GetSessionToken"),
    );
    check_mfa_shapes(&mut shapes, params);
    shapes.finish()?;

    // Only long-term keys may call GetSessionToken.
    if caller.session.is_some() {
        return Err(StsError::access_denied(
            "Cannot call GetSessionToken with session credentials",
        ));
    }
    let mfa_code = check_mfa(world, caller, params)?;

    // Default 12 h; the root user is silently cut to 1 h.
    let mut duration = params.duration(43200);
    if caller.user.root {
        duration = duration.min(3600);
    }
    let mfa = mfa_code.is_some();
    if let Some(pair) = mfa_code {
        world.used_codes.insert(pair);
    }
    let origin_key = caller.user.access_key_id.clone();
    let issued = world.issue(
        duration,
        &origin_key,
        SessionKind::User,
        mfa,
        "GetSessionToken",
    );
    Ok(credentials_xml(&issued))
}

fn get_federation_token(
    world: &mut World,
    caller: &Caller,
    params: &Params,
) -> Result<String, StsError> {
    let mut shapes = Shapes::default();
    shapes.required("name", params.get("Name"));
    shapes.string("name", params.get("Name"), (2, 32), Some(NAME_PATTERN));
    shapes.integer(
        "durationSeconds",
        params.get("DurationSeconds"),
        duration_range("GetFederationToken"),
    );
    shapes.finish()?;
    let name = params.get("Name").unwrap_or_default().to_string();

    // Only long-term keys may call GetFederationToken.
    if caller.session.is_some() {
        return Err(StsError::access_denied(
            "Cannot call GetFederationToken with session credentials",
        ));
    }
    // Default 12 h; root at most 1 h.
    let mut duration = params.duration(43200);
    if caller.user.root {
        duration = duration.min(3600);
    }
    let origin_key = caller.user.access_key_id.clone();
    let account = caller.user.account.clone();
    let issued = world.issue(
        duration,
        &origin_key,
        SessionKind::Federated { name: name.clone() },
        false,
        "GetFederationToken",
    );
    let mut xml = credentials_xml(&issued);
    xml.push_str(&format!(
        "<FederatedUser><FederatedUserId>{}</FederatedUserId><Arn>{}</Arn></FederatedUser>",
        escape(&format!("{account}:{name}")),
        escape(&format!("arn:aws:sts::{account}:federated-user/{name}")),
    ));
    Ok(xml)
}

fn get_caller_identity(caller: &Caller) -> String {
    format!(
        "<Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account>",
        escape(&caller.arn()),
        escape(&caller.user_id()),
        escape(&caller.account()),
    )
}

fn credentials_xml(issued: &Issued) -> String {
    format!(
        "<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials>",
        escape(&issued.access_key_id),
        escape(&issued.secret_access_key),
        escape(&issued.session_token),
        rfc3339(issued.expiration_unix),
    )
}

/// AssumeRoleWithWebIdentity: no signature; the token must be one `accept_web_identity`
/// registered for the role. Not role chaining: up to the role's MaxSessionDuration.
fn assume_role_with_web_identity(world: &mut World, params: &Params) -> Result<String, StsError> {
    let mut shapes = Shapes::default();
    shapes.required("roleArn", params.get("RoleArn"));
    shapes.required("roleSessionName", params.get("RoleSessionName"));
    shapes.string(
        "roleSessionName",
        params.get("RoleSessionName"),
        (2, 64),
        Some(NAME_PATTERN),
    );
    shapes.required("webIdentityToken", params.get("WebIdentityToken"));
    shapes.integer(
        "durationSeconds",
        params.get("DurationSeconds"),
        (900, 43200),
    );
    shapes.finish()?;
    let role_arn = params.get("RoleArn").unwrap_or_default().to_string();
    let session_name = params
        .get("RoleSessionName")
        .unwrap_or_default()
        .to_string();
    let token = params
        .get("WebIdentityToken")
        .unwrap_or_default()
        .to_string();
    if !world.web_identity.contains(&(role_arn.clone(), token)) {
        return Err(StsError::new(
            400,
            "InvalidIdentityToken",
            "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
        ));
    }
    let Some(entry) = world.roles.get(&role_arn) else {
        return Err(StsError::access_denied(
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        ));
    };
    let role_id = entry.role_id.clone();
    let duration = params.duration(3600);
    if duration > entry.role.max_session_duration {
        return Err(StsError::validation(ROLE_MAX));
    }
    // A hidden user stands in as the origin of what the identity provider vouched for.
    let origin = User {
        mfa_serial: None,
        ..User::new("web-identity", &arn_account(&role_arn))
    };
    let origin_key = origin.access_key_id.clone();
    world.users.insert(
        origin_key.clone(),
        UserEntry {
            user: origin,
            user_id: format!("AIDA{}", random_string(17, UPPER_ALNUM)),
        },
    );
    let kind = SessionKind::Role {
        role_arn: role_arn.clone(),
        role_id: role_id.clone(),
        session_name: session_name.clone(),
    };
    let issued = world.issue(
        duration,
        &origin_key,
        kind,
        false,
        "AssumeRoleWithWebIdentity",
    );
    let mut xml = credentials_xml(&issued);
    xml.push_str(&format!(
        "<SubjectFromWebIdentityToken>system:serviceaccount:ci:runner</SubjectFromWebIdentityToken>\
         <AssumedRoleUser><AssumedRoleId>{}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser>\
         <Provider>oidc.example.com</Provider><Audience>sts.amazonaws.com</Audience>",
        escape(&format!("{role_id}:{session_name}")),
        escape(&assumed_role_arn(&role_arn, &session_name)),
    ));
    Ok(xml)
}

/// Identifies the caller from the signing key and session token.
fn authenticate(
    world: &World,
    access_key_id: Option<&str>,
    token: Option<&str>,
) -> Result<Caller, StsError> {
    let Some(akid) = access_key_id else {
        return Err(StsError::new(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ));
    };
    if let Some(entry) = world.users.get(akid) {
        // A long-term key: must be active and sent without a session token.
        if !entry.user.active || token.is_some() {
            return Err(StsError::invalid_token());
        }
        if fake_iam::propagating(world, akid) {
            return Err(StsError::invalid_token());
        }
        return Ok(Caller {
            user: entry.user.clone(),
            user_id: entry.user_id.clone(),
            session: None,
        });
    }
    let Some(session) = world.sessions.get(akid) else {
        return Err(StsError::invalid_token());
    };
    // HTTP drops the spaces around a header value.
    if token.map(str::trim) != Some(session.token.trim()) {
        return Err(StsError::invalid_token());
    }
    if world.now() >= session.expiration_unix {
        return Err(StsError::new(
            403,
            "ExpiredToken",
            "The security token included in the request is expired",
        ));
    }
    let origin = world
        .users
        .get(&session.origin_key)
        .ok_or_else(StsError::invalid_token)?;
    Ok(Caller {
        user: origin.user.clone(),
        user_id: origin.user_id.clone(),
        session: Some(session.clone()),
    })
}

/// Runs one (unfaulted) request against the world; the result is the `<XResult>` contents.
fn dispatch(
    world: &mut World,
    action: &str,
    params: &Params,
    access_key_id: Option<&str>,
    token: Option<&str>,
) -> Result<String, StsError> {
    // The one unsigned STS call: the token file's contents are the proof.
    if action == "AssumeRoleWithWebIdentity" {
        return assume_role_with_web_identity(world, params);
    }
    let caller = authenticate(world, access_key_id, token)?;
    match action {
        "AssumeRole" => assume_role(world, &caller, params),
        "GetSessionToken" => get_session_token(world, &caller, params),
        "GetFederationToken" => get_federation_token(world, &caller, params),
        "GetCallerIdentity" => Ok(get_caller_identity(&caller)),
        iam if fake_iam::handles(iam) => fake_iam::dispatch(world, &caller, iam, params),
        _ => Err(StsError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {action} for version 2011-06-15"),
        )),
    }
}

/// The error an injected fault answers with.
fn fault_error(fault: &Fault) -> Option<StsError> {
    match fault {
        Fault::Throttle => Some(StsError::new(400, "Throttling", "Rate exceeded")),
        Fault::Status(503) => Some(StsError::new(
            503,
            "ServiceUnavailable",
            "Service Unavailable",
        )),
        Fault::Status(status @ 500..=599) => Some(StsError::new(
            *status,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        )),
        Fault::Status(status) => Some(StsError::new(*status, "InjectedFault", "Injected fault")),
        Fault::Delay(_) | Fault::Rewrite(_) | Fault::RewriteUnsized(_) => None,
        Fault::Error {
            status,
            code,
            message,
        } => Some(StsError::new(*status, code, message.clone())),
    }
}

/// Handles one HTTP request: faults, dispatch, logging. Returns (status, XML body, request id).
fn handle(world: &Mutex<World>, request: &Request) -> (u16, String, String, bool) {
    let request_id = request_id();
    let mut form = parse_form(&request.query);
    form.extend(parse_form(&String::from_utf8_lossy(&request.body)));
    let action = form.remove("Action").unwrap_or_default();
    form.remove("Version");
    let params = Params(form);
    let access_key_id = request
        .header("authorization")
        .and_then(credential_key_id)
        .map(str::to_string);
    let token = request.header("x-amz-security-token").map(str::to_string);

    let fault = {
        let mut world = lock(world);
        fake_iam::take_fault(&mut world, &action).or_else(|| world.faults.pop_front())
    };
    let result = match fault.as_ref().and_then(fault_error) {
        Some(error) => Err(error),
        None => {
            if let Some(Fault::Delay(delay)) = fault {
                thread::sleep(delay);
            }
            let mut world = lock(world);
            let result = dispatch(
                &mut world,
                &action,
                &params,
                access_key_id.as_deref(),
                token.as_deref(),
            );
            match fake_iam::take_after_fault(&mut world, &action) {
                Some(error) => Err(error),
                None => result,
            }
        }
    };

    let xmlns = if fake_iam::handles(&action) {
        fake_iam::XMLNS
    } else {
        XMLNS
    };
    let (status, body, error_code) = match result {
        // An IAM call without output (DeleteAccessKey) has no result element.
        Ok(inner) if inner.is_empty() && fake_iam::handles(&action) => (
            200,
            format!(
                "<{action}Response xmlns=\"{xmlns}\">\
                 <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\
                 </{action}Response>"
            ),
            None,
        ),
        Ok(inner) => (
            200,
            format!(
                "<{action}Response xmlns=\"{xmlns}\"><{action}Result>{inner}</{action}Result>\
                 <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\
                 </{action}Response>"
            ),
            None,
        ),
        Err(e) => {
            let kind = if e.status >= 500 {
                "Receiver"
            } else {
                "Sender"
            };
            (
                e.status,
                format!(
                    "<ErrorResponse xmlns=\"{xmlns}\"><Error><Type>{kind}</Type>\
                     <Code>{}</Code><Message>{}</Message></Error>\
                     <RequestId>{request_id}</RequestId></ErrorResponse>",
                    escape(&e.code),
                    escape(&e.message),
                ),
                Some(e.code),
            )
        }
    };
    lock(world).calls.push(Call {
        action,
        params: params.0,
        access_key_id: access_key_id.unwrap_or_default(),
        session_token: token,
        status,
        error_code,
    });
    match fault {
        Some(Fault::Rewrite(f)) if status == 200 => (status, f(body), request_id, true),
        Some(Fault::RewriteUnsized(f)) if status == 200 => (status, f(body), request_id, false),
        _ => (status, body, request_id, true),
    }
}

// ---------------------------------------------------------------------------------------------
// Console federation endpoint (AWS-RULES §5)
// ---------------------------------------------------------------------------------------------

/// `getSigninToken` as AWS answers it: only temporary credentials it issued and that are still
/// valid; never GetSessionToken credentials; `SessionDuration` (900..43200) only for a role
/// session from AssumeRole with long-term keys (chained or federated credentials get 400).
fn handle_federation(world: &Mutex<World>, request: &Request) -> (u16, String, bool) {
    let mut form = parse_form(&request.query);
    form.extend(parse_form(&String::from_utf8_lossy(&request.body)));
    let action = form.get("Action").cloned().unwrap_or_default();
    let duration = form.get("SessionDuration").cloned();
    let session: Option<serde_json::Map<String, serde_json::Value>> = form
        .get("Session")
        .and_then(|s| serde_json::from_str(s).ok());
    let field = |k: &str| {
        session
            .as_ref()
            .and_then(|m| m.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let (id, secret, token) = (
        field("sessionId"),
        field("sessionKey"),
        field("sessionToken"),
    );
    let mut world = lock(world);
    let now = world.now();
    let refuse = |why: &str| (400, format!("{{\"message\":\"{why}\"}}"));
    let (status, body, signin_token) = 'answer: {
        if action != "getSigninToken" {
            let (s, b) = refuse("Unsupported action");
            break 'answer (s, b, None);
        }
        let issued = world.issued.iter().find(|i| {
            Some(&i.access_key_id) == id.as_ref()
                && Some(&i.secret_access_key) == secret.as_ref()
                && Some(&i.session_token) == token.as_ref()
        });
        let Some(issued) = issued else {
            let (s, b) = refuse("Invalid credentials parameter");
            break 'answer (s, b, None);
        };
        if issued.expiration_unix <= now || issued.from_action == "GetSessionToken" {
            let (s, b) = refuse("Invalid credentials parameter");
            break 'answer (s, b, None);
        }
        if let Some(d) = &duration {
            let ok_value = d.parse::<u64>().is_ok_and(|n| (900..=43200).contains(&n));
            if !ok_value || issued.from_action != "AssumeRole" || issued.chained {
                let (s, b) = refuse("Invalid credentials parameter");
                break 'answer (s, b, None);
            }
        }
        let token = format!("SIGNIN{}", random_string(64, MIXED_ALNUM));
        (200, format!("{{\"SigninToken\":\"{token}\"}}"), Some(token))
    };
    world.federation_calls.push(FederationCall {
        method: request.method.clone(),
        action,
        session_keys: session
            .as_ref()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
        access_key_id: id,
        session_duration: duration,
        query: request.query.clone(),
        status,
        signin_token,
    });
    match world.federation_rewrites.pop_front() {
        Some(Fault::Rewrite(f)) if status == 200 => (status, f(body), true),
        Some(Fault::RewriteUnsized(f)) if status == 200 => (status, f(body), false),
        _ => (status, body, true),
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1
// ---------------------------------------------------------------------------------------------

/// Serves one request, answers with `Connection: close`, then closes gracefully.
fn serve_connection(stream: TcpStream, world: &Mutex<World>) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = &stream;
    if let Ok(Some(request)) = read_request(&mut reader, &mut writer) {
        let (status, body, request_id, content_type, sized) = if request.path == "/federation" {
            let (status, body, sized) = handle_federation(world, &request);
            (status, body, request_id(), "application/json", sized)
        } else {
            let (status, body, request_id, sized) = handle(world, &request);
            (status, body, request_id, "text/xml", sized)
        };
        let length = if sized {
            format!("Content-Length: {}\r\n", body.len())
        } else {
            String::new()
        };
        let head = format!(
            "HTTP/1.1 {status} {}\r\nx-amzn-RequestId: {request_id}\r\n\
             Content-Type: {content_type}\r\n{length}Connection: close\r\n\r\n",
            reason(status),
        );
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(body.as_bytes());
        let _ = writer.flush();
    }
    // Lingering close: stop sending, then wait (briefly) for the client to close its side, so
    // unread bytes never turn our close into a reset that could eat the response.
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut sink = [0u8; 1024];
    while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// The access key id from `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/sts/aws4_request, …`.
/// The scope after the key id always has four parts, so a key id holding `/`, `,` or spaces
/// (see `FakeSts::next_credentials`) is still read whole.
fn credential_key_id(authorization: &str) -> Option<&str> {
    let rest = authorization.split_once("Credential=")?.1;
    let credential = rest.split(", SignedHeaders=").next()?;
    let akid = match credential.rsplitn(5, '/').collect::<Vec<_>>().as_slice() {
        [_, _, _, _, akid] => *akid,
        // Not a SigV4 scope: up to the first separator.
        _ => credential.split(['/', ',', ' ']).next()?,
    };
    (!akid.is_empty()).then_some(akid)
}

/// Parses `application/x-www-form-urlencoded` (`+` is a space).
fn parse_form(text: &str) -> BTreeMap<String, String> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// `arn:aws:sts::ACCT:assumed-role/ROLENAME/SESSIONNAME` (the role's path is dropped).
fn assumed_role_arn(role_arn: &str, session_name: &str) -> String {
    format!(
        "arn:aws:sts::{}:assumed-role/{}/{session_name}",
        arn_account(role_arn),
        role_name(role_arn)
    )
}

/// The account field of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`).
fn arn_account(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_string()
}

/// The last path segment of a role ARN (`…:role/path/NAME` → `NAME`).
fn role_name(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or_default().to_string()
}

/// XML text: the five markup characters as entities, and tab, line feed and carriage return as
/// character references, which (unlike literal ones) no parser normalizes or trims.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// A character XML 1.0 allows (its `Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `now` moved by `delta` seconds.
fn shift(now: u64, delta: i64) -> u64 {
    now.saturating_add_signed(delta)
}

/// Unix seconds as RFC 3339 UTC, e.g. `2030-07-15T23:28:33Z`.
pub fn rfc3339(unix: u64) -> String {
    let days = (unix / 86400) as i64;
    let secs = unix % 86400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Days since 1970-01-01 → proleptic Gregorian (year, month, day). Works in 400-year eras
/// (146097 days) counted from 0000-03-01, so that the leap day is the last day of a "year".
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // 0..=146096
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // 0 = March … 11 = February
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const MIXED_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes
}

fn random_string(n: usize, alphabet: &[u8]) -> String {
    random_bytes(n)
        .into_iter()
        .map(|b| char::from(alphabet[usize::from(b) % alphabet.len()]))
        .collect()
}

/// A UUID-shaped request id.
fn request_id() -> String {
    let hex: String = random_bytes(16)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_234_567_890), "2009-02-13T23:31:30Z");
        assert_eq!(rfc3339(1_910_388_513), "2030-07-15T23:28:33Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(rfc3339(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn form_decoding() {
        let form =
            parse_form("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx&A=b+c&E=");
        assert_eq!(form["RoleArn"], "arn:aws:iam::1:role/x");
        assert_eq!(form["A"], "b c");
        assert_eq!(form["E"], "");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn access_key_from_authorization() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20240101/us-east-1/sts/aws4_request, \
                    SignedHeaders=host, Signature=abc";
        assert_eq!(credential_key_id(auth), Some("AKIAEXAMPLE"));
        assert_eq!(credential_key_id("Bearer x"), None);
        let odd = "AWS4-HMAC-SHA256 Credential=AS/IA, $(x) `y`/20240101/us-east-1/sts/aws4_request, \
                   SignedHeaders=host, Signature=abc";
        assert_eq!(credential_key_id(odd), Some("AS/IA, $(x) `y`"));
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape("a&b<c>d\"e'f\tg\nh\ri$(j)`k`\\ü"),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f&#x9;g&#xA;h&#xD;i$(j)`k`\\ü"
        );
        assert!(is_xml_char('ü') && is_xml_char('\n') && !is_xml_char('\u{1}'));
    }

    #[test]
    fn shape_messages() {
        let mut shapes = Shapes::default();
        shapes.string("roleSessionName", Some("a b"), (2, 64), Some(NAME_PATTERN));
        shapes.string("tokenCode", Some("1234567"), (6, 6), Some(DIGITS_PATTERN));
        let e = shapes.finish().unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert_eq!(
            e.message,
            r"2 validation errors detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*; Value '1234567' at 'tokenCode' failed to satisfy constraint: Member must have length less than or equal to 6"
        );
    }
}
