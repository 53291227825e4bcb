//! A profile's `credential_process` as the source of its keys (1Password's `op`, `pass`,
//! Bitwarden, `aws-vault export --format=json`): run only when a new session is needed, bounded
//! like `mfa_process` (a timeout, an output cap, stdin from /dev/null, its stdout never shown),
//! and read with the AWS contract: one JSON object, `Version` 1.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::config::limits;
use crate::creds::{Keys, Secret};
use crate::error::{Error, Result};
use crate::sys::environ::Environment;
use crate::sys::process::{Bounded, run_bounded};

/// The JSON is a few hundred bytes (a few KB with a session token); more is never kept.
const OUTPUT_CAP: usize = 64 * 1024;

/// `MFAEXEC_CREDENTIAL_PROCESS_TIMEOUT`: how long a credential_process may take (a vault to
/// unlock, a touch) before it is stopped; default one minute, at most ten.
pub fn timeout(env: &Environment) -> Result<Duration> {
    limits::setting(env, &limits::CREDENTIAL_PROCESS_TIMEOUT).map(Duration::from_secs)
}

/// Runs `command` (the credential_process of `profile`) and returns the keys it printed.
pub fn run(profile: &str, command: &str, env: &Environment) -> Result<Keys> {
    let what = format!("credential_process of profile `{profile}`");
    let timeout = timeout(env)?;
    // Under --server, away from the terminal and the command's processes, as an mfa_process.
    let (stderr, place) = crate::sys::process::process_place();
    let output = run_bounded(command, stderr, place, timeout, OUTPUT_CAP).map_err(|e| {
        match e {
            Bounded::Start(e) => Error::new(format!("cannot start the {what}: /bin/sh: {e}")),
            Bounded::TimedOut => Error::new(format!(
                "the {what} did not finish within {}",
                limits::format(timeout.as_secs())
            ))
            .hint("it may be waiting for an unlock; MFAEXEC_CREDENTIAL_PROCESS_TIMEOUT sets how long to wait"),
        }
    })?;
    let stdout = Zeroizing::new(output.stdout);
    let look = "run the credential_process command in a terminal to see why (mfaexec never shows its output, which holds secrets)";
    if let Some(signal) = output.status.signal() {
        return Err(Error::new(format!("the {what} was killed by signal {signal}")).hint(look));
    }
    match output.status.code() {
        Some(0) => {}
        Some(127) => {
            return Err(Error::new(format!(
                "the {what} failed with exit status 127: its command was not found"
            ))
            .hint("check the command's name and that it is on PATH"));
        }
        Some(code) => {
            return Err(
                Error::new(format!("the {what} failed with exit status {code}")).hint(look),
            );
        }
        None => return Err(Error::new(format!("the {what} failed")).hint(look)),
    }
    parse(&stdout, crate::sys::time::now()).map_err(|why| {
        Error::new(format!("the {what} printed {why}")).hint(
            r#"it must print one JSON object: {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "..."} (its output is not shown, as it holds secrets)"#,
        )
    })
}

/// The keys of a credential_process's output, or what is wrong with it (never a value).
fn parse(stdout: &[u8], now: i64) -> Result<Keys, String> {
    let mut json: serde_json::Value =
        serde_json::from_slice(stdout).map_err(|_| "no valid JSON object".to_owned())?;
    if !json.is_object() {
        return Err("JSON that is not an object".to_owned());
    }
    if json.get("Version").and_then(serde_json::Value::as_u64) != Some(1) {
        return Err("JSON without \"Version\": 1".to_owned());
    }
    // Moved out of the JSON, not copied, so the Secret's wipe on drop covers them.
    let mut take = |name: &str| match json.get_mut(name).map(serde_json::Value::take) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let id = take("AccessKeyId").ok_or("JSON without an AccessKeyId")?;
    let secret = Secret::new(take("SecretAccessKey").ok_or("JSON without a SecretAccessKey")?);
    let token = take("SessionToken").map(Secret::new);
    if let Some(expiration) = take("Expiration") {
        let at = expiration
            .parse::<jiff::Timestamp>()
            .map_err(|_| "an Expiration that is not an RFC 3339 time".to_owned())?;
        if at.as_second() <= now {
            return Err(format!("credentials that expired at {expiration}"));
        }
    }
    Ok(Keys {
        access_key_id: id,
        secret_access_key: secret,
        session_token: token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_1_contract() {
        let keys = parse(
            br#"{"Version":1,"AccessKeyId":"AKIAEXAMPLE","SecretAccessKey":"s3cr3t"}"#,
            0,
        )
        .unwrap();
        assert_eq!(keys.access_key_id, "AKIAEXAMPLE");
        assert!(!keys.is_temporary());
        let keys = parse(
            br#"{"Version":1,"AccessKeyId":"ASIA1","SecretAccessKey":"s","SessionToken":"t","Expiration":"2030-01-02T03:04:05Z"}"#,
            0,
        )
        .unwrap();
        assert!(keys.is_temporary());
    }

    #[test]
    fn refuses_what_breaks_the_contract_without_showing_it() {
        for (bad, why) in [
            (&b"not json s3cr3t"[..], "no valid JSON"),
            (br#"[1]"#, "not an object"),
            (br#"{"AccessKeyId":"A","SecretAccessKey":"s3cr3t"}"#, "Version"),
            (br#"{"Version":2,"AccessKeyId":"A","SecretAccessKey":"s3cr3t"}"#, "Version"),
            (br#"{"Version":1,"SecretAccessKey":"s3cr3t"}"#, "AccessKeyId"),
            (br#"{"Version":1,"AccessKeyId":"A"}"#, "SecretAccessKey"),
            (
                br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"s3cr3t","Expiration":"2001-01-01T00:00:00Z"}"#,
                "expired",
            ),
        ] {
            let err = parse(bad, 1_900_000_000).unwrap_err();
            assert!(err.contains(why), "{err}");
            assert!(!err.contains("s3cr3t"), "{err}");
        }
    }
}
