//! `mfaexec write` (issue 6): the session in a section of the shared credentials file, every
//! other byte kept, atomic and private, never over long-term keys or another profile's source,
//! and safe when several run at once.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::aws_cli::caller_arn;
use crate::support::fake_sts::rfc3339;
use crate::support::*;

fn creds_path(s: &Sandbox) -> PathBuf {
    s.home().join(".aws/credentials")
}

fn read(path: &Path) -> String {
    String::from_utf8(std::fs::read(path).unwrap()).unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The section as mfaexec writes it for the `n`th session the fake issued, lines ended by
/// `eol`, the last one too when `final_eol`.
fn block(s: &Sandbox, name: &str, n: usize, eol: &str, final_eol: bool) -> String {
    let issued = &s.sts.issued()[n];
    let text = [
        format!("[{name}]"),
        format!("aws_access_key_id = {}", issued.access_key_id),
        format!("aws_secret_access_key = {}", issued.secret_access_key),
        format!("aws_session_token = {}", issued.session_token),
        format!(
            "x_security_token_expires = {}",
            rfc3339(issued.expiration_unix)
        ),
        // Profile prod's region (issue 10: `AWS_PROFILE=NAME aws ...` needs it).
        "region = eu-west-1".to_owned(),
    ]
    .join(eol);
    if final_eol { text + eol } else { text }
}

/// Files in `dir` other than `keep`: no temporary or lock file may be left behind.
#[track_caller]
fn assert_only(dir: &Path, keep: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut keep: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
    keep.sort();
    assert_eq!(names, keep, "in {}", dir.display());
}

#[test]
fn appends_the_session_and_the_aws_cli_uses_it() {
    let s = Sandbox::standard();
    let path = creds_path(&s);
    let before = read(&path);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let code = s.code();
    let out = s.run(["write", "prod", "-t", &code]).success();
    let issued = &s.sts.issued()[0];
    out.stderr_has(&format!(
        "mfaexec: wrote the session of prod to [prod-mfaexec] in {}; it expires ",
        path.display()
    ))
    .stderr_has(&format!(
        "({}); use it with AWS_PROFILE=prod-mfaexec",
        rfc3339(issued.expiration_unix)
    ));
    assert_no_secret(&out.stderr());
    assert_eq!(out.stdout(), "");
    assert_eq!(
        read(&path),
        format!("{before}\n{}", block(&s, "prod-mfaexec", 0, "\n", true))
    );
    assert_eq!(mode(&path), 0o600);
    assert_only(&s.home().join(".aws"), &["config", "credentials"]);

    // A tool that reads only the credentials file.
    let arn = caller_arn(&s, "prod-mfaexec");
    assert!(
        arn.starts_with("arn:aws:sts::222222222222:assumed-role/admin/"),
        "{arn}"
    );
    let identity = of(&s.calls(), "GetCallerIdentity");
    assert_eq!(identity.len(), 1);
    assert_eq!(identity[0].access_key_id, issued.access_key_id);
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
}

#[test]
fn replacing_a_section_keeps_every_other_byte_with_crlf_comments_and_odd_spacing() {
    let s = Sandbox::standard();
    let (akid, secret) = (&s.alice.access_key_id, &s.alice.secret_access_key);
    let head = format!(
        "# my AWS keys\r\n;  kept by hand\r\n[default]\r\nAWS_Access_Key_ID=  {akid}\r\n\
         aws_secret_access_key\t=\t{secret}   # alice\r\n\r\n\r\n"
    );
    let tail = "\r\n# the work account\r\n[work]\r\naws_access_key_id = AKIAWORKWORKWORKWORK\r\n\
                aws_secret_access_key = work\r\n\r\n[other]  \r\nregion=eu-west-1";
    let old = "[ prod-mfaexec ]   ; an old session\r\naws_access_key_id = ASIAOLD\r\n\
               # written last week\r\naws_secret_access_key = old\r\naws_session_token = old\r\n\
               expiration = 2020-01-01 00:00:00\r\n";
    s.credentials(&format!("{head}{old}{tail}"));
    let code = s.code();
    s.run(["write", "prod", "-t", &code]).success();
    assert_eq!(
        read(&creds_path(&s)),
        format!("{head}{}{tail}", block(&s, "prod-mfaexec", 0, "\r\n", true))
    );
    // A second write from the cache replaces it again, in place: the file is the same.
    let once = read(&creds_path(&s));
    s.run(["write", "prod"]).success();
    assert_eq!(read(&creds_path(&s)), once);
    // A new session (-r) replaces it in place too.
    let code = s.code();
    s.run(["write", "prod", "-r", "-t", &code]).success();
    assert_eq!(
        read(&creds_path(&s)),
        format!("{head}{}{tail}", block(&s, "prod-mfaexec", 1, "\r\n", true))
    );
}

#[test]
fn a_last_section_without_a_final_newline_stays_without_one() {
    let s = Sandbox::standard();
    let head = format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n",
        s.alice.access_key_id, s.alice.secret_access_key
    );
    s.credentials(&format!(
        "{head}[prod-mfaexec]\naws_access_key_id = ASIAOLD\naws_secret_access_key = o\naws_session_token = o"
    ));
    let code = s.code();
    s.run(["write", "prod", "-t", &code]).success();
    assert_eq!(
        read(&creds_path(&s)),
        format!("{head}{}", block(&s, "prod-mfaexec", 0, "\n", false))
    );
}

