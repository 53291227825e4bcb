//! `mfa_process` (issue 6): the MFA code from a command (aws-vault's key), inherited like
//! mfa_serial, after `-t` and before the prompt; each way it can fail said clearly, without its
//! output; a refused code retried once, with the next TOTP window, never in a loop.

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::support::totp;
use crate::support::*;

/// Writes an executable script in the sandbox and returns its path, for `mfa_process = PATH`.
fn script(s: &Sandbox, name: &str, body: &str) -> PathBuf {
    let path = s.path(&format!("bin/{name}"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A code from `hours_back` hours ago, which the fake refuses.
fn stale_code(s: &Sandbox, hours_back: u64) -> String {
    totp::code_at(&s.alice.totp_seed, s.sts.now() - hours_back * 3600)
}

/// Runs of a script that appends a line to `runs` each time.
fn runs(s: &Sandbox) -> usize {
    std::fs::read_to_string(s.path("runs"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn the_code_comes_from_mfa_process() {
    let s = Sandbox::standard();
    let code = s.code();
    // Whitespace and line breaks around the code are fine.
    std::fs::write(s.path("code"), format!("  {code} \r\n\n")).unwrap();
    let cat = format!("cat '{}'", s.path("code").display());
    s.mfa_process_on_prod(&cat);
    let out = s.run(["env", "prod", "--format", "json", "-v"]).success();
    out.stderr_has("mfaexec: running the mfa_process of profile `prod`");
    assert_no_secret(&out.stderr());
    let calls = s.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].params["TokenCode"], code);
}

#[test]
fn mfa_process_is_inherited_like_mfa_serial() {
    let s = Sandbox::standard();
    let bin = script(
        &s,
        "otp",
        &format!(
            "echo run >> '{}'\ncat '{}'",
            s.path("runs").display(),
            s.path("code").display()
        ),
    );
    // On [default], the source profile: `short` (no mfa_serial of its own) and `prod` (its own
    // mfa_serial) both take it from there.
    let config = s.config_text();
    s.config(&config.replacen(
        "[default]\n",
        &format!("[default]\nmfa_process = {}\n", bin.display()),
        1,
    ));
    for profile in ["short", "prod"] {
        let code = s.code();
        std::fs::write(s.path("code"), &code).unwrap();
        s.run([profile, "--", "true"]).success();
        assert_eq!(s.calls().last().unwrap().params["TokenCode"], code);
    }
    assert_eq!(runs(&s), 2);
    assert_eq!(s.calls().len(), 2);
}

#[test]
fn token_code_wins_over_mfa_process() {
    let s = Sandbox::standard();
    let bin = script(
        &s,
        "otp",
        &format!("echo run >> '{}'\necho 000000", s.path("runs").display()),
    );
    s.mfa_process_on_prod(&bin.display().to_string());
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"]).success();
    assert_eq!(runs(&s), 0, "mfa_process must not run when -t is given");
    assert_eq!(s.calls()[0].params["TokenCode"], code);
}

#[test]
fn mfa_process_wins_over_the_prompt() {
    let s = Sandbox::standard();
    let code = s.code();
    std::fs::write(s.path("code"), &code).unwrap();
    s.mfa_process_on_prod(&format!("cat '{}'", s.path("code").display()));
    let argv = ["prod", "--", "true"];
    let t = s.terminal(&argv);
    let (status, screen) = t.finish();
    assert_eq!(status, Some(0), "{screen}");
    assert!(!screen.contains("Enter MFA code"), "{screen}");
    assert_eq!(s.calls()[0].params["TokenCode"], code);
}

#[test]
fn each_failure_is_one_clear_line_without_its_output_and_costs_no_call() {
    let s = Sandbox::standard();
    let cases = [
        (
            "exit 3",
            "the mfa_process of profile `prod` failed with exit status 3",
        ),
        (
            "echo 'password: SECRETLONGTERMhunter2'; echo 123456",
            "the mfa_process of profile `prod` printed 2 line(s) but not a 6-digit code alone",
        ),
        (
            "echo AWS SECRETTEMP 123456",
            "the mfa_process of profile `prod` printed 1 line(s) but not a 6-digit code alone",
        ),
        (
            "echo 1234567",
            "the mfa_process of profile `prod` printed 1 line(s) but not a 6-digit code alone",
        ),
        (
            "echo 12345",
            "the mfa_process of profile `prod` printed 1 line(s) but not a 6-digit code alone",
        ),
        ("true", "the mfa_process of profile `prod` printed nothing"),
        (
            "kill -9 $$",
            "the mfa_process of profile `prod` was killed by signal 9",
        ),
    ];
    for (command, message) in cases {
        s.mfa_process_on_prod(command);
        let start = Instant::now();
        let out = s.run(["prod", "--", "true"]).failure(1);
        out.one_line_error()
            .stderr_has(&format!("mfaexec: {message}"))
            .stderr_has("hint: ");
        assert!(start.elapsed() < Duration::from_secs(10));
        std::fs::write(
            s.home().join(".aws/config"),
            s.config_text()
                .replacen(&format!("mfa_process = {command}\n"), "", 1),
        )
        .unwrap();
    }
    // Not found: the shell's own complaint comes first (its stderr is passed through), then
    // mfaexec's line.
    s.mfa_process_on_prod("no-such-otp-tool --single AWS");
    let out = s.run(["prod", "--", "true"]).failure(1);
    out.stderr_has(
        "mfaexec: the mfa_process of profile `prod` failed with exit status 127: its command was not found",
    )
    .stderr_has("hint: check the command's name and that it is on PATH");
    assert_no_secret(&out.stderr());
    assert!(s.calls().is_empty());
}

#[test]
fn its_stdin_is_not_the_commands() {
    let s = Sandbox::standard();
    let code = s.code();
    let bin = script(
        &s,
        "otp",
        &format!("cat > '{}'\necho {code}", s.path("eaten").display()),
    );
    s.mfa_process_on_prod(&bin.display().to_string());
    let out = s
        .run(["prod", "--", "cat"])
        .stdin("for the command\n")
        .success();
    assert_eq!(out.stdout(), "for the command\n");
    assert_eq!(std::fs::read_to_string(s.path("eaten")).unwrap(), "");
}

#[test]
fn concurrent_commands_run_it_once() {
    let s = Sandbox::standard();
    let code = s.code();
    let bin = script(
        &s,
        "otp",
        &format!(
            "echo run >> '{}'\nsleep 0.3\necho {code}",
            s.path("runs").display()
        ),
    );
    s.mfa_process_on_prod(&bin.display().to_string());
    let children: Vec<Child> = (0..8)
        .map(|_| s.spawn(&["credential-process", "prod"]))
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(runs(&s), 1, "one code for all");
    assert_eq!(s.calls().len(), 1);
}

/// A script printing `codes[n]` on its nth run (waiting for a code file the test has not
/// written yet).
fn sequence(s: &Sandbox, codes: &[&str]) -> PathBuf {
    for (i, code) in codes.iter().enumerate() {
        std::fs::write(s.path(&format!("code{}", i + 1)), code).unwrap();
    }
    script(
        s,
        "otp",
        &format!(
            "cd '{}'\necho run >> runs\nn=$(wc -l < runs)\n\
             while [ ! -f code$n ]; do sleep 0.05; done\ncat code$n",
            s.path("").display()
        ),
    )
}

fn finish(child: Child) -> Out {
    Out(child.wait_with_output().unwrap())
}

/// The three ways a refused code goes, run side by side (each waits up to 31s for the next
/// TOTP window): the next code works; the next is refused too, and that is the end; the
/// process prints the same code again, which is not sent.
#[test]
fn a_refused_code_is_retried_once_with_the_next_window_never_more() {
    let (ok, twice, same) = (
        Sandbox::standard(),
        Sandbox::standard(),
        Sandbox::standard(),
    );
    let stale = ok.sts.stale_code(&ok.serial());
    ok.mfa_process_on_prod(&sequence(&ok, &[&stale]).display().to_string());
    let (first, second) = (stale_code(&twice, 1), stale_code(&twice, 2));
    assert_ne!(first, second, "two different refused codes");
    twice.mfa_process_on_prod(
        &sequence(&twice, &[&first, &second, "000000"])
            .display()
            .to_string(),
    );
    let same_stale = same.sts.stale_code(&same.serial());
    same.mfa_process_on_prod(
        &sequence(&same, &[&same_stale, &same_stale, "000000"])
            .display()
            .to_string(),
    );
    let start = Instant::now();
    let children = [
        ok.spawn(&["prod", "--", "true"]),
        twice.spawn(&["prod", "--", "true"]),
        same.spawn(&["prod", "--", "true"]),
    ];
    // The second code is taken once the first was refused, as a device would show it then: it
    // is still good after mfaexec's wait (the fake accepts the previous window's code).
    let deadline = Instant::now() + Duration::from_secs(10);
    while ok.calls().is_empty() {
        assert!(Instant::now() < deadline, "no first call");
        std::thread::sleep(Duration::from_millis(20));
    }
    let code = ok.code();
    std::fs::write(ok.path("code2"), &code).unwrap();
    let [ok_out, twice_out, same_out] = children.map(finish);
    assert!(start.elapsed() <= Duration::from_secs(40));

    // The next window's code works.
    assert!(ok_out.0.status.success(), "{}", ok_out.stderr());
    ok_out
        .stderr_has("mfaexec: the MFA code for arn:aws:iam::111111111111:mfa/alice was refused")
        .stderr_has("s for the next code");
    assert_no_secret(&ok_out.stderr());
    assert_eq!(runs(&ok), 2);
    let calls = of(&ok.calls(), "AssumeRole");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].params["TokenCode"], stale);
    assert_eq!(calls[1].params["TokenCode"], code);

    // Refused again: the end, with the STS error and where the codes came from.
    assert_eq!(twice_out.code(), Some(1));
    let err = twice_out.stderr();
    let last: Vec<&str> = err.lines().rev().take(2).collect();
    assert!(last[1].starts_with("mfaexec: the MFA code for"), "{err}");
    assert!(
        last[0].starts_with("hint: the codes came from the mfa_process of profile `prod`: check that it reads the device of mfa_serial (arn:aws:iam::111111111111:mfa/alice)"),
        "{err}"
    );
    assert_no_secret(&err);
    assert_eq!(runs(&twice), 2);
    assert_eq!(twice.calls().len(), 2);

    // The same code again: not sent.
    assert_eq!(same_out.code(), Some(1));
    same_out.stderr_has(
        "hint: the mfa_process of profile `prod` printed the same code again in the next 30s window",
    );
    assert_eq!(runs(&same), 2);
    assert_eq!(same.calls().len(), 1);
}

#[test]
fn dry_run_names_the_mfa_process() {
    let s = Sandbox::standard();
    s.append_config("\n[profile viaprocess]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = default\nmfa_process = echo 123456\n");
    let out = s.run(["viaprocess", "--dry-run"]).success();
    out.stdout_has("code from the mfa_process of profile `viaprocess`");
    assert!(s.calls().is_empty());
}

#[test]
fn a_process_that_never_finishes_is_stopped_and_its_output_bounded() {
    // See: review finding, an mfa_process waiting for a touch that never comes hung mfaexec
    // (holding the session's lock) for ever.
    let s = Sandbox::standard();
    for command in ["sleep 30", "yes 123456"] {
        s.mfa_process_on_prod(command);
        let start = Instant::now();
        let out = s
            .run(["prod", "--", "true"])
            .env("MFAEXEC_MFA_PROCESS_TIMEOUT", "1")
            .failure(1);
        assert!(start.elapsed() < Duration::from_secs(10), "{command}");
        out.one_line_error()
            .stderr_has("did not finish within 1s")
            .stderr_has("MFAEXEC_MFA_PROCESS_TIMEOUT");
        s.config(
            &s.config_text()
                .replacen(&format!("mfa_process = {command}\n"), "", 1),
        );
    }
    assert!(s.calls().is_empty());
}

// glibc's posix_spawn started the mfa_process (and credential_process) shell with signals 32
// and 33 ignored, as it did the `--server` command (issue 18, defect 15). The helper must
// ignore exactly what mfaexec itself was made to ignore, without the SIGPIPE of Rust programs.
#[test]
fn the_mfa_process_starts_ignoring_no_signal_but_what_mfaexec_was_given() {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let s = Sandbox::standard();
    std::fs::write(s.path("code"), s.code()).unwrap();
    s.mfa_process_on_prod(&format!(
        "grep -e ^SigIgn: /proc/$$/status /proc/$PPID/status > '{}'; cat '{}'",
        s.path("masks").display(),
        s.path("code").display()
    ));
    let out = Command::new("env")
        .arg("--default-signal")
        .arg(bin())
        .args(["prod", "--", "true"])
        .env_clear()
        .envs(s.vars().iter().map(|(k, v)| (k, v)))
        // Forked (std's `gid` path), not posix_spawned: mfaexec starts as from a shell.
        .gid(nix::unistd::getgid().as_raw())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(s.path("masks")).unwrap();
    let masks: Vec<u64> = text
        .lines()
        .map(|l| u64::from_str_radix(l.rsplit('\t').next().unwrap().trim(), 16).unwrap())
        .collect();
    assert_eq!(masks.len(), 2, "{text}");
    let sigpipe = 1 << (13 - 1);
    assert_eq!(
        masks[0],
        masks[1] & !sigpipe,
        "the mfa_process ignores {:016x}, mfaexec {:016x}",
        masks[0],
        masks[1]
    );
}
