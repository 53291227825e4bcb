//! Long-term keys out of plaintext (issue 9): the key stores (a real gnome-keyring on a private
//! D-Bus, checked with `secret-tool`; the age-encrypted file), `add`, `import`, `remove`, and a
//! profile's credential_process as the source of its keys.

use std::time::{Duration, Instant};

use crate::support::aws_cli::aws_program;
use crate::support::keyring::Keyring;
use crate::support::*;

/// What the Secret Service item holds for a stored key.
fn stored(s: &Sandbox) -> String {
    format!("{}\n{}", s.alice.access_key_id, s.alice.secret_access_key)
}

/// A sandbox whose role profile `prod` takes its keys from profile `alice`, which has none in
/// the files.
fn alice_in_no_file() -> Sandbox {
    let s = Sandbox::standard();
    s.prod_from_alice_in_no_file();
    s
}

fn index(s: &Sandbox) -> String {
    std::fs::read_to_string(s.key_ids_file()).unwrap_or_default()
}

#[test]
fn add_from_stdin_tests_the_key_and_stores_it_in_the_secret_service() {
    let mut s = alice_in_no_file();
    let keyring = Keyring::start(&mut s);
    let out = s.run(["add", "alice"]).stdin(&s.key_lines()).success();
    out.stderr_has("stored key")
        .stderr_has(&s.alice.access_key_id)
        .stderr_has("secret-service store");
    assert_no_secret(&out.stderr());
    assert_eq!(
        keyring.lookup("alice").as_deref(),
        Some(stored(&s).as_str())
    );
    // One GetCallerIdentity, signed by the new key; no MFA.
    let calls = s.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].action, "GetCallerIdentity");
    assert_eq!(calls[0].access_key_id, s.alice.access_key_id);
    // The profile did not exist: added to the config, every other byte kept.
    let config = s.config_text();
    assert!(config.starts_with("[profile prod]\n"), "{config}");
    assert!(
        config.ends_with("region = eu-west-1\n[profile alice]\n"),
        "{config}"
    );
    assert_eq!(
        index(&s),
        format!("alice\tsecret-service\t{}\n", s.alice.access_key_id)
    );
    let list = s.run(["list"]).success().stdout();
    let row = list
        .lines()
        .find(|l| l.starts_with("alice "))
        .unwrap_or_default();
    assert!(row.contains(" static "), "{list}");
    assert!(
        row.contains(&format!("secret-service {}", s.alice.access_key_id)),
        "{list}"
    );
    // The stored key signs the AssumeRole of a chain.
    let code = s.code();
    s.run(["env", "prod", "-t", &code]).success();
    let assume = of(&s.calls(), "AssumeRole");
    assert_eq!(assume.len(), 1);
    assert_eq!(assume[0].access_key_id, s.alice.access_key_id);
}

#[test]
fn add_with_a_wrong_key_stores_nothing() {
    let mut s = alice_in_no_file();
    let keyring = Keyring::start(&mut s);
    let config_before = std::fs::read(s.home().join(".aws/config")).unwrap();
    // The fake knows keys by their id (it does not check signatures): a key it never issued.
    let wrong = "AKIANOTANISSUEDKEY01\nSECRETLONGTERMnotthekey\n";
    let out = s.run(["add", "alice"]).stdin(wrong).failure(1);
    out.one_line_error()
        .stderr_has("access key AKIANOTANISSUEDKEY01 (profile `alice`) is not valid")
        .stderr_has("nothing was stored");
    assert_no_secret(&out.stderr());
    assert_eq!(keyring.lookup("alice"), None);
    assert_eq!(index(&s), "");
    assert_eq!(
        std::fs::read(s.home().join(".aws/config")).unwrap(),
        config_before
    );
    assert_eq!(of(&s.calls(), "GetCallerIdentity").len(), 1);
}

#[test]
fn add_names_get_caller_identity_when_sts_fails() {
    let mut s = alice_in_no_file();
    let keyring = Keyring::start(&mut s);
    s.sts.inject(crate::support::fake_sts::Fault::Status(501));
    s.run(["add", "alice"])
        .stdin(&s.key_lines())
        .failure(1)
        .one_line_error()
        .stderr_has("mfaexec: STS failed with HTTP 501 for GetCallerIdentity; nothing was stored");
    assert_eq!(keyring.lookup("alice"), None);
    assert_eq!(index(&s), "");
    let calls = s.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].action, "GetCallerIdentity");
    assert_eq!(calls[0].status, 501);
}

#[test]
fn add_from_a_terminal_asks_for_the_secret_without_echo() {
    let mut s = alice_in_no_file();
    let keyring = Keyring::start(&mut s);
    let mut term = s.terminal(&["add", "alice"]);
    term.expect("Access key ID:", 1);
    term.send_line(&s.alice.access_key_id);
    term.expect("Secret access key:", 1);
    term.send_line(&s.alice.secret_access_key);
    let (code, screen) = term.finish();
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("stored key"), "{screen}");
    assert!(
        !screen.contains(&s.alice.secret_access_key),
        "the secret was echoed:\n{screen}"
    );
    assert_eq!(
        keyring.lookup("alice").as_deref(),
        Some(stored(&s).as_str())
    );
}

