//! The session cache (issue 3): one code per session, safe files, one call under concurrency.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::fake_sts::Role;
use crate::support::*;

fn run_prod(s: &Sandbox) -> Out {
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "printenv", "AWS_ACCESS_KEY_ID"])
        .success()
}

#[test]
fn a_second_call_reuses_the_session_with_no_code_and_no_call() {
    let s = Sandbox::standard();
    let first = run_prod(&s);
    first
        .stderr_has("mfaexec: new session for prod (role admin in 222222222222), expires ")
        .stderr_has("(12h)");
    // No code, no terminal: only the cache can answer.
    let second = s
        .run(["prod", "--", "printenv", "AWS_ACCESS_KEY_ID"])
        .success();
    assert_eq!(second.stdout(), first.stdout());
    assert_eq!(second.stderr(), "", "a hit is silent");
    let third = s.run(["env", "prod", "--format", "json"]).success();
    let v: serde_json::Value = serde_json::from_str(&third.stdout()).unwrap();
    assert_eq!(v["AccessKeyId"].as_str().unwrap(), first.stdout().trim());
    assert_eq!(s.calls().len(), 1);
    let verbose = s.run(["prod", "-v", "--", "true"]).success();
    verbose.stderr_has("using the cached session for prod (role admin in 222222222222)");
    assert_no_secret(&verbose.stderr());
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn files_are_private_and_hold_no_long_term_key() {
    let s = Sandbox::standard();
    run_prod(&s);
    let dir = s.cache_dir();
    assert_eq!(dir.metadata().unwrap().permissions().mode() & 0o777, 0o700);
    let files = s.cache_entries();
    assert_eq!(files.len(), 1);
    let meta = files[0].metadata().unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.uid(), nix_uid());
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains(&s.alice.secret_access_key));
    assert!(text.contains(&s.sts.issued()[0].secret_access_key));
}

fn nix_uid() -> u32 {
    std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap()
}

#[test]
fn sixteen_concurrent_cold_starts_make_one_call() {
    let s = Sandbox::standard();
    let code = s.code();
    let children: Vec<_> = (0..16)
        .map(|_| {
            s.command(["prod", "-t", &code, "--", "printenv", "AWS_ACCESS_KEY_ID"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let calls = s.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0].params["TokenCode"], code);
    let issued = &s.sts.issued()[0].access_key_id;
    for out in &outputs {
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), issued);
    }
    let new_lines = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stderr).contains("new session"))
        .count();
    assert_eq!(new_lines, 1);
}

#[test]
fn refresh_replaces_the_cached_session() {
    let s = Sandbox::standard();
    let first = run_prod(&s);
    let code = s.code();
    let second = s
        .run([
            "prod",
            "-r",
            "-t",
            &code,
            "--",
            "printenv",
            "AWS_ACCESS_KEY_ID",
        ])
        .success();
    assert_ne!(first.stdout(), second.stdout());
    assert_eq!(s.calls().len(), 2);
    let third = s
        .run(["prod", "--", "printenv", "AWS_ACCESS_KEY_ID"])
        .success();
    assert_eq!(
        third.stdout(),
        second.stdout(),
        "the new session was cached"
    );
    assert_eq!(s.cache_entries().len(), 1);
}

#[test]
fn a_session_inside_the_refresh_window_is_replaced() {
    let s = Sandbox::standard();
    run_prod(&s);
    // The session has 12h left: a 13h window puts it inside.
    let out = s
        .run(["prod", "--", "true"])
        .env("MFAEXEC_REFRESH_WINDOW", "13h")
        .failure(1);
    out.stderr_has("no terminal");
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"])
        .env("MFAEXEC_REFRESH_WINDOW", "13h")
        .success();
    assert_eq!(s.calls().len(), 2);
    // The default window (5m) keeps it.
    s.run(["prod", "--", "true"]).success();
    assert_eq!(s.calls().len(), 2);
    s.run(["prod", "--", "true"])
        .env("MFAEXEC_REFRESH_WINDOW", "soon")
        .failure(1)
        .one_line_error();
}

#[test]
fn an_explicit_duration_longer_than_the_cached_session_gets_a_new_one() {
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["prod", "-t", &code, "-d", "1h", "--", "true"])
        .success();
    s.run(["prod", "-d", "30m", "--", "true"]).success();
    assert_eq!(s.calls().len(), 1, "30m fits in the cached session");
    let code = s.code();
    s.run(["prod", "-t", &code, "-d", "2h", "--", "true"])
        .success();
    assert_eq!(s.calls().len(), 2);
    assert_eq!(s.calls()[1].params["DurationSeconds"], "7200");
}

