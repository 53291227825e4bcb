//! `mfaexec warm` (issue 19): several profiles' sessions in one run, each code used once per
//! device (the fake STS refuses a reused code, as AWS does), cached sessions and cached first
//! hops costing no code, and a table of what each profile got.

use std::process::Child;
use std::time::{Duration, Instant};

use crate::support::fake_sts::Role;
use crate::support::*;

/// The TOTP step for these tests (`MFAEXEC_TOTP_STEP`): short, so a wait for the next window
/// costs seconds, and long enough that a code and the next profile's prompt fall in one window
/// nearly always.
const STEP: &str = "3";

/// An mfa_process on `[default]`, inherited by every profile of alice's, printing on its nth run
/// the file `code<n>` once the test has written it (`serve`).
fn codes_on_demand(s: &Sandbox) {
    let path = s.path("bin/otp");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\ncd '{}'\necho run >> runs\nn=$(wc -l < runs)\n\
             while [ ! -f code$n ]; do sleep 0.05; done\ncat code$n\n",
            s.path("").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.config(&s.config_text().replacen(
        "[default]\n",
        &format!("[default]\nmfa_process = {}\n", path.display()),
        1,
    ));
}

fn runs(s: &Sandbox) -> usize {
    std::fs::read_to_string(s.path("runs"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// Waits for `child`, writing `code<n>` for each run of the mfa_process as it comes: `pick` gets
/// the run's number (from 1) and the codes served before.
fn serve(s: &Sandbox, mut child: Child, pick: impl Fn(usize, &[String]) -> String) -> Out {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut served: Vec<String> = Vec::new();
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "warm did not end");
        while served.len() < runs(s) {
            let code = pick(served.len() + 1, &served);
            let n = served.len() + 1;
            std::fs::write(s.path(&format!("code{n}")), &code).unwrap();
            served.push(code);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Out(child.wait_with_output().unwrap())
}

/// A fresh code, a window later on the fake's clock each time: the fake accepts only three
/// codes around one moment.
fn fresh(s: &Sandbox) -> String {
    s.sts.advance_clock(30);
    s.code()
}

fn codes_sent(s: &Sandbox) -> Vec<String> {
    s.calls()
        .iter()
        .filter_map(|c| c.params.get("TokenCode").cloned())
        .collect()
}

/// The table's line for `profile`.
#[track_caller]
fn row(out: &Out, profile: &str) -> String {
    let stdout = out.stdout();
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(profile))
        .unwrap_or_else(|| panic!("no row for {profile}:\n{stdout}"))
        .to_owned()
}

#[test]
fn three_profiles_on_one_device_take_three_codes_typed_a_window_apart() {
    let mut s = Sandbox::standard();
    s.set("MFAEXEC_TOTP_STEP", STEP);
    // prod (AssumeRole), short (its mfa_serial from [default]) and default (GetSessionToken):
    // one device.
    let mut t = s.terminal(&["warm", "prod", "short", "default"]);
    let prompt = |profile: &str| {
        format!("Enter MFA code for profile `{profile}` (arn:aws:iam::111111111111:mfa/alice): ")
    };
    t.expect(&prompt("prod"), 1);
    let first = s.code();
    t.send_line(&first);
    // The device may still show prod's code: typed again, it is not sent, and the next
    // window's is asked for.
    t.expect(&prompt("short"), 1);
    assert_eq!(codes_sent(&s).len(), 1);
    t.send_line(&first);
    t.expect(
        "mfaexec: that code was already used, and a code works once",
        1,
    );
    t.expect("mfaexec: the next code in ", 1);
    t.expect(&prompt("short"), 2);
    let second = s.code();
    t.send_line(&second);
    t.expect(&prompt("default"), 1);
    assert_eq!(codes_sent(&s).len(), 2);
    t.send_line(&s.code());
    let (status, screen) = t.finish();
    assert_eq!(status, Some(0), "{screen}");
    for profile in ["prod", "short", "default"] {
        assert!(
            screen
                .lines()
                .any(|l| l.starts_with(profile) && l.contains("new, with a typed code")),
            "{screen}"
        );
    }
    assert_no_secret(&screen);
    // Three calls, three different codes, all accepted: none was sent twice.
    let sent = codes_sent(&s);
    assert_eq!(sent.len(), 3, "{screen}");
    assert!(sent[0] != sent[1] && sent[1] != sent[2] && sent[0] != sent[2]);
    assert!(s.calls().iter().all(|c| c.status == 200));
    assert_eq!(s.cache_entries().len(), 3);
}

#[test]
fn mfa_process_codes_are_used_and_a_repeated_one_waits_for_the_next_window() {
    let mut s = Sandbox::standard();
    s.set("MFAEXEC_TOTP_STEP", STEP);
    codes_on_demand(&s);
    let child = s.spawn(&["warm", "prod", "short", "default"]);
    // Each profile after the first is first printed the code the one before got, as a device
    // would show it within one window.
    let out = serve(&s, child, |n, served| {
        if n % 2 == 0 {
            served.last().unwrap().clone()
        } else {
            fresh(&s)
        }
    });
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    assert!(!out.stderr().contains("Enter MFA code"), "{}", out.stderr());
    out.stderr_has("printed a code already used for arn:aws:iam::111111111111:mfa/alice")
        .stderr_has("the next code in ");
    assert_no_secret(&out.stderr());
    assert_eq!(runs(&s), 5, "run again after each repeated code");
    let sent = codes_sent(&s);
    assert_eq!(sent.len(), 3);
    assert!(sent[0] != sent[1] && sent[1] != sent[2] && sent[0] != sent[2]);
    assert!(s.calls().iter().all(|c| c.status == 200));
    for profile in ["prod", "short", "default"] {
        assert!(row(&out, profile).contains("new, with a code from mfa_process"));
    }
}

#[test]
fn cached_profiles_are_not_asked_again() {
    let s = Sandbox::standard();
    for profile in ["prod", "default"] {
        let code = s.code();
        s.run([profile, "-t", &code, "--", "true"]).success();
    }
    let before = s.calls().len();
    // No terminal and no mfa_process: a code could not be had.
    let out = s.run(["warm", "prod", "default"]).success();
    assert_eq!(s.calls().len(), before, "no STS call");
    assert!(row(&out, "prod").contains("cached"), "{}", out.stdout());
    assert!(row(&out, "default").contains("cached"), "{}", out.stdout());
    assert!(
        !row(&out, "prod").contains(" - "),
        "an expiry: {}",
        out.stdout()
    );
}

#[test]
fn chains_sharing_a_first_hop_take_one_code() {
    let s = Sandbox::standard();
    let other = "arn:aws:iam::333333333333:role/other";
    s.sts.add_role(Role {
        trusted: vec![ADMIN.into()],
        ..Role::new(other)
    });
    s.append_config(&format!(
        "\n[profile other]\nrole_arn = {other}\nsource_profile = prod\n"
    ));
    codes_on_demand(&s);
    let child = s.spawn(&["warm", "deploy", "other", "prod"]);
    let out = serve(&s, child, |_, _| fresh(&s));
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    assert_eq!(runs(&s), 1, "one code");
    assert_eq!(codes_sent(&s).len(), 1);
    // prod's hop with the code, deploy from it; other from prod's cached session.
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 3);
    assert!(row(&out, "deploy").contains("new, with a code from mfa_process"));
    assert!(row(&out, "other").contains("new, chained from the cached session of `prod`"));
    assert!(row(&out, "prod").contains("cached"));
}

#[test]
fn all_warms_every_profile_with_a_role_or_mfa_serial_and_a_denied_one_fails_alone() {
    let mut s = Sandbox::standard();
    s.set("MFAEXEC_TOTP_STEP", STEP);
    // Keys alone: no MFA session to keep.
    s.credentials(&format!(
        "{}\n{}",
        s.alice_keys_section("default"),
        s.alice_keys_section("keysonly")
    ));
    codes_on_demand(&s);
    let child = s.spawn(&["warm", "--all"]);
    let out = serve(&s, child, |_, _| fresh(&s));
    assert_eq!(out.code(), Some(1), "{}", out.stderr());
    out.stderr_has("mfaexec: 1 of 5 profiles not warmed: locked");
    assert_no_secret(&out.stderr());
    let locked = row(&out, "locked");
    assert!(
        locked.contains("failed: ")
            && locked.contains("may not assume role arn:aws:iam::222222222222:role/locked"),
        "{locked}"
    );
    for profile in ["default", "deploy", "prod", "short"] {
        let line = row(&out, profile);
        assert!(line.contains("new, ") || line.contains("cached"), "{line}");
    }
    assert!(!out.stdout().contains("keysonly"), "{}", out.stdout());
    // default, deploy (with prod's hop), locked (refused), short: four codes, none twice.
    let mut sent = codes_sent(&s);
    assert_eq!(sent.len(), 4, "{:?}", s.calls());
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), 4);
}