#[test]
fn add_refuses_a_profile_with_keys_in_the_files_and_points_to_import() {
    let mut s = Sandbox::standard();
    let keyring = Keyring::start(&mut s);
    s.run(["add", "default"])
        .stdin(&s.key_lines())
        .failure(1)
        .one_line_error()
        .stderr_has("profile `default` already has keys in the AWS files")
        .stderr_has("hint: move them into the key store with `mfaexec import default`");
    assert_eq!(keyring.lookup("default"), None);
    assert!(s.calls().is_empty());
}

#[test]
fn import_moves_the_keys_keeping_every_other_byte() {
    let mut s = Sandbox::standard();
    let keyring = Keyring::start(&mut s);
    let (id, secret) = (&s.alice.access_key_id, &s.alice.secret_access_key);
    let before = format!(
        "# my keys\r\n[default]\r\n; alice, the IAM user\r\naws_access_key_id = {id}\r\naws_secret_access_key = {secret}\r\nregion = eu-west-1\r\n\r\n\
         [other]\r\naws_access_key_id=AKIAOTHEROTHEROTHER1\r\naws_secret_access_key=SECRETLONGTERMother\r\n\r\n\
         # temporary ones stay\r\n[temp]\r\naws_access_key_id = ASIAXXXXXXXXXXXXXXXX\r\naws_secret_access_key = tempsecret\r\naws_session_token = temptoken\r\n# the end, no final newline"
    );
    s.credentials(&before);
    let out = s.run(["import", "--all"]).success();
    out.stderr_has("moved key")
        .stderr_has("AKIAOTHEROTHEROTHER1");
    assert_no_secret(&out.stderr());
    let after = s.credentials_text();
    assert_eq!(
        after,
        "# my keys\r\n[default]\r\n; alice, the IAM user\r\nregion = eu-west-1\r\n\r\n\r\n\
         # temporary ones stay\r\n[temp]\r\naws_access_key_id = ASIAXXXXXXXXXXXXXXXX\r\naws_secret_access_key = tempsecret\r\naws_session_token = temptoken\r\n# the end, no final newline"
    );
    assert_eq!(
        keyring.lookup("default").as_deref(),
        Some(stored(&s).as_str())
    );
    assert_eq!(
        keyring.lookup("other").as_deref(),
        Some("AKIAOTHEROTHEROTHER1\nSECRETLONGTERMother")
    );
    assert!(s.calls().is_empty(), "import makes no STS call");
    assert_eq!(s.files_holding(secret), "");
}

#[test]
fn import_keeps_a_profile_defined_only_in_the_credentials_file() {
    let mut s = Sandbox::standard();
    let keyring = Keyring::start(&mut s);
    let (id, secret) = (&s.alice.access_key_id, &s.alice.secret_access_key);
    // `other` and `default` exist only in the credentials file; `prod` takes `other`'s keys.
    s.credentials(&format!(
        "[other]\r\naws_access_key_id = {id}\r\naws_secret_access_key = {secret}\r\n\r\n\
         [default]\r\naws_access_key_id = AKIAOTHEROTHEROTHER1\r\naws_secret_access_key = SECRETLONGTERMother\r\n"
    ));
    let config = format!(
        "[profile prod]\nrole_arn = {ADMIN}\nsource_profile = other\nmfa_serial = {}\nregion = eu-west-1\n",
        s.serial()
    );
    s.config(&config);
    s.run(["import", "--all"])
        .success()
        .stderr_has("added [profile other] to")
        .stderr_has("added [default] to");
    assert_eq!(s.credentials_text(), "\r\n");
    assert_eq!(
        s.config_text(),
        format!("{config}[default]\n[profile other]\n")
    );
    assert_eq!(
        keyring.lookup("other").as_deref(),
        Some(stored(&s).as_str())
    );
    let list = s.run(["list"]).success().stdout();
    assert!(list.contains("other") && list.contains("default"), "{list}");
    s.run(["prod", "-t", &s.code(), "--", "true"]).success();
    let assume = of(&s.calls(), "AssumeRole");
    assert_eq!(assume.len(), 1);
    assert_eq!(&assume[0].access_key_id, id);
    assert_eq!(assume[0].status, 200);
}

#[test]
fn import_keeps_a_comment_of_a_section_it_empties() {
    let mut s = Sandbox::standard();
    let keyring = Keyring::start(&mut s);
    let (id, secret) = (&s.alice.access_key_id, &s.alice.secret_access_key);
    s.credentials(&format!(
        "[cm]\n# laptop key, expires 2027 -- ask ops\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
    ));
    s.append_config(&format!(
        "\n[profile viacm]\nrole_arn = {ADMIN}\nsource_profile = cm\nmfa_serial = {}\n",
        s.serial()
    ));
    s.run(["import", "cm"]).success();
    assert_eq!(
        s.credentials_text(),
        "[cm]\n# laptop key, expires 2027 -- ask ops\n"
    );
    assert_eq!(keyring.lookup("cm").as_deref(), Some(stored(&s).as_str()));
    s.run(["viacm", "-t", &s.code(), "--", "true"]).success();
    let assume = of(&s.calls(), "AssumeRole");
    assert_eq!(assume.len(), 1);
    assert_eq!(&assume[0].access_key_id, id);
}

