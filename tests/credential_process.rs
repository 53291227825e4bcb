//! `mfaexec credential-process` (issue 6): the JSON a real AWS CLI accepts, the cache shared
//! with the other commands, no terminal, one prompt and one call for processes started
//! together, and profiles whose credential_process leads back to mfaexec.

use std::process::Child;
use std::time::{Duration, Instant};

use crate::support::aws_cli::{aws, caller_arn};
use crate::support::pty::Terminal;
use crate::support::*;

fn bin_text() -> String {
    shell_words::quote(&bin().display().to_string()).into_owned()
}

#[test]
fn prints_the_credential_process_json_of_a_new_session() {
    let s = Sandbox::standard();
    let code = s.code();
    let out = s.run(["credential-process", "prod", "-t", &code]).success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    let issued = &s.sts.issued()[0];
    assert_eq!(v["Version"], 1);
    assert_eq!(v["AccessKeyId"], issued.access_key_id.as_str());
    assert_eq!(v["SecretAccessKey"], issued.secret_access_key.as_str());
    assert_eq!(v["SessionToken"], issued.session_token.as_str());
    let expiration = v["Expiration"].as_str().unwrap();
    assert_eq!(
        expiration,
        crate::support::fake_sts::rfc3339(issued.expiration_unix)
    );
    assert_eq!(v.as_object().unwrap().len(), 5, "{v}");
    assert_eq!(out.stdout().lines().count(), 1, "one JSON object");
    out.stderr_has("mfaexec: new session for prod (role admin in 222222222222)");
    assert_no_secret(&out.stderr());
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
}

#[test]
fn shares_the_cache_with_the_other_commands() {
    let s = Sandbox::standard();
    let code = s.code();
    let first = s
        .run(["prod", "-t", &code, "--", "printenv", "AWS_ACCESS_KEY_ID"])
        .success();
    // No code and no terminal: only the cache can answer, silently.
    let out = s.run(["credential-process", "prod"]).success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(v["AccessKeyId"].as_str().unwrap(), first.stdout().trim());
    assert_eq!(out.stderr(), "");
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn the_aws_cli_accepts_it_as_credential_process() {
    let s = Sandbox::standard();
    let code = s.code();
    // The first run is a new session (the code is on the line, as a test can do); the second
    // is a cache hit, where that used code is not sent again.
    s.append_config(&format!(
        "\n[profile prod-tools]\ncredential_process = {} credential-process prod -t {code}\nregion = eu-west-1\n",
        bin_text()
    ));
    let arn = caller_arn(&s, "prod-tools");
    assert!(
        arn.starts_with("arn:aws:sts::222222222222:assumed-role/admin/"),
        "{arn}"
    );
    assert_eq!(caller_arn(&s, "prod-tools"), arn);
    let calls = s.calls();
    assert_eq!(of(&calls, "AssumeRole").len(), 1, "{calls:#?}");
    let identity = of(&calls, "GetCallerIdentity");
    assert_eq!(identity.len(), 2);
    let issued = &s.sts.issued()[0];
    for call in &identity {
        assert_eq!(call.access_key_id, issued.access_key_id);
        assert_eq!(
            call.session_token.as_deref(),
            Some(issued.session_token.as_str())
        );
    }
}

#[test]
fn with_no_terminal_and_no_cached_session_it_fails_at_once() {
    let s = Sandbox::standard();
    let start = Instant::now();
    let out = s.run(["credential-process", "prod"]).failure(1);
    assert!(start.elapsed() < Duration::from_secs(5));
    out.one_line_error()
        .stderr_has("profile `prod` has no cached session, and an MFA code is needed for arn:aws:iam::111111111111:mfa/alice, but there is no terminal to ask on")
        .stderr_has("hint: run `mfaexec credential-process prod` once in a terminal");
    assert_eq!(out.stdout(), "");
    assert!(s.calls().is_empty());

    // The same under the AWS CLI: its error carries mfaexec's, and nothing hangs.
    s.append_config(&format!(
        "\n[profile prod-tools]\ncredential_process = {} credential-process prod\n",
        bin_text()
    ));
    let start = Instant::now();
    let out = aws(
        &s,
        &[
            "sts",
            "get-caller-identity",
            "--profile",
            "prod-tools",
            "--region",
            "eu-west-1",
        ],
    );
    assert!(!out.0.status.success());
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(
        out.stderr().contains("there is no terminal to ask on"),
        "{}",
        out.stderr()
    );
    assert!(s.calls().is_empty());
}

#[test]
fn concurrent_calls_make_one_sts_call() {
    let s = Sandbox::standard();
    let code = s.code();
    let children: Vec<Child> = (0..8)
        .map(|_| s.spawn(&["credential-process", "prod", "-t", &code]))
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let issued = &s.sts.issued()[0].access_key_id;
    for out in &outputs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_no_secret(&stderr);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["AccessKeyId"].as_str().unwrap(), issued);
    }
    assert_eq!(s.calls().len(), 1, "{:#?}", s.calls());
}

