//! `mfaexec rotate`: against the fake STS with IAM's access-key calls. Each test checks the
//! calls made (order and signing key), which keys IAM holds afterwards, and the bytes of the
//! credentials file: one working key stored at every step, the old one deleted only after the
//! new one worked.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::fake_sts::fake_iam::IamSettings;
use crate::support::fake_sts::{Call, Fault, User};
use crate::support::{Out, Sandbox, assert_no_secret, of};

/// A credentials file with comments, CRLF, odd spacing, a trailing comment on the secret and
/// another user's section: every byte but the two values must stay.
fn credentials(s: &Sandbox) -> String {
    format!(
        "# my keys\r\n[ci]\r\naws_access_key_id = AKIACIUSERKEY0000000\r\naws_secret_access_key = ci-secret\r\n\r\n\
         ; me\r\n[default]   # alice\r\nAWS_Access_Key_Id=  {}\r\naws_secret_access_key = {}   # since 2025\r\nregion = eu-west-1\r\n",
        s.alice.access_key_id, s.alice.secret_access_key
    )
}

fn sandbox() -> Sandbox {
    let mut s = Sandbox::standard();
    let url = s.sts.url();
    s.set("AWS_ENDPOINT_URL_IAM", &url);
    s.credentials(&credentials(&s));
    s
}

fn creds_path(s: &Sandbox) -> PathBuf {
    s.home().join(".aws/credentials")
}

fn ids(s: &Sandbox) -> Vec<String> {
    s.sts
        .access_keys(&s.alice)
        .into_iter()
        .map(|k| k.access_key_id)
        .collect()
}

/// The error is one line plus at most a hint, after the line announcing the MFA session.
#[track_caller]
fn one_error(out: &Out) -> &Out {
    let err = out.stderr();
    assert_no_secret(&err);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("mfaexec: new session for "))
        .collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("mfaexec: "))
            && (lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: "))),
        "not one error line plus an optional hint:\n{err}"
    );
    out
}

#[track_caller]
fn assert_only_the_old_key(s: &Sandbox) {
    assert_eq!(ids(s), vec![s.alice.access_key_id.clone()]);
}

fn actions(calls: &[Call]) -> Vec<&str> {
    calls.iter().map(|c| c.action.as_str()).collect()
}

/// The IAM calls are signed by the MFA session GetSessionToken returned, never by a key alone.
#[track_caller]
fn assert_signed_by_the_mfa_session(calls: &[Call]) {
    let session = calls
        .iter()
        .find(|c| c.action == "GetSessionToken" && c.status == 200)
        .expect("a GetSessionToken");
    assert!(session.params.contains_key("TokenCode"));
    let issued_to = &calls[0].access_key_id;
    for call in calls.iter().filter(|c| c.action.contains("AccessKey")) {
        assert!(
            call.access_key_id.starts_with("ASIA") && call.session_token.is_some(),
            "{} was not signed by the session: {call:?}",
            call.action
        );
        assert_ne!(&call.access_key_id, issued_to);
    }
}

#[track_caller]
fn assert_quiet_about_secrets(out: &Out, s: &Sandbox) {
    assert_no_secret(&out.stderr());
    assert_no_secret(&out.stdout());
    for key in s.sts.access_keys(&s.alice) {
        assert!(!out.stderr().contains(&key.secret_access_key));
    }
}

/// A session of `prod` (AssumeRole signed by the stored key) works.
#[track_caller]
fn prod_works_with(s: &Sandbox, key: &str) {
    s.sts.advance_clock(30);
    let before = s.calls().len();
    s.run(["prod", "--refresh", "-t", &s.code(), "--", "true"])
        .success();
    let calls = s.calls();
    let assume = of(&calls[before..], "AssumeRole");
    assert_eq!(assume.len(), 1);
    assert_eq!(assume[0].access_key_id, key);
    assert_eq!(assume[0].status, 200);
}

