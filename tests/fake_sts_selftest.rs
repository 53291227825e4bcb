//! Tests of the fake STS itself, through the real `aws-sdk-sts` client: they prove the SDK
//! accepts the fake's wire format and that the fake enforces the AWS rules the mfaexec tests
//! rely on (AWS-RULES.md §2–§4, §6).

// The SDK's error types are large; these tests hand them straight to `failure`.
#![allow(clippy::result_large_err)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use aws_sdk_sts::Client;
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::support::fake_sts::*;

const ALICE_ACCOUNT: &str = "111111111111";
const ROLE_ACCOUNT: &str = "222222222222";
const ADMIN: &str = "arn:aws:iam::222222222222:role/admin";
const OTHER: &str = "arn:aws:iam::222222222222:role/other";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A real STS client pointed at the fake, with retries off (so each call is one request).
fn client(fake: &FakeSts, akid: &str, secret: &str, token: Option<&str>) -> Client {
    let config = aws_sdk_sts::Config::builder()
        .http_client(crate::support::sdk_http_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(fake.url())
        .credentials_provider(Credentials::new(
            akid,
            secret,
            token.map(str::to_string),
            None,
            "test",
        ))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

fn user_client(fake: &FakeSts, user: &User) -> Client {
    client(fake, &user.access_key_id, &user.secret_access_key, None)
}

fn issued_client(fake: &FakeSts, issued: &Issued) -> Client {
    client(
        fake,
        &issued.access_key_id,
        &issued.secret_access_key,
        Some(&issued.session_token),
    )
}

/// (HTTP status, error code, message) of a failed call; panics if it succeeded.
fn failure<T, E: ProvideErrorMetadata + std::error::Error + 'static>(
    result: Result<T, SdkError<E>>,
) -> (u16, String, String) {
    let Err(err) = result else {
        panic!("expected the call to fail, it succeeded")
    };
    let status = err
        .raw_response()
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|| {
            panic!(
                "no HTTP response: {}",
                aws_sdk_sts::error::DisplayErrorContext(&err)
            )
        });
    (
        status,
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

/// alice (account 1…) with an MFA device; role `admin` (account 2…) trusting her, max 12 h.
fn world() -> (FakeSts, User) {
    let fake = FakeSts::start();
    let alice = User::new("alice", ALICE_ACCOUNT);
    fake.add_user(alice.clone());
    let mut admin = Role::new(ADMIN);
    admin.max_session_duration = 43200;
    admin.trusted = vec![alice.arn()];
    fake.add_role(admin);
    (fake, alice)
}

fn serial(user: &User) -> String {
    user.mfa_serial.clone().expect("user has an MFA device")
}

/// Direct AssumeRole with MFA, returning the issued credentials.
fn assume_admin(fake: &FakeSts, rt: &tokio::runtime::Runtime, alice: &User) -> Issued {
    rt.block_on(
        user_client(fake, alice)
            .assume_role()
            .role_arn(ADMIN)
            .role_session_name("alice")
            .serial_number(serial(alice))
            .token_code(fake.code(&serial(alice)))
            .send(),
    )
    .expect("AssumeRole");
    fake.issued().pop().expect("issued credentials")
}

#[test]
fn user_new_shapes() {
    let u = User::new("alice", ALICE_ACCOUNT);
    assert!(u.access_key_id.starts_with("AKIA") && u.access_key_id.len() == 20);
    assert!(
        u.access_key_id[4..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert_eq!(u.secret_access_key.len(), 40);
    assert!(u.secret_access_key.contains("SECRETLONGTERM"));
    assert_eq!(
        u.mfa_serial.as_deref(),
        Some("arn:aws:iam::111111111111:mfa/alice")
    );
    assert_eq!(u.arn(), "arn:aws:iam::111111111111:user/alice");
    assert!(u.active && !u.root);
    let root = User::root(ALICE_ACCOUNT);
    assert_eq!(root.arn(), "arn:aws:iam::111111111111:root");
    assert_eq!(
        root.mfa_serial.as_deref(),
        Some("arn:aws:iam::111111111111:mfa/root-account-mfa-device")
    );
}

#[test]
fn direct_assume_role_with_mfa_gets_twelve_hours() {
    let (fake, alice) = world();
    let rt = runtime();
    let out = rt
        .block_on(
            user_client(&fake, &alice)
                .assume_role()
                .role_arn(ADMIN)
                .role_session_name("alice-session")
                .duration_seconds(43200)
                .serial_number(serial(&alice))
                .token_code(fake.code(&serial(&alice)))
                .send(),
        )
        .expect("AssumeRole");

    let creds = out.credentials().expect("credentials");
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert!(creds.secret_access_key().contains("SECRETTEMP"));
    assert!(creds.session_token().contains("TOKENTEMP"));
    let expiry = creds.expiration().secs() as u64;
    let expected = fake.now() + 43200;
    assert!(
        expiry.abs_diff(expected) <= 5,
        "expiry {expiry} vs {expected}"
    );

    let user = out.assumed_role_user().expect("assumed role user");
    assert_eq!(
        user.arn(),
        "arn:aws:sts::222222222222:assumed-role/admin/alice-session"
    );
    assert!(user.assumed_role_id().starts_with("AROA"));
    assert!(user.assumed_role_id().ends_with(":alice-session"));

    let issued = fake.issued();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].access_key_id, creds.access_key_id());
    assert_eq!(issued[0].expiration_unix, expiry);
    assert_eq!(issued[0].from_action, "AssumeRole");
    assert_eq!(issued[0].role_arn.as_deref(), Some(ADMIN));
    assert!(issued[0].mfa);
}

#[test]
fn default_assume_role_duration_is_one_hour() {
    let (fake, alice) = world();
    let rt = runtime();
    let issued = assume_admin(&fake, &rt, &alice);
    assert!(issued.expiration_unix.abs_diff(fake.now() + 3600) <= 5);
}

#[test]
fn chained_assume_role_is_capped_at_one_hour() {
    let (fake, alice) = world();
    let mut other = Role::new(OTHER);
    other.max_session_duration = 43200;
    other.trusted = vec![ADMIN.to_string()];
    fake.add_role(other);
    let rt = runtime();
    let first = assume_admin(&fake, &rt, &alice);
    let chained = issued_client(&fake, &first);

    let (status, code, message) = failure(
        rt.block_on(
            chained
                .assume_role()
                .role_arn(OTHER)
                .role_session_name("hop")
                .duration_seconds(7200)
                .send(),
        ),
    );
    assert_eq!((status, code.as_str()), (400, "ValidationError"));
    assert_eq!(
        message,
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
    );

    let out = rt
        .block_on(
            chained
                .assume_role()
                .role_arn(OTHER)
                .role_session_name("hop")
                .duration_seconds(3600)
                .send(),
        )
        .expect("chained AssumeRole within an hour");
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::222222222222:assumed-role/other/hop"
    );
    // MFA from the first hop is carried along the chain.
    assert!(fake.issued().last().unwrap().mfa);
}

#[test]
fn get_session_token_credentials_are_role_chaining_too() {
    let (fake, alice) = world();
    let rt = runtime();
    rt.block_on(
        user_client(&fake, &alice)
            .get_session_token()
            .serial_number(serial(&alice))
            .token_code(fake.code(&serial(&alice)))
            .send(),
    )
    .expect("GetSessionToken");
    let session = fake.issued().pop().unwrap();
    assert_eq!(session.from_action, "GetSessionToken");
    assert!(session.mfa);
    // Default 12 h.
    assert!(session.expiration_unix.abs_diff(fake.now() + 43200) <= 5);

    let (_, code, message) = failure(
        rt.block_on(
            issued_client(&fake, &session)
                .assume_role()
                .role_arn(ADMIN)
                .role_session_name("sess")
                .duration_seconds(43200)
                .send(),
        ),
    );
    assert_eq!(code, "ValidationError");
    assert!(message.contains("role chaining"), "{message}");
}

#[test]
fn over_the_role_max_session_duration() {
    let (fake, alice) = world();
    let mut short = Role::new(OTHER);
    short.trusted = vec![format!("arn:aws:iam::{ALICE_ACCOUNT}:root")];
    fake.add_role(short);
    let rt = runtime();
    let (status, code, message) = failure(
        rt.block_on(
            user_client(&fake, &alice)
                .assume_role()
                .role_arn(OTHER)
                .role_session_name("sess")
                .duration_seconds(7200)
                .serial_number(serial(&alice))
                .token_code(fake.code(&serial(&alice)))
                .send(),
        ),
    );
    assert_eq!((status, code.as_str()), (400, "ValidationError"));
    assert_eq!(
        message,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    );
}

#[test]
fn duration_validation_messages() {
    assert_eq!(
        duration_shape_error("AssumeRole", 86400).as_deref(),
        Some(
            "1 validation error detected: Value '86400' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"
        )
    );
    assert_eq!(
        duration_shape_error("AssumeRole", 899).as_deref(),
        Some(
            "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        )
    );
    assert_eq!(
        duration_shape_error("GetSessionToken", 129601).as_deref(),
        Some(
            "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 129600"
        )
    );
    assert_eq!(duration_shape_error("AssumeRole", 43200), None);
    assert_eq!(duration_shape_error("AssumeRole", 900), None);
    assert_eq!(duration_shape_error("GetSessionToken", 129600), None);
    assert_eq!(duration_shape_error("GetFederationToken", 129600), None);
}

#[test]
fn duration_and_token_shapes_over_the_wire() {
    let (fake, alice) = world();
    let rt = runtime();
    let c = user_client(&fake, &alice);
    let (status, code, message) = failure(
        rt.block_on(
            c.assume_role()
                .role_arn(ADMIN)
                .role_session_name("sess")
                .duration_seconds(86400)
                .send(),
        ),
    );
    assert_eq!((status, code.as_str()), (400, "ValidationError"));
    assert_eq!(
        message,
        "1 validation error detected: Value '86400' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"
    );

    let (_, code, message) = failure(
        rt.block_on(
            c.get_session_token()
                .serial_number(serial(&alice))
                .token_code("1234567")
                .send(),
        ),
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(
        message,
        "1 validation error detected: Value '1234567' at 'tokenCode' failed to satisfy constraint: Member must have length less than or equal to 6"
    );

    let (_, code, message) = failure(
        rt.block_on(
            c.assume_role()
                .role_arn(ADMIN)
                .role_session_name("x")
                .send(),
        ),
    );
    assert_eq!(code, "ValidationError");
    assert!(
        message.ends_with("at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"),
        "{message}"
    );
}

#[test]
fn a_code_is_single_use() {
    let (fake, alice) = world();
    let rt = runtime();
    let c = user_client(&fake, &alice);
    let code = fake.code(&serial(&alice));
    let call = |code: &str| {
        rt.block_on(
            c.assume_role()
                .role_arn(ADMIN)
                .role_session_name("sess")
                .serial_number(serial(&alice))
                .token_code(code)
                .send(),
        )
    };
    call(&code).expect("first use");
    let (status, err, message) = failure(call(&code));
    assert_eq!((status, err.as_str()), (403, "AccessDenied"));
    assert_eq!(
        message,
        "MultiFactorAuthentication failed with invalid MFA one time pass code."
    );
    // The fake hands out a different, still valid code next.
    let next = fake.code(&serial(&alice));
    assert_ne!(next, code);
    call(&next).expect("next code");
}

#[test]
fn stale_code_is_rejected_and_codes_run_out_until_the_clock_moves() {
    let (fake, alice) = world();
    let rt = runtime();
    let c = user_client(&fake, &alice);
    let (_, _, message) = failure(
        rt.block_on(
            c.get_session_token()
                .serial_number(serial(&alice))
                .token_code(fake.stale_code(&serial(&alice)))
                .send(),
        ),
    );
    assert_eq!(
        message,
        "MultiFactorAuthentication failed with invalid MFA one time pass code."
    );
    // Up to 3 fresh codes per clock position (windows 0, +1, -1), then the clock must move.
    for _ in 0..3 {
        rt.block_on(
            c.get_session_token()
                .serial_number(serial(&alice))
                .token_code(fake.code(&serial(&alice)))
                .send(),
        )
        .expect("GetSessionToken with a fresh code");
    }
    fake.advance_clock(90);
    let more = fake.code(&serial(&alice));
    rt.block_on(
        c.get_session_token()
            .serial_number(serial(&alice))
            .token_code(more)
            .send(),
    )
    .expect("code after advancing the clock");
}

#[test]
fn only_one_half_of_mfa() {
    let (fake, alice) = world();
    let rt = runtime();
    let (status, code, message) = failure(
        rt.block_on(
            user_client(&fake, &alice)
                .assume_role()
                .role_arn(ADMIN)
                .role_session_name("sess")
                .serial_number(serial(&alice))
                .send(),
        ),
    );
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    assert_eq!(
        message,
        "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
    );
}

#[test]
fn serial_of_another_user() {
    let (fake, alice) = world();
    let bob = User::new("bob", ALICE_ACCOUNT);
    fake.add_user(bob.clone());
    let rt = runtime();
    let (status, code, message) = failure(
        rt.block_on(
            user_client(&fake, &alice)
                .assume_role()
                .role_arn(ADMIN)
                .role_session_name("sess")
                .serial_number(serial(&bob))
                .token_code(fake.code(&serial(&bob)))
                .send(),
        ),
    );
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    assert_eq!(
        message,
        "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user."
    );
}

#[test]
fn untrusted_caller_is_not_authorized_and_keeps_its_code() {
    let (fake, alice) = world();
    fake.add_role(Role::new(OTHER)); // trusts nobody
    let rt = runtime();
    let code = fake.code(&serial(&alice));
    let (status, err, message) = failure(
        rt.block_on(
            user_client(&fake, &alice)
                .assume_role()
                .role_arn(OTHER)
                .role_session_name("sess")
                .serial_number(serial(&alice))
                .token_code(&code)
                .send(),
        ),
    );
    assert_eq!((status, err.as_str()), (403, "AccessDenied"));
    assert_eq!(
        message,
        "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/other"
    );
    // A denied call does not spend the code.
    assert_eq!(fake.code(&serial(&alice)), code);

    // An unknown role gives the same answer.
    let (_, err, message) = failure(
        rt.block_on(
            user_client(&fake, &alice)
                .assume_role()
                .role_arn("arn:aws:iam::222222222222:role/nope")
                .role_session_name("sess")
                .send(),
        ),
    );
    assert_eq!(err, "AccessDenied");
    assert!(message.ends_with("on resource: arn:aws:iam::222222222222:role/nope"));
}

#[test]
fn role_conditions_mfa_and_external_id() {
    let (fake, alice) = world();
    let mut guarded = Role::new(OTHER);
    guarded.trusted = vec![alice.arn()];
    guarded.require_mfa = true;
    guarded.external_id = Some("ext-123".into());
    fake.add_role(guarded);
    let rt = runtime();
    let c = user_client(&fake, &alice);

    // No MFA → denied.
    let (_, code, _) = failure(
        rt.block_on(
            c.assume_role()
                .role_arn(OTHER)
                .role_session_name("sess")
                .external_id("ext-123")
                .send(),
        ),
    );
    assert_eq!(code, "AccessDenied");
    // Wrong external id → denied.
    let (_, code, _) = failure(
        rt.block_on(
            c.assume_role()
                .role_arn(OTHER)
                .role_session_name("sess")
                .external_id("ext-999")
                .serial_number(serial(&alice))
                .token_code(fake.code(&serial(&alice)))
                .send(),
        ),
    );
    assert_eq!(code, "AccessDenied");
    // Both → allowed.
    rt.block_on(
        c.assume_role()
            .role_arn(OTHER)
            .role_session_name("sess")
            .external_id("ext-123")
            .serial_number(serial(&alice))
            .token_code(fake.code(&serial(&alice)))
            .send(),
    )
    .expect("MFA and external id");
}

#[test]
fn root_may_not_assume_roles_and_gets_one_hour_sessions() {
    let fake = FakeSts::start();
    let root = User::root(ALICE_ACCOUNT);
    fake.add_user(root.clone());
    let mut admin = Role::new(ADMIN);
    admin.trusted = vec![format!("arn:aws:iam::{ALICE_ACCOUNT}:root")];
    fake.add_role(admin);
    let rt = runtime();
    let c = user_client(&fake, &root);
    let (_, code, message) = failure(
        rt.block_on(
            c.assume_role()
                .role_arn(ADMIN)
                .role_session_name("sess")
                .send(),
        ),
    );
    assert_eq!(code, "AccessDenied");
    assert_eq!(message, "Roles may not be assumed by root accounts.");

    rt.block_on(
        c.get_session_token()
            .duration_seconds(43200)
            .serial_number(serial(&root))
            .token_code(fake.code(&serial(&root)))
            .send(),
    )
    .expect("root GetSessionToken");
    let issued = fake.issued().pop().unwrap();
    assert!(issued.expiration_unix.abs_diff(fake.now() + 3600) <= 5);

    let who = rt.block_on(c.get_caller_identity().send()).unwrap();
    assert_eq!(who.arn(), Some("arn:aws:iam::111111111111:root"));
    assert_eq!(who.user_id(), Some(ALICE_ACCOUNT));
}

#[test]
fn get_session_token_with_session_credentials_is_refused() {
    let (fake, alice) = world();
    let rt = runtime();
    let temp = assume_admin(&fake, &rt, &alice);
    let (status, code, message) =
        failure(rt.block_on(issued_client(&fake, &temp).get_session_token().send()));
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    assert_eq!(
        message,
        "Cannot call GetSessionToken with session credentials"
    );
}

#[test]
fn get_federation_token() {
    let (fake, alice) = world();
    let rt = runtime();
    let out = rt
        .block_on(
            user_client(&fake, &alice)
                .get_federation_token()
                .name("console")
                .send(),
        )
        .expect("GetFederationToken");
    let fed = out.federated_user().unwrap();
    assert_eq!(
        fed.arn(),
        "arn:aws:sts::111111111111:federated-user/console"
    );
    assert_eq!(fed.federated_user_id(), "111111111111:console");
    let issued = fake.issued().pop().unwrap();
    assert_eq!(issued.from_action, "GetFederationToken");
    assert!(issued.expiration_unix.abs_diff(fake.now() + 43200) <= 5);

    let (_, code, message) = failure(
        rt.block_on(
            issued_client(&fake, &issued)
                .get_federation_token()
                .name("again")
                .send(),
        ),
    );
    assert_eq!(code, "AccessDenied");
    assert_eq!(
        message,
        "Cannot call GetFederationToken with session credentials"
    );
}

#[test]
fn inactive_unknown_and_expired_keys() {
    let (fake, mut alice) = world();
    let rt = runtime();
    let temp = assume_admin(&fake, &rt, &alice);

    alice.active = false;
    fake.add_user(alice.clone());
    let (status, code, message) =
        failure(rt.block_on(user_client(&fake, &alice).get_caller_identity().send()));
    assert_eq!((status, code.as_str()), (403, "InvalidClientTokenId"));
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );

    let (_, code, _) = failure(
        rt.block_on(
            client(&fake, "AKIAUNKNOWNUNKNOWN00", "secret", None)
                .get_caller_identity()
                .send(),
        ),
    );
    assert_eq!(code, "InvalidClientTokenId");

    // Right ASIA key, wrong token.
    let (_, code, _) = failure(
        rt.block_on(
            client(
                &fake,
                &temp.access_key_id,
                &temp.secret_access_key,
                Some("wrong"),
            )
            .get_caller_identity()
            .send(),
        ),
    );
    assert_eq!(code, "InvalidClientTokenId");

    // The temporary credentials still work until they expire on the fake clock.
    rt.block_on(issued_client(&fake, &temp).get_caller_identity().send())
        .expect("temp creds before expiry");
    fake.advance_clock(3601);
    let (status, code, message) =
        failure(rt.block_on(issued_client(&fake, &temp).get_caller_identity().send()));
    assert_eq!((status, code.as_str()), (403, "ExpiredToken"));
    assert_eq!(
        message,
        "The security token included in the request is expired"
    );
}

#[test]
fn throttle_fault_reaches_the_sdk_and_keeps_the_code() {
    let (fake, alice) = world();
    let rt = runtime();
    let c = user_client(&fake, &alice);
    let code = fake.code(&serial(&alice));
    fake.inject(Fault::Throttle);
    let call = || {
        rt.block_on(
            c.assume_role()
                .role_arn(ADMIN)
                .role_session_name("sess")
                .serial_number(serial(&alice))
                .token_code(&code)
                .send(),
        )
    };
    let (status, err, message) = failure(call());
    assert_eq!(
        (status, err.as_str(), message.as_str()),
        (400, "Throttling", "Rate exceeded")
    );
    // The fault was consumed, and the code in the throttled request was not.
    call().expect("same code after the throttled attempt");
    let calls = fake.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].error_code.as_deref(), Some("Throttling"));
    assert_eq!(calls[0].status, 400);
    assert_eq!(calls[1].status, 200);
}

