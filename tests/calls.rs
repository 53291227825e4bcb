//! Which STS call mfaexec makes for each shape of profile (AWS-RULES §1), asserted on the fake's
//! call log: the action, who signed it, and every parameter.

use crate::support::fake_sts::{Role, User};
use crate::support::*;

#[test]
fn role_with_long_term_source_is_one_direct_assume_role_with_mfa() {
    let s = Sandbox::standard();
    let code = s.code();
    let out = s
        .run(["prod", "-t", &code, "--", "env"])
        .env("AWS_PROFILE", "someone-else")
        .success();
    let calls = s.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let call = &calls[0];
    assert_eq!(call.action, "AssumeRole");
    assert_eq!(call.access_key_id, s.alice.access_key_id);
    assert_eq!(call.session_token, None, "signed by the long-term key");
    assert_eq!(call.params["RoleArn"], ADMIN);
    assert_eq!(call.params["SerialNumber"], s.serial());
    assert_eq!(call.params["TokenCode"], code);
    assert_eq!(call.params["DurationSeconds"], "43200");
    assert_eq!(call.params["RoleSessionName"], "mfaexec-alice");
    assert!(of(&calls, "GetSessionToken").is_empty());

    let issued = &s.sts.issued()[0];
    let env = out.env_lines();
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(
        get("AWS_ACCESS_KEY_ID"),
        Some(issued.access_key_id.as_str())
    );
    assert_eq!(
        get("AWS_SECRET_ACCESS_KEY"),
        Some(issued.secret_access_key.as_str())
    );
    assert_eq!(
        get("AWS_SESSION_TOKEN"),
        Some(issued.session_token.as_str())
    );
    assert_eq!(
        get("AWS_CREDENTIAL_EXPIRATION"),
        Some(fake_sts::rfc3339(issued.expiration_unix).as_str())
    );
    assert!(issued.expiration_unix >= s.sts.now() + 43200 - 60);
    assert_eq!(get("AWS_REGION"), Some("eu-west-1"));
    assert_eq!(get("AWS_DEFAULT_REGION"), Some("eu-west-1"));
    assert_eq!(get("MFAEXEC_PROFILE"), Some("prod"));
    assert_eq!(get("AWS_PROFILE"), None);
    assert_eq!(
        get("HOME"),
        Some(s.home().to_str().unwrap()),
        "the rest is kept"
    );
    assert_no_secret(&out.stderr());
}

#[test]
fn source_role_profile_makes_a_chain_with_mfa_on_the_first_hop_only() {
    let s = Sandbox::standard();
    let code = s.code();
    let out = s.run(["deploy", "-t", &code, "--", "true"]).success();
    let calls = s.calls();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    let (first, second) = (&calls[0], &calls[1]);
    assert_eq!(first.action, "AssumeRole");
    assert_eq!(first.params["RoleArn"], ADMIN);
    assert_eq!(first.access_key_id, s.alice.access_key_id);
    assert_eq!(first.params["TokenCode"], code);
    // Hop 0 is a direct AssumeRole from long-term keys, not chained: it gets the 12h of its own
    // profile (prod), and is cached for later chains; only the chained hop is capped at 1h.
    assert_eq!(first.params["DurationSeconds"], "43200");
    assert_eq!(second.action, "AssumeRole");
    assert_eq!(second.params["RoleArn"], DEPLOY);
    assert_eq!(second.access_key_id, s.sts.issued()[0].access_key_id);
    assert!(second.session_token.is_some());
    assert!(!second.params.contains_key("TokenCode"));
    assert!(!second.params.contains_key("SerialNumber"));
    assert_eq!(second.params["DurationSeconds"], "3600");
    // duration_seconds = 43200 came from the profile: shortened to 1h, said in one line.
    out.stderr_has("using 1h instead of 12h")
        .stderr_has("mfaexec: new session for deploy (role deploy in 333333333333), expires ");
    assert_eq!(out.stderr().lines().count(), 2, "{}", out.stderr());
}

#[test]
fn explicit_long_duration_on_a_chain_is_refused_before_any_call() {
    let s = Sandbox::standard();
    for args in [
        vec!["deploy", "-d", "2h", "--", "true"],
        vec!["deploy", "--", "true"],
    ] {
        let run = s.run(&args);
        let run = if args.len() == 3 {
            run.env("MFAEXEC_DURATION", "90m")
        } else {
            run
        };
        let out = run.failure(1);
        out.one_line_error()
            .stderr_has("role chaining limits sessions to 1h")
            .stderr_has("source_profile");
    }
    assert_eq!(s.calls().len(), 0);
}

