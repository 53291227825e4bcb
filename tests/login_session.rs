//! `aws login` profiles (issue 17; AWS CLI 2.32): `login_session` as the source of a session,
//! through the SDK's `LoginCredentialsProvider`, with token files written as `aws login`
//! writes them, and renewals at the fake Sign-In token endpoint (`support/fake_signin.rs`).

use crate::support::fake_signin::{self, FakeSignin};
use crate::support::fake_sts::Role;
use crate::support::*;

const SESSION: &str = "arn:aws:iam::222222222222:user/alice";

/// A sandbox with the fake Sign-In endpoint (`AWS_ENDPOINT_URL_SIGNIN`), `me` (an `aws login`
/// profile), `me-local` (the same session, the endpoint in its `[services]` section) and
/// `me-admin` (a role assumed from `me`).
fn sandbox() -> (Sandbox, FakeSignin) {
    let mut s = Sandbox::standard();
    let signin = FakeSignin::start();
    s.set("AWS_ENDPOINT_URL_SIGNIN", &signin.url());
    s.sts.add_role(Role {
        max_session_duration: 43200,
        trusted: vec![SESSION.into()],
        ..Role::new("arn:aws:iam::333333333333:role/from-login")
    });
    s.append_config(&format!(
        "\n[profile me]\nlogin_session = {SESSION}\nregion = eu-west-1\n\n\
         [profile me-local]\nlogin_session = {SESSION}\nregion = eu-west-1\nservices = private\n\n\
         [services private]\nsignin =\n  endpoint_url = {url}\n\n\
         [profile me-admin]\nrole_arn = arn:aws:iam::333333333333:role/from-login\nsource_profile = me\n",
        url = signin.url()
    ));
    (s, signin)
}

const KEYS: (&str, &str, &str) = (
    "ASIALOGINFILE0000001",
    "SECRETTEMPLOGINFILE000000000000000000001",
    "TOKENTEMPLOGINFILE",
);

/// A token as `aws login` leaves it: credentials for `secs` more seconds, a refresh token.
fn token(s: &Sandbox, secs: i64, refresh: &str) {
    let expires = (fake_signin_now() as i64 + secs) as u64;
    fake_signin::write_token(&s.home(), SESSION, KEYS, expires, refresh);
    // The fake STS knows the session's keys, so a chain can AssumeRole with them.
    (s.sts.role_session_registrar())(KEYS.0, KEYS.1, KEYS.2, SESSION, expires);
}

fn fake_signin_now() -> u64 {
    crate::support::fake_sso::now()
}

#[test]
fn a_login_profile_runs_with_the_sessions_credentials_and_caches_them() {
    let (s, signin) = sandbox();
    token(&s, 900, "REFRESH-1");
    let out = s.run(["me", "--", "env"]).success();
    assert_eq!(out.var("AWS_ACCESS_KEY_ID"), KEYS.0);
    assert_eq!(out.var("AWS_REGION"), "eu-west-1");
    assert!(signin.calls().is_empty(), "good credentials: no renewal");
    assert!(s.calls().is_empty());
    // A cache hit reads no token: none is left.
    std::fs::remove_file(fake_signin::token_path(&s.home(), SESSION)).unwrap();
    let again = s.run(["me", "--", "env"]).success();
    assert_eq!(again.var("AWS_ACCESS_KEY_ID"), KEYS.0);
}

#[test]
fn due_credentials_are_renewed_by_the_sdk_at_the_signin_endpoint() {
    let (s, signin) = sandbox();
    signin.accept_refresh_token("REFRESH-1");
    token(&s, -60, "REFRESH-1");
    let out = s.run(["me", "--", "env"]).success();
    let calls = signin.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].path, "/v1/token");
    assert_eq!(calls[0].grant_type.as_deref(), Some("refresh_token"));
    assert_eq!(calls[0].refresh_token.as_deref(), Some("REFRESH-1"));
    assert!(calls[0].dpop, "signed with the file's DPoP key");
    assert_eq!(
        out.var("AWS_ACCESS_KEY_ID"),
        signin.issued()[0].access_key_id
    );
    // The SDK wrote the renewed token back where the AWS CLI reads it.
    let file = std::fs::read_to_string(fake_signin::token_path(&s.home(), SESSION)).unwrap();
    assert!(file.contains(&signin.issued()[0].access_key_id), "{file}");
}