#[test]
fn a_bad_index_line_is_named_and_kept_when_the_index_is_rewritten() {
    let mut s = alice_in_no_file();
    let _keyring = Keyring::start(&mut s);
    s.run(["add", "alice"]).stdin(&s.key_lines()).success();
    let path = s.key_ids_file();
    // A typo in the store's name, by hand.
    let bad = format!("alice\tsecret-servic\t{}", s.alice.access_key_id);
    std::fs::write(&path, format!("{bad}\n")).unwrap();
    let calls = s.calls().len();
    s.run(["prod", "-t", &s.code(), "--", "true"])
        .failure(1)
        .one_line_error()
        .stderr_has(&format!(
            "profile `alice`: {} line 1: `{}` is not PROFILE<TAB>STORE<TAB>ACCESS_KEY_ID",
            path.display(),
            bad.escape_default()
        ));
    assert_eq!(s.calls().len(), calls, "no STS call");
    // Another profile's key is stored: the line stays for the user to correct.
    s.run(["add", "bob", "--no-verify"])
        .stdin("AKIAOTHEROTHEROTHER1\nSECRETLONGTERMother\n")
        .success();
    assert_eq!(
        index(&s),
        format!("{bad}\nbob\tsecret-service\tAKIAOTHEROTHEROTHER1\n")
    );
    // Corrected, it is read again.
    std::fs::write(
        &path,
        index(&s).replace("secret-servic\t", "secret-service\t"),
    )
    .unwrap();
    s.run(["prod", "-t", &s.code(), "--", "true"]).success();
}

#[test]
fn an_index_that_disagrees_with_the_store_is_corrected_from_the_store() {
    let mut s = alice_in_no_file();
    let keyring = Keyring::start(&mut s);
    s.run(["add", "alice"]).stdin(&s.key_lines()).success();
    let id = s.alice.access_key_id.clone();
    let path = s.key_ids_file();
    std::fs::write(&path, "alice\tsecret-service\tAKIAOTHEROTHEROTHER1\n").unwrap();
    let calls = s.calls().len();
    s.run(["prod", "-t", &s.code(), "--", "true"])
        .failure(1)
        .one_line_error()
        .stderr_has(&format!(
            "profile `alice`: the secret-service store holds key {id}, but the index of stored keys said AKIAOTHEROTHEROTHER1; the index now says {id}, as the store does"
        ))
        .stderr_has(&format!("hint: run the command again to use {id}"));
    assert_eq!(s.calls().len(), calls, "no STS call");
    assert_eq!(index(&s), format!("alice\tsecret-service\t{id}\n"));
    assert_eq!(
        keyring.lookup("alice").as_deref(),
        Some(stored(&s).as_str())
    );
    s.run(["prod", "-t", &s.code(), "--", "true"]).success();
    let assume = of(&s.calls(), "AssumeRole");
    assert_eq!(assume.len(), 1);
    assert_eq!(assume[0].access_key_id, id);
}

#[test]
fn remove_with_the_recorded_store_gone_does_not_point_to_mfaexec_store() {
    let mut s = alice_in_no_file();
    let mut keyring = Keyring::start(&mut s);
    s.run(["add", "alice"]).stdin(&s.key_lines()).success();
    let id = s.alice.access_key_id.clone();
    let index_before = index(&s);
    keyring.stop_daemon();
    for store in ["file", ""] {
        let out = s
            .run(["remove", "alice", "-f"])
            .env("MFAEXEC_STORE", store)
            .env("MFAEXEC_FILE_PASSPHRASE", "correct horse battery staple")
            .failure(1);
        out.one_line_error()
            .stderr_has(&format!(
                "profile `alice`: its key {id} is in the secret-service store, as the index of stored keys records, and that store cannot be opened"
            ))
            .stderr_has("MFAEXEC_STORE chooses the store of new keys only");
        assert!(
            !out.stderr().contains("use MFAEXEC_STORE=file"),
            "{}",
            out.stderr()
        );
        assert_eq!(index(&s), index_before);
    }
}

#[test]
fn import_refuses_to_overwrite_a_different_stored_key() {
    let mut s = alice_in_no_file();
    let keyring = Keyring::start(&mut s);
    s.run(["add", "alice"]).stdin(&s.key_lines()).success();
    let file = "[alice]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = SECRETLONGTERMother\n";
    s.credentials(file);
    let refused = |s: &Sandbox| {
        s.run(["import", "--all"])
            .failure(1)
            .one_line_error()
            .stderr_has(&format!(
                "profile `alice`: the secret-service store already holds key {}, and the credentials file has AKIAOTHEROTHEROTHER1; nothing was imported",
                s.alice.access_key_id
            ))
            .stderr_has(&format!(
                "hint: if AKIAOTHEROTHEROTHER1 is the key to keep, delete {} first with `mfaexec remove alice`",
                s.alice.access_key_id
            ));
        assert_eq!(keyring.lookup("alice").as_deref(), Some(stored(s).as_str()));
        assert_eq!(s.credentials_text(), file);
    };
    // Known from the index, and from the store itself when the index has lost its line.
    refused(&s);
    let index_before = index(&s);
    std::fs::remove_file(s.key_ids_file()).unwrap();
    refused(&s);
    assert_eq!(index(&s), "");
    assert!(index_before.contains(&s.alice.access_key_id));
}

