//! Every error of AWS-RULES §4, and every check mfaexec makes before calling STS, end to end:
//! the real binary against the fake STS. Each test asserts the exit code, that stderr is one
//! `mfaexec:` line plus a `hint:` line, the words that say what is wrong (naming the profile,
//! role, key id or serial) and how to fix it, that no secret is printed, and how many STS calls
//! were made.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::fake_sts::*;
use crate::support::*;

/// The message and hint of a refusal, after the checks every error shares: `mfaexec: ...` plus
/// `hint: ...` on stderr, nothing on stdout (no command ran), no secret anywhere.
#[track_caller]
fn refusal(out: &Out) -> (String, String) {
    out.one_line_error();
    assert_no_secret(&out.stdout());
    assert_eq!(out.stdout(), "", "nothing on stdout after an error");
    let err = out.stderr();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "expected a message and a hint:\n{err}");
    (
        lines[0].strip_prefix("mfaexec: ").unwrap().to_owned(),
        lines[1].strip_prefix("hint: ").unwrap().to_owned(),
    )
}

/// Asserts `text` holds every one of `words`.
#[track_caller]
fn has(text: &str, words: &[&str]) {
    for word in words {
        assert!(text.contains(word), "{word:?} is missing from:\n{text}");
    }
}

/// Asserts the fake saw exactly `n` requests.
#[track_caller]
fn calls(s: &Sandbox, n: usize) -> Vec<Call> {
    let calls = s.calls();
    assert_eq!(calls.len(), n, "STS calls: {calls:#?}");
    calls
}