#[test]
fn appending_to_a_crlf_file_without_a_final_newline_keeps_its_bytes_and_line_ends() {
    let s = Sandbox::standard();
    let before = format!(
        "[default]\r\naws_access_key_id = {}\r\naws_secret_access_key = {}",
        s.alice.access_key_id, s.alice.secret_access_key
    );
    s.credentials(&before);
    let code = s.code();
    s.run(["write", "prod", "-t", &code, "--to", "team/prod.session@x"])
        .success()
        .stderr_has("to [team/prod.session@x]");
    assert_eq!(
        read(&creds_path(&s)),
        format!(
            "{before}\r\n\r\n{}",
            block(&s, "team/prod.session@x", 0, "\r\n", true)
        )
    );
}

#[test]
fn refuses_long_term_keys_a_source_profile_and_foreign_settings_before_any_call() {
    let s = Sandbox::standard();
    s.credentials(&format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n\
         [static]\naws_access_key_id = ASIASTATICSTATIC\naws_secret_access_key = s\n\n\
         [noted]\naws_access_key_id = ASIANOTED\naws_secret_access_key = s\naws_session_token = t\noutput = json\n\n\
         [vault]\nAWS_ACCESS_KEY_ID=AKIAVAULTVAULTVAULT1\naws_secret_access_key = s\naws_session_token = t\n",
        s.alice.access_key_id, s.alice.secret_access_key
    ));
    s.append_config(&format!(
        "\n[profile chained]\nrole_arn = {DEPLOY}\nsource_profile = prod-mfaexec\n"
    ));
    let before = read(&creds_path(&s));
    let code = s.code();
    let cases: [(&[&str], &str); 7] = [
        (
            &["--to", "default"],
            "section [default] is the source_profile of profiles `locked`, `prod`, `short`, so writing a session there would change what they do",
        ),
        (
            &["--to", "vault"],
            "section [vault] of PATH holds long-term keys (an AKIA… access key id), which mfaexec never overwrites",
        ),
        (
            &["--to", "static"],
            "section [static] of PATH holds keys without a session token, so long-term keys",
        ),
        (
            &["--to", "noted"],
            "section [noted] of PATH holds `output`, which is not part of a session and would be lost",
        ),
        (
            &[],
            "section [prod-mfaexec] is the source_profile of profile `chained`, so writing a session there would change what `chained` does",
        ),
        (
            &["--to", "prod"],
            "section [prod] is the source_profile of profile `deploy`, so writing a session there would change what `deploy` does",
        ),
        (
            &["--to", "short"],
            "profile `short` gets its credentials from role_arn; keys written into [short] of the credentials file would be mixed with it",
        ),
    ];
    let path = creds_path(&s).display().to_string();
    for (extra, message) in cases {
        let mut args = vec!["write", "prod", "-t", &code];
        args.extend_from_slice(extra);
        s.run(&args)
            .failure(1)
            .one_line_error()
            .stderr_has(&format!("mfaexec: {}", message.replace("PATH", &path)))
            .stderr_has("hint: write to another section with --to NAME");
    }
    // `--to default` with the keys alone in the credentials file: long-term keys.
    let config = read(&s.home().join(".aws/config"));
    s.config(&format!(
        "[profile prod]\nrole_arn = {ADMIN}\nsource_profile = keys\nmfa_serial = {}\n",
        s.serial()
    ));
    s.credentials(&format!(
        "[keys]\naws_access_key_id = {}\naws_secret_access_key = {}\n[default]\naws_access_key_id = AKIADEFAULTDEFAULT12\naws_secret_access_key = d\n",
        s.alice.access_key_id, s.alice.secret_access_key
    ));
    let before_default = read(&creds_path(&s));
    s.run(["write", "prod", "-t", &code, "--to", "default"])
        .failure(1)
        .one_line_error()
        .stderr_has("section [default] of")
        .stderr_has("holds long-term keys");
    assert_eq!(read(&creds_path(&s)), before_default);
    s.credentials(&before);
    s.config(&config);
    // Names the SDKs would not read are a usage error.
    for bad in ["a b", "x]", "[x", ""] {
        s.run(["write", "prod", "-t", &code, "--to", bad])
            .failure(2)
            .one_line_error()
            .stderr_has("is not a profile name the AWS SDKs accept");
    }
    assert_eq!(read(&creds_path(&s)), before);
    assert!(s.calls().is_empty(), "a refusal costs no code");
}

