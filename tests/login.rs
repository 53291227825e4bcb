//! `mfaexec login` (issue 4): the console sign-in URL from the fake federation endpoint.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;

use crate::support::*;

/// The query parameters of a URL, percent-decoded.
fn query(url: &str) -> Vec<(String, String)> {
    let (_, q) = url.split_once('?').expect("a query");
    q.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_owned(), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).expect("hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> &'a str {
    q.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {q:?}"))
}

fn login_sandbox() -> Sandbox {
    let mut s = Sandbox::standard();
    s.use_fake_federation();
    s
}

#[track_caller]
fn assert_quiet_stderr(out: &Out) {
    let err = out.stderr();
    assert_no_secret(&err);
    assert!(
        !err.contains("SigninToken=SIGNIN"),
        "sign-in token on stderr: {err}"
    );
    assert!(!err.contains("Action=login"), "URL on stderr: {err}");
}

#[test]
fn a_direct_role_gets_a_console_session_of_the_asked_duration() {
    let s = login_sandbox();
    let code = s.code();
    let out = s.run(["login", "prod", "-t", &code, "--print"]).success();
    assert_quiet_stderr(&out);
    let calls = s.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].action, "AssumeRole");
    assert_eq!(calls[0].access_key_id, s.alice.access_key_id);

    let fed = s.sts.federation_calls();
    assert_eq!(fed.len(), 1, "{fed:#?}");
    let call = &fed[0];
    assert_eq!(call.method, "POST");
    assert_eq!(call.action, "getSigninToken");
    assert_eq!(call.query, "", "nothing in the URL: the form is the body");
    let mut keys = call.session_keys.clone();
    keys.sort();
    assert_eq!(keys, ["sessionId", "sessionKey", "sessionToken"]);
    assert_eq!(
        call.access_key_id.as_deref(),
        Some(s.sts.issued()[0].access_key_id.as_str())
    );
    assert_eq!(call.session_duration.as_deref(), Some("43200"));
    assert_eq!(call.status, 200);

    let url = out.stdout();
    let url = url.trim_end();
    assert_eq!(out.stdout().lines().count(), 1);
    assert!(
        url.starts_with(&format!("{}?Action=login&Issuer=", s.sts.federation_url())),
        "{url}"
    );
    let q = query(url);
    let names: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["Action", "Issuer", "Destination", "SigninToken"]);
    assert_eq!(param(&q, "Action"), "login");
    assert_eq!(param(&q, "Issuer"), "mfaexec");
    assert_eq!(
        param(&q, "Destination"),
        "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
    );
    assert_eq!(Some(param(&q, "SigninToken")), call.signin_token.as_deref());
}

#[test]
fn the_console_duration_follows_the_flag_else_what_the_session_has_left() {
    let s = login_sandbox();
    let code = s.code();
    s.run(["login", "prod", "-t", &code, "-d", "2h", "--print"])
        .success();
    assert_eq!(
        s.sts.federation_calls()[0].session_duration.as_deref(),
        Some("7200")
    );
    // `short` asks for nothing: the session's remaining lifetime (about 1h) is sent.
    let code = s.code();
    s.run(["login", "short", "-t", &code, "--print"]).success();
    let sent: u64 = s.sts.federation_calls()[1]
        .session_duration
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&sent), "{sent}");
}

#[test]
fn a_chained_role_sends_no_console_duration_and_says_why() {
    let s = login_sandbox();
    let code = s.code();
    let out = s.run(["login", "deploy", "-t", &code, "--print"]).success();
    out.stderr_has("the console session ends with the credentials");
    let fed = s.sts.federation_calls();
    assert_eq!(fed.len(), 1);
    assert_eq!(fed[0].session_duration, None);
    assert_eq!(fed[0].status, 200);
    assert_eq!(
        fed[0].access_key_id.as_deref(),
        Some(s.sts.issued()[1].access_key_id.as_str())
    );
    assert_quiet_stderr(&out);
}