// See: issue 18, defect 4.
#[test]
fn import_refuses_two_sections_with_different_keys_naming_the_lines() {
    let mut s = Sandbox::standard();
    s.file_store();
    let other = "[default]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = SECRETLONGTERMother\n\n";
    let file = format!("{other}{}", s.alice_keys_section("default"));
    s.credentials(&file);
    for args in [&["import", "default"][..], &["import", "--all"][..]] {
        let out = s.run(args).failure(1);
        out.one_line_error()
            .stderr_has("profile `default`: ")
            .stderr_has("holds different keys for it: aws_access_key_id on lines 2 and 6")
            .stderr_has("nothing was imported");
        assert_no_secret(&out.stderr());
        assert_eq!(s.credentials_text(), file, "{args:?}");
        assert_eq!(index(&s), "", "{args:?}");
        assert!(!s.home().join(".local/share/mfaexec/keys").exists());
    }
    // The same id with another secret is two keys as well.
    let file = format!(
        "{}[default]\naws_secret_access_key = SECRETLONGTERMother\n",
        s.alice_keys_section("default")
    );
    s.credentials(&file);
    s.run(["import", "default"])
        .failure(1)
        .one_line_error()
        .stderr_has("aws_secret_access_key on lines 3 and 5");
    assert_eq!(s.credentials_text(), file);
    // The same key twice is one key: imported, and both pairs go.
    let twice = format!("{0}{0}", s.alice_keys_section("default"));
    s.credentials(&twice);
    s.run(["import", "default"]).success();
    assert_eq!(s.credentials_text(), "");
    assert_eq!(
        index(&s),
        format!("default\tfile\t{}\n", s.alice.access_key_id)
    );
}

#[test]
fn after_import_the_aws_cli_works_and_a_cache_hit_needs_no_keyring() {
    let mut s = Sandbox::standard();
    let mut keyring = Keyring::start(&mut s);
    s.run(["import", "default"]).success();
    assert_eq!(
        s.credentials_text(),
        "",
        "the section held only the keys, so it is gone"
    );
    let aws = aws_program().display().to_string();
    let code = s.code();
    let out = s
        .run([
            "prod",
            "-v",
            "-t",
            &code,
            "--",
            &aws,
            "sts",
            "get-caller-identity",
            "--output",
            "text",
        ])
        .success();
    assert!(
        out.stdout().contains("assumed-role/admin"),
        "{}",
        out.stdout()
    );
    let calls = s.calls();
    let assume = of(&calls, "AssumeRole");
    assert_eq!(assume.len(), 1);
    assert_eq!(assume[0].access_key_id, s.alice.access_key_id);
    assert_eq!(of(&calls, "GetCallerIdentity").len(), 1);
    assert_eq!(s.files_holding(&s.alice.secret_access_key), "");

    // A cache hit opens no store: it works with the keyring gone.
    keyring.stop_daemon();
    s.run(["prod", "--", "true"]).success();
    assert_eq!(s.calls().len(), calls.len());
    // --dry-run and list say where the keys are without opening the store.
    s.run(["prod", "--dry-run"]).success().stdout_has(&format!(
        "from the secret-service store, key {}",
        s.alice.access_key_id
    ));
    s.run(["list"])
        .success()
        .stdout_has("KEYS")
        .stdout_has(&format!("secret-service {}", s.alice.access_key_id));
    // A new session does need it, and says which store failed.
    s.run(["prod", "--refresh", "--", "true"])
        .failure(1)
        .stderr_has("secret-service store");
}

#[test]
fn import_killed_at_random_points_never_loses_the_key() {
    let mut s = Sandbox::standard();
    let keyring = Keyring::start(&mut s);
    let file = s.home().join(".aws/credentials");
    let original = std::fs::read(&file).unwrap();
    let id = s.alice.access_key_id.clone();
    let secret = s.alice.secret_access_key.clone();
    // How long a whole import takes here, to spread the kills over it.
    let started = Instant::now();
    s.run(["import", "default"]).success();
    let whole = started.elapsed().as_micros() as u64;
    let mut seed = (std::process::id() as u64) ^ (whole << 7) ^ 0x9e37_79b9;
    let (mut in_file, mut in_store_only) = (0, 0);
    for round in 0..30 {
        std::fs::write(&file, &original).unwrap();
        keyring.clear("default");
        let _ = std::fs::remove_file(s.key_ids_file());
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = Duration::from_micros((seed >> 33) % (whole + whole / 4 + 1));
        s.run_killed_after(delay, ["import", "default"]);
        let now = std::fs::read(&file).unwrap();
        let file_has = String::from_utf8_lossy(&now).contains(&secret);
        assert!(
            now == original || now.is_empty(),
            "round {round}: the credentials file is neither the old one nor the new one"
        );
        let store_has = keyring.lookup("default").as_deref() == Some(&format!("{id}\n{secret}"));
        assert!(
            file_has || store_has,
            "round {round} (killed after {delay:?}): the key is in neither place"
        );
        if file_has {
            in_file += 1;
        } else {
            in_store_only += 1;
        }
    }
    eprintln!(
        "{in_file} rounds ended with the key still in the file, {in_store_only} with it moved"
    );
    // Finished for good: no copy of the secret anywhere under HOME.
    std::fs::write(&file, &original).unwrap();
    s.run(["import", "default"]).success();
    assert_eq!(s.files_holding(&secret), "");
}

