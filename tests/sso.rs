//! IAM Identity Center profiles (issue 17): `sso_session` with `[sso-session NAME]`, and the
//! legacy `sso_start_url`, as the source of a session, through the SDK's provider against the
//! fake portal (`support/fake_sso.rs`); the token files are written as `aws sso login` writes
//! them.

use crate::support::aws_cli::aws_program;
use crate::support::fake_sso::{self, FakeSso, sso_role_arn};
use crate::support::fake_sts::Role;
use crate::support::*;

const START_URL: &str = "https://d-1234567890.awsapps.com/start";
const TOKEN: &str = "ACCESSTOKEN-valid";

/// A sandbox whose portal knows TOKEN, and profiles: `dev` (sso_session `corp`), `legacy`
/// (sso_start_url on the profile), `chain` (a role assumed from `dev`).
fn sandbox() -> (Sandbox, FakeSso) {
    let mut s = Sandbox::standard();
    let sso = FakeSso::start();
    sso.register_with(s.sts.role_session_registrar());
    s.set("AWS_ENDPOINT_URL_SSO", &sso.url());
    s.set("AWS_ENDPOINT_URL_SSO_OIDC", &sso.url());
    s.sts.add_role(Role {
        max_session_duration: 43200,
        trusted: vec![sso_role_arn(PROD, "Admin")],
        ..Role::new("arn:aws:iam::333333333333:role/from-sso")
    });
    s.append_config(&format!(
        "\n[profile dev]\nsso_session = corp\nsso_account_id = {PROD}\nsso_role_name = Admin\nregion = eu-west-1\n\n\
         [sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n\n\
         [profile legacy]\nsso_start_url = {START_URL}\nsso_region = us-east-1\nsso_account_id = {PROD}\nsso_role_name = Admin\n\n\
         [profile chain]\nrole_arn = arn:aws:iam::333333333333:role/from-sso\nsource_profile = dev\n"
    ));
    (s, sso)
}

fn valid_token(s: &Sandbox, sso: &FakeSso, name: &str) {
    let expires = fake_sso::now() + 3600;
    sso.accept_token(TOKEN, expires);
    fake_sso::write_token(
        &s.home(),
        name,
        START_URL,
        "us-east-1",
        TOKEN,
        expires,
        None,
    );
}

#[test]
fn an_sso_session_profile_runs_with_the_portals_credentials_and_caches_them() {
    let (s, sso) = sandbox();
    valid_token(&s, &sso, "corp");
    let out = s.run(["dev", "--", "env"]).success();
    assert_eq!(out.var("AWS_ACCESS_KEY_ID"), sso.issued()[0].access_key_id);
    assert_eq!(out.var("AWS_REGION"), "eu-west-1");
    let calls = sso.calls_of("GetRoleCredentials");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].token.as_deref(), Some(TOKEN));
    assert_eq!(calls[0].account_id.as_deref(), Some(PROD));
    assert_eq!(calls[0].role_name.as_deref(), Some("Admin"));
    assert!(s.calls().is_empty(), "no STS call: {:?}", s.calls());
    // The second run is a cache hit: no call, and the same keys; it reads no token (none is
    // left) and reaches no portal (none is configured).
    std::fs::remove_file(fake_sso::token_path(&s.home(), "corp")).unwrap();
    let again = s
        .run(["dev", "--", "env"])
        .env_remove("AWS_ENDPOINT_URL_SSO")
        .env_remove("AWS_ENDPOINT_URL_SSO_OIDC")
        .success();
    assert_eq!(
        again.var("AWS_ACCESS_KEY_ID"),
        sso.issued()[0].access_key_id
    );
    assert_eq!(sso.calls().len(), 1);
}

#[test]
fn a_legacy_sso_profile_uses_the_token_named_by_its_start_url() {
    let (s, sso) = sandbox();
    valid_token(&s, &sso, START_URL);
    let out = s.run(["legacy", "--", "env"]).success();
    assert_eq!(out.var("AWS_ACCESS_KEY_ID"), sso.issued()[0].access_key_id);
}

