//! The two programs (src/lib.rs): `mfaexec` does a cache hit of `mfaexec PROFILE -- CMD` and of
//! `credential-process` by itself and hands every other run, unchanged, to `mfaexec-core`, which it finds beside its
//! real path or in `../libexec/mfaexec/`.

use std::path::{Path, PathBuf};

use crate::support::*;

/// A place of its own for the test's copy of a program: a hard link where it can be made
/// (the debug binaries are hundreds of MB), else a copy.
fn place(program: &Path, at: &Path) {
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    if std::fs::hard_link(program, at).is_err() {
        std::fs::copy(program, at).unwrap();
    }
}

fn core() -> PathBuf {
    bin().with_file_name("mfaexec-core")
}

/// The access key id `program ARGS -- sh` sees, and what the run said on stderr: it must
/// succeed.
#[track_caller]
fn key_seen(s: &Sandbox, program: &Path, args: &[&str]) -> (String, String) {
    let out = s
        .command_of(program)
        .args(args)
        .args(["--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let key = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(key.starts_with("ASIA"), "{out:?}");
    (key, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_hit_is_mfaexec_s_alone_and_everything_else_needs_mfaexec_core() {
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"]).success();
    assert_eq!(s.sts.calls().len(), 1);
    let alone = s.path("alone/mfaexec");
    place(bin(), &alone);
    let (_, said) = key_seen(&s, &alone, &["prod"]);
    assert_eq!(said, "");
    // credential-process from the cache: the JSON mfaexec-core prints for the same session.
    let out = s
        .command_of(&alone)
        .args(["credential-process", "prod"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let core_out = s
        .command_of(core())
        .args(["credential-process", "prod"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&core_out.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"),
        "{v}"
    );
    // A renewal, another subcommand, --version, an error to report: all mfaexec-core's.
    for args in [
        &["prod", "-r", "--", "true"][..],
        &["prod", "--dry-run", "--", "true"],
        &["prod", "-v", "--", "true"],
        &["list"],
        &["--version"],
        &["nosuch", "--", "true"],
        &["credential-process", "--dry-run", "prod"],
        &["credential-process", "-r", "prod"],
        &["env", "prod"],
    ] {
        let out = s.command_of(&alone).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(127), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        let beside = s.path("alone/mfaexec-core");
        assert_eq!(lines.len(), 2, "{args:?}: {err}");
        assert!(
            lines[0].starts_with(&format!(
                "mfaexec: cannot find mfaexec-core: neither {} nor ",
                beside.display()
            )),
            "{args:?}: {err}"
        );
        assert!(lines[1].starts_with("hint: mfaexec-core does everything but a cache hit"));
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    }
    assert_eq!(s.sts.calls().len(), 1, "a run handed over made a call");
}

#[test]
fn mfaexec_core_is_found_through_a_symbolic_link_and_in_libexec() {
    let s = Sandbox::standard();
    let version = s.run(["--version"]).success().stdout();
    assert!(version.starts_with("mfaexec "), "{version}");
    // ~/bin/mfaexec as a link to the installed one.
    let link = s.path("bin/mfaexec");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(bin(), &link).unwrap();
    // The Debian package's layout: /usr/bin/mfaexec, /usr/libexec/mfaexec/mfaexec-core.
    let usr = s.path("usr/bin/mfaexec");
    place(bin(), &usr);
    place(&core(), &s.path("usr/libexec/mfaexec/mfaexec-core"));
    for program in [&link, &usr] {
        let out = s.command_of(program).arg("--version").output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), version, "{out:?}");
        key_seen(&s, program, &["prod", "-r", "-t", &s.code()]);
    }
}

#[test]
fn mfaexec_core_behaves_as_mfaexec_and_gets_argv0_unchanged() {
    let s = Sandbox::standard();
    // Its own usage and errors name mfaexec, however it was started.
    let out = s.command_of(core()).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        s.run(["--version"]).success().stdout()
    );
    // The session it cached is the one the hit then serves.
    let (key, _) = key_seen(&s, &core(), &["prod", "-t", &s.code()]);
    let hit = s
        .run(["prod", "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"])
        .success();
    assert_eq!(hit.stdout(), key);
    assert_eq!(s.sts.calls().len(), 1);
    // A run handed over keeps the command line it was started with, argv[0] included: `ps`
    // shows what the user typed.
    let mut t = s.terminal(&["prod", "-r", "--", "true"]);
    t.expect("Enter MFA code", 1);
    let pid = crate::cache::pid_of_mfaexec(&s);
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    assert_eq!(exe, core());
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&cmdline),
        format!("{}\0prod\0-r\0--\0true\0", bin().display())
    );
    t.send_line(&s.code());
    assert_eq!(t.finish().0, Some(0));
}

#[test]
fn the_sdk_s_warnings_are_said_once_by_a_hit_and_by_a_run_handed_over() {
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[staging]\nrole_arn = {ADMIN}\nsource_profile = default\n"
    ));
    let warning = "mfaexec: warning: profile [staging] ignored";
    let code = s.code();
    // A miss: mfaexec parsed the files, then mfaexec-core again; the warning is said once.
    let out = s.run(["prod", "-t", &code, "--", "true"]).success();
    assert_eq!(out.stderr().matches(warning).count(), 1, "{}", out.stderr());
    // A hit: by mfaexec, before the command's own output.
    let out = s
        .run(["prod", "--", "sh", "-c", "echo command >&2"])
        .success();
    let err = out.stderr();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with(warning), "{err}");
    assert_eq!(lines[1], "command");
}
