//! `mfaexec exec` (and the bare `mfaexec PROFILE -- CMD`): the child, its exit codes and
//! signals, exec replacing mfaexec, the prompt on the terminal, and --dry-run.

use std::process::Stdio;

use crate::support::*;

#[test]
fn child_exit_codes_are_passed_through() {
    let s = Sandbox::standard();
    s.sts.advance_clock(0);
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "sh", "-c", "exit 0"])
        .success();
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "sh", "-c", "exit 7"])
        .failure(7);
}

#[test]
fn child_killed_by_a_signal_is_seen_as_killed_by_that_signal() {
    let s = Sandbox::standard();
    let code = s.code();
    let out = s
        .run(["prod", "-t", &code, "--", "sh", "-c", "kill -TERM $$"])
        .output();
    assert_eq!(out.signal(), Some(15), "{:?}", out.0.status);
}

#[test]
fn mfaexec_replaces_itself_with_the_command() {
    let s = Sandbox::standard();
    let code = s.code();
    let child = s
        .command(["prod", "-t", &code, "--", "sh", "-c", "echo $$"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let shell_pid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(shell_pid, pid, "the command runs in mfaexec's own process");
}

#[test]
fn command_not_found_is_127_and_costs_no_code() {
    let s = Sandbox::standard();
    let out = s
        .run(["prod", "-t", "123456", "--", "terraform-nope", "plan"])
        .failure(127);
    out.one_line_error()
        .stderr_has("mfaexec: command not found: terraform-nope");
    let out = s.run(["prod", "-t", "123456", "--", "./nope"]).failure(127);
    out.one_line_error();
    assert!(s.calls().is_empty(), "a typo must not use up a code");
}

#[test]
fn command_not_executable_is_126() {
    let s = Sandbox::standard();
    let script = s.path("bin/tool");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let path = format!("{}:/usr/bin:/bin", script.parent().unwrap().display());
    s.run(["prod", "-t", "123456", "--", "tool"])
        .env("PATH", &path)
        .failure(126)
        .one_line_error()
        .stderr_has("not executable");
    s.run(["prod", "-t", "123456", "--", script.to_str().unwrap()])
        .failure(126);
    assert!(s.calls().is_empty());
}

#[test]
fn the_command_is_found_on_the_path_and_gets_its_arguments_verbatim() {
    let s = Sandbox::standard();
    let code = s.code();
    let out = s
        .run([
            "prod", "-t", &code, "--", "printf", "%s|", "a b", "--", "-v", "$HOME", "",
        ])
        .success();
    assert_eq!(out.stdout(), "a b|--|-v|$HOME||");
}

#[test]
fn exec_subcommand_reaches_a_profile_named_like_a_subcommand() {
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[profile env]\nrole_arn = {ADMIN}\nsource_profile = default\n"
    ));
    let code = s.code();
    let out = s
        .run([
            "exec",
            "env",
            "-t",
            &code,
            "--",
            "printenv",
            "MFAEXEC_PROFILE",
        ])
        .success();
    assert_eq!(out.stdout(), "env\n");
}

#[test]
fn without_a_profile_aws_profile_is_used() {
    let s = Sandbox::standard();
    let code = s.code();
    let out = s
        .run(["-t", &code, "--", "printenv", "MFAEXEC_PROFILE"])
        .env("AWS_PROFILE", "prod")
        .success();
    assert_eq!(out.stdout(), "prod\n");
    let out = s.run(["--", "true"]).failure(2);
    out.one_line_error().stderr_has("AWS_PROFILE");
}

#[test]
fn without_a_command_the_users_shell_starts() {
    let s = Sandbox::standard();
    let code = s.code();
    let out = s
        .run(["prod", "-t", &code])
        .env("SHELL", "/bin/sh")
        .stdin("echo \"in $MFAEXEC_PROFILE as $AWS_ACCESS_KEY_ID\"\n")
        .success();
    assert_eq!(
        out.stdout(),
        format!("in prod as {}\n", s.sts.issued()[0].access_key_id)
    );
    out.stderr_has("starting /bin/sh");
}