#[test]
fn a_symlinked_credentials_file_has_its_target_replaced_and_stays_a_link() {
    let s = Sandbox::standard();
    let dotfiles = s.path("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    let target = dotfiles.join("aws-credentials");
    std::fs::rename(creds_path(&s), &target).unwrap();
    std::os::unix::fs::symlink(&target, creds_path(&s)).unwrap();
    let before = read(&target);
    let code = s.code();
    s.run(["write", "prod", "-t", &code])
        .success()
        .stderr_has(&format!(
            "in {} (a symlink to {});",
            creds_path(&s).display(),
            target.display()
        ));
    let link = std::fs::symlink_metadata(creds_path(&s)).unwrap();
    assert!(link.file_type().is_symlink());
    assert_eq!(std::fs::read_link(creds_path(&s)).unwrap(), target);
    assert_eq!(
        read(&target),
        format!("{before}\n{}", block(&s, "prod-mfaexec", 0, "\n", true))
    );
    assert_eq!(mode(&target), 0o600);
    assert_only(&dotfiles, &["aws-credentials"]);
    assert_only(&s.home().join(".aws"), &["config", "credentials"]);
}

#[test]
fn a_symlink_to_nothing_is_refused() {
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        s.alice.access_key_id, s.alice.secret_access_key
    ));
    let missing = s.path("dotfiles/missing");
    std::fs::remove_file(creds_path(&s)).unwrap();
    std::os::unix::fs::symlink(&missing, creds_path(&s)).unwrap();
    let code = s.code();
    s.run(["write", "prod", "-t", &code])
        .failure(1)
        .one_line_error()
        .stderr_has(&format!(
            "mfaexec: {} is a symlink, and its target cannot be reached",
            creds_path(&s).display()
        ))
        .stderr_has("hint: create the file it points to");
    assert!(!missing.exists());
    assert!(s.calls().is_empty());
}

#[test]
fn a_new_file_is_created_0600_in_a_private_directory() {
    let mut s = Sandbox::standard();
    // The keys move to the config file, so the credentials file can start absent.
    s.append_config(&format!(
        "\n[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        s.alice.access_key_id, s.alice.secret_access_key
    ));
    let path = s.path("new/aws/credentials");
    s.set("AWS_SHARED_CREDENTIALS_FILE", path.to_str().unwrap());
    let code = s.code();
    s.run(["write", "prod", "-t", &code]).success();
    assert_eq!(read(&path), block(&s, "prod-mfaexec", 0, "\n", true));
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_only(path.parent().unwrap(), &["credentials"]);
}

#[test]
fn a_file_open_to_others_becomes_0600() {
    let s = Sandbox::standard();
    std::fs::set_permissions(creds_path(&s), std::fs::Permissions::from_mode(0o644)).unwrap();
    let code = s.code();
    s.run(["write", "prod", "-t", &code]).success();
    assert_eq!(mode(&creds_path(&s)), 0o600);
}

#[test]
fn concurrent_writes_never_lose_a_section() {
    let s = Sandbox::standard();
    let code = s.code();
    // A session in the cache first, so the writers only contend for the file.
    s.run(["write", "prod", "-t", &code, "--to", "first"])
        .success();
    let before = read(&creds_path(&s));
    let names: Vec<String> = (0..16).map(|i| format!("w{i}")).collect();
    let children: Vec<_> = names
        .iter()
        .map(|name| s.spawn(&["write", "prod", "--to", name]))
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let after = read(&creds_path(&s));
    assert!(after.starts_with(&before), "the earlier bytes are intact");
    for name in &names {
        let section = block(&s, name, 0, "\n", true);
        assert_eq!(after.matches(&section).count(), 1, "[{name}] in:\n{after}");
    }
    let headers = after.lines().filter(|l| l.starts_with('[')).count();
    assert_eq!(headers, 2 + names.len(), "{after}");
    assert_eq!(s.calls().len(), 1);
    assert_only(&s.home().join(".aws"), &["config", "credentials"]);
}

#[test]
fn dry_run_writes_nothing_and_makes_no_call() {
    let s = Sandbox::standard();
    let before = read(&creds_path(&s));
    let out = s.run(["write", "prod", "--dry-run"]).success();
    out.stdout_has(&format!(
        "write       section [prod-mfaexec] of {}",
        creds_path(&s).display()
    ));
    assert_eq!(read(&creds_path(&s)), before);
    assert!(s.calls().is_empty());
}