#[test]
fn status_faults() {
    let (fake, alice) = world();
    let rt = runtime();
    let c = user_client(&fake, &alice);
    fake.inject(Fault::Status(503));
    fake.inject(Fault::Status(500));
    let (status, code, _) = failure(rt.block_on(c.get_caller_identity().send()));
    assert_eq!((status, code.as_str()), (503, "ServiceUnavailable"));
    let (status, code, _) = failure(rt.block_on(c.get_caller_identity().send()));
    assert_eq!((status, code.as_str()), (500, "InternalFailure"));
    rt.block_on(c.get_caller_identity().send())
        .expect("queue drained");
}

#[test]
fn delay_fault_then_normal_answer() {
    let (fake, alice) = world();
    let rt = runtime();
    fake.inject(Fault::Delay(Duration::from_millis(300)));
    let start = Instant::now();
    rt.block_on(user_client(&fake, &alice).get_caller_identity().send())
        .expect("delayed answer");
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[test]
fn call_log_records_action_params_key_and_token() {
    let (fake, alice) = world();
    let rt = runtime();
    let code = fake.code(&serial(&alice));
    rt.block_on(
        user_client(&fake, &alice)
            .assume_role()
            .role_arn(ADMIN)
            .role_session_name("logged")
            .duration_seconds(1800)
            .serial_number(serial(&alice))
            .token_code(&code)
            .send(),
    )
    .unwrap();
    let temp = fake.issued().pop().unwrap();
    rt.block_on(issued_client(&fake, &temp).get_caller_identity().send())
        .unwrap();

    let calls = fake.calls();
    assert_eq!(calls.len(), 2);
    let first = &calls[0];
    assert_eq!(first.action, "AssumeRole");
    assert_eq!(first.params["RoleArn"], ADMIN);
    assert_eq!(first.params["RoleSessionName"], "logged");
    assert_eq!(first.params["DurationSeconds"], "1800");
    assert_eq!(first.params["SerialNumber"], serial(&alice));
    assert_eq!(first.params["TokenCode"], code);
    assert!(!first.params.contains_key("Action") && !first.params.contains_key("Version"));
    assert_eq!(first.access_key_id, alice.access_key_id);
    assert_eq!(first.session_token, None);
    assert_eq!((first.status, first.error_code.as_deref()), (200, None));

    let second = &calls[1];
    assert_eq!(second.action, "GetCallerIdentity");
    assert!(second.params.is_empty());
    assert_eq!(second.access_key_id, temp.access_key_id);
    assert_eq!(
        second.session_token.as_deref(),
        Some(temp.session_token.as_str())
    );
}

#[test]
fn get_caller_identity_for_users_and_role_sessions() {
    let (fake, alice) = world();
    let rt = runtime();
    let who = rt
        .block_on(user_client(&fake, &alice).get_caller_identity().send())
        .unwrap();
    assert_eq!(who.arn(), Some("arn:aws:iam::111111111111:user/alice"));
    assert_eq!(who.account(), Some(ALICE_ACCOUNT));
    assert!(who.user_id().unwrap().starts_with("AIDA"));

    let temp = assume_admin(&fake, &rt, &alice);
    let who = rt
        .block_on(issued_client(&fake, &temp).get_caller_identity().send())
        .unwrap();
    assert_eq!(
        who.arn(),
        Some("arn:aws:sts::222222222222:assumed-role/admin/alice")
    );
    assert_eq!(who.account(), Some(ROLE_ACCOUNT));
    assert!(who.user_id().unwrap().ends_with(":alice"));
}

#[test]
fn many_calls_on_one_client() {
    let (fake, alice) = world();
    let rt = runtime();
    let c = user_client(&fake, &alice);
    for _ in 0..25 {
        rt.block_on(c.get_caller_identity().send())
            .expect("GetCallerIdentity");
    }
    assert_eq!(fake.calls().len(), 25);
}

/// Sends raw HTTP to the fake and returns the whole response text.
fn raw(fake: &FakeSts, request: &str) -> String {
    let addr = fake.url().trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn raw_http_unknown_action_missing_auth_and_chunked_body() {
    let (fake, alice) = world();
    let auth = format!(
        "Authorization: AWS4-HMAC-SHA256 Credential={}/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0\r\n",
        alice.access_key_id
    );

    let body = "Action=Nope&Version=2011-06-15";
    let response = raw(
        &fake,
        &format!(
            "POST / HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert!(response.contains("Connection: close"));
    assert!(response.contains("x-amzn-RequestId: "));
    assert!(response.contains("<Code>InvalidAction</Code>"));
    assert!(response.contains("<Type>Sender</Type>"));

    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let response = raw(
        &fake,
        &format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(response.starts_with("HTTP/1.1 403 "), "{response}");
    assert!(response.contains("<Code>MissingAuthenticationToken</Code>"));

    let response = raw(
        &fake,
        &format!(
            "POST / HTTP/1.1\r\nHost: x\r\n{auth}Transfer-Encoding: chunked\r\n\r\n\
             10\r\nAction=GetCaller\r\n1b\r\nIdentity&Version=2011-06-15\r\n0\r\n\r\n"
        ),
    );
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
    assert!(response.contains(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"
    ));
    assert!(response.contains("<Arn>arn:aws:iam::111111111111:user/alice</Arn>"));

    let calls = fake.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].error_code.as_deref(), Some("InvalidAction"));
    assert_eq!(calls[1].access_key_id, "");
    assert_eq!(calls[2].action, "GetCallerIdentity");
}

#[test]
fn drop_stops_the_server() {
    let fake = FakeSts::start();
    let addr = fake.url().trim_start_matches("http://").to_string();
    drop(fake);
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn error_fault_answers_exactly_that_error_and_spends_nothing() {
    let (fake, alice) = world();
    let rt = runtime();
    let c = user_client(&fake, &alice);
    let code = fake.code(&serial(&alice));
    let message = "Signature expired: 20240217T171323Z is now earlier than 20240217T172823Z (20240217T173323Z - 15 min.) & <more>";
    fake.inject(Fault::Error {
        status: 403,
        code: "SignatureDoesNotMatch".into(),
        message: message.into(),
    });
    let call = || {
        rt.block_on(
            c.assume_role()
                .role_arn(ADMIN)
                .role_session_name("sess")
                .serial_number(serial(&alice))
                .token_code(&code)
                .send(),
        )
    };
    let (status, err, got) = failure(call());
    assert_eq!(
        (status, err.as_str(), got.as_str()),
        (403, "SignatureDoesNotMatch", message)
    );
    // Consumed, and the code was not spent: the same code works now.
    call().expect("same code after the faulted attempt");

    fake.inject(Fault::Error {
        status: 502,
        code: "BadGateway".into(),
        message: "upstream said no".into(),
    });
    let (status, err, got) = failure(rt.block_on(c.get_caller_identity().send()));
    assert_eq!(
        (status, err.as_str(), got.as_str()),
        (502, "BadGateway", "upstream said no")
    );

    let calls = fake.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(
        (calls[0].status, calls[0].error_code.as_deref()),
        (403, Some("SignatureDoesNotMatch"))
    );
    assert_eq!(calls[0].action, "AssumeRole");
    assert_eq!(calls[0].params["TokenCode"], code);
    assert_eq!(
        (calls[1].status, calls[1].error_code.as_deref()),
        (200, None)
    );
    assert_eq!(
        (calls[2].status, calls[2].error_code.as_deref()),
        (502, Some("BadGateway"))
    );
    assert_eq!(fake.issued().len(), 1);
}

#[test]
fn error_fault_type_is_sender_for_4xx_and_receiver_for_5xx() {
    let (fake, alice) = world();
    let auth = format!(
        "Authorization: AWS4-HMAC-SHA256 Credential={}/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0\r\n",
        alice.access_key_id
    );
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    fake.inject(Fault::Error {
        status: 400,
        code: "Throttling".into(),
        message: "Rate exceeded".into(),
    });
    fake.inject(Fault::Error {
        status: 500,
        code: "InternalFailure".into(),
        message: "a <b> & \"c\"".into(),
    });
    let response = raw(&fake, &request);
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert!(response.contains(
        "<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    ));
    let response = raw(&fake, &request);
    assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
    assert!(response.contains(
        "<Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>a &lt;b&gt; &amp; &quot;c&quot;</Message></Error>"
    ));
    assert!(raw(&fake, &request).starts_with("HTTP/1.1 200 "));
}

/// Values a shell or a parser could trip on.
const ODD_SECRET: &str = "SECRETTEMP'\"$(touch /tmp/x)`id`\\n\\\n\r\tü€😀 <&> ;|*?~#";
const ODD_TOKEN: &str = " TOKENTEMP'\"$(id)`id`\\ ;|&<>*?~#$HOME%41+/=\tü€ ";
const ODD_KEY_ID: &str = "ASIA'\"$(id)`x`\\&<>/, ;";

#[test]
fn next_credentials_are_issued_exactly_and_sign_later_calls() {
    let (fake, alice) = world();
    let rt = runtime();
    // Anything XML carries comes back exactly, even what cannot be sent in a header later.
    let unsendable = "TOKENTEMP line1\nline2\r\n\tü€ 'x' \"y\" $(z) `w` \\";
    fake.next_credentials(ODD_KEY_ID, ODD_SECRET, unsendable);
    fake.next_credentials("ASIAQUEUEDSECOND0000", ODD_SECRET, ODD_TOKEN);
    let out = rt
        .block_on(
            user_client(&fake, &alice)
                .assume_role()
                .role_arn(ADMIN)
                .role_session_name("odd")
                .serial_number(serial(&alice))
                .token_code(fake.code(&serial(&alice)))
                .send(),
        )
        .expect("AssumeRole");
    let creds = out.credentials().unwrap();
    assert_eq!(creds.access_key_id(), ODD_KEY_ID);
    assert_eq!(creds.secret_access_key(), ODD_SECRET);
    assert_eq!(creds.session_token(), unsendable);
    let issued = fake.issued();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].access_key_id, ODD_KEY_ID);
    assert_eq!(issued[0].secret_access_key, ODD_SECRET);
    assert_eq!(issued[0].session_token, unsendable);
    assert_eq!(issued[0].role_arn.as_deref(), Some(ADMIN));

    // The second queued set goes to the next success, whatever the action.
    let out = rt
        .block_on(
            user_client(&fake, &alice)
                .get_session_token()
                .serial_number(serial(&alice))
                .token_code(fake.code(&serial(&alice)))
                .send(),
        )
        .expect("GetSessionToken");
    let creds = out.credentials().unwrap();
    assert_eq!(
        (
            creds.access_key_id(),
            creds.secret_access_key(),
            creds.session_token()
        ),
        ("ASIAQUEUEDSECOND0000", ODD_SECRET, ODD_TOKEN)
    );
    let session = fake.issued().pop().unwrap();
    assert_eq!(session.from_action, "GetSessionToken");

    // They are registered: they sign later calls, as the session they are.
    let who = rt
        .block_on(issued_client(&fake, &session).get_caller_identity().send())
        .expect("GetCallerIdentity with the given credentials");
    assert_eq!(who.arn(), Some("arn:aws:iam::111111111111:user/alice"));
    let last = fake.calls().pop().unwrap();
    assert_eq!(last.access_key_id, "ASIAQUEUEDSECOND0000");
    assert_eq!(
        last.session_token.as_deref(),
        Some(ODD_TOKEN.trim()),
        "as HTTP carries it"
    );
    // ... and chain like any issued session.
    rt.block_on(
        issued_client(&fake, &session)
            .assume_role()
            .role_arn(ADMIN)
            .role_session_name("chained")
            .send(),
    )
    .expect("AssumeRole with the given credentials");
    // The queue is empty again: fresh random credentials.
    let fresh = fake.issued().pop().unwrap();
    assert!(fresh.access_key_id.starts_with("ASIA") && fresh.access_key_id.len() == 20);
    assert!(fresh.secret_access_key.contains("SECRETTEMP"));
}

#[test]
fn next_credentials_with_an_odd_key_id_sign_later_calls() {
    let (fake, alice) = world();
    let rt = runtime();
    fake.next_credentials(ODD_KEY_ID, ODD_SECRET, ODD_TOKEN);
    let temp = assume_admin(&fake, &rt, &alice);
    assert_eq!(temp.access_key_id, ODD_KEY_ID);
    let who = rt
        .block_on(issued_client(&fake, &temp).get_caller_identity().send())
        .expect("GetCallerIdentity with an odd key id");
    assert_eq!(
        who.arn(),
        Some("arn:aws:sts::222222222222:assumed-role/admin/alice")
    );
    assert_eq!(fake.calls().pop().unwrap().access_key_id, ODD_KEY_ID);
}

#[test]
fn next_credentials_for_get_federation_token_and_only_on_success() {
    let (fake, alice) = world();
    let rt = runtime();
    fake.next_credentials("ASIAFEDERATED0000001", ODD_SECRET, ODD_TOKEN);
    // A failed call does not take them.
    let (_, code, _) = failure(
        rt.block_on(
            user_client(&fake, &alice)
                .assume_role()
                .role_arn(OTHER)
                .role_session_name("nope")
                .send(),
        ),
    );
    assert_eq!(code, "AccessDenied");
    let out = rt
        .block_on(
            user_client(&fake, &alice)
                .get_federation_token()
                .name("fed")
                .send(),
        )
        .expect("GetFederationToken");
    let creds = out.credentials().unwrap();
    assert_eq!(creds.access_key_id(), "ASIAFEDERATED0000001");
    assert_eq!(creds.secret_access_key(), ODD_SECRET);
    assert_eq!(creds.session_token(), ODD_TOKEN);
    let fed = fake.issued().pop().unwrap();
    assert_eq!(fed.from_action, "GetFederationToken");
    let who = rt
        .block_on(issued_client(&fake, &fed).get_caller_identity().send())
        .expect("federated credentials work");
    assert_eq!(
        who.arn(),
        Some("arn:aws:sts::111111111111:federated-user/fed")
    );
}

#[test]
#[should_panic(expected = "XML 1.0 cannot carry")]
fn next_credentials_refuses_what_xml_cannot_carry() {
    let (fake, _) = world();
    fake.next_credentials("ASIAX", "SECRETTEMP\u{1}", "TOKENTEMP");
}