#[test]
fn a_profile_without_a_role_signs_in_with_a_federation_token() {
    let s = login_sandbox();
    // No code and no terminal: GetFederationToken takes no MFA code.
    let out = s.run(["login", "default", "--print"]).success();
    out.stderr_has("no MFA context");
    let calls = s.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let call = &calls[0];
    assert_eq!(call.action, "GetFederationToken");
    assert_eq!(call.access_key_id, s.alice.access_key_id);
    assert_eq!(call.session_token, None, "signed by the long-term key");
    assert_eq!(call.params["Name"], "mfaexec-alice");
    assert_eq!(call.params["DurationSeconds"], "43200");
    assert!(!call.params.contains_key("SerialNumber"));
    assert!(!call.params.contains_key("TokenCode"));
    let policy: serde_json::Value = serde_json::from_str(&call.params["Policy"]).unwrap();
    assert_eq!(policy["Statement"][0]["Effect"], "Allow");
    assert_eq!(policy["Statement"][0]["Action"], "*");
    assert_eq!(policy["Statement"][0]["Resource"], "*");
    let fed = s.sts.federation_calls();
    assert_eq!(fed.len(), 1);
    assert_eq!(fed[0].session_duration, None);
    assert_eq!(fed[0].status, 200);
    assert_quiet_stderr(&out);
}

#[test]
fn federation_names_are_fitted_to_what_sts_accepts() {
    let s = login_sandbox();
    s.run(["login", "default", "--print"])
        .env("USER", "jörg.o'neil-with-a-very-long-name")
        .success();
    let name = &s.calls()[0].params["Name"];
    assert_eq!(name, "mfaexec-j-rg.o-neil-with-a-very-");
    assert_eq!(
        name.len(),
        32,
        "GetFederationToken names are 2 to 32 characters"
    );
}

#[test]
fn each_partition_has_its_endpoint_and_console() {
    let s = Sandbox::standard();
    for (region, endpoint, console) in [
        (
            "eu-west-1",
            "https://signin.aws.amazon.com/federation",
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1",
        ),
        (
            "us-gov-west-1",
            "https://signin.amazonaws-us-gov.com/federation",
            "https://console.amazonaws-us-gov.com/console/home?region=us-gov-west-1",
        ),
        (
            "cn-north-1",
            "https://signin.amazonaws.cn/federation",
            "https://console.amazonaws.cn/console/home?region=cn-north-1",
        ),
    ] {
        let out = s
            .run(["login", "prod", "--region", region, "--dry-run"])
            .success();
        out.stdout_has(&format!("POST getSigninToken to {endpoint} (from the "))
            .stdout_has(&format!("console     {console}\n"))
            .stdout_has("SessionDuration = 12h");
    }
    let out = s.run(["login", "deploy", "--dry-run"]).success();
    out.stdout_has("no SessionDuration");
    let out = s.run(["login", "default", "--dry-run"]).success();
    out.stdout_has("sts:GetFederationToken");
    assert!(s.calls().is_empty() && s.sts.federation_calls().is_empty());
}

#[test]
fn destination_opens_another_page_in_the_same_region() {
    let s = login_sandbox();
    let code = s.code();
    let out = s
        .run([
            "login",
            "prod",
            "-t",
            &code,
            "--print",
            "--destination",
            "/cloudwatch/home#logs:",
        ])
        .success();
    let q = query(out.stdout().trim_end());
    assert_eq!(
        param(&q, "Destination"),
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logs:"
    );
    let out = s
        .run(["login", "prod", "--print", "--destination", "/s3/home"])
        .success();
    let q = query(out.stdout().trim_end());
    assert_eq!(
        param(&q, "Destination"),
        "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"
    );
    let out = s
        .run(["login", "prod", "--print", "--destination", "s3"])
        .failure(2);
    out.one_line_error().stderr_has("--destination `s3`");
    assert_eq!(s.sts.federation_calls().len(), 2);
}

#[test]
fn a_cached_session_is_reused_with_no_prompt() {
    let s = login_sandbox();
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"]).success();
    s.run(["login", "prod", "--print"]).success();
    assert_eq!(s.calls().len(), 1, "no new STS call");
    let fed = s.sts.federation_calls();
    assert_eq!(
        fed[0].access_key_id.as_deref(),
        Some(s.sts.issued()[0].access_key_id.as_str())
    );
}