/// The prompt of `warm` for `profile` on alice's device.
fn prompt_for(s: &Sandbox, profile: &str) -> String {
    format!("Enter MFA code for profile `{profile}` ({}): ", s.serial())
}

/// What a terminal shows after STS refused a code typed for `profile`.
fn refused(s: &Sandbox, profile: &str) -> String {
    format!(
        "mfaexec: profile `{profile}`: the MFA code for {} was refused: it is wrong or was already used; wait for the next code",
        s.serial()
    )
}

// See: issue 19. A refused typed code failed the profile instead of being asked again.
#[test]
fn a_refused_typed_code_is_asked_again_and_the_next_one_warms_the_profile() {
    let mut s = Sandbox::standard();
    s.set("MFAEXEC_TOTP_STEP", STEP);
    let mut t = s.terminal(&["warm", "prod"]);
    t.expect(&prompt_for(&s, "prod"), 1);
    let wrong = s.sts.stale_code(&s.serial());
    t.send_line(&wrong);
    t.expect(&refused(&s, "prod"), 1);
    t.expect(&prompt_for(&s, "prod"), 2);
    let good = s.code();
    t.send_line(&good);
    let (status, screen) = t.finish();
    assert_eq!(status, Some(0), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("prod") && l.contains("new, with a typed code")),
        "{screen}"
    );
    assert_no_secret(&screen);
    // The refused call, then one with the next code: no other.
    let calls = s.calls();
    let seen: Vec<(&str, u16, Option<&str>)> = calls
        .iter()
        .map(|c| {
            let code = c.params.get("TokenCode").map(String::as_str);
            (c.action.as_str(), c.status, code)
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("AssumeRole", 403, Some(wrong.as_str())),
            ("AssumeRole", 200, Some(good.as_str()))
        ]
    );
    assert_eq!(s.cache_entries().len(), 1);
}