#[test]
fn dry_run_says_everything_and_calls_nothing() {
    let s = Sandbox::standard();
    let out = s
        .run(["prod", "--dry-run", "--", "terraform", "plan"])
        .success();
    for fragment in [
        "sts:AssumeRole arn:aws:iam::222222222222:role/admin",
        &format!("key {} of profile `default`", s.alice.access_key_id),
        &format!("MFA {}", s.serial()),
        "code asked on the terminal",
        "12h (43200s) from duration_seconds of profile `prod`",
        "MaxSessionDuration",
        "eu-west-1 (from profile `prod`)",
        "AWS_SECRET_ACCESS_KEY=****",
        "AWS_SESSION_TOKEN=****",
        "MFAEXEC_PROFILE=prod",
        "AWS_PROFILE",
        "terraform plan",
    ] {
        out.stdout_has(fragment);
    }
    assert_no_secret(&out.stdout());
    assert!(s.calls().is_empty());

    let out = s.run(["deploy", "--dry-run"]).success();
    out.stdout_has("`deploy` (role arn:aws:iam::333333333333:role/deploy) <- `prod`")
        .stdout_has("role chaining")
        .stdout_has("using 1h instead of 12h");
    assert!(s.calls().is_empty());
}

#[test]
fn verbose_says_what_happens_without_secrets() {
    let s = Sandbox::standard();
    let code = s.code();
    let out = s.run(["prod", "-v", "-t", &code, "--", "true"]).success();
    out.stderr_has("calling sts:AssumeRole arn:aws:iam::222222222222:role/admin")
        .stderr_has(&s.alice.access_key_id)
        .stderr_has("exec /usr/bin/true");
    assert_no_secret(&out.stderr());
    assert_no_secret(&out.stdout());
}

