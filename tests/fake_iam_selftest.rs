//! Tests of the fake IAM itself, through the real `aws-sdk-iam` client: the SDK accepts its
//! answers, and it enforces the rules `mfaexec rotate` is tested against (AWS-RULES §10).

#![allow(clippy::result_large_err)]

use std::time::Duration;

use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

use crate::support::fake_sts::fake_iam::IamSettings;
use crate::support::fake_sts::{FakeSts, Issued, User};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn iam(fake: &FakeSts, akid: &str, secret: &str, token: Option<&str>) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .http_client(crate::support::sdk_http_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(fake.url())
        .credentials_provider(Credentials::new(
            akid,
            secret,
            token.map(str::to_string),
            None,
            "test",
        ))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

fn sts(fake: &FakeSts, akid: &str, secret: &str, token: Option<&str>) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .http_client(crate::support::sdk_http_client())
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(fake.url())
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            akid,
            secret,
            token.map(str::to_string),
            None,
            "test",
        ))
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

fn code<T, E: ProvideErrorMetadata>(result: Result<T, SdkError<E>>) -> String {
    match result {
        Ok(_) => panic!("expected the call to fail, it succeeded"),
        Err(e) => e.code().unwrap_or("no code").to_string(),
    }
}

/// A GetSessionToken session of `user`, with or without MFA.
fn session(fake: &FakeSts, rt: &tokio::runtime::Runtime, user: &User, mfa: bool) -> Issued {
    let serial = user.mfa_serial.clone().unwrap();
    let call = sts(fake, &user.access_key_id, &user.secret_access_key, None).get_session_token();
    let call = if mfa {
        call.serial_number(&serial).token_code(fake.code(&serial))
    } else {
        call
    };
    rt.block_on(call.send()).expect("GetSessionToken");
    fake.issued().pop().unwrap()
}

#[test]
fn create_list_delete_and_the_limit_of_two_keys() {
    let rt = runtime();
    let fake = FakeSts::start();
    let alice = User::new("alice", "111111111111");
    fake.add_user(alice.clone());
    let own = iam(&fake, &alice.access_key_id, &alice.secret_access_key, None);

    let made = rt.block_on(own.create_access_key().send()).unwrap();
    let key = made.access_key().unwrap();
    assert_eq!(key.user_name(), "alice");
    assert!(key.access_key_id().starts_with("AKIA"));
    assert_eq!(key.status().as_str(), "Active");
    assert!(key.create_date().is_some());

    let listed = rt.block_on(own.list_access_keys().send()).unwrap();
    let ids: Vec<&str> = listed
        .access_key_metadata()
        .iter()
        .map(|k| k.access_key_id().unwrap())
        .collect();
    assert_eq!(ids, [alice.access_key_id.as_str(), key.access_key_id()]);
    assert_eq!(fake.access_keys(&alice).len(), 2);

    // A third key: LimitExceeded (HTTP 409), as IAM answers.
    let third = rt.block_on(own.create_access_key().send());
    assert_eq!(code(third), "LimitExceeded");

    // The new key signs too, and acts on the same user.
    let new = iam(&fake, key.access_key_id(), key.secret_access_key(), None);
    rt.block_on(
        new.delete_access_key()
            .access_key_id(&alice.access_key_id)
            .send(),
    )
    .unwrap();
    assert_eq!(
        fake.access_keys(&alice)[0].access_key_id,
        key.access_key_id()
    );
    // The deleted key is gone for STS as for IAM.
    let gone = rt.block_on(
        sts(&fake, &alice.access_key_id, &alice.secret_access_key, None)
            .get_caller_identity()
            .send(),
    );
    assert_eq!(code(gone), "InvalidClientTokenId");
    let again = rt.block_on(
        new.delete_access_key()
            .access_key_id(&alice.access_key_id)
            .send(),
    );
    assert_eq!(code(again), "NoSuchEntity");
    let calls = fake.calls();
    assert!(calls.iter().any(|c| c.action == "DeleteAccessKey"
        && c.access_key_id == key.access_key_id()
        && c.params["AccessKeyId"] == alice.access_key_id));
}

#[test]
fn session_credentials_reach_iam_only_with_mfa_and_a_policy_may_demand_it() {
    let rt = runtime();
    let fake = FakeSts::start();
    let alice = User::new("alice", "111111111111");
    fake.add_user(alice.clone());

    let plain = session(&fake, &rt, &alice, false);
    let list = rt.block_on(
        iam(
            &fake,
            &plain.access_key_id,
            &plain.secret_access_key,
            Some(&plain.session_token),
        )
        .list_access_keys()
        .send(),
    );
    assert_eq!(code(list), "InvalidClientTokenId");

    fake.set_iam(IamSettings {
        require_mfa: true,
        ..IamSettings::default()
    });
    let list = rt.block_on(
        iam(&fake, &alice.access_key_id, &alice.secret_access_key, None)
            .list_access_keys()
            .send(),
    );
    assert_eq!(code(list), "AccessDenied");

    let with_mfa = session(&fake, &rt, &alice, true);
    let list = rt
        .block_on(
            iam(
                &fake,
                &with_mfa.access_key_id,
                &with_mfa.secret_access_key,
                Some(&with_mfa.session_token),
            )
            .list_access_keys()
            .send(),
        )
        .unwrap();
    assert_eq!(list.access_key_metadata().len(), 1);
}

#[test]
fn a_new_key_is_refused_while_it_propagates() {
    let rt = runtime();
    let fake = FakeSts::start();
    let alice = User::new("alice", "111111111111");
    fake.add_user(alice.clone());
    fake.set_iam(IamSettings {
        propagation_calls: 2,
        propagation: Duration::from_millis(300),
        ..IamSettings::default()
    });
    let made = rt
        .block_on(
            iam(&fake, &alice.access_key_id, &alice.secret_access_key, None)
                .create_access_key()
                .send(),
        )
        .unwrap();
    let key = made.access_key().unwrap();
    let new = sts(&fake, key.access_key_id(), key.secret_access_key(), None);
    for _ in 0..2 {
        assert_eq!(
            code(rt.block_on(new.get_caller_identity().send())),
            "InvalidClientTokenId"
        );
    }
    std::thread::sleep(Duration::from_millis(400));
    let me = rt.block_on(new.get_caller_identity().send()).unwrap();
    assert_eq!(me.arn(), Some(alice.arn().as_str()));
}