#[test]
fn the_same_explicit_duration_again_reuses_the_session() {
    // See: review finding, a repeated `-d 12h` (alias, credential_process line) missed the
    // cache on every call because the session had a second less than 12h left.
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["prod", "-t", &code, "-d", "12h", "--", "true"])
        .success();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    s.run(["prod", "-d", "12h", "--", "true"]).success();
    s.run(["credential-process", "prod", "-d", "12h"]).success();
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn changing_the_role_in_the_config_gives_a_new_session() {
    let s = Sandbox::standard();
    run_prod(&s);
    s.sts.add_role(Role {
        max_session_duration: 43200,
        trusted: vec![s.alice.arn()],
        ..Role::new("arn:aws:iam::222222222222:role/other")
    });
    let config = s.config_text();
    s.config(&config.replacen(
        &format!("role_arn = {ADMIN}"),
        "role_arn = arn:aws:iam::222222222222:role/other",
        1,
    ));
    s.run(["prod", "--", "true"])
        .failure(1)
        .stderr_has("no terminal");
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"]).success();
    let calls = s.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1].params["RoleArn"],
        "arn:aws:iam::222222222222:role/other"
    );
}

#[test]
fn cache_off_neither_reads_nor_writes() {
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"])
        .env("MFAEXEC_CACHE", "off")
        .success();
    assert!(!s.cache_dir().exists() || s.cache_entries().is_empty());
    run_prod(&s);
    s.run(["prod", "--", "true"])
        .env("MFAEXEC_CACHE", "off")
        .failure(1)
        .stderr_has("no terminal");
    assert_eq!(s.calls().len(), 2);
}

#[test]
fn a_corrupted_entry_is_ignored_and_replaced() {
    let s = Sandbox::standard();
    run_prod(&s);
    let entry = s.cache_entries().remove(0);
    let text = std::fs::read_to_string(&entry).unwrap();
    for damaged in [
        &text[..text.len() / 2],
        "",
        "\0\0\0garbage",
        "{\"version\":1}",
    ] {
        std::fs::write(&entry, damaged).unwrap();
        s.run(["prod", "--", "true"])
            .failure(1)
            .stderr_has("no terminal");
        s.sts.advance_clock(30);
        run_prod(&s);
        let fresh = std::fs::read_to_string(&entry).unwrap();
        assert!(fresh.contains("\"version\":1") && fresh.contains("expiration"));
    }
}

#[test]
fn an_expired_entry_is_left_to_the_next_write() {
    let s = Sandbox::standard();
    run_prod(&s);
    let entry = s.cache_entries().remove(0);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    v["expiration"] = 1_000_000_000.into();
    std::fs::write(&entry, v.to_string()).unwrap();
    let list = s.run(["list", "--json"]).success();
    let profiles: serde_json::Value = serde_json::from_str(&list.stdout()).unwrap();
    let prod = profiles
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "prod")
        .unwrap();
    assert_eq!(prod["session"]["state"], "expired");
    s.run(["prod", "--", "true"]).failure(1);
    // See: issue 10, defect 11: a reader never deletes an entry; the writer replaces it.
    assert!(entry.exists(), "expired entry left for the writer");
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"]).success();
    let fresh: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    assert!(fresh["expiration"].as_i64().unwrap() > 1_000_000_000);
}

#[test]
fn a_symlinked_entry_is_never_read_or_written_through() {
    let s = Sandbox::standard();
    run_prod(&s);
    let entry = s.cache_entries().remove(0);
    let target = s.path("target.json");
    std::fs::copy(&entry, &target).unwrap();
    let before = std::fs::read_to_string(&target).unwrap();
    std::fs::remove_file(&entry).unwrap();
    std::os::unix::fs::symlink(&target, &entry).unwrap();
    // Not read through: the (valid) session behind the link is not used.
    s.run(["prod", "--", "true"])
        .failure(1)
        .stderr_has("no terminal");
    s.sts.advance_clock(30);
    run_prod(&s);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), before);
    assert!(!entry.symlink_metadata().unwrap().file_type().is_symlink());
}