#[test]
fn a_refused_code_typed_again_is_not_sent_and_the_tries_end_with_the_profile_alone() {
    let mut s = Sandbox::standard();
    s.set("MFAEXEC_TOTP_STEP", STEP);
    let mut t = s.terminal(&["warm", "prod", "default"]);
    let wrong = s.sts.stale_code(&s.serial());
    t.expect(&prompt_for(&s, "prod"), 1);
    t.send_line(&wrong);
    t.expect(&refused(&s, "prod"), 1);
    // The device may show the refused code still: it is not sent again.
    t.expect(&prompt_for(&s, "prod"), 2);
    t.send_line(&wrong);
    t.expect(
        "mfaexec: that code was already used, and a code works once",
        1,
    );
    t.expect(&prompt_for(&s, "prod"), 3);
    assert_eq!(codes_sent(&s), std::slice::from_ref(&wrong));
    // Two more refused codes: three tries, as a normal run has, and prod fails alone.
    s.sts.advance_clock(30);
    t.send_line(&s.sts.stale_code(&s.serial()));
    t.expect(&refused(&s, "prod"), 2);
    t.expect(&prompt_for(&s, "prod"), 4);
    s.sts.advance_clock(30);
    t.send_line(&s.sts.stale_code(&s.serial()));
    t.expect("mfaexec: profile `prod`: the MFA code for", 3);
    t.expect(&prompt_for(&s, "default"), 1);
    t.send_line(&s.code());
    let (status, screen) = t.finish();
    assert_eq!(status, Some(1), "{screen}");
    assert!(
        screen.contains("mfaexec: 1 of 2 profiles not warmed: prod"),
        "{screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("default") && l.contains("new, with a typed code")),
        "{screen}"
    );
    let sent = codes_sent(&s);
    assert_eq!(sent.len(), 4, "{screen}");
    let mut distinct = sent.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "no code sent twice: {sent:?}");
    assert_eq!(of(&s.calls(), "GetSessionToken").len(), 1);
}