#[test]
fn rotates_the_key_in_place_and_deletes_the_old_one_after_the_new_one_worked() {
    let s = sandbox();
    // IAM propagates the new key: STS refuses it twice before it works.
    s.sts.set_iam(IamSettings {
        propagation_calls: 2,
        require_mfa: true,
        ..IamSettings::default()
    });
    let old = s.alice.access_key_id.clone();
    let before = s.credentials_text();
    // A cached session of the old key, to be cleared.
    s.run(["prod", "-t", &s.code(), "--", "true"]).success();
    let first = s.calls().len();

    let out = s.run(["rotate", "default", "-t", &s.code()]).success();
    assert_quiet_about_secrets(&out, &s);

    let keys = s.sts.access_keys(&s.alice);
    assert_eq!(keys.len(), 1, "{keys:?}");
    let new = &keys[0];
    assert_ne!(new.access_key_id, old);
    out.stderr_has(&format!("key {} replaces {old}", new.access_key_id))
        .stderr_has("cached session");

    let calls = s.calls()[first..].to_vec();
    assert_eq!(
        actions(&calls),
        [
            "GetSessionToken",
            "ListAccessKeys",
            "CreateAccessKey",
            "GetCallerIdentity",
            "GetCallerIdentity",
            "GetCallerIdentity",
            "DeleteAccessKey",
        ]
    );
    assert_eq!(calls[0].access_key_id, old);
    assert_eq!(calls[0].params["DurationSeconds"], "900");
    assert_signed_by_the_mfa_session(&calls);
    let checks = &calls[3..6];
    assert!(checks.iter().all(|c| c.access_key_id == new.access_key_id));
    assert!(checks.iter().all(|c| c.session_token.is_none()));
    assert_eq!(
        checks.iter().map(|c| c.status).collect::<Vec<_>>(),
        [403, 403, 200]
    );
    assert_eq!(calls[6].params["AccessKeyId"], old);
    assert_eq!(calls[6].status, 200);

    // Only the two values changed.
    assert_eq!(
        s.credentials_text(),
        before
            .replace(&old, &new.access_key_id)
            .replace(&s.alice.secret_access_key, &new.secret_access_key)
    );
    // The old key's sessions are gone from the cache; prod now works with the new key.
    assert!(s.cache_dir().is_dir(), "no cache directory");
    let left = s.cache_entries();
    assert!(left.is_empty(), "{left:?}");
    prod_works_with(&s, &new.access_key_id);
}

#[test]
fn with_two_keys_already_it_refuses_before_making_or_deleting_any() {
    let s = sandbox();
    let other = User {
        access_key_id: "AKIAOTHERKEYOFALICE0".into(),
        secret_access_key: "SECRETLONGTERMother".into(),
        ..s.alice.clone()
    };
    s.sts.add_user(other);
    let before = s.credentials_text();
    let out = s.run(["rotate", "default", "-t", &s.code()]).failure(1);
    one_error(&out)
        .stderr_has("already has 2 access keys")
        .stderr_has(&s.alice.access_key_id)
        .stderr_has("AKIAOTHERKEYOFALICE0")
        .stderr_has("no key was made");
    let calls = s.calls();
    assert_eq!(actions(&calls), ["GetSessionToken", "ListAccessKeys"]);
    assert_eq!(s.credentials_text(), before);
    assert_eq!(ids(&s).len(), 2);
}

#[test]
fn a_failed_create_changes_nothing_and_is_not_retried() {
    let s = sandbox();
    s.sts.inject_on("CreateAccessKey", Fault::Status(500));
    let before = s.credentials_text();
    let out = s.run(["rotate", "default", "-t", &s.code()]).failure(1);
    one_error(&out)
        .stderr_has("IAM did not make a new key")
        .stderr_has(&format!(
            "nothing was changed: {} is still the key",
            s.alice.access_key_id
        ));
    let calls = s.calls();
    assert_eq!(
        actions(&calls),
        [
            "GetSessionToken",
            "ListAccessKeys",
            "CreateAccessKey",
            "ListAccessKeys"
        ]
    );
    assert_eq!(s.credentials_text(), before);
    assert_only_the_old_key(&s);
    prod_works_with(&s, &s.alice.access_key_id);
}

#[test]
fn a_key_made_although_the_answer_was_lost_is_deleted_again() {
    let s = sandbox();
    s.sts.inject_after("CreateAccessKey", Fault::Status(500));
    let before = s.credentials_text();
    let out = s.run(["rotate", "default", "-t", &s.code()]).failure(1);
    let calls = s.calls();
    assert_eq!(
        actions(&calls),
        [
            "GetSessionToken",
            "ListAccessKeys",
            "CreateAccessKey",
            "ListAccessKeys",
            "DeleteAccessKey"
        ]
    );
    let orphan = &calls[4].params["AccessKeyId"];
    assert_ne!(orphan, &s.alice.access_key_id);
    one_error(&out)
        .stderr_has(&format!("IAM made {orphan} anyway"))
        .stderr_has("deleted again");
    assert_eq!(s.credentials_text(), before);
    assert_only_the_old_key(&s);
}

