//! Where the AWS CLI keeps an IAM Identity Center token (`~/.aws/sso/cache/<sha1>.json`) and
//! what it says about itself: read for `list`, `--dry-run` and the expired-token hint, never
//! written. Using and refreshing the token is the SDK provider's work (aws/sso.rs).

use std::path::PathBuf;

use sha1::{Digest, Sha1};

use crate::config::profile::Sso;
use crate::sys::environ::Environment;

/// The token file of `sso`: named by the sha1 of its sso-session name, or of its start URL for
/// a legacy profile, as the AWS CLI and the SDKs name it.
pub fn path(env: &Environment, sso: &Sso) -> Option<PathBuf> {
    let home = env.get("HOME")?;
    let digest = Sha1::digest(sso.token_name().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Some(
        PathBuf::from(home)
            .join(".aws/sso/cache")
            .join(format!("{hex}.json")),
    )
}

/// What a token file says, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Unix seconds of `expiresAt`.
    pub expires: i64,
    /// A refresh token with a client registration that has not expired: the SDK's provider
    /// can renew the token by itself (OIDC CreateToken), with no browser.
    pub refreshable: bool,
}

/// `None`: no token file, or one that cannot be read as a token.
pub fn state(env: &Environment, sso: &Sso) -> Option<State> {
    let text = std::fs::read_to_string(path(env, sso)?).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let time = |key: &str| {
        json.get(key)?
            .as_str()?
            .parse::<jiff::Timestamp>()
            .ok()
            .map(|t| t.as_second())
    };
    let expires = time("expiresAt")?;
    let has = |key: &str| {
        json.get(key)
            .and_then(|v| v.as_str())
            .is_some_and(|v| !v.is_empty())
    };
    let registered = time("registrationExpiresAt").is_some_and(|t| t > crate::sys::time::now());
    Some(State {
        expires,
        refreshable: sso.session.is_some()
            && has("refreshToken")
            && has("clientId")
            && has("clientSecret")
            && registered,
    })
}

/// The hint of an expired or missing token: the command that signs in again.
pub fn login_hint(sso: &Sso) -> String {
    format!(
        "`{}` signs in (in a browser; mfaexec never opens one by itself), then run mfaexec again, or add --sso-login to have mfaexec run it",
        sso.login_command()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sso(session: Option<&str>) -> Sso {
        Sso {
            profile: "p".into(),
            session: session.map(str::to_owned),
            start_url: "https://d-123.awsapps.com/start".into(),
            region: "us-east-1".into(),
            account_id: "111111111111".into(),
            role_name: "Admin".into(),
        }
    }

    #[test]
    fn token_files_are_named_as_the_aws_cli_names_them() {
        let env = Environment::from_pairs(&[("HOME", "/h")]);
        // sha1("my-sso"), the value in the SDK's own tests.
        let p = path(&env, &sso(Some("my-sso"))).unwrap();
        assert_eq!(
            p.file_name().unwrap().to_str().unwrap(),
            format!("{}.json", {
                let d = Sha1::digest(b"my-sso");
                d.iter().map(|b| format!("{b:02x}")).collect::<String>()
            })
        );
        assert!(p.starts_with("/h/.aws/sso/cache"));
        assert_eq!(
            sso(None).login_command(),
            "aws sso login --profile p".to_owned()
        );
        assert_eq!(
            sso(Some("corp")).login_command(),
            "aws sso login --sso-session corp".to_owned()
        );
    }
}