#[test]
fn concurrent_calls_on_terminals_prompt_once() {
    let s = Sandbox::standard();
    let argv = ["credential-process", "prod"];
    let mut terminals: Vec<Terminal> = (0..3).map(|_| s.terminal(&argv)).collect();
    // Whichever got the lock asks; the others wait for it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let asking = loop {
        if let Some(i) = terminals
            .iter()
            .position(|t| t.screen().contains("Enter MFA code"))
        {
            break i;
        }
        assert!(Instant::now() < deadline, "no prompt appeared");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Give the others time to reach the lock (and say they wait).
    std::thread::sleep(Duration::from_millis(1500));
    terminals[asking].send_line(&s.code());
    let screens: Vec<String> = terminals
        .into_iter()
        .map(|t| {
            let (status, screen) = t.finish();
            assert_eq!(status, Some(0), "{screen}");
            screen
        })
        .collect();
    let prompts: usize = screens
        .iter()
        .map(|screen| screen.matches("Enter MFA code").count())
        .sum();
    assert_eq!(prompts, 1, "{screens:#?}");
    let issued = &s.sts.issued()[0].access_key_id;
    for screen in &screens {
        assert!(screen.contains("\"Version\":1"), "{screen}");
        assert!(screen.contains(issued.as_str()), "{screen}");
    }
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn a_credential_process_leading_back_to_itself_is_refused() {
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[profile prod-tools]\ncredential_process = {} credential-process prod-tools\n",
        bin_text()
    ));
    let out = s.run(["credential-process", "prod-tools"]).failure(1);
    out.one_line_error()
        .stderr_has("mfaexec: profile `prod-tools`: its credential_process runs `mfaexec credential-process prod-tools`, which leads back to itself (prod-tools -> prod-tools)")
        .stderr_has("hint: point it at the profile that has role_arn and mfa_serial, not at `prod-tools`: credential_process = mfaexec credential-process prod");
    // Any command naming it says the same, before any call.
    s.run(["prod-tools", "--", "true"])
        .failure(1)
        .stderr_has("leads back to itself");
    assert!(s.calls().is_empty());

    // Through the AWS CLI: one refusal, no endless chain of mfaexec runs.
    let start = Instant::now();
    let out = aws(
        &s,
        &[
            "sts",
            "get-caller-identity",
            "--profile",
            "prod-tools",
            "--region",
            "eu-west-1",
        ],
    );
    assert!(!out.0.status.success());
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(
        out.stderr().contains("leads back to itself"),
        "{}",
        out.stderr()
    );
    assert!(s.calls().is_empty());
}