#[test]
fn prompt_on_the_terminal_asks_again_for_malformed_codes() {
    let s = Sandbox::standard();
    let argv = ["prod", "--", "printenv", "MFAEXEC_PROFILE"];
    let mut t = s.terminal(&argv);
    let prompt = format!("Enter MFA code for {}: ", s.serial());
    t.expect(&prompt, 1);
    t.send_line("12345");
    t.expect("6 digits", 1);
    t.expect(&prompt, 2);
    assert!(s.calls().is_empty(), "a malformed code is never sent");
    let code = s.code();
    t.send_line(&code);
    let (status, screen) = t.finish();
    assert_eq!(status, Some(0), "{screen}");
    assert!(screen.contains("prod"), "{screen}");
    assert!(!screen.contains(&code), "the code is not echoed: {screen}");
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn a_refused_code_is_asked_again_up_to_three_times() {
    let s = Sandbox::standard();
    let argv = ["prod", "--", "true"];
    let mut t = s.terminal(&argv);
    let prompt = format!("Enter MFA code for {}: ", s.serial());
    for i in 1..=3 {
        t.expect(&prompt, i);
        t.send_line(&s.sts.stale_code(&s.serial()));
    }
    let (status, screen) = t.finish();
    assert_eq!(status, Some(1), "{screen}");
    assert!(screen.contains("wrong or was already used"), "{screen}");
    assert_eq!(s.calls().len(), 3, "one call per typed code, none retried");

    // A right code on the second try succeeds.
    let mut t = s.terminal(&argv);
    t.expect(&prompt, 1);
    t.send_line(&s.sts.stale_code(&s.serial()));
    t.expect("wait for the next code", 1);
    t.expect(&prompt, 2);
    t.send_line(&s.code());
    let (status, screen) = t.finish();
    assert_eq!(status, Some(0), "{screen}");
    assert_eq!(s.calls().len(), 5);
}

#[test]
fn a_closed_stdout_ends_output_quietly() {
    // See: `mfaexec prod --dry-run | head -1` panicked on EPIPE.
    let s = Sandbox::standard();
    for args in [
        &["prod", "--dry-run"][..],
        &["env", "prod", "--dry-run"][..],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = s
            .command(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_command_without_the_double_dash_is_pointed_at_it() {
    let s = Sandbox::standard();
    let out = s.run(["prod", "terraform", "plan"]).failure(2);
    out.one_line_error()
        .stderr_has("unexpected argument `terraform`: the command goes after `--`")
        .stderr_has("hint: mfaexec PROFILE -- terraform");
    assert!(s.calls().is_empty());
}

/// An executable `/bin/sh` script in the sandbox.
fn script(s: &Sandbox, name: &str, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = s.path(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

// See: issue 18, defect 7: the command, the mfa_process and the credential_process all got
// MFAEXEC_FILE_PASSPHRASE, which opens the file store of the long-term keys.
#[test]
fn no_child_sees_the_file_store_passphrase() {
    let s = Sandbox::standard();
    let passphrase = "correct horse battery staple";
    std::fs::write(s.path("code"), s.code()).unwrap();
    let vault = script(
        &s,
        "vault.sh",
        &format!(
            "env > '{}'\nprintf '{{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"}}' {} {}",
            s.path("vault.env").display(),
            s.alice.access_key_id,
            s.alice.secret_access_key
        ),
    );
    let mfa = script(
        &s,
        "mfa.sh",
        &format!(
            "env > '{}'\ncat '{}'",
            s.path("mfa.env").display(),
            s.path("code").display()
        ),
    );
    s.config(&format!(
        "[profile vault]\ncredential_process = {}\n\n\
         [profile prod]\nrole_arn = {ADMIN}\nsource_profile = vault\nmfa_serial = {}\nmfa_process = {}\n",
        vault.display(),
        s.serial(),
        mfa.display()
    ));
    s.credentials("");
    let out = s
        .run(["prod", "--", "env"])
        .env("MFAEXEC_FILE_PASSPHRASE", passphrase)
        .success();
    out.stdout_has("AWS_ACCESS_KEY_ID=");
    for (who, seen) in [
        ("the command", out.stdout()),
        (
            "the credential_process",
            std::fs::read_to_string(s.path("vault.env")).unwrap(),
        ),
        (
            "the mfa_process",
            std::fs::read_to_string(s.path("mfa.env")).unwrap(),
        ),
    ] {
        assert!(
            !seen.contains("MFAEXEC_FILE_PASSPHRASE") && !seen.contains(passphrase),
            "{who} got the passphrase:\n{seen}"
        );
        assert!(seen.contains("HOME="), "{who}: {seen}");
    }
}

/// mfaexec has its own C main (src/sys/startup.rs): it must still do what std's wrapper did with
/// a closed stdout or stdin, opening /dev/null there, so that no file mfaexec opens (the config,
/// a cache entry) takes descriptor 1 and receives what is printed, and the command starts with
/// its three descriptors open.
#[test]
fn closed_stdin_and_stdout_are_opened_on_dev_null_before_any_file() {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    let s = Sandbox::standard();
    let code = s.code();
    let mut cmd = s.command([
        "prod",
        "-t",
        &code,
        "--",
        "sh",
        "-c",
        "fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1); echo \"$fds\" >&2",
    ]);
    cmd.stderr(Stdio::piped());
    // SAFETY: closing a descriptor is async-signal-safe, and the closure touches nothing else.
    unsafe {
        cmd.pre_exec(|| {
            drop(OwnedFd::from_raw_fd(0));
            drop(OwnedFd::from_raw_fd(1));
            Ok(())
        });
    }
    let out = cmd.output().expect("run mfaexec");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // The shell's own descriptors, read from a subshell (a redirection would move the shell's
    // own stdout while readlink runs), after mfaexec's line about the new session.
    let last: Vec<&str> = stderr.lines().skip(1).collect();
    assert_eq!(last, ["/dev/null", "/dev/null"], "{stderr}");
}