fn browser_script(s: &Sandbox, body: &str) -> String {
    let path = s.path("browser");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[test]
fn browser_gets_the_url_and_nothing_is_printed() {
    let s = login_sandbox();
    let record = s.path("opened");
    let browser = browser_script(
        &s,
        &format!("printf '%s\\n' \"$@\" > '{}'", record.display()),
    );
    let code = s.code();
    let out = s
        .run(["login", "prod", "-t", &code])
        .env("BROWSER", &browser)
        .success();
    assert_eq!(out.stdout(), "");
    out.stderr_has("opened the AWS console for prod with $BROWSER");
    assert_quiet_stderr(&out);
    let opened = std::fs::read_to_string(&record).unwrap();
    let token = s.sts.federation_calls()[0].signin_token.clone().unwrap();
    assert!(opened.starts_with(&s.sts.federation_url()), "{opened}");
    assert!(opened.contains(&token));
    assert_eq!(opened.lines().count(), 1, "the URL is one argument");

    // `%s` stands for the URL.
    let record2 = s.path("opened2");
    let browser = browser_script(
        &s,
        &format!("printf '%s|%s\\n' \"$1\" \"$2\" > '{}'", record2.display()),
    );
    s.run(["login", "prod"])
        .env("BROWSER", format!("{browser} --new-window %s"))
        .success();
    let opened = std::fs::read_to_string(&record2).unwrap();
    assert!(opened.starts_with("--new-window|http"), "{opened}");
}

#[test]
fn without_a_browser_the_url_is_printed() {
    let s = login_sandbox();
    let code = s.code();
    // No BROWSER and no DISPLAY.
    let out = s.run(["login", "prod", "-t", &code]).success();
    out.stderr_has("no desktop");
    assert!(out.stdout().starts_with(&s.sts.federation_url()));
    assert_quiet_stderr(&out);
    // A failing $BROWSER falls back to printing.
    let browser = browser_script(&s, "exit 3");
    let out = s.run(["login", "prod"]).env("BROWSER", &browser).success();
    out.stderr_has("$BROWSER could not open the console");
    assert!(out.stdout().starts_with(&s.sts.federation_url()));
}

#[test]
fn verbose_masks_the_url() {
    let s = login_sandbox();
    let code = s.code();
    let out = s
        .run(["login", "prod", "-v", "-t", &code, "--print"])
        .success();
    out.stderr_has("SigninToken=****")
        .stderr_has("with a console session of 12h");
    let token = s.sts.federation_calls()[0].signin_token.clone().unwrap();
    assert!(!out.stderr().contains(&token));
    assert_no_secret(&out.stderr());
}

#[test]
fn refused_credentials_are_explained() {
    let s = login_sandbox();
    let code = s.code();
    s.run(["short", "-t", &code, "--", "true"]).success();
    let code = s.code();
    s.run(["deploy", "-t", &code, "--", "true"]).success();
    // The fake's clock runs past the sessions' end, while mfaexec's cache still holds them.
    s.sts.advance_clock(7200);
    let out = s.run(["login", "short", "--print"]).failure(1);
    out.one_line_error()
        .stderr_has("refused the session with a console duration (HTTP 400)");
    let out = s.run(["login", "deploy", "--print"]).failure(1);
    out.stderr_has("refused the credentials (HTTP 400)")
        .stderr_has("hint: ");
    assert_eq!(out.stdout(), "");
}

/// A one-request HTTP server that answers `response` (or nothing, for `None`).
fn one_shot(response: Option<&'static str>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/federation", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf);
            match response {
                Some(r) => {
                    let _ = stream.write_all(r.as_bytes());
                }
                None => std::thread::sleep(std::time::Duration::from_secs(5)),
            }
        }
    });
    url
}

#[test]
fn endpoint_failures_are_explained() {
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"]).success();
    for (response, says) in [
        (
            Some(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            ),
            "failed with HTTP 503",
        ),
        (
            Some(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\nConnection: close\r\n\r\n<html>",
            ),
            "unexpected answer from the sign-in endpoint",
        ),
        (None, "no answer from the sign-in endpoint"),
    ] {
        let url = one_shot(response);
        let out = s
            .run(["login", "prod", "--print"])
            .env("MFAEXEC_FEDERATION_ENDPOINT", &url)
            .env("MFAEXEC_STS_TIMEOUT", "1")
            .failure(1);
        out.one_line_error().stderr_has(says);
    }
    let out = s
        .run(["login", "prod", "--print"])
        .env(
            "MFAEXEC_FEDERATION_ENDPOINT",
            "http://127.0.0.1:9/federation",
        )
        .failure(1);
    out.one_line_error()
        .stderr_has("cannot reach the sign-in endpoint");
}

#[test]
fn a_code_given_for_a_federation_sign_in_is_not_needed_and_said_so() {
    // See: review finding, `login default -t CODE` said the profile had no mfa_serial.
    let s = login_sandbox();
    let out = s
        .run(["login", "default", "-t", "123456", "--print"])
        .success();
    out.stderr_has("--token-code is not used: GetFederationToken takes no MFA code");
    assert_eq!(s.calls().len(), 1);
    assert!(!s.calls()[0].params.contains_key("TokenCode"));
}
