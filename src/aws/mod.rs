//! The clients of AWS services (STS, IAM, the console's federation endpoint) and the network
//! they share: proxies, CA bundles, and what a failed connection means. The only users of the
//! SDK's clients. Uses `config`, `creds` and `sys`.

pub mod federation;
pub mod iam;
pub mod login;
pub mod net;
mod profile_provider;
mod sign_in;
pub mod sso;
pub mod sts;
pub mod web_identity;

use crate::creds::{Keys, Secret, Session};

/// The credentials one of aws-config's providers (SSO, web identity) handed out, as a session.
fn provided_session(credentials: &aws_sdk_sts::config::Credentials) -> Session {
    let expiration = credentials
        .expiry()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    Session {
        keys: Keys {
            access_key_id: credentials.access_key_id().to_owned(),
            secret_access_key: Secret::new(credentials.secret_access_key()),
            session_token: credentials.session_token().map(Secret::new),
        },
        expiration,
    }
}