#[test]
fn an_expired_token_is_named_with_the_command_that_signs_in_and_nothing_is_called() {
    let (s, sso) = sandbox();
    sso.accept_token(TOKEN, fake_sso::now() + 3600);
    let past = fake_sso::now() - 60;
    fake_sso::write_token(&s.home(), "corp", START_URL, "us-east-1", TOKEN, past, None);
    fake_sso::write_token(
        &s.home(),
        START_URL,
        START_URL,
        "us-east-1",
        TOKEN,
        past,
        None,
    );
    let out = s.run(["dev", "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has("profile `dev`")
        .stderr_has("aws sso login --sso-session corp");
    let out = s.run(["legacy", "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has("aws sso login --profile legacy");
    let out = s.run(["chain", "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has("aws sso login --sso-session corp");
    assert!(sso.calls().is_empty(), "{:?}", sso.calls());
    assert!(s.calls().is_empty());
}

#[test]
fn a_missing_token_is_named_too() {
    let (s, sso) = sandbox();
    let out = s.run(["dev", "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has("aws sso login --sso-session corp");
    assert!(sso.calls().is_empty());
}

#[test]
fn an_expired_token_with_a_refresh_token_is_renewed_by_the_sdk() {
    let (s, sso) = sandbox();
    sso.accept_refresh_token("REFRESH-1", "ACCESSTOKEN-renewed");
    let past = fake_sso::now() - 60;
    fake_sso::write_token(
        &s.home(),
        "corp",
        START_URL,
        "us-east-1",
        "ACCESSTOKEN-old",
        past,
        Some("REFRESH-1"),
    );
    let out = s.run(["dev", "--", "env"]).success();
    assert_eq!(out.var("AWS_ACCESS_KEY_ID"), sso.issued()[0].access_key_id);
    let refresh = sso.calls_of("CreateToken");
    assert_eq!(refresh.len(), 1, "{:?}", sso.calls());
    assert_eq!(refresh[0].token.as_deref(), Some("REFRESH-1"));
    let get = sso.calls_of("GetRoleCredentials");
    assert_eq!(get.len(), 1);
    assert_eq!(get[0].token.as_deref(), Some("ACCESSTOKEN-renewed"));
    // The SDK wrote the renewed token back where the AWS CLI reads it.
    let file = std::fs::read_to_string(fake_sso::token_path(&s.home(), "corp")).unwrap();
    assert!(file.contains("ACCESSTOKEN-renewed"), "{file}");
}

#[test]
fn sixteen_processes_started_together_make_one_get_role_credentials_call() {
    let (s, sso) = sandbox();
    valid_token(&s, &sso, "corp");
    let children: Vec<_> = (0..16).map(|_| s.spawn(&["dev", "--", "true"])).collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(sso.calls_of("GetRoleCredentials").len(), 1);
}

#[test]
fn a_role_chained_from_an_sso_profile_is_signed_by_the_portals_key_for_at_most_an_hour() {
    let (s, sso) = sandbox();
    valid_token(&s, &sso, "corp");
    let out = s.run(["chain", "--", "env"]).success();
    let issued = sso.issued();
    assert_eq!(issued.len(), 1);
    let assumes = of(&s.calls(), "AssumeRole");
    assert_eq!(assumes.len(), 1, "{:?}", s.calls());
    assert_eq!(assumes[0].access_key_id, issued[0].access_key_id);
    assert_eq!(
        assumes[0].session_token.as_deref(),
        Some(issued[0].session_token.as_str())
    );
    let secs: u64 = assumes[0].params["DurationSeconds"].parse().unwrap();
    assert!(secs <= 3600, "{secs}");
    assert_ne!(out.var("AWS_ACCESS_KEY_ID"), issued[0].access_key_id);
    // The SSO profile's own session was cached on the way: `dev` now makes no call.
    s.run(["dev", "--", "true"]).success();
    assert_eq!(sso.calls_of("GetRoleCredentials").len(), 1);
    // A longer chain than AWS allows is refused before any call.
    let out = s
        .run(["chain", "-d", "2h", "--refresh", "--", "true"])
        .failure(1);
    out.stderr_has("1h");
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
}

#[test]
fn env_and_credential_process_print_the_portals_credentials() {
    let (s, sso) = sandbox();
    valid_token(&s, &sso, "corp");
    let out = s.run(["env", "dev"]).success();
    out.stdout_has(&sso.issued()[0].access_key_id);
    let out = s.run(["credential-process", "dev"]).success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(v["Version"], 1);
    assert_eq!(v["AccessKeyId"], sso.issued()[0].access_key_id.as_str());
    assert_eq!(sso.calls().len(), 1);
}

#[test]
fn dry_run_names_the_account_role_and_token_and_calls_nothing() {
    let (s, sso) = sandbox();
    valid_token(&s, &sso, "corp");
    let out = s.run(["dev", "--dry-run"]).success();
    let token = fake_sso::token_path(&s.home(), "corp");
    out.stdout_has("IAM Identity Center")
        .stdout_has(PROD)
        .stdout_has("Admin")
        .stdout_has(&token.display().to_string())
        .stdout_has("sso:GetRoleCredentials");
    let out = s.run(["chain", "--dry-run"]).success();
    out.stdout_has("sts:AssumeRole arn:aws:iam::333333333333:role/from-sso")
        .stdout_has("1h");
    assert!(sso.calls().is_empty());
    assert!(s.calls().is_empty());
}

#[test]
fn list_shows_the_sso_kind_and_the_tokens_expiry_without_refreshing() {
    let (s, sso) = sandbox();
    sso.accept_refresh_token("REFRESH-1", "ACCESSTOKEN-renewed");
    fake_sso::write_token(
        &s.home(),
        "corp",
        START_URL,
        "us-east-1",
        "ACCESSTOKEN-old",
        fake_sso::now() - 60,
        Some("REFRESH-1"),
    );
    let out = s.run(["list"]).success();
    let line = out
        .stdout()
        .lines()
        .find(|l| l.starts_with("dev "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no dev in:\n{}", out.stdout()));
    assert!(line.contains("sso"), "{line}");
    assert!(line.contains("token expired"), "{line}");
    assert!(sso.calls().is_empty(), "list refreshed: {:?}", sso.calls());
}

#[test]
fn the_aws_cli_as_a_child_of_an_sso_profile_uses_the_portals_keys() {
    let (s, sso) = sandbox();
    valid_token(&s, &sso, "corp");
    let aws = aws_program();
    let aws = aws.display().to_string();
    let out = s
        .run([
            "dev",
            "--",
            aws.as_str(),
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(v["Account"], PROD);
    let calls = of(&s.calls(), "GetCallerIdentity");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].access_key_id, sso.issued()[0].access_key_id);
}

const WEB_ROLE: &str = "arn:aws:iam::333333333333:role/ci";

fn web_identity_sandbox() -> Sandbox {
    let s = Sandbox::standard();
    s.sts.add_role(Role {
        max_session_duration: 43200,
        ..Role::new(WEB_ROLE)
    });
    s.sts.add_role(Role {
        trusted: vec![WEB_ROLE.into()],
        ..Role::new("arn:aws:iam::333333333333:role/after-ci")
    });
    s.sts.accept_web_identity(WEB_ROLE, "eyJ.OIDC.token");
    std::fs::write(s.home().join("token.jwt"), "eyJ.OIDC.token").unwrap();
    s.append_config(
        "\n[profile ci]\nrole_arn = arn:aws:iam::333333333333:role/ci\nweb_identity_token_file = ~/token.jwt\nrole_session_name = ci-run\n\n\
         [profile ci-next]\nrole_arn = arn:aws:iam::333333333333:role/after-ci\nsource_profile = ci\n",
    );
    s
}

#[test]
fn a_web_identity_profile_assumes_its_role_with_the_token_file() {
    let s = web_identity_sandbox();
    let out = s.run(["ci", "--", "env"]).success();
    let calls = of(&s.calls(), "AssumeRoleWithWebIdentity");
    assert_eq!(calls.len(), 1, "{:?}", s.calls());
    assert_eq!(calls[0].params["RoleArn"], WEB_ROLE);
    assert_eq!(calls[0].params["RoleSessionName"], "ci-run");
    assert_eq!(calls[0].params["WebIdentityToken"], "eyJ.OIDC.token");
    assert_eq!(calls[0].access_key_id, "", "the call is unsigned");
    let issued = s.sts.issued();
    assert_eq!(out.var("AWS_ACCESS_KEY_ID"), issued[0].access_key_id);
    // Cached like any session.
    s.run(["ci", "--", "true"]).success();
    assert_eq!(s.calls().len(), 1);
    // A chain from it is role chaining, from the cached session.
    s.run(["ci-next", "--", "true"]).success();
    let assumes = of(&s.calls(), "AssumeRole");
    assert_eq!(assumes.len(), 1);
    assert_eq!(assumes[0].access_key_id, issued[0].access_key_id);
    assert!(assumes[0].params["DurationSeconds"].parse::<u64>().unwrap() <= 3600);
    assert_eq!(of(&s.calls(), "AssumeRoleWithWebIdentity").len(), 1);
    let out = s.run(["list"]).success();
    assert!(
        out.stdout()
            .lines()
            .any(|l| l.starts_with("ci ") && l.contains("web-identity")),
        "{}",
        out.stdout()
    );
}

#[test]
fn a_missing_web_identity_token_file_is_named_before_any_call() {
    let s = web_identity_sandbox();
    std::fs::remove_file(s.home().join("token.jwt")).unwrap();
    let out = s.run(["ci", "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has("web_identity_token_file")
        .stderr_has("token.jwt");
    assert!(s.calls().is_empty());
    let out = s.run(["ci", "--dry-run"]).success();
    out.stdout_has("sts:AssumeRoleWithWebIdentity arn:aws:iam::333333333333:role/ci");
}

#[test]
fn login_signs_in_to_the_console_with_the_portals_credentials() {
    let (mut s, sso) = sandbox();
    let fed = s.sts.federation_url();
    s.set("MFAEXEC_FEDERATION_ENDPOINT", &fed);
    valid_token(&s, &sso, "corp");
    let out = s.run(["login", "dev", "--print"]).success();
    out.stdout_has("SigninToken=");
    let calls = s.sts.federation_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        calls[0].access_key_id.as_deref(),
        Some(sso.issued()[0].access_key_id.as_str())
    );
    assert_eq!(calls[0].session_duration, None);
}

#[test]
fn sso_login_runs_the_aws_cli_then_goes_on() {
    let (mut s, sso) = sandbox();
    let past = fake_sso::now() - 60;
    fake_sso::write_token(&s.home(), "corp", START_URL, "us-east-1", TOKEN, past, None);
    sso.accept_token(TOKEN, fake_sso::now() + 3600);
    // A fresh token, put in place by the stand-in for the AWS CLI as `aws sso login` would.
    let fresh = s.path("fresh.json");
    let home = s.home();
    fake_sso::write_token(
        &home,
        "fresh",
        START_URL,
        "us-east-1",
        TOKEN,
        fake_sso::now() + 3600,
        None,
    );
    std::fs::rename(fake_sso::token_path(&home, "fresh"), &fresh).unwrap();
    let bin_dir = s.path("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let script = bin_dir.join("aws");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" > {args}\necho 'Attempting to open your browser'\ncp {fresh} {token}\n",
            args = s.path("args").display(),
            fresh = fresh.display(),
            token = fake_sso::token_path(&home, "corp").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.set("PATH", &format!("{}:/usr/bin:/bin", bin_dir.display()));
    // Without the option: the hint, and the AWS CLI is not run.
    s.run(["env", "dev"]).failure(1).one_line_error();
    assert!(!s.path("args").exists());
    let out = s.run(["env", "dev", "--sso-login"]).success();
    assert_eq!(
        std::fs::read_to_string(s.path("args")).unwrap().trim(),
        "sso login --sso-session corp"
    );
    out.stdout_has(&sso.issued()[0].access_key_id);
    assert!(!out.stdout().contains("browser"), "{}", out.stdout());
    out.stderr_has("Attempting to open your browser");
}

/// `sandbox()` without the endpoint variables, and a profile `local` whose `[services]`
/// section sends both IAM Identity Center calls to the fake portal, as a private endpoint is
/// configured in the files.
fn services_sandbox() -> (Sandbox, FakeSso) {
    let (mut s, sso) = sandbox();
    s.unset("AWS_ENDPOINT_URL_SSO");
    s.unset("AWS_ENDPOINT_URL_SSO_OIDC");
    s.append_config(&format!(
        "\n[profile local]\nsso_session = corp\nsso_account_id = {PROD}\nsso_role_name = Admin\nservices = private\n\n\
         [services private]\nsso =\n  endpoint_url = {url}\nsso_oidc =\n  endpoint_url = {url}\n",
        url = sso.url()
    ));
    (s, sso)
}

#[test]
fn the_profiles_services_section_sends_the_portal_call_to_its_endpoint() {
    let (s, sso) = services_sandbox();
    valid_token(&s, &sso, "corp");
    let out = s.run(["local", "--", "env"]).success();
    assert_eq!(out.var("AWS_ACCESS_KEY_ID"), sso.issued()[0].access_key_id);
    assert_eq!(sso.calls_of("GetRoleCredentials").len(), 1);
    // --dry-run names the portal and where it was configured.
    let out = s.run(["local", "--dry-run", "--refresh"]).success();
    out.stdout_has(&format!("portal {}", sso.url()))
        .stdout_has("profile (`local`)");
}

#[test]
fn the_token_renewal_goes_to_the_services_sections_sso_oidc_endpoint() {
    let (s, sso) = services_sandbox();
    sso.accept_refresh_token("REFRESH-1", "ACCESSTOKEN-renewed");
    fake_sso::write_token(
        &s.home(),
        "corp",
        START_URL,
        "us-east-1",
        "ACCESSTOKEN-old",
        fake_sso::now() - 60,
        Some("REFRESH-1"),
    );
    s.run(["local", "--", "true"]).success();
    let refresh = sso.calls_of("CreateToken");
    assert_eq!(refresh.len(), 1, "{:?}", sso.calls());
    let get = sso.calls_of("GetRoleCredentials");
    assert_eq!(get.len(), 1);
    assert_eq!(get[0].token.as_deref(), Some("ACCESSTOKEN-renewed"));
}

#[test]
fn ignoring_configured_endpoints_reaches_past_the_services_section() {
    let (s, sso) = services_sandbox();
    valid_token(&s, &sso, "corp");
    let out = s
        .run(["local", "--dry-run"])
        .env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
        .success();
    out.stdout_has("portal https://portal.sso.us-east-1.amazonaws.com");
    // A variable the SDK's provider would read anyway is refused, naming both, before any call.
    let out = s
        .run(["local", "--", "true"])
        .env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
        .env("AWS_ENDPOINT_URL_SSO", sso.url())
        .failure(1);
    out.one_line_error()
        .stderr_has("AWS_ENDPOINT_URL_SSO")
        .stderr_has("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    assert!(sso.calls().is_empty(), "{:?}", sso.calls());
}

#[test]
fn a_web_identity_profile_reaches_sts_through_its_services_section() {
    let mut s = web_identity_sandbox();
    let url = s.sts.url();
    s.unset("AWS_ENDPOINT_URL_STS");
    s.append_config(&format!(
        "\n[profile ci-local]\nrole_arn = {WEB_ROLE}\nweb_identity_token_file = ~/token.jwt\nservices = private\n\n\
         [services private]\nsts =\n  endpoint_url = {url}\n"
    ));
    s.run(["ci-local", "--", "true"]).success();
    assert_eq!(of(&s.calls(), "AssumeRoleWithWebIdentity").len(), 1);
}

// A portal variable in clear text to another host fails only the profiles that call it.
#[test]
fn a_plain_http_portal_fails_the_sso_profile_and_not_an_mfa_profile() {
    let (s, sso) = sandbox();
    valid_token(&s, &sso, "corp");
    let out = s
        .run(["dev", "--", "true"])
        .env("AWS_ENDPOINT_URL_SSO", "http://portal.example.com")
        .failure(1);
    out.one_line_error().stderr_has("unencrypted");
    assert!(sso.calls().is_empty());
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"])
        .env("AWS_ENDPOINT_URL_SSO", "http://portal.example.com")
        .success();
}
