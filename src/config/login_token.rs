//! Where the AWS CLI keeps an `aws login` session's token (`~/.aws/login/cache/<sha256>.json`,
//! or `AWS_LOGIN_CACHE_DIRECTORY`) and what it says about itself: read for `list`, `--dry-run`
//! and the expired-session hint, never written. Using and renewing the token (AWS Sign-In's
//! CreateOAuth2Token, signed with the file's DPoP key) is the SDK provider's work (aws/login.rs).

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::config::profile::Login;
use crate::sys::environ::Environment;

/// The token file of `login`: the sha256 of its session ARN, as the AWS CLI and the SDK name it.
pub fn path(env: &Environment, login: &Login) -> Option<PathBuf> {
    let dir = match env.get("AWS_LOGIN_CACHE_DIRECTORY") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env.get("HOME")?).join(".aws/login/cache"),
    };
    let digest = Sha256::digest(login.session_arn.trim().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Some(dir.join(format!("{hex}.json")))
}

/// What a token file says, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Unix seconds of the credentials' `accessToken.expiresAt` (minutes after each renewal).
    pub expires: i64,
    /// A refresh token, client id and DPoP key: the SDK's provider can renew the credentials
    /// by itself while the console session lasts. When it has ended, only the renewal's
    /// answer says so: the file does not.
    pub refreshable: bool,
}

/// `None`: no token file, or one that cannot be read as a token.
pub fn state(env: &Environment, login: &Login) -> Option<State> {
    let text = std::fs::read_to_string(path(env, login)?).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let expires = json
        .get("accessToken")?
        .get("expiresAt")?
        .as_str()?
        .parse::<jiff::Timestamp>()
        .ok()?
        .as_second();
    let has = |key: &str| {
        json.get(key)
            .and_then(|v| v.as_str())
            .is_some_and(|v| !v.is_empty())
    };
    Some(State {
        expires,
        refreshable: has("refreshToken") && has("clientId") && has("dpopKey"),
    })
}

/// The hint of an ended or missing session: the command that signs in again.
pub fn login_hint(login: &Login) -> String {
    format!(
        "`{}` signs in (in a browser; mfaexec never opens one by itself), then run mfaexec again, or add --sso-login to have mfaexec run it",
        login.login_command()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_files_are_named_by_the_sha256_of_the_session_arn() {
        let login = Login {
            profile: "p".into(),
            session_arn: "arn:aws:iam::111111111111:user/alice".into(),
        };
        let env = Environment::from_pairs(&[("HOME", "/h")]);
        let p = path(&env, &login).unwrap();
        assert!(p.starts_with("/h/.aws/login/cache"));
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(name.len(), 64 + 5);
        let env = Environment::from_pairs(&[("HOME", "/h"), ("AWS_LOGIN_CACHE_DIRECTORY", "/c")]);
        assert_eq!(path(&env, &login).unwrap(), PathBuf::from("/c").join(name));
        assert_eq!(login.login_command(), "aws login --profile p");
    }
}