#[test]
fn mfa_serial_without_role_is_get_session_token_with_mfa() {
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["default", "-t", &code, "--", "true"]).success();
    let calls = s.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].action, "GetSessionToken");
    assert_eq!(calls[0].access_key_id, s.alice.access_key_id);
    assert_eq!(calls[0].params["SerialNumber"], s.serial());
    assert_eq!(calls[0].params["TokenCode"], code);
    assert_eq!(calls[0].params["DurationSeconds"], "43200");
}

#[test]
fn get_session_token_allows_36_hours() {
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["default", "-t", &code, "-d", "36h", "--", "true"])
        .success();
    assert_eq!(s.calls()[0].params["DurationSeconds"], "129600");
    let out = s.run(["default", "-d", "37h", "--", "true"]).failure(1);
    out.one_line_error().stderr_has("36h");
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn long_term_keys_only_is_get_session_token_without_mfa() {
    let s = Sandbox::standard();
    let bob = User {
        mfa_serial: None,
        ..User::new("bob", STEP)
    };
    s.sts.add_user(bob.clone());
    s.credentials(&format!(
        "[bob]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        bob.access_key_id, bob.secret_access_key
    ));
    s.run(["bob", "--", "true"]).success();
    let calls = s.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].action, "GetSessionToken");
    assert_eq!(calls[0].access_key_id, bob.access_key_id);
    assert!(!calls[0].params.contains_key("SerialNumber"));
    assert!(!calls[0].params.contains_key("TokenCode"));
}

#[test]
fn root_mfa_session_is_capped_at_one_hour() {
    let s = Sandbox::empty();
    let root = User::root("444444444444");
    s.sts.add_user(root.clone());
    let serial = root.mfa_serial.clone().unwrap();
    s.credentials(&format!(
        "[root]\naws_access_key_id = {}\naws_secret_access_key = {}\nmfa_serial = {serial}\n",
        root.access_key_id, root.secret_access_key
    ));
    let out = s.run(["root", "-d", "2h", "--", "true"]).failure(1);
    out.one_line_error().stderr_has("at most 1h");
    assert!(s.calls().is_empty());
    let code = s.sts.code(&serial);
    s.run(["root", "-t", &code, "--", "true"]).success();
    assert_eq!(s.calls()[0].action, "GetSessionToken");
    assert_eq!(s.calls()[0].params["DurationSeconds"], "3600");
}

#[test]
fn duration_precedence_is_flag_then_env_then_profile_then_default() {
    let s = Sandbox::standard();
    let runs: [(&[&str], Option<&str>, &str); 4] = [
        (&["prod", "-d", "2h"], Some("3h"), "7200"),
        (&["prod"], Some("3h"), "10800"),
        (&["prod"], None, "43200"),
        (&["short"], None, "3600"),
    ];
    for (i, (args, env, expected)) in runs.iter().enumerate() {
        if i > 0 && i % 2 == 0 {
            s.sts.advance_clock(60);
        }
        let code = s.code();
        let mut argv: Vec<&str> = args.to_vec();
        argv.extend(["--refresh", "-t", &code, "--", "true"]);
        let mut run = s.run(&argv);
        if let Some(value) = env {
            run = run.env("MFAEXEC_DURATION", value);
        }
        run.success();
        assert_eq!(
            s.calls().last().unwrap().params["DurationSeconds"],
            *expected,
            "{args:?} with MFAEXEC_DURATION={env:?}"
        );
    }
}

#[test]
fn duration_syntax_forms_reach_sts_in_seconds() {
    let s = Sandbox::standard();
    for (text, secs) in [
        ("5400", "5400"),
        ("90m", "5400"),
        ("1h30m", "5400"),
        ("12h", "43200"),
    ] {
        s.sts.advance_clock(60);
        let code = s.code();
        s.run(["prod", "-t", &code, "-d", text, "--", "true"])
            .success();
        assert_eq!(s.calls().last().unwrap().params["DurationSeconds"], secs);
    }
}

#[test]
fn role_options_are_sent_as_configured() {
    let s = Sandbox::standard();
    s.sts.add_role(Role {
        trusted: vec![s.alice.arn()],
        external_id: Some("ext-42".into()),
        ..Role::new("arn:aws:iam::222222222222:role/vendor")
    });
    s.append_config(
        "\n[profile vendor]\nrole_arn = arn:aws:iam::222222222222:role/vendor\nsource_profile = default\n\
         external_id = ext-42\nrole_session_name = alice@example.com\nsource_identity = alice\n",
    );
    let code = s.code();
    s.run(["vendor", "-t", &code, "--", "true"]).success();
    let call = &s.calls()[0];
    assert_eq!(call.params["ExternalId"], "ext-42");
    assert_eq!(call.params["RoleSessionName"], "alice@example.com");
    assert_eq!(call.params["SourceIdentity"], "alice");
    // mfa_serial is inherited from the source profile ([default]).
    assert_eq!(call.params["SerialNumber"], s.serial());
}