/// Waits (up to `limit`) until the fake has logged `n` requests: a delayed request is logged
/// only when the fake answers it, long after the client gave up (and after any other request).
fn wait_for_calls(s: &Sandbox, n: usize, limit: Duration) {
    let start = Instant::now();
    while s.calls().len() < n && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A profile `plain` with alice's keys and no mfa_serial: GetSessionToken without MFA.
fn add_plain_profile(s: &Sandbox) {
    s.append_config(&format!(
        "\n[profile plain]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        s.alice.access_key_id, s.alice.secret_access_key
    ));
}

/// The AWS error for the next request.
fn error(status: u16, code: &str, message: &str) -> Fault {
    Fault::Error {
        status,
        code: code.into(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Errors from STS (AWS-RULES §4)
// ---------------------------------------------------------------------------------------------

#[test]
fn over_the_roles_max_session_duration_names_role_and_duration() {
    let s = Sandbox::standard();
    let out = s
        .run(["short", "-d", "2h", "-t", &s.code(), "--", "true"])
        .failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &[SHORT, "2h", "MaxSessionDuration"]);
    has(&hint, &["\"Maximum session duration\"", "--duration"]);
    let calls = calls(&s, 1);
    assert_eq!(calls[0].action, "AssumeRole");
    assert_eq!(calls[0].params["DurationSeconds"], "7200");
    assert_eq!(calls[0].error_code.as_deref(), Some("ValidationError"));
}

#[test]
fn a_reused_code_is_wrong_or_already_used() {
    // With the session cache off, so the second run calls STS again.
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"])
        .env("MFAEXEC_CACHE", "off")
        .success();
    let out = s
        .run(["prod", "-t", &code, "--", "true"])
        .env("MFAEXEC_CACHE", "off")
        .failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &[&s.serial(), "wrong or was already used"]);
    has(&hint, &["each code works once", "next code"]);
    let calls = calls(&s, 2);
    assert_eq!(calls[0].status, 200);
    assert_eq!(calls[1].params["TokenCode"], code);
    assert_eq!(calls[1].error_code.as_deref(), Some("AccessDenied"));
}

#[test]
fn an_mfa_serial_of_another_user_names_serial_and_profile() {
    let s = Sandbox::standard();
    let bob = User::new("bob", STEP);
    s.sts.add_user(bob.clone());
    let bob_serial = bob.mfa_serial.clone().unwrap();
    s.append_config(&format!(
        "\n[profile wrongmfa]\nrole_arn = {ADMIN}\nsource_profile = default\nmfa_serial = {bob_serial}\n"
    ));
    let code = s.sts.code(&bob_serial);
    let out = s.run(["wrongmfa", "-t", &code, "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(
        &message,
        &[
            &bob_serial,
            "profile `wrongmfa`",
            "does not belong",
            &s.alice.access_key_id,
        ],
    );
    has(&hint, &["mfa_serial", "ARN"]);
    let calls = calls(&s, 1);
    assert_eq!(calls[0].params["SerialNumber"], bob_serial);
}

#[test]
fn a_role_that_does_not_trust_the_user_may_not_be_assumed() {
    let s = Sandbox::standard();
    let out = s.run(["locked", "-t", &s.code(), "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &[&s.alice.arn(), "may not assume role", LOCKED]);
    has(
        &hint,
        &["trust policy", "sts:AssumeRole", "profile `locked`"],
    );
    calls(&s, 1);
}

#[test]
fn root_keys_cannot_assume_a_role() {
    let s = Sandbox::standard();
    let root = User::root(STEP);
    s.sts.add_user(root.clone());
    let root_serial = root.mfa_serial.clone().unwrap();
    s.append_config(&format!(
        "\n[profile rootkeys]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n\
         [profile asroot]\nrole_arn = {ADMIN}\nsource_profile = rootkeys\nmfa_serial = {root_serial}\n",
        root.access_key_id, root.secret_access_key
    ));
    let code = s.sts.code(&root_serial);
    let out = s.run(["asroot", "-t", &code, "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(
        &message,
        &[
            &root.access_key_id,
            "profile `rootkeys`",
            "root user",
            "cannot assume roles",
        ],
    );
    has(&hint, &["IAM user"]);
    assert!(!out.stderr().contains(&root.secret_access_key));
    let calls = calls(&s, 1);
    assert_eq!(calls[0].access_key_id, root.access_key_id);
}

#[test]
fn an_inactive_access_key_is_named_never_its_secret() {
    let s = Sandbox::standard();
    s.sts.add_user(User {
        active: false,
        ..s.alice.clone()
    });
    let out = s.run(["prod", "-t", &s.code(), "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(
        &message,
        &[&s.alice.access_key_id, "profile `default`", "deactivated"],
    );
    has(&hint, &["aws_access_key_id", "IAM console"]);
    assert!(!out.stderr().contains(&s.alice.secret_access_key));
    let calls = calls(&s, 1);
    assert_eq!(calls[0].error_code.as_deref(), Some("InvalidClientTokenId"));
}

#[test]
fn a_wrong_secret_key_does_not_match_the_access_key() {
    let s = Sandbox::standard();
    s.sts.inject(error(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    ));
    let out = s.run(["prod", "-t", &s.code(), "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(
        &message,
        &[
            "secret key does not match",
            &s.alice.access_key_id,
            "profile `default`",
        ],
    );
    has(&hint, &["aws_secret_access_key"]);
    calls(&s, 1);
}

#[test]
fn clock_skew_says_the_clock_is_off() {
    let s = Sandbox::standard();
    s.sts.inject(error(
        403,
        "SignatureDoesNotMatch",
        "Signature expired: 20240217T171323Z is now earlier than 20240217T172823Z (20240217T173323Z - 15 min.)",
    ));
    let out = s.run(["prod", "-t", &s.code(), "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &["expired", "clock is off"]);
    has(&hint, &["clock", "timedatectl"]);
    calls(&s, 1);
}

#[test]
fn an_expired_session_token_is_named() {
    let s = Sandbox::standard();
    // A role profile whose source holds temporary credentials (chaining, 1 h, no MFA).
    s.append_config(
        "\n[profile temp]\naws_access_key_id = ASIATEMPORARYKEY0001\n\
         aws_secret_access_key = SECRETTEMPsecretsecretsecret\naws_session_token = TOKENTEMPtokentoken\n\n\
         [profile viatemp]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = temp\n",
    );
    s.sts.inject(error(
        403,
        "ExpiredToken",
        "The security token included in the request is expired",
    ));
    let out = s.run(["viatemp", "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(
        &message,
        &[
            "session token",
            "ASIATEMPORARYKEY0001",
            "profile `temp`",
            "expired",
        ],
    );
    has(&hint, &["temporary credentials", "renew"]);
    // Not retried, though this call carries no code.
    let calls = calls(&s, 1);
    assert_eq!(
        calls[0].session_token.as_deref(),
        Some("TOKENTEMPtokentoken")
    );
}

#[test]
fn throttling_with_a_code_is_not_retried() {
    let s = Sandbox::standard();
    s.sts.inject(Fault::Throttle);
    let out = s.run(["prod", "-t", &s.code(), "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &["throttling", "Rate exceeded"]);
    has(&hint, &["wait", "next MFA code"]);
    // One call: resending the code would only get "invalid MFA one time pass code".
    let calls = calls(&s, 1);
    assert_eq!(calls[0].error_code.as_deref(), Some("Throttling"));
}

#[test]
fn throttling_without_a_code_is_retried_by_the_sdk() {
    let s = Sandbox::standard();
    add_plain_profile(&s);
    s.sts.inject(Fault::Throttle);
    let out = s.run(["plain", "--", "true"]).success();
    assert_no_secret(&out.stderr());
    let calls = calls(&s, 2);
    assert_eq!(of(&calls, "GetSessionToken").len(), 2);
    assert!(!calls[1].params.contains_key("TokenCode"));
    assert_eq!(calls[0].error_code.as_deref(), Some("Throttling"));
    assert_eq!(calls[1].status, 200);
}

#[test]
fn http_5xx_with_a_code_is_one_call() {
    for status in [500, 503] {
        let s = Sandbox::standard();
        s.sts.inject(Fault::Status(status));
        let out = s.run(["prod", "-t", &s.code(), "--", "true"]).failure(1);
        let (message, hint) = refusal(&out);
        has(&message, &[&format!("HTTP {status}"), "AssumeRole"]);
        has(&hint, &["try again"]);
        let calls = calls(&s, 1);
        assert_eq!(calls[0].status, status);
    }
}

#[test]
fn a_slow_answer_times_out() {
    let s = Sandbox::standard();
    s.sts.inject(Fault::Delay(Duration::from_secs(3)));
    let start = Instant::now();
    let out = s
        .run(["prod", "-t", &s.code(), "--", "true"])
        .env("MFAEXEC_STS_TIMEOUT", "1")
        .failure(1);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "gave up after {:?}",
        start.elapsed()
    );
    let (message, hint) = refusal(&out);
    has(&message, &["no answer from STS", &s.sts.url(), "within 1s"]);
    has(&hint, &["MFAEXEC_STS_TIMEOUT"]);
    wait_for_calls(&s, 1, Duration::from_secs(5));
    calls(&s, 1);
}

#[test]
fn an_unreachable_endpoint_cannot_be_reached() {
    let s = Sandbox::standard();
    let out = s
        .run(["prod", "-t", &s.code(), "--", "true"])
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
        .failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &["cannot reach STS", "http://127.0.0.1:9"]);
    has(&hint, &["AWS_ENDPOINT_URL_STS"]);
    calls(&s, 0);
}

#[test]
fn an_unexpected_validation_error_is_passed_on() {
    let s = Sandbox::standard();
    let aws = "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2";
    s.sts.inject(error(400, "ValidationError", aws));
    let out = s.run(["prod", "-t", &s.code(), "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &["STS refused AssumeRole", aws]);
    has(&hint, &["profile"]);
    calls(&s, 1);
}

#[test]
fn throttling_without_a_code_gives_up_after_three_attempts() {
    let s = Sandbox::standard();
    add_plain_profile(&s);
    for _ in 0..3 {
        s.sts.inject(Fault::Throttle);
    }
    let out = s.run(["plain", "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &["throttling", "Rate exceeded"]);
    has(&hint, &["wait", "try again"]);
    assert!(!hint.contains("MFA"), "no code was sent: {hint}");
    let calls = calls(&s, 3);
    assert!(
        calls
            .iter()
            .all(|c| c.error_code.as_deref() == Some("Throttling"))
    );
}

#[test]
fn a_role_requiring_mfa_from_a_profile_without_mfa_serial() {
    let s = Sandbox::standard();
    let role = "arn:aws:iam::222222222222:role/mfaonly";
    s.sts.add_role(Role {
        trusted: vec![s.alice.arn()],
        require_mfa: true,
        ..Role::new(role)
    });
    add_plain_profile(&s);
    s.append_config(&format!(
        "\n[profile mfaonly]\nrole_arn = {role}\nsource_profile = plain\n"
    ));
    let out = s.run(["mfaonly", "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &[&s.alice.arn(), "may not assume role", role]);
    has(
        &hint,
        &["trust policy", "profile `mfaonly`", "add mfa_serial"],
    );
    let calls = calls(&s, 1);
    assert!(!calls[0].params.contains_key("SerialNumber"));
}

#[test]
fn only_half_of_the_mfa_parameters() {
    let s = Sandbox::standard();
    s.sts.inject(error(
        403,
        "AccessDenied",
        "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.",
    ));
    let out = s.run(["prod", "-t", &s.code(), "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &["MFA serial and a code together", "AssumeRole"]);
    has(&hint, &["mfa_serial", "-t"]);
    calls(&s, 1);
}

#[test]
fn get_session_token_errors_name_the_call_and_the_profile() {
    let s = Sandbox::standard();
    s.sts.inject(Fault::Status(500));
    let out = s.run(["default", "-t", &s.code(), "--", "true"]).failure(1);
    let (message, _) = refusal(&out);
    has(&message, &["HTTP 500", "GetSessionToken"]);
    calls(&s, 1);

    let s = Sandbox::standard();
    s.sts.add_user(User {
        active: false,
        ..s.alice.clone()
    });
    let out = s.run(["default", "-t", &s.code(), "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(
        &message,
        &[&s.alice.access_key_id, "profile `default`", "not valid"],
    );
    has(&hint, &["aws_access_key_id"]);
    let calls = calls(&s, 1);
    assert_eq!(calls[0].action, "GetSessionToken");
}

#[test]
fn a_failure_on_a_later_hop_names_the_session_not_the_source_profile() {
    let s = Sandbox::standard();
    // The first hop (prod, with the code) is answered normally, the second (deploy) is refused.
    s.sts.inject(Fault::Delay(Duration::ZERO));
    s.sts.inject(error(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    ));
    let out = s.run(["deploy", "-t", &s.code(), "--", "true"]).output();
    assert_eq!(out.code(), Some(1), "{}", out.stderr());
    // The shortened-duration note comes first; the error is the last two lines.
    let err = out.stderr();
    let lines: Vec<&str> = err.lines().collect();
    assert_no_secret(&err);
    let [.., message, hint] = lines.as_slice() else {
        panic!("no error:\n{err}")
    };
    let issued = &s.sts.issued()[0];
    has(message, &[&issued.access_key_id, ADMIN]);
    assert!(
        !message.contains("profile `default`") && !hint.contains("aws_access_key_id"),
        "the key is the session of {ADMIN}, not one of profile `default`:\n{err}"
    );
    let calls = calls(&s, 2);
    assert_eq!(calls[1].access_key_id, issued.access_key_id);
}

#[test]
fn a_clock_ahead_says_the_clock_is_off() {
    let s = Sandbox::standard();
    s.sts.inject(error(
        403,
        "SignatureDoesNotMatch",
        "Signature not yet current: 20240217T190000Z is still later than 20240217T180500Z (20240217T175000Z + 15 min.)",
    ));
    let out = s.run(["prod", "-t", &s.code(), "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &["clock"]);
    assert!(!message.contains("secret key"), "{message}");
    has(&hint, &["clock"]);
    calls(&s, 1);
}

// ---------------------------------------------------------------------------------------------
// Refused by mfaexec before any call
// ---------------------------------------------------------------------------------------------

#[test]
fn a_chained_role_over_one_hour_is_refused_before_any_call() {
    let s = Sandbox::standard();
    let out = s.run(["deploy", "-d", "2h", "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(
        &message,
        &[
            "profile `deploy`",
            "role chaining",
            "1h",
            "2h",
            "--duration",
        ],
    );
    has(&hint, &["source_profile", "--duration 1h"]);
    calls(&s, 0);
}

#[test]
fn a_duration_over_the_assume_role_maximum_is_refused_before_any_call() {
    let s = Sandbox::standard();
    let out = s.run(["prod", "-d", "13h", "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &["profile `prod`", "13h", "12h maximum"]);
    has(&hint, &["12h or less"]);
    calls(&s, 0);
}

#[test]
fn a_duration_under_fifteen_minutes_is_refused_before_any_call() {
    let s = Sandbox::standard();
    let out = s.run(["prod", "-d", "10m", "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &["profile `prod`", "10m", "15m minimum"]);
    has(&hint, &["at least 15m"]);
    calls(&s, 0);
}

#[test]
fn a_malformed_duration_flag_is_a_usage_error() {
    let s = Sandbox::standard();
    let out = s.run(["prod", "-d", "12x", "--", "true"]).failure(2);
    let (message, hint) = refusal(&out);
    has(&message, &["--duration", "`12x`", "not a duration"]);
    has(&hint, &["--duration 12h"]);
    calls(&s, 0);
}

#[test]
fn a_malformed_mfaexec_duration_is_refused() {
    let s = Sandbox::standard();
    let out = s
        .run(["prod", "--", "true"])
        .env("MFAEXEC_DURATION", "abc")
        .failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &["MFAEXEC_DURATION", "`abc`", "not a duration"]);
    has(&hint, &["MFAEXEC_DURATION=12h"]);
    calls(&s, 0);
}

#[test]
fn a_code_of_five_digits_is_a_usage_error() {
    let s = Sandbox::standard();
    let out = s.run(["prod", "-t", "12345", "--", "true"]).failure(2);
    let (message, hint) = refusal(&out);
    has(&message, &["--token-code", "6 digits"]);
    has(&hint, &["-t 123456"]);
    calls(&s, 0);
}

#[test]
fn a_malformed_sts_timeout_is_refused_before_any_call() {
    for (value, words) in [
        (
            "abc",
            &["MFAEXEC_STS_TIMEOUT", "`abc`", "not a duration"][..],
        ),
        ("0", &["MFAEXEC_STS_TIMEOUT", "more than 0s"][..]),
    ] {
        let s = Sandbox::standard();
        let out = s
            .run(["prod", "-t", &s.code(), "--", "true"])
            .env("MFAEXEC_STS_TIMEOUT", value)
            .failure(1);
        out.one_line_error();
        has(&out.stderr(), words);
        calls(&s, 0);
    }
}

/// Runs mfaexec in a new session, so it has no controlling terminal even when the tests run
/// from one (a new process group alone keeps the terminal, and a prompt there would stop the
/// test).
fn run_without_terminal(s: &Sandbox, args: &[&str]) -> Out {
    use std::os::unix::process::CommandExt;
    let mut cmd = s.command(args);
    cmd.current_dir(s.path("."))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setsid is async-signal-safe, and the closure touches nothing else.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(drop)
                .map_err(std::io::Error::from)
        });
    }
    Out(cmd.output().expect("run mfaexec"))
}

#[test]
fn no_code_and_no_terminal() {
    let s = Sandbox::standard();
    let out = run_without_terminal(&s, &["prod", "--", "true"]);
    assert_eq!(out.code(), Some(1), "{}", out.stderr());
    let (message, hint) = refusal(&out);
    has(
        &message,
        &["MFA code is needed", &s.serial(), "no terminal"],
    );
    has(&hint, &["-t CODE"]);
    calls(&s, 0);
}

#[test]
fn temporary_keys_without_a_role_are_refused_locally() {
    let s = Sandbox::standard();
    s.append_config(
        "\n[profile tempkeys]\naws_access_key_id = ASIATEMPORARYKEY0002\n\
         aws_secret_access_key = SECRETTEMPsecretsecretsecret\naws_session_token = TOKENTEMPtokentoken\n",
    );
    let out = s.run(["tempkeys", "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(
        &message,
        &[
            "profile `tempkeys`",
            "temporary credentials",
            "aws_session_token",
            "no role_arn",
        ],
    );
    has(&hint, &["AWS_PROFILE=tempkeys", "source_profile"]);
    calls(&s, 0);
}

#[test]
fn an_unknown_profile_suggests_the_closest_name() {
    let s = Sandbox::standard();
    let out = s.run(["prdo", "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(&message, &["profile `prdo`", "does not exist"]);
    has(&hint, &["did you mean `prod`?"]);
    calls(&s, 0);
}

#[test]
fn a_source_profile_loop_is_named() {
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[profile ping]\nrole_arn = {ADMIN}\nsource_profile = pong\n\n\
         [profile pong]\nrole_arn = {ADMIN}\nsource_profile = ping\n"
    ));
    let out = s.run(["ping", "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(
        &message,
        &["profile `ping`", "loop", "ping -> pong -> ping"],
    );
    has(&hint, &["source_profile", "aws_access_key_id"]);
    calls(&s, 0);
}

#[test]
fn a_missing_source_profile_is_named() {
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[profile orphan]\nrole_arn = {ADMIN}\nsource_profile = defualt\n"
    ));
    let out = s.run(["orphan", "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(
        &message,
        &[
            "profile `orphan`",
            "source_profile `defualt`",
            "does not exist",
        ],
    );
    has(&hint, &["`default`"]);
    calls(&s, 0);
}

#[test]
fn credential_source_ec2_instance_metadata_is_not_supported() {
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[profile onec2]\nrole_arn = {ADMIN}\ncredential_source = Ec2InstanceMetadata\n"
    ));
    let out = s.run(["onec2", "--", "true"]).failure(1);
    let (message, hint) = refusal(&out);
    has(
        &message,
        &["profile `onec2`", "Ec2InstanceMetadata", "not supported"],
    );
    has(
        &hint,
        &["source_profile", "credential_source = Environment"],
    );
    calls(&s, 0);
}

// ---------------------------------------------------------------------------------------------
// -v
// ---------------------------------------------------------------------------------------------

#[test]
fn verbose_shows_the_steps_and_no_secret() {
    let s = Sandbox::standard();
    let code = s.code();
    let out = s.run(["prod", "-v", "-t", &code, "--", "true"]).success();
    let err = out.stderr();
    let issued = &s.sts.issued()[0];
    has(
        &err,
        &[
            "calling sts:AssumeRole",
            ADMIN,
            &s.alice.access_key_id,
            "profile `default`",
            &s.serial(),
            "mfaexec-alice",
            "12h",
            &issued.access_key_id,
            "exec ",
        ],
    );
    assert!(err.lines().all(|l| l.starts_with("mfaexec: ")), "{err}");
    assert_no_secret(&err);
    assert_no_secret(&out.stdout());
    assert!(!err.contains(&code), "the MFA code is not logged:\n{err}");
    calls(&s, 1);
}

#[test]
fn sts_side_chaining_and_session_credential_refusals_are_explained() {
    // mfaexec refuses both before any call when it can tell; these are the answers STS gives
    // when it cannot (a role's limits or a key's kind changed behind mfaexec's back).
    let s = Sandbox::standard();
    s.sts.inject(error(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    ));
    let out = s.run(["prod", "-t", &s.code(), "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has("role chaining limits sessions to 1h")
        .stderr_has("source_profile");
    s.sts.inject(error(
        403,
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
    ));
    let out = s.run(["default", "-t", &s.code(), "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has("is temporary, and GetSessionToken needs long-term keys")
        .stderr_has(&s.alice.access_key_id);
}