#[test]
fn remove_asks_then_deletes_the_key_and_its_cached_sessions() {
    let mut s = alice_in_no_file();
    let keyring = Keyring::start(&mut s);
    s.run(["add", "alice", "--no-verify"])
        .stdin(&s.key_lines())
        .success();
    let code = s.code();
    s.run(["env", "prod", "-t", &code]).success();
    s.run(["remove", "alice"])
        .failure(1)
        .one_line_error()
        .stderr_has("no terminal")
        .stderr_has("hint: pass -f");
    assert!(keyring.lookup("alice").is_some());
    // On a terminal, anything but yes keeps it.
    let mut term = s.terminal(&["remove", "alice"]);
    term.expect("Delete key", 1);
    term.send_line("n");
    assert_eq!(term.finish().0, Some(1));
    assert!(keyring.lookup("alice").is_some());
    let mut term = s.terminal(&["remove", "alice"]);
    term.expect("[y/N]", 1);
    term.send_line("y");
    let (code, screen) = term.finish();
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("dropped 1 cached session"), "{screen}");
    assert_eq!(keyring.lookup("alice"), None);
    assert_eq!(index(&s), "");
    s.run(["env", "prod"])
        .failure(1)
        .stderr_has("profile `alice` (source of profile `prod`) has no credentials");
    s.run(["remove", "alice", "-f"])
        .failure(1)
        .stderr_has("has no key");
}

/// Stops the keyring daemon until dropped; a watchdog lets it go on after a minute, so that a
/// run hanging on it (the bug this guards against) ends and the test fails instead of hanging.
struct Stopped<'k> {
    keyring: &'k Keyring,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<'k> Stopped<'k> {
    fn new(keyring: &'k Keyring) -> Stopped<'k> {
        keyring.signal_daemon("STOP");
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watch = std::sync::Arc::clone(&done);
        let pid = keyring.daemon_pid();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if watch.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &pid.to_string()])
                .status();
        });
        Stopped { keyring, done }
    }
}

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
        self.keyring.signal_daemon("CONT");
    }
}

#[track_caller]
fn store_did_not_answer(out: &Out, took: Duration, limit: Duration) {
    assert_eq!(out.code(), Some(1), "{}", out.stderr());
    out.one_line_error()
        .stderr_has("the secret-service store did not answer within 3s")
        .stderr_has("MFAEXEC_STORE_TIMEOUT");
    assert!(
        took < limit,
        "took {took:?}, over {limit:?}: {}",
        out.stderr()
    );
}

// See: issue 18, defect 1. A Secret Service that stops answering (SIGSTOP) fails a cache miss
// within MFAEXEC_STORE_TIMEOUT with one line naming the store, and the run does not hold the
// cache lock while it waits: a second run started meanwhile waits on the store, not on the first.
#[test]
fn a_keyring_that_stops_answering_fails_in_time_without_holding_the_cache_lock() {
    let mut s = Sandbox::standard();
    let keyring = Keyring::start(&mut s);
    s.run(["import", "default"]).success();
    s.set("MFAEXEC_STORE_TIMEOUT", "3s");
    {
        let _stopped = Stopped::new(&keyring);
        let first = s.run(["prod", "--", "true"]);
        let started = Instant::now();
        let first = std::thread::spawn(move || (first.output(), started.elapsed()));
        std::thread::sleep(Duration::from_millis(1500));
        let started = Instant::now();
        let second = s.run(["prod", "--", "true"]).output();
        let second_took = started.elapsed();
        let (first, first_took) = first.join().unwrap();
        store_did_not_answer(&first, first_took, Duration::from_secs(8));
        // Behind the first run's lock, it would have waited for it (1.5s more) before its own 3s.
        store_did_not_answer(&second, second_took, Duration::from_millis(4400));
        for out in [&first, &second] {
            assert!(
                !out.stderr().contains("waiting for another mfaexec"),
                "{}",
                out.stderr()
            );
        }
        // `add` (the default store is probed) and `import` end the same way.
        let started = Instant::now();
        let add = s
            .run(["add", "bob", "--no-verify"])
            .stdin(&s.key_lines())
            .output();
        store_did_not_answer(&add, started.elapsed(), Duration::from_secs(8));
        s.credentials(&format!(
            "[carol]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            s.alice.access_key_id, s.alice.secret_access_key
        ));
        let started = Instant::now();
        let import = s.run(["import", "carol"]).output();
        store_did_not_answer(&import, started.elapsed(), Duration::from_secs(8));
    }
    assert!(of(&s.calls(), "AssumeRole").is_empty(), "no code was spent");
    assert_eq!(
        index(&s).lines().count(),
        1,
        "only default's key: {}",
        index(&s)
    );
    // Once the keyring answers again, so does mfaexec.
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"]).success();
}