#[test]
fn a_loose_cache_directory_is_refused_with_a_warning() {
    let s = Sandbox::standard();
    std::fs::create_dir_all(s.cache_dir()).unwrap();
    std::fs::set_permissions(s.cache_dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run_prod(&s);
    out.stderr_has("warning: not using the session cache")
        .stderr_has("open to group or others (mode 755)")
        .stderr_has("hint: chmod 700");
    assert!(s.cache_entries().is_empty(), "nothing written");
    s.run(["prod", "--", "true"]).failure(1);
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn a_foreign_cache_directory_is_refused_with_a_warning() {
    let s = Sandbox::standard();
    std::fs::create_dir_all(s.cache_dir()).unwrap();
    let chown = Command::new("chown")
        .args(["12345:12345", s.cache_dir().to_str().unwrap()])
        .status()
        .unwrap();
    assert!(chown.success(), "this test needs root (as in CI) to chown");
    let out = run_prod(&s);
    out.stderr_has("belongs to another user (uid 12345)");
    assert!(s.cache_entries().is_empty());
}

#[test]
fn a_cache_path_that_is_a_symlink_is_refused() {
    let s = Sandbox::standard();
    let elsewhere = s.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::create_dir_all(s.home().join(".cache")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, s.cache_dir()).unwrap();
    run_prod(&s).stderr_has("is not a directory");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn a_process_killed_while_holding_the_lock_does_not_block_the_next() {
    let s = Sandbox::standard();
    let argv = ["prod", "--", "true"];
    let mut t = s.terminal(&argv);
    t.expect("Enter MFA code", 1);
    // It now holds the lock, waiting for the code: kill it with SIGKILL.
    let pid = pid_of_mfaexec(&s);
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    let _ = t.finish();
    let start = Instant::now();
    let out = run_prod(&s);
    assert!(!out.stderr().contains("waiting"), "{}", out.stderr());
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// The pid of the mfaexec process started for this sandbox (matched by its HOME).
pub(crate) fn pid_of_mfaexec(s: &Sandbox) -> u32 {
    let home = format!("HOME={}", s.home().display());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let exe = std::fs::read_link(entry.path().join("exe")).unwrap_or_default();
            // A run that waits for a code is mfaexec-core's, which mfaexec became.
            if exe != bin() && exe != bin().with_file_name("mfaexec-core") {
                continue;
            }
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            if environ.split(|b| *b == 0).any(|v| v == home.as_bytes()) {
                return pid;
            }
        }
        assert!(Instant::now() < deadline, "no mfaexec process found");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_waiting_process_says_so_then_uses_the_session_of_the_lock_holder() {
    let s = Sandbox::standard();
    let argv = ["prod", "--", "true"];
    let mut t = s.terminal(&argv);
    t.expect("Enter MFA code", 1);
    let holder = pid_of_mfaexec(&s);
    let waiter = s
        .command(["prod", "--", "printenv", "AWS_ACCESS_KEY_ID"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    t.send_line(&s.code());
    let (status, screen) = t.finish();
    assert_eq!(status, Some(0), "{screen}");
    let out = waiter.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("waiting for another mfaexec").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("(pid {holder}) getting a session for prod")),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        s.sts.issued()[0].access_key_id
    );
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn waiting_for_the_lock_is_bounded() {
    let s = Sandbox::standard();
    let argv = ["prod", "--", "true"];
    let mut t = s.terminal(&argv);
    t.expect("Enter MFA code", 1);
    let start = Instant::now();
    let out = s
        .run(["prod", "-t", "123456", "--", "true"])
        .env("MFAEXEC_LOCK_TIMEOUT", "2s")
        .failure(1);
    assert!(start.elapsed() < Duration::from_secs(10));
    out.stderr_has("has been getting this session for over 2s");
    t.send_line(&s.code());
    let _ = t.finish();
}

#[test]
fn leftovers_of_an_interrupted_write_do_not_matter() {
    let s = Sandbox::standard();
    run_prod(&s);
    let dir = s.cache_dir();
    // A writer killed before its rename leaves a temporary file; an old one is swept.
    let temp = dir.join(".tmp-0123456789abcdef-99999-000000000-0");
    std::fs::write(&temp, "{\"version\":1,\"prof").unwrap();
    s.run(["prod", "--", "true"]).success();
    let file = std::fs::File::options().write(true).open(&temp).unwrap();
    file.set_modified(std::time::SystemTime::now() - Duration::from_secs(7200))
        .unwrap();
    drop(file);
    s.sts.advance_clock(30);
    let code = s.code();
    s.run(["prod", "-r", "-t", &code, "--", "true"]).success();
    assert!(!temp.exists(), "stale temporary file removed");
    assert_eq!(s.cache_entries().len(), 1);
}

#[test]
fn list_shows_every_profile_with_its_session_state() {
    let s = Sandbox::standard();
    run_prod(&s);
    let out = s.run(["list"]).success();
    let text = out.stdout();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("PROFILE"), "{text}");
    let prod = lines.iter().find(|l| l.starts_with("prod ")).unwrap();
    assert!(prod.contains("role"), "{prod}");
    assert!(prod.contains(ADMIN), "{prod}");
    assert!(prod.contains("default"), "{prod}");
    assert!(
        prod.contains("valid, 11h59m left") || prod.contains("valid, 12h left"),
        "{prod}"
    );
    let default = lines.iter().find(|l| l.starts_with("default ")).unwrap();
    assert!(
        default.contains("session") && default.contains(&s.serial()) && default.ends_with("none"),
        "{default}"
    );
    let deploy = lines.iter().find(|l| l.starts_with("deploy ")).unwrap();
    assert!(
        deploy.contains(DEPLOY) && deploy.contains("prod") && deploy.ends_with("none"),
        "{deploy}"
    );

    let names = s.run(["list", "--names"]).success();
    assert_eq!(names.stdout(), "default\ndeploy\nlocked\nprod\nshort\n");

    let json = s.run(["list", "--json"]).success();
    let v: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    let prod = v
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "prod")
        .unwrap();
    assert_eq!(prod["kind"], "role");
    assert_eq!(prod["target"], ADMIN);
    assert_eq!(prod["source"], "default");
    assert_eq!(prod["session"]["state"], "valid");
    assert!(prod["session"]["seconds_left"].as_u64().unwrap() > 43000);
    assert_eq!(
        prod["session"]["expiration"],
        fake_sts::rfc3339(s.sts.issued()[0].expiration_unix)
    );
    assert_no_secret(&json.stdout());
    assert_eq!(s.calls().len(), 1, "list makes no call");
}

#[test]
fn clear_deletes_named_or_all_sessions_and_says_how_many() {
    let s = Sandbox::standard();
    run_prod(&s);
    let code = s.code();
    s.run(["short", "-t", &code, "--", "true"]).success();
    assert_eq!(s.cache_entries().len(), 2);
    let out = s.run(["clear", "prod"]).success();
    assert_eq!(out.stdout(), "cleared 1 cached session\n");
    assert_eq!(s.cache_entries().len(), 1);
    s.run(["prod", "--", "true"])
        .failure(1)
        .stderr_has("no terminal");
    let out = s.run(["clear", "prdo"]).failure(1);
    out.one_line_error().stderr_has("did you mean `prod`?");
    s.sts.advance_clock(30);
    run_prod(&s);
    let out = s.run(["clear"]).success();
    assert_eq!(out.stdout(), "cleared 2 cached sessions\n");
    assert!(s.cache_entries().is_empty());
    let out = s.run(["clear"]).success();
    assert_eq!(out.stdout(), "cleared 0 cached sessions\n");
}

#[test]
fn dry_run_tells_whether_the_cache_would_answer() {
    let s = Sandbox::standard();
    s.run(["prod", "--dry-run"])
        .success()
        .stdout_has("cache       no session yet");
    run_prod(&s);
    s.run(["prod", "--dry-run"])
        .success()
        .stdout_has("cache       a session of profile `prod`, ");
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn an_unusable_lock_file_means_no_cache_not_a_failure() {
    let s = Sandbox::standard();
    run_prod(&s);
    let entry = s.cache_entries().remove(0);
    let lock = entry.with_extension("lock");
    assert!(lock.exists(), "the lock file sits beside the entry");
    std::fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(s.path("elsewhere"), &lock).unwrap();
    s.run(["clear"]).success();
    let out = run_prod(&s);
    out.stderr_has("warning: not using the session cache");
    assert!(
        !s.path("elsewhere").exists(),
        "nothing created through the link"
    );
    assert!(
        s.cache_entries().is_empty(),
        "nothing cached without the lock"
    );
    assert_eq!(s.calls().len(), 2);
}

#[test]
fn writers_killed_at_random_moments_leave_the_cache_usable() {
    // Issue 3: a crash or SIGKILL at any moment leaves the old entry or the new one. Each run
    // refreshes a session (GetSessionToken, no code needed) and is killed after 0..20ms, so
    // some die before, some during and some after their write.
    let s = Sandbox::standard();
    s.credentials(&format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n\
         [plain]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        s.alice.access_key_id,
        s.alice.secret_access_key,
        s.alice.access_key_id,
        s.alice.secret_access_key
    ));
    s.run(["plain", "--", "true"]).success();
    let mut seed = 0x2545_f491_u64;
    for _ in 0..40 {
        let mut child = s
            .command(["plain", "-r", "--", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % 20_000));
        let _ = child.kill();
        let _ = child.wait();
    }
    for path in s.cache_entries() {
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is damaged ({e}): {text:?}", path.display()));
        assert!(v["expiration"].as_i64().is_some());
    }
    let before = s.calls().len();
    s.run(["plain", "--", "true"]).success();
    assert_eq!(s.calls().len(), before, "the surviving entry is used");
}