#[test]
fn ctrl_c_at_the_prompt_after_a_refused_code_stops_the_whole_run() {
    let mut s = Sandbox::standard();
    s.set("MFAEXEC_TOTP_STEP", STEP);
    let mut t = s.terminal(&["warm", "prod", "default"]);
    t.expect(&prompt_for(&s, "prod"), 1);
    t.send_line(&s.sts.stale_code(&s.serial()));
    t.expect(&refused(&s, "prod"), 1);
    t.expect(&prompt_for(&s, "prod"), 2);
    t.send(b"\x03");
    let (status, screen) = t.finish();
    assert_eq!(status, Some(130), "{screen}");
    assert!(!screen.contains("`default`"), "{screen}");
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn a_refused_mfa_process_code_waits_for_the_next_window_and_runs_it_once_more() {
    let mut s = Sandbox::standard();
    s.set("MFAEXEC_TOTP_STEP", STEP);
    codes_on_demand(&s);
    let serial = s.serial();
    let child = s.spawn(&["warm", "prod"]);
    let out = serve(&s, child, |n, _| {
        if n == 1 {
            s.sts.stale_code(&serial)
        } else {
            fresh(&s)
        }
    });
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    out.stderr_has(&format!(
        "mfaexec: profile `prod`: the MFA code for {serial} was refused"
    ))
    .stderr_has("the next code in ");
    assert!(!out.stderr().contains("Enter MFA code"), "{}", out.stderr());
    assert_no_secret(&out.stderr());
    assert_eq!(runs(&s), 2);
    let statuses: Vec<u16> = s.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [403, 200]);
    assert!(row(&out, "prod").contains("new, with a code from mfa_process"));
}

#[test]
fn an_mfa_process_whose_codes_are_refused_twice_fails_its_profile() {
    let mut s = Sandbox::standard();
    s.set("MFAEXEC_TOTP_STEP", STEP);
    codes_on_demand(&s);
    let serial = s.serial();
    let child = s.spawn(&["warm", "prod"]);
    // A different wrong code each run.
    let out = serve(&s, child, |_, _| {
        s.sts.advance_clock(30);
        s.sts.stale_code(&serial)
    });
    assert_eq!(out.code(), Some(1), "{}", out.stderr());
    out.stderr_has("hint: the codes came from the mfa_process of profile `default`");
    assert_eq!(runs(&s), 2, "never a loop");
    assert_eq!(s.calls().len(), 2);
    assert!(row(&out, "prod").contains("failed: "));
}

#[test]
fn the_totp_step_setting_is_checked() {
    let s = Sandbox::standard();
    s.run(["warm", "prod"])
        .env("MFAEXEC_TOTP_STEP", "1m")
        .failure(1)
        .one_line_error()
        .stderr_has("MFAEXEC_TOTP_STEP: `1m` is over the maximum of 30s");
    assert!(s.calls().is_empty());
}