#[test]
fn a_chain_leading_back_through_mfaexec_is_refused() {
    let s = Sandbox::standard();
    let bin = bin_text();
    // A role whose source runs mfaexec for the role itself.
    s.append_config(&format!(
        "\n[profile loop-role]\nrole_arn = {ADMIN}\nsource_profile = loop-keys\n\
         [profile loop-keys]\ncredential_process = {bin} credential-process loop-role --duration 1h\n\
         [profile bare]\ncredential_process = {bin} credential-process\n"
    ));
    s.run(["credential-process", "loop-role"])
        .failure(1)
        .one_line_error()
        .stderr_has("mfaexec: profile `loop-keys` (source of profile `loop-role`): its credential_process runs `mfaexec credential-process loop-role`, which leads back to itself (loop-role -> loop-keys -> loop-role)")
        .stderr_has("credential_process = mfaexec credential-process prod");
    // Two profiles running mfaexec for each other.
    s.append_config(&format!(
        "[profile tick]\ncredential_process = {bin} credential-process tock\n\
         [profile tock]\ncredential_process = {bin} credential-process tick\n"
    ));
    s.run(["credential-process", "tick"])
        .failure(1)
        .one_line_error()
        .stderr_has("(tick -> tock -> tick)");
    // Without a profile, mfaexec would take AWS_PROFILE: the profile itself when selected.
    s.run(["credential-process", "bare"])
        .failure(1)
        .one_line_error()
        .stderr_has("runs mfaexec without naming a profile");
    assert!(s.calls().is_empty());
}

#[test]
fn a_profile_using_mfaexec_for_another_profile_names_that_profile() {
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[profile prod-tools]\ncredential_process = {} credential-process prod\n\
         [profile tools-deploy]\nrole_arn = {DEPLOY}\nsource_profile = prod-tools\n",
        bin_text()
    ));
    s.run(["credential-process", "prod-tools"])
        .failure(1)
        .one_line_error()
        .stderr_has("mfaexec: profile `prod-tools` gets its credentials from `mfaexec credential-process prod`, which is for the AWS CLI and SDKs")
        .stderr_has("hint: name `prod` instead of `prod-tools`");
    s.run(["credential-process", "tools-deploy"])
        .failure(1)
        .one_line_error()
        .stderr_has("hint: in profile `tools-deploy`, write `source_profile = prod` instead of `prod-tools`");
    assert!(s.calls().is_empty());
}

#[test]
fn dry_run_makes_no_call() {
    let s = Sandbox::standard();
    let out = s.run(["credential-process", "prod", "--dry-run"]).success();
    out.stdout_has("sts:AssumeRole arn:aws:iam::222222222222:role/admin");
    assert!(s.calls().is_empty());
}

// See: issue 18, defect 12: a wrapper script around `mfaexec credential-process` hid the loop
// from the check of the files; it went 25 levels deep, and with the cache on each level
// waited a minute on its own lock.
#[test]
fn a_wrapper_script_leading_back_to_mfaexec_stops_at_the_first_level() {
    use std::os::unix::fs::PermissionsExt;
    let s = Sandbox::standard();
    let wrapper = s.path("wrapper.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho run >> '{}'\nexec {} credential-process loop-role\n",
            s.path("runs").display(),
            bin_text()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.append_config(&format!(
        "\n[profile loop-role]\nrole_arn = {ADMIN}\nsource_profile = loop-keys\nmfa_serial = {}\n\
         [profile loop-keys]\ncredential_process = {}\n",
        s.serial(),
        wrapper.display()
    ));
    let code = s.code();
    let start = Instant::now();
    let out = s
        .run(["credential-process", "loop-role", "-t", &code])
        .failure(1);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    out.stderr_has("mfaexec: profile `loop-role`: this mfaexec was started by an mfa_process or credential_process of another mfaexec (MFAEXEC_DEPTH=1), which waits for it")
        .stderr_has("the credential_process of profile `loop-keys` failed with exit status 1");
    let runs = std::fs::read_to_string(s.path("runs")).unwrap_or_default();
    assert_eq!(
        runs.lines().count(),
        1,
        "the wrapper ran {} times",
        runs.lines().count()
    );
    assert!(s.calls().is_empty());
}