#[test]
fn default_session_name_is_fitted_to_what_sts_accepts() {
    let s = Sandbox::standard();
    let code = s.code();
    let long_user = format!("jörg smith/{}", "x".repeat(80));
    s.run(["prod", "-t", &code, "--", "true"])
        .env("USER", &long_user)
        .success();
    let name = &s.calls()[0].params["RoleSessionName"];
    assert!(name.starts_with("mfaexec-j-rg-smith-xxx"), "{name}");
    assert_eq!(name.len(), 64);
}

#[test]
fn credential_source_environment_signs_with_mfaexecs_own_keys() {
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[profile envrole]\nrole_arn = {ADMIN}\ncredential_source = Environment\nmfa_serial = {}\n",
        s.serial()
    ));
    let code = s.code();
    let out = s
        .run([
            "envrole",
            "-t",
            &code,
            "--",
            "printenv",
            "AWS_ACCESS_KEY_ID",
        ])
        .env("AWS_ACCESS_KEY_ID", &s.alice.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &s.alice.secret_access_key)
        .success();
    let call = &s.calls()[0];
    assert_eq!(call.action, "AssumeRole");
    assert_eq!(call.access_key_id, s.alice.access_key_id);
    assert_eq!(call.params["DurationSeconds"], "3600");
    assert_eq!(out.stdout().trim(), s.sts.issued()[0].access_key_id);
}

#[test]
fn endpoint_is_resolved_like_the_aws_sdks() {
    // AWS_ENDPOINT_URL (all services) when there is no STS-specific one.
    let mut s = Sandbox::standard();
    let url = s.sts.url();
    s.set("AWS_ENDPOINT_URL_STS", "");
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"])
        .env_remove("AWS_ENDPOINT_URL_STS")
        .env("AWS_ENDPOINT_URL", &url)
        .success();
    assert_eq!(s.calls().len(), 1);

    // A `[services]` section named by the profile.
    s.append_config(&format!(
        "\n[profile viaservices]\nrole_arn = {ADMIN}\nsource_profile = default\nservices = local\n\n\
         [services local]\nsts =\n  endpoint_url = {url}\n"
    ));
    let code = s.code();
    s.run(["viaservices", "--refresh", "-t", &code, "--", "true"])
        .env_remove("AWS_ENDPOINT_URL_STS")
        .success();
    assert_eq!(s.calls().len(), 2);

    // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS switches them all off (shown by --dry-run, which
    // makes no call, so nothing goes to the real AWS).
    let out = s
        .run(["viaservices", "--dry-run"])
        .env("AWS_ENDPOINT_URL_STS", &url)
        .env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
        .success();
    out.stdout_has("https://sts.us-east-1.amazonaws.com (the SDK's endpoint rules for us-east-1)");
    let out = s
        .run(["viaservices", "--dry-run"])
        .env("AWS_ENDPOINT_URL_STS", &url)
        .success();
    out.stdout_has(&format!("{url} (from"));
    assert_eq!(s.calls().len(), 2);
}

#[test]
fn region_comes_from_flag_env_then_profile() {
    let s = Sandbox::standard();
    let region = |args: &[&str], env: Option<&str>| {
        let mut argv = args.to_vec();
        argv.push("--dry-run");
        let mut run = s.run(&argv);
        if let Some(r) = env {
            run = run.env("AWS_REGION", r);
        }
        let out = run.success();
        out.stdout()
            .lines()
            .find(|l| l.starts_with("region"))
            .unwrap()
            .to_owned()
    };
    assert!(
        region(&["prod", "--region", "ap-south-1"], Some("us-west-2"))
            .contains("ap-south-1 (from --region)")
    );
    assert!(region(&["prod"], Some("us-west-2")).contains("us-west-2 (from AWS_REGION)"));
    assert!(region(&["prod"], None).contains("eu-west-1 (from profile `prod`)"));
    assert!(region(&["short"], None).contains("us-east-1 (none configured)"));
    let out = s
        .run(["prod", "--region", "eu-west-1;rm", "--dry-run"])
        .failure(2);
    out.one_line_error().stderr_has("region");
}