#[test]
fn the_profiles_services_section_sends_the_renewal_to_its_signin_endpoint() {
    let (mut s, signin) = sandbox();
    s.unset("AWS_ENDPOINT_URL_SIGNIN");
    signin.accept_refresh_token("REFRESH-1");
    token(&s, -60, "REFRESH-1");
    s.run(["me-local", "--", "true"]).success();
    assert_eq!(signin.calls().len(), 1, "{:?}", signin.calls());
    let out = s.run(["me-local", "--dry-run"]).success();
    out.stdout_has(&format!("AWS Sign-In {}", signin.url()))
        .stdout_has("profile (`me-local`)");
}

#[test]
fn an_ended_session_is_named_with_aws_login_in_one_line() {
    let (s, signin) = sandbox();
    token(&s, -60, "REFRESH-revoked");
    let out = s.run(["me", "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has("profile `me`")
        .stderr_has("sign in with `aws login --profile me`");
    // The file cannot say the session has ended: only the renewal's answer does.
    assert_eq!(signin.calls().len(), 1);
    assert!(s.calls().is_empty());
}

#[test]
fn a_missing_token_is_named_before_any_call_and_sso_login_runs_aws_login() {
    let (mut s, signin) = sandbox();
    let out = s.run(["me", "--", "true"]).failure(1);
    out.one_line_error().stderr_has("aws login --profile me");
    assert!(signin.calls().is_empty());
    // A stand-in for the AWS CLI writes the token as `aws login` would.
    let fresh = s.path("fresh.json");
    let expires = fake_signin_now() + 900;
    fake_signin::write_token(&s.home(), SESSION, KEYS, expires, "REFRESH-1");
    std::fs::rename(fake_signin::token_path(&s.home(), SESSION), &fresh).unwrap();
    let bin_dir = s.path("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let script = bin_dir.join("aws");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" > {args}\ncp {fresh} {token}\n",
            args = s.path("args").display(),
            fresh = fresh.display(),
            token = fake_signin::token_path(&s.home(), SESSION).display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.set("PATH", &format!("{}:/usr/bin:/bin", bin_dir.display()));
    let out = s.run(["env", "me", "--sso-login"]).success();
    assert_eq!(
        std::fs::read_to_string(s.path("args")).unwrap().trim(),
        "login --profile me"
    );
    out.stdout_has(KEYS.0);
}

#[test]
fn dry_run_and_list_name_the_session_and_its_token_without_renewing() {
    let (s, signin) = sandbox();
    token(&s, -60, "REFRESH-1");
    let out = s.run(["me", "--dry-run"]).success();
    let path = fake_signin::token_path(&s.home(), SESSION);
    out.stdout_has(SESSION)
        .stdout_has(&path.display().to_string())
        .stdout_has("renewed from the session");
    let out = s.run(["list"]).success();
    let line = out
        .stdout()
        .lines()
        .find(|l| l.starts_with("me "))
        .unwrap_or_else(|| panic!("{}", out.stdout()))
        .to_owned();
    assert!(line.contains("login"), "{line}");
    assert!(line.contains("token expired"), "{line}");
    assert!(signin.calls().is_empty());
    assert!(s.calls().is_empty());
}

#[test]
fn a_role_chained_from_a_login_session_is_signed_by_its_keys_for_at_most_an_hour() {
    let (s, signin) = sandbox();
    token(&s, 900, "REFRESH-1");
    s.run(["me-admin", "-d", "2h", "--", "true"])
        .failure(1)
        .stderr_has("1h");
    s.run(["me-admin", "--", "true"]).success();
    let calls = of(&s.calls(), "AssumeRole");
    assert_eq!(calls.len(), 1, "{:?}", s.calls());
    assert_eq!(calls[0].access_key_id, KEYS.0);
    assert!(calls[0].params["DurationSeconds"].parse::<u64>().unwrap() <= 3600);
    assert!(signin.calls().is_empty());
}

#[test]
fn credential_process_and_the_console_take_the_sessions_credentials() {
    let (mut s, signin) = sandbox();
    let fed = s.sts.federation_url();
    s.set("MFAEXEC_FEDERATION_ENDPOINT", &fed);
    token(&s, 900, "REFRESH-1");
    let out = s.run(["credential-process", "me"]).success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(v["Version"], 1);
    assert_eq!(v["AccessKeyId"], KEYS.0);
    let out = s.run(["login", "me", "--print"]).success();
    out.stdout_has("SigninToken=");
    let calls = s.sts.federation_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].access_key_id.as_deref(), Some(KEYS.0));
    assert_eq!(calls[0].session_duration, None);
    assert!(signin.calls().is_empty());
}

#[test]
fn a_login_session_that_is_not_an_arn_is_refused_in_one_line() {
    let (s, signin) = sandbox();
    s.append_config("\n[profile odd]\nlogin_session = alice\n");
    let out = s.run(["odd", "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has("login_session `alice` is not an ARN");
    assert!(signin.calls().is_empty());
}