// See: issue 18, defect 3. A profile name with a tab is refused before the store or the index
// is written; the key of `default` still works and the file store still opens.
#[test]
fn import_of_a_name_with_a_tab_is_refused_before_anything_is_written() {
    let mut s = Sandbox::standard();
    s.file_store();
    s.run(["import", "default"]).success();
    let keys_file = s.home().join(".local/share/mfaexec/keys");
    let store_before = std::fs::read(&keys_file).unwrap();
    let index_before = index(&s);
    let credentials = format!(
        "[a\tb]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        s.alice.access_key_id, s.alice.secret_access_key
    );
    s.credentials(&credentials);
    let out = s.run(["import", "a\tb"]).failure(2);
    out.one_line_error()
        .stderr_has("`a\\tb` is not a profile name");
    assert_eq!(std::fs::read(&keys_file).unwrap(), store_before, "store");
    assert_eq!(index(&s), index_before, "index");
    assert_eq!(
        std::fs::read_to_string(s.home().join(".aws/credentials")).unwrap(),
        credentials
    );
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"]).success();
    s.run(["list"]).success();
}

// ---------------------------------------------------------------------------------------------
// The file store
// ---------------------------------------------------------------------------------------------

#[test]
fn file_store_round_trip_holds_no_plaintext() {
    use std::os::unix::fs::PermissionsExt;
    let mut s = alice_in_no_file();
    s.file_store();
    s.run(["add", "alice"])
        .stdin(&s.key_lines())
        .success()
        .stderr_has("in the file store");
    let dir = s.home().join(".local/share/mfaexec");
    let path = dir.join("keys");
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n-> scrypt "));
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(&s.alice.secret_access_key) && !text.contains(&s.alice.access_key_id));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&path), 0o600);
    let code = s.code();
    s.run(["env", "prod", "-t", &code]).success();
    let assume = of(&s.calls(), "AssumeRole");
    assert_eq!(assume[0].access_key_id, s.alice.access_key_id);
    assert_eq!(s.files_holding(&s.alice.secret_access_key), "");
}

#[test]
fn file_store_wrong_passphrase_and_damaged_file_are_one_line_errors() {
    let mut s = alice_in_no_file();
    s.file_store();
    s.run(["add", "alice", "--no-verify"])
        .stdin(&s.key_lines())
        .success();
    let code = s.code();
    let out = s
        .run(["env", "prod", "-t", &code])
        .env("MFAEXEC_FILE_PASSPHRASE", "wrong")
        .failure(1);
    out.one_line_error().stderr_has("wrong passphrase");
    assert_no_secret(&out.stderr());
    let path = s.home().join(".local/share/mfaexec/keys");
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() - 20;
    bytes[middle] ^= 0x55;
    std::fs::write(&path, bytes).unwrap();
    let out = s.run(["env", "prod", "-t", &code]).failure(1);
    out.one_line_error().stderr_has("cannot decrypt");
    assert_no_secret(&out.stderr());
    std::fs::write(&path, b"not an age file").unwrap();
    s.run(["env", "prod", "-t", &code])
        .failure(1)
        .one_line_error()
        .stderr_has("is not a readable key file");
    assert!(of(&s.calls(), "AssumeRole").is_empty(), "no code was spent");
}

#[test]
fn file_store_without_passphrase_or_terminal_says_how() {
    let s = alice_in_no_file();
    s.run(["add", "alice", "--no-verify"])
        .env("MFAEXEC_STORE", "file")
        .stdin(&s.key_lines())
        .failure(1)
        .one_line_error()
        .stderr_has("no terminal")
        .stderr_has("MFAEXEC_FILE_PASSPHRASE");
}

// ---------------------------------------------------------------------------------------------
// credential_process as the source of the keys
// ---------------------------------------------------------------------------------------------

/// `prod` (a role) takes its keys from profile `vault`, whose credential_process is `script`.
fn with_process(script: &str) -> Sandbox {
    let s = Sandbox::standard();
    let path = s.path("vault.sh");
    std::fs::write(&path, script).unwrap();
    s.config(&format!(
        "[profile vault]\ncredential_process = /bin/sh {}\n\n\
         [profile prod]\nrole_arn = {ADMIN}\nsource_profile = vault\nmfa_serial = {}\nduration_seconds = 43200\n",
        path.display(),
        s.serial()
    ));
    s.credentials("");
    s
}

fn printing_keys(s: &Sandbox) -> String {
    format!(
        "echo run >> {}\nprintf '{{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"}}' {} {}\n",
        s.path("runs").display(),
        s.alice.access_key_id,
        s.alice.secret_access_key
    )
}