#[test]
fn inside_an_mfaexec_environment_the_profiles_region_beats_the_inherited_one() {
    // See: review finding, `mfaexec use produs` after `use prodeu` kept eu-west-1.
    let s = Sandbox::standard();
    s.append_config(&format!(
        "\n[profile produs]\nrole_arn = {ADMIN}\nsource_profile = default\nregion = us-east-2\n"
    ));
    let region_line = |out: &Out| {
        out.stdout()
            .lines()
            .find(|l| l.starts_with("region"))
            .unwrap()
            .to_owned()
    };
    let inside = s
        .run(["produs", "--dry-run"])
        .env("MFAEXEC_PROFILE", "prod")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .success();
    assert!(region_line(&inside).contains("us-east-2 (from profile `produs`)"));
    // A profile without a region keeps the inherited one.
    let inherited = s
        .run(["short", "--dry-run"])
        .env("MFAEXEC_PROFILE", "prod")
        .env("AWS_REGION", "eu-west-1")
        .success();
    assert!(region_line(&inherited).contains("eu-west-1 (from AWS_REGION)"));
    // Outside mfaexec, the environment still beats the profile, as in the AWS SDKs.
    let outside = s
        .run(["produs", "--dry-run"])
        .env("AWS_REGION", "eu-west-1")
        .success();
    assert!(region_line(&outside).contains("eu-west-1 (from AWS_REGION)"));
    let flag = s
        .run(["produs", "--region", "ap-south-1", "--dry-run"])
        .env("MFAEXEC_PROFILE", "prod")
        .success();
    assert!(region_line(&flag).contains("ap-south-1 (from --region)"));
}

#[test]
fn the_sts_specific_endpoint_beats_the_general_one() {
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .success();
    assert_eq!(s.calls().len(), 1);
}

#[test]
fn a_chain_starts_from_the_cached_session_of_its_first_hop() {
    // See: review finding, a chained profile asked for an MFA code every hour while the 12h
    // session of its source role profile sat in the cache.
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"]).success();
    // No code and no terminal: only the cached prod session can start the chain.
    let out = s
        .run(["deploy", "-v", "--", "printenv", "AWS_ACCESS_KEY_ID"])
        .success();
    out.stderr_has("starting the chain from the cached session of profile `prod`");
    let calls = s.calls();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    let hop = &calls[1];
    assert_eq!(hop.params["RoleArn"], DEPLOY);
    assert_eq!(hop.access_key_id, s.sts.issued()[0].access_key_id);
    assert!(hop.session_token.is_some());
    assert!(!hop.params.contains_key("TokenCode"));
    assert_eq!(hop.params["DurationSeconds"], "3600");
    assert_eq!(out.stdout().trim(), s.sts.issued()[1].access_key_id);
    assert_no_secret(&out.stderr());

    s.run(["clear", "deploy"]).success();
    s.run(["deploy", "--dry-run"])
        .success()
        .stdout_has("starts at hop 2 from the cached session of profile `prod`: no MFA code");
    // --refresh starts over, from the long-term keys, with a code.
    s.run(["deploy", "-r", "--", "true"])
        .failure(1)
        .stderr_has("no terminal");
}

#[test]
fn a_fresh_chain_caches_its_first_hop_for_the_next_commands() {
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["deploy", "-t", &code, "--", "true"]).success();
    assert_eq!(s.calls().len(), 2);
    // prod is answered by hop 0's session, with no call and no code.
    let out = s
        .run(["prod", "--", "printenv", "AWS_ACCESS_KEY_ID"])
        .success();
    assert_eq!(out.stdout().trim(), s.sts.issued()[0].access_key_id);
    assert_eq!(s.calls().len(), 2);
    // Once deploy's own session is gone, the next one needs only the last hop.
    s.run(["clear", "deploy"]).success();
    s.run(["deploy", "--", "true"]).success();
    let calls = s.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[2].params["RoleArn"], DEPLOY);
    assert!(!calls[2].params.contains_key("TokenCode"));
}

#[test]
fn a_cached_source_from_other_keys_does_not_start_a_chain() {
    // The cached prod session must be for exactly the chain's first hop: a deploy profile
    // whose source profile has other keys cannot use it.
    let s = Sandbox::standard();
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"]).success();
    let bob = crate::support::fake_sts::User::new("bob", STEP);
    s.sts.add_user(bob.clone());
    let creds = s.credentials_text();
    s.credentials(&format!(
        "{creds}[bob]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        bob.access_key_id, bob.secret_access_key
    ));
    s.append_config(&format!(
        "\n[profile bobprod]\nrole_arn = {ADMIN}\nsource_profile = bob\n\n\
         [profile bobdeploy]\nrole_arn = {DEPLOY}\nsource_profile = bobprod\nmfa_serial = {}\n",
        bob.mfa_serial.clone().unwrap()
    ));
    s.run(["bobdeploy", "--", "true"])
        .failure(1)
        .stderr_has("no terminal");
    assert_eq!(s.calls().len(), 1);
}