/// Holds the credentials file's lock (as another mfaexec writing it would) until killed.
struct HeldLock(Child);

impl HeldLock {
    fn take(s: &Sandbox) -> HeldLock {
        let lock = s.home().join(".aws/.credentials.mfaexec-lock");
        let mut child = Command::new("sh")
            .args([
                "-c",
                r#"exec 9>>"$1" && flock -x 9 && echo locked && exec sleep 60"#,
                "sh",
            ])
            .arg(&lock)
            .stdout(Stdio::piped())
            .spawn()
            .expect("sh");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "locked");
        HeldLock(child)
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_new_key_that_cannot_be_stored_is_deleted_again() {
    let s = sandbox();
    let before = s.credentials_text();
    let held = HeldLock::take(&s);
    let out = s
        .run(["rotate", "default", "-t", &s.code()])
        .env("MFAEXEC_LOCK_TIMEOUT", "1s")
        .failure(1);
    drop(held);
    let calls = s.calls();
    assert_eq!(
        actions(&calls),
        [
            "GetSessionToken",
            "ListAccessKeys",
            "CreateAccessKey",
            "DeleteAccessKey"
        ]
    );
    let new = &calls[3].params["AccessKeyId"];
    assert_ne!(new, &s.alice.access_key_id);
    one_error(&out)
        .stderr_has(&format!("cannot store the new key {new}"))
        .stderr_has(&format!(
            "deleted {new} again, so {} is the only key",
            s.alice.access_key_id
        ));
    assert_quiet_about_secrets(&out, &s);
    assert_eq!(s.credentials_text(), before);
    assert_only_the_old_key(&s);
    prod_works_with(&s, &s.alice.access_key_id);
}

#[test]
fn a_new_key_that_never_works_is_replaced_by_the_old_one_again() {
    let s = sandbox();
    s.sts.set_iam(IamSettings {
        propagation: Duration::from_secs(600),
        ..IamSettings::default()
    });
    let before = s.credentials_text();
    let out = s
        .run(["rotate", "default", "-t", &s.code()])
        .env("MFAEXEC_ROTATE_WAIT", "2s")
        .failure(1);
    let calls = s.calls();
    let create = calls
        .iter()
        .position(|c| c.action == "CreateAccessKey")
        .unwrap();
    let checks = of(&calls, "GetCallerIdentity");
    assert!(checks.len() >= 2, "retried: {checks:?}");
    let new = &checks[0].access_key_id;
    assert!(
        checks
            .iter()
            .all(|c| &c.access_key_id == new && c.status == 403)
    );
    let deletes = of(&calls, "DeleteAccessKey");
    assert_eq!(deletes.len(), 1);
    assert_eq!(&deletes[0].params["AccessKeyId"], new);
    assert_eq!(
        actions(&calls)[..create + 1],
        ["GetSessionToken", "ListAccessKeys", "CreateAccessKey"]
    );
    assert_eq!(calls.last().unwrap().action, "DeleteAccessKey");
    one_error(&out)
        .stderr_has(&format!("the new key {new} did not work within 2s"))
        .stderr_has(&format!("put {} back", s.alice.access_key_id))
        .stderr_has("MFAEXEC_ROTATE_WAIT");
    assert_eq!(s.credentials_text(), before);
    assert_only_the_old_key(&s);
    prod_works_with(&s, &s.alice.access_key_id);
}

#[test]
fn a_failed_delete_leaves_the_new_key_stored_and_says_the_old_one_exists() {
    let s = sandbox();
    s.sts.inject_on(
        "DeleteAccessKey",
        Fault::Error {
            status: 403,
            code: "AccessDenied".into(),
            message: "User: arn:aws:sts::111111111111:federated-user/x is not authorized to perform: iam:DeleteAccessKey".into(),
        },
    );
    let old = s.alice.access_key_id.clone();
    let before = s.credentials_text();
    // A role profile rotates the keys of its source_profile.
    let out = s.run(["rotate", "prod", "-t", &s.code()]).failure(1);
    let keys = s.sts.access_keys(&s.alice);
    assert_eq!(keys.len(), 2);
    let new = keys.iter().find(|k| k.access_key_id != old).unwrap();
    one_error(&out)
        .stderr_has("profile `default` (the source of `prod`)")
        .stderr_has(&format!("cannot delete the old key {old}"))
        .stderr_has(&format!(
            "{} is stored in [default] of {} and works, and {old} still exists",
            new.access_key_id,
            creds_path(&s).display()
        ));
    assert_quiet_about_secrets(&out, &s);
    let calls = s.calls();
    let checked = calls
        .iter()
        .position(|c| c.action == "GetCallerIdentity" && c.status == 200)
        .unwrap();
    let delete = calls
        .iter()
        .position(|c| c.action == "DeleteAccessKey")
        .unwrap();
    assert!(checked < delete);
    assert_eq!(
        s.credentials_text(),
        before
            .replace(&old, &new.access_key_id)
            .replace(&s.alice.secret_access_key, &new.secret_access_key)
    );
    prod_works_with(&s, &new.access_key_id);
}

#[test]
fn without_mfa_serial_the_key_itself_signs_and_an_mfa_policy_refuses_it() {
    // IAM's endpoint from AWS_ENDPOINT_URL, the one for every service, as a user may set it.
    let mut s = Sandbox::standard();
    let url = s.sts.url();
    s.set("AWS_ENDPOINT_URL", &url);
    s.config("[profile plain]\nregion = eu-west-1\n");
    s.credentials(&s.alice_keys_section("plain"));
    s.sts.set_iam(IamSettings {
        require_mfa: true,
        ..IamSettings::default()
    });
    let out = s.run(["rotate", "plain"]).failure(1);
    one_error(&out)
        .stderr_has("IAM refused ListAccessKeys")
        .stderr_has("explicit deny")
        .stderr_has("nothing was changed");
    assert!(out.stderr().contains("hint: ") && out.stderr().contains("mfa_serial"));
    assert_eq!(actions(&s.calls()), ["ListAccessKeys"]);

    s.sts.set_iam(IamSettings::default());
    let out = s.run(["rotate", "plain"]).success();
    assert_quiet_about_secrets(&out, &s);
    let calls = s.calls();
    assert_eq!(
        actions(&calls[1..]),
        [
            "ListAccessKeys",
            "CreateAccessKey",
            "GetCallerIdentity",
            "DeleteAccessKey"
        ]
    );
    assert!(
        of(&calls, "DeleteAccessKey")
            .iter()
            .chain(&of(&calls, "CreateAccessKey"))
            .all(|c| c.access_key_id == s.alice.access_key_id && c.session_token.is_none())
    );
    let new = &s.sts.access_keys(&s.alice)[0];
    assert_eq!(
        s.credentials_text(),
        format!(
            "[plain]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            new.access_key_id, new.secret_access_key
        )
    );
}

#[test]
fn refuses_before_any_call_what_it_cannot_rotate() {
    let s = sandbox();
    s.append_config(
        "\n[profile envkeys]\nrole_arn = arn:aws:iam::222222222222:role/admin\ncredential_source = Environment\n",
    );
    let out = s
        .run(["rotate", "envkeys"])
        .env("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00000")
        .env("AWS_SECRET_ACCESS_KEY", "SECRETLONGTERMenv")
        .failure(1);
    one_error(&out).stderr_has("from the environment");
    let out = s.run(["rotate", "nosuch"]).failure(1);
    one_error(&out).stderr_has("does not exist");
    let out = s.run(["rotate", "default", "-t", "12345"]).failure(2);
    one_error(&out).stderr_has("6 digits");
    // The IAM endpoint is checked like STS's: no credentials over plain http beyond loopback.
    let out = s
        .run(["rotate", "default", "-t", &s.code()])
        .env("AWS_ENDPOINT_URL_IAM", "http://iam.example.com")
        .failure(1);
    one_error(&out)
        .stderr_has("endpoint `http://iam.example.com` from")
        .stderr_has("AWS_ENDPOINT_URL_IAM")
        .stderr_has("unencrypted");
    assert!(s.calls().is_empty());
}

#[test]
fn a_key_written_in_the_config_file_is_replaced_there_and_verbose_shows_no_secret() {
    let s = sandbox();
    let config = format!(
        "[default]\nregion = eu-west-1\n\n[profile cfg]  # keys here\naws_access_key_id = {}\naws_secret_access_key = {}\nmfa_serial = {}\n",
        s.alice.access_key_id,
        s.alice.secret_access_key,
        s.serial()
    );
    s.config(&config);
    s.credentials("[other]\naws_access_key_id = AKIAOTHER00000000000\naws_secret_access_key = x\n");
    let out = s.run(["rotate", "cfg", "-t", &s.code(), "-v"]).success();
    assert_quiet_about_secrets(&out, &s);
    out.stderr_has("calling iam:CreateAccessKey")
        .stderr_has("calling sts:GetCallerIdentity with the new key");
    let new = &s.sts.access_keys(&s.alice)[0];
    assert_ne!(new.access_key_id, s.alice.access_key_id);
    assert_eq!(
        s.config_text(),
        config
            .replace(&s.alice.access_key_id, &new.access_key_id)
            .replace(&s.alice.secret_access_key, &new.secret_access_key)
    );
    assert_eq!(
        s.credentials_text(),
        "[other]\naws_access_key_id = AKIAOTHER00000000000\naws_secret_access_key = x\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Keys in a store, or from a credential_process
// ---------------------------------------------------------------------------------------------

/// `prod` takes its keys from profile `alice`, whose key is added to the store (no files).
fn stored_alice(s: &Sandbox) {
    s.prod_from_alice_in_no_file();
    s.run(["add", "alice"]).stdin(&s.key_lines()).success();
}

#[test]
fn a_key_from_the_file_store_is_replaced_in_the_store() {
    let mut s = sandbox();
    s.file_store();
    stored_alice(&s);
    let first = s.calls().len();
    let out = s.run(["rotate", "prod", "-t", &s.code()]).success();
    assert_quiet_about_secrets(&out, &s);
    let new = s.sts.access_keys(&s.alice)[0].clone();
    assert_ne!(new.access_key_id, s.alice.access_key_id);
    out.stderr_has("in the file store (profile `alice`)");
    assert_eq!(
        actions(&s.calls()[first..]),
        [
            "GetSessionToken",
            "ListAccessKeys",
            "CreateAccessKey",
            "GetCallerIdentity",
            "DeleteAccessKey"
        ]
    );
    let index = std::fs::read_to_string(s.key_ids_file()).unwrap();
    assert_eq!(index, format!("alice\tfile\t{}\n", new.access_key_id));
    assert_eq!(s.credentials_text(), "");
    assert_eq!(s.files_holding(&new.secret_access_key), "");
    prod_works_with(&s, &new.access_key_id);
}

#[test]
fn a_key_from_the_secret_service_is_replaced_there_and_put_back_when_the_new_one_fails() {
    let mut s = sandbox();
    let keyring = crate::support::keyring::Keyring::start(&mut s);
    stored_alice(&s);
    let old = s.alice.access_key_id.clone();
    // The new key never works: the old one goes back into the keyring.
    s.sts.set_iam(IamSettings {
        propagation: Duration::from_secs(600),
        ..IamSettings::default()
    });
    let out = s
        .run(["rotate", "prod", "-t", &s.code()])
        .env("MFAEXEC_ROTATE_WAIT", "1s")
        .failure(1);
    one_error(&out).stderr_has("the secret-service store (profile `alice`)");
    assert_eq!(
        keyring.lookup("alice").as_deref(),
        Some(format!("{old}\n{}", s.alice.secret_access_key).as_str())
    );
    assert_only_the_old_key(&s);

    s.sts.set_iam(IamSettings::default());
    s.sts.advance_clock(30);
    s.run(["rotate", "prod", "-t", &s.code()]).success();
    let new = s.sts.access_keys(&s.alice)[0].clone();
    assert_ne!(new.access_key_id, old);
    assert_eq!(
        keyring.lookup("alice").as_deref(),
        Some(format!("{}\n{}", new.access_key_id, new.secret_access_key).as_str())
    );
    assert_eq!(s.files_holding(&new.secret_access_key), "");
    prod_works_with(&s, &new.access_key_id);
}

/// Pads the index of stored keys with other profiles' lines past 1 KiB, so that rewriting it
/// fails under `run_with_file_limit(1, ...)` while smaller files are still written.
fn pad_the_index(s: &Sandbox) -> PathBuf {
    let path = s.key_ids_file();
    let mut text = std::fs::read_to_string(&path).unwrap();
    for i in 0..40 {
        text.push_str(&format!("pad{i:02}\tfile\tAKIAPADDINGKEY{i:06}\n"));
    }
    assert!(text.len() > 1100);
    std::fs::write(&path, &text).unwrap();
    path
}

/// The index cannot be rewritten after the store took the new key: the store is put back, the
/// new key deleted, and the old key still works (`prod` signs AssumeRole with the stored key,
/// after checking that store and index agree).
fn a_failed_index_write_keeps_the_old_key(s: &Sandbox) {
    let old = s.alice.access_key_id.clone();
    let index = pad_the_index(s);
    let index_before = std::fs::read_to_string(&index).unwrap();
    let out = s
        .run_with_file_limit(1, ["rotate", "prod", "-t", &s.code()])
        .failure(1);
    let calls = s.calls();
    let new = &of(&calls, "DeleteAccessKey")[0].params["AccessKeyId"];
    assert_ne!(new, &old);
    one_error(&out)
        .stderr_has(&format!("cannot store the new key {new}"))
        .stderr_has("key-ids")
        .stderr_has(&format!(
            "deleted {new} again, so {old} is the only key, still in"
        ));
    assert_quiet_about_secrets(&out, s);
    assert_eq!(std::fs::read_to_string(&index).unwrap(), index_before);
    assert_only_the_old_key(s);
    prod_works_with(s, &old);
}

#[test]
fn a_failed_index_write_puts_the_old_key_back_in_the_secret_service() {
    let mut s = sandbox();
    let keyring = crate::support::keyring::Keyring::start(&mut s);
    stored_alice(&s);
    a_failed_index_write_keeps_the_old_key(&s);
    assert_eq!(
        keyring.lookup("alice"),
        Some(format!(
            "{}\n{}",
            s.alice.access_key_id, s.alice.secret_access_key
        ))
    );
}

#[test]
fn a_failed_index_write_puts_the_old_key_back_in_the_file_store() {
    let mut s = sandbox();
    s.file_store();
    stored_alice(&s);
    a_failed_index_write_keeps_the_old_key(&s);
}

#[test]
fn a_key_from_a_credential_process_is_refused_before_running_it() {
    let s = sandbox();
    let runs = s.path("runs");
    s.config(&format!(
        "[profile vault]\ncredential_process = /bin/sh -c 'echo run >> {}'\n\n\
         [profile prod]\nrole_arn = {}\nsource_profile = vault\nmfa_serial = {}\n",
        runs.display(),
        crate::support::ADMIN,
        s.serial()
    ));
    s.credentials("");
    let out = s.run(["rotate", "prod", "-t", &s.code()]).failure(1);
    one_error(&out).stderr_has("profile `vault` takes its keys from its credential_process");
    assert!(s.calls().is_empty());
    assert!(!runs.exists());
}

// See: issue 18, defect 9.
#[test]
fn a_key_other_profiles_hold_too_is_refused_before_any_call_naming_them() {
    let s = sandbox();
    // `ci` and `old-alice` hold alice's key in their own sections; `prod` reaches it through
    // source_profile, which is not in the way.
    let shared = format!(
        "[ci]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n\n\
         [default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n",
        id = s.alice.access_key_id,
        secret = s.alice.secret_access_key
    );
    s.credentials(&shared);
    s.config(&format!(
        "[profile old-alice]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n\
         [profile prod]\nrole_arn = {}\nsource_profile = default\nmfa_serial = {}\n",
        s.alice.access_key_id,
        s.alice.secret_access_key,
        crate::support::ADMIN,
        s.serial()
    ));
    let out = s.run(["rotate", "prod", "-t", &s.code()]).failure(1);
    one_error(&out)
        .stderr_has(&format!(
            "key {} of profile `default` is also held by profiles `ci`, `old-alice`: rotating it would leave them with a deleted key",
            s.alice.access_key_id
        ))
        .stderr_has("hint: keep the key in `default` only, give the others `source_profile = default`");
    assert!(s.calls().is_empty(), "no call: {:?}", actions(&s.calls()));
    assert_eq!(s.credentials_text(), shared);
    // Through the store too: a second profile stored with the same key.
    let s = sandbox();
    s.credentials("");
    s.config(&format!(
        "[profile prod]\nrole_arn = {}\nsource_profile = alice\nmfa_serial = {}\n",
        crate::support::ADMIN,
        s.serial()
    ));
    let mut s = s;
    s.file_store();
    s.run(["add", "alice"]).stdin(&s.key_lines()).success();
    s.run(["add", "alice2", "--no-verify"])
        .stdin(&s.key_lines())
        .success();
    let calls = s.calls().len();
    let out = s.run(["rotate", "prod", "-t", &s.code()]).failure(1);
    one_error(&out).stderr_has("of profile `alice` is also held by profile `alice2`: rotating it would leave it with a deleted key");
    assert_eq!(s.calls().len(), calls, "no call");
    // Once the copy is gone, the rotation goes ahead.
    s.run(["remove", "alice2", "-f"]).success();
    s.run(["rotate", "prod", "-t", &s.code()]).success();
}