#[test]
fn credential_process_runs_once_per_new_session_and_never_on_a_hit() {
    let s = with_process("");
    std::fs::write(s.path("vault.sh"), printing_keys(&s)).unwrap();
    let runs = || {
        std::fs::read_to_string(s.path("runs"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    s.run(["prod", "--dry-run"])
        .success()
        .stdout_has("from the credential_process of profile `vault`, run only for a new session")
        .stdout_has("role chaining, capped at 1h");
    s.run(["list"]).success().stdout_has("credential_process");
    assert_eq!(runs(), 0, "--dry-run and list run nothing");
    let code = s.code();
    let out = s.run(["env", "prod", "-t", &code, "-v"]).success();
    assert_no_secret(&out.stderr());
    out.stderr_has("running the credential_process of profile `vault`");
    assert_eq!(runs(), 1);
    let assume = of(&s.calls(), "AssumeRole");
    assert_eq!(assume.len(), 1);
    assert_eq!(assume[0].access_key_id, s.alice.access_key_id);
    assert_eq!(
        assume[0].params["DurationSeconds"], "43200",
        "long-term keys: no chain"
    );
    s.run(["env", "prod"]).success();
    assert_eq!(runs(), 1, "a cache hit runs nothing");
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
}

#[test]
fn credential_process_failures_are_named_and_show_nothing_it_printed() {
    for (script, expected) in [
        (
            "printf 'not json SECRETLONGTERMxyz'\n",
            "the credential_process of profile `vault` printed no valid JSON object",
        ),
        (
            "printf '{\"Version\": 2, \"AccessKeyId\": \"AKIA1\", \"SecretAccessKey\": \"SECRETLONGTERMx\"}'\n",
            "printed JSON without \"Version\": 1",
        ),
        (
            "echo SECRETLONGTERMonstdout; exit 3\n",
            "the credential_process of profile `vault` failed with exit status 3",
        ),
    ] {
        let s = with_process(script);
        let code = s.code();
        let out = s.run(["env", "prod", "-t", &code]).failure(1);
        out.one_line_error().stderr_has(expected);
        assert_no_secret(&out.stderr());
        assert!(s.calls().is_empty(), "no code spent");
    }
    let s = with_process("sleep 30\n");
    let started = Instant::now();
    let code = s.code();
    s.run(["env", "prod", "-t", &code])
        .env("MFAEXEC_CREDENTIAL_PROCESS_TIMEOUT", "1s")
        .failure(1)
        .one_line_error()
        .stderr_has("did not finish within 1s")
        .stderr_has("MFAEXEC_CREDENTIAL_PROCESS_TIMEOUT");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn credential_process_with_a_session_token_makes_a_chain_capped_at_1h() {
    let s = with_process("");
    // Temporary credentials, as `aws-vault export` would print them: a session of alice's.
    s.append_config(&format!("\n[profile alice]\nmfa_serial = {}\n", s.serial()));
    s.credentials(&s.alice_keys_section("alice"));
    let code = s.code();
    let json = s
        .run(["env", "alice", "-t", &code, "--format", "json"])
        .success()
        .stdout();
    std::fs::write(s.path("session.json"), &json).unwrap();
    std::fs::write(
        s.path("vault.sh"),
        format!("cat {}\n", s.path("session.json").display()),
    )
    .unwrap();
    let token: serde_json::Value = serde_json::from_str(&json).unwrap();
    let temp_id = token["AccessKeyId"].as_str().unwrap().to_owned();
    let code = s.code();
    let out = s.run(["env", "prod", "-t", &code]).success();
    out.stderr_has("returned temporary credentials (a SessionToken): the AssumeRole is role chaining, capped at 1h");
    assert_no_secret(&out.stderr());
    let assume = of(&s.calls(), "AssumeRole");
    assert_eq!(assume.len(), 1);
    assert_eq!(assume[0].access_key_id, temp_id);
    assert!(assume[0].session_token.is_some());
    assert_eq!(assume[0].params["DurationSeconds"], "3600");
}

#[test]
fn mfaexec_as_the_credential_process_stays_refused() {
    let s = Sandbox::standard();
    s.config(&format!(
        "[profile vault]\ncredential_process = mfaexec credential-process vault\n\n\
         [profile prod]\nrole_arn = {ADMIN}\nsource_profile = vault\n"
    ));
    s.credentials("");
    s.run(["env", "prod"])
        .failure(1)
        .stderr_has("credential_process runs `mfaexec credential-process vault`");
    assert!(s.calls().is_empty());
}

#[test]
fn without_a_secret_service_the_default_store_is_the_file() {
    let mut s = alice_in_no_file();
    // A session bus nobody listens on: no Secret Service answers.
    s.set(
        "DBUS_SESSION_BUS_ADDRESS",
        &format!("unix:path={}", s.path("no-bus").display()),
    );
    s.set("MFAEXEC_FILE_PASSPHRASE", "correct horse battery staple");
    s.run(["add", "alice", "--no-verify"])
        .stdin(&s.key_lines())
        .success()
        .stderr_has("in the file store");
    assert!(s.home().join(".local/share/mfaexec/keys").is_file());
    assert_eq!(
        index(&s),
        format!("alice\tfile\t{}\n", s.alice.access_key_id)
    );
    s.run(["add", "bob"])
        .env("MFAEXEC_STORE", "vault")
        .stdin(&s.key_lines())
        .failure(2)
        .one_line_error()
        .stderr_has("MFAEXEC_STORE `vault` is not a key store")
        .stderr_has("hint: use secret-service, keychain or file");
    s.run(["add", "bob"])
        .env("MFAEXEC_STORE", "keychain")
        .stdin(&s.key_lines())
        .failure(1)
        .stderr_has("the keychain store exists only on macOS");
}

#[test]
fn a_new_session_of_a_chain_opens_the_store_once() {
    let s = alice_in_no_file();
    s.append_config(&format!(
        "\n[profile deploy]\nrole_arn = {DEPLOY}\nsource_profile = prod\n"
    ));
    s.run(["add", "alice", "--no-verify"])
        .env("MFAEXEC_STORE", "file")
        .env("MFAEXEC_FILE_PASSPHRASE", "correct horse battery staple")
        .stdin(&s.key_lines())
        .success();
    // Two hops (prod, then deploy), the first cached on its own: one passphrase prompt.
    let mut term = s.terminal(&["env", "deploy"]);
    term.expect("Passphrase of the mfaexec key file:", 1);
    term.send_line("correct horse battery staple");
    term.expect("Enter MFA code", 1);
    term.send_line(&s.code());
    let (code, screen) = term.finish();
    assert_eq!(code, Some(0), "{screen}");
    assert_eq!(
        screen
            .matches("Passphrase of the mfaexec key file:")
            .count(),
        1,
        "{screen}"
    );
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 2);
    // A hit: no prompt at all (one would wait for ever, and `finish` would fail).
    let (code, screen) = s.terminal(&["env", "deploy"]).finish();
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains("Passphrase"), "{screen}");
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 2);
}

#[test]
fn import_that_cannot_store_leaves_the_file_as_it_was() {
    let s = Sandbox::standard();
    let file = s.home().join(".aws/credentials");
    let before = std::fs::read(&file).unwrap();
    // The file store without a passphrase and without a terminal: nothing can be stored.
    s.run(["import", "default"])
        .env("MFAEXEC_STORE", "file")
        .failure(1)
        .one_line_error()
        .stderr_has("no terminal");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert_eq!(index(&s), "");
    // A profile without keys in the credentials file is named before anything moves.
    s.run(["import", "default", "prod"])
        .env("MFAEXEC_STORE", "file")
        .env("MFAEXEC_FILE_PASSPHRASE", "pw")
        .failure(1)
        .one_line_error()
        .stderr_has("profile `prod`: nothing to import");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert!(!s.home().join(".local/share/mfaexec/keys").exists());
}

// ---------------------------------------------------------------------------------------------
// The index and its directory
// ---------------------------------------------------------------------------------------------

/// `flock -o FILE sleep 20` (flock itself holds it, not sleep), holding the lock when it returns.
fn hold_lock(path: &std::path::Path) -> std::process::Child {
    let mut child = std::process::Command::new("flock")
        .arg("-o")
        .arg(path)
        .args(["sleep", "20"])
        .spawn()
        .expect("flock");
    for _ in 0..200 {
        let free = std::process::Command::new("flock")
            .arg("-n")
            .arg(path)
            .arg("true")
            .status()
            .unwrap();
        if !free.success() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("flock never took {}", path.display());
}

// See: issue 18, defect 8.
#[test]
fn a_held_index_lock_is_waited_on_in_time_and_named() {
    let mut s = alice_in_no_file();
    s.file_store();
    s.run(["add", "alice", "--no-verify"])
        .stdin(&s.key_lines())
        .success();
    let index_before = index(&s);
    let lock = s.home().join(".local/share/mfaexec/lock");
    let mut holder = hold_lock(&lock);
    for (args, stdin) in [
        (
            &["add", "bob", "--no-verify"][..],
            "AKIAOTHEROTHEROTHER1\nSECRETLONGTERMother\n",
        ),
        (&["remove", "alice", "-f"][..], ""),
    ] {
        let start = Instant::now();
        let out = s
            .run(args)
            .env("MFAEXEC_LOCK_TIMEOUT", "1s")
            .stdin(stdin)
            .failure(1);
        assert!(start.elapsed() < Duration::from_secs(10), "{args:?}");
        out.stderr_has("mfaexec: waiting for another process, which holds ")
            .stderr_has(&format!(
                "mfaexec: another process has held {} for over 1s",
                lock.display()
            ))
            .stderr_has("hint: finish or stop it; MFAEXEC_LOCK_TIMEOUT sets how long to wait");
        assert_eq!(index(&s), index_before, "{args:?}");
    }
    holder.kill().unwrap();
    holder.wait().unwrap();
    // Free again, and an mfaexec that held it is not named as holding it still.
    s.run(["remove", "alice", "-f"]).success();
    assert_eq!(std::fs::read(&lock).unwrap(), b"");
}
