//! How the AWS files are read (AWS-RULES §7), seen through `--dry-run` and the call log.

use crate::support::*;

#[test]
fn credentials_file_wins_over_config_key_by_key() {
    let s = Sandbox::standard();
    s.append_config("\n[profile dup]\naws_access_key_id = AKIACONFIGFILE000000\naws_secret_access_key = x\nregion = ap-south-1\n");
    s.credentials(&format!(
        "[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n\
         [dup]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n",
        id = s.alice.access_key_id,
        secret = s.alice.secret_access_key
    ));
    let out = s.run(["dup", "--dry-run"]).success();
    out.stdout_has(&s.alice.access_key_id)
        .stdout_has("ap-south-1 (from profile `dup`)");
    assert!(!out.stdout().contains("AKIACONFIGFILE"));
}

#[test]
fn profile_default_section_wins_over_default() {
    let s = Sandbox::standard();
    s.append_config("\n[profile default]\nregion = sa-east-1\n");
    s.append_config("\n[default]\nregion = us-west-1\n");
    let out = s.run(["default", "--dry-run"]).success();
    out.stdout_has("sa-east-1 (from profile `default`)");
}

#[test]
fn a_profile_may_name_itself_as_source_to_use_its_own_keys() {
    let s = Sandbox::standard();
    s.credentials(&s.alice_keys_section("selfish"));
    s.append_config(&format!(
        "\n[profile selfish]\nrole_arn = {ADMIN}\nsource_profile = selfish\nmfa_serial = {}\n",
        s.serial()
    ));
    let code = s.code();
    s.run(["selfish", "-t", &code, "--", "true"]).success();
    let calls = s.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].action, "AssumeRole");
    assert_eq!(calls[0].access_key_id, s.alice.access_key_id);
}

#[test]
fn a_source_profile_with_keys_wins_over_its_own_role() {
    // As in the AWS SDKs: a source profile's static keys are used, its role_arn is not.
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[profile default]\nrole_arn = {LOCKED}\nsource_profile = default\nmfa_serial = {}\n",
        s.serial()
    ));
    let out = s.run(["prod", "--dry-run"]).success();
    out.stdout_has(&format!(
        "`prod` (role {ADMIN}) <- profile `default` (long-term key {})",
        s.alice.access_key_id
    ));
    assert!(!out.stdout().contains(LOCKED));
}

#[test]
fn files_are_found_through_the_aws_variables_and_home() {
    let s = Sandbox::standard();
    let elsewhere = s.path("elsewhere-config");
    std::fs::write(
        &elsewhere,
        format!("[profile other]\nrole_arn = {ADMIN}\nsource_profile = default\n"),
    )
    .unwrap();
    s.run(["other", "--dry-run"])
        .env("AWS_CONFIG_FILE", &elsewhere)
        .success();
    // Without the variables, ~/.aws/config and ~/.aws/credentials of $HOME.
    s.run(["prod", "--dry-run"])
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .success();
}

#[test]
fn keys_are_case_insensitive_and_spacing_is_free() {
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[profile   spaced  ]\nRole_Arn=   {ADMIN}\nSOURCE_PROFILE  =default\n"
    ));
    let out = s.run(["spaced", "--dry-run"]).success();
    out.stdout_has(&format!("`spaced` (role {ADMIN}) <- profile `default`"));
}

#[test]
fn an_invalid_profile_value_is_named_before_any_call() {
    let s = Sandbox::standard();
    for (key, value, says) in [
        ("role_arn", "admin", "is not an IAM role ARN"),
        (
            "role_session_name",
            "has space",
            "role_session_name `has space` is not valid",
        ),
        ("external_id", "x", "external_id `x` is not valid"),
        (
            "source_identity",
            "aws:me",
            "source_identity `aws:me` is not valid",
        ),
        ("mfa_serial", "short", "mfa_serial `short` is not valid"),
        ("duration_seconds", "12h", "is not a number of seconds"),
    ] {
        let role = if key == "role_arn" { value } else { ADMIN };
        let mut text = format!("\n[profile bad]\nrole_arn = {role}\nsource_profile = default\n");
        if key != "role_arn" {
            text.push_str(&format!("{key} = {value}\n"));
        }
        s.config(&text);
        let out = s.run(["bad", "-t", "123456", "--", "true"]).failure(1);
        out.one_line_error()
            .stderr_has(says)
            .stderr_has("profile `bad`");
    }
    assert!(s.calls().is_empty());
}
