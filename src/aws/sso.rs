//! IAM Identity Center: role credentials from the SDK's `SsoCredentialsProvider`, which reads
//! the AWS CLI's token cache and, for an sso-session with a refresh token, renews the token
//! itself (OIDC CreateToken). mfaexec gives it its HTTP client (proxy, CA bundle), the
//! timeouts, and the endpoints of the portal and of OIDC as the profile file and the
//! environment configure them (through `profile_provider`, the only way the SDK takes them).
//! A token that has expired and cannot be renewed is refused here, before any call: only a
//! browser sign-in (`aws sso login`) can make a new one, and mfaexec never opens one itself.

use std::time::Duration;

use super::profile_provider::SdkProfile;
use super::sign_in::SignIn;
use crate::aws::net::Network;
use crate::aws::sts::Log;
use crate::config::profile::{ProviderEndpoints, Sso};
use crate::config::sso_token;
use crate::creds::Session;
use crate::error::{Error, Result};
use crate::sys::environ::Environment;
use crate::sys::tty::Terminal;

/// The portal's URL and where it came from: the endpoint configured for `sso` (plan.rs, by
/// the SDK's rules), else the region's portal.
pub fn portal_url(sso: &Sso, endpoints: &ProviderEndpoints) -> (String, String) {
    match &endpoints.sso {
        Some(e) => (e.value.clone(), e.from.clone()),
        None => (
            format!("https://portal.sso.{}.amazonaws.com", sso.region),
            "the SDK's endpoint rules".to_owned(),
        ),
    }
}

/// How the token check and its errors name an IAM Identity Center profile.
fn signing_in<'a>(sso: &'a Sso, env: &Environment) -> SignIn<'a> {
    SignIn {
        profile: &sso.profile,
        command: sso.login_command(),
        hint: sso_token::login_hint(sso),
        place: sso_token::path(env, sso)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.aws/sso/cache".to_owned()),
        token: "IAM Identity Center token",
        ended: "the IAM Identity Center token has expired: run",
        what: "a new IAM Identity Center sign-in",
    }
}

/// Refuses a missing or expired token that the provider cannot renew: one line naming the
/// profile and the command that signs in again. Reads the token file, never the network.
pub fn check_token(sso: &Sso, env: &Environment) -> Result<()> {
    let token = sso_token::state(env, sso).map(|s| (s.expires, s.refreshable));
    signing_in(sso, env).check(token)
}

/// Runs `aws sso login` for `sso` (`--sso-login`), then checks the token it wrote. It takes
/// the `Terminal`, which only a run with the user in front of it has: a `--server` renewal
/// cannot open a browser sign-in.
pub fn sign_in(sso: &Sso, env: &Environment, user: Terminal) -> Result<()> {
    signing_in(sso, env).run(env, user)?;
    check_token(sso, env)
}

/// One GetRoleCredentials call through the SDK's provider; with `sign_in_first` (`--sso-login`
/// at a terminal), an expired token is renewed first by `aws sso login`.
pub fn role_credentials(
    sso: &Sso,
    endpoints: &ProviderEndpoints,
    env: &Environment,
    sign_in_first: Option<Terminal>,
    timeout: Duration,
    net: &Network,
    log: Log<'_>,
) -> Result<Session> {
    if let Err(e) = check_token(sso, env) {
        let Some(user) = sign_in_first else {
            return Err(e);
        };
        sign_in(sso, env, user)?;
    }
    super::profile_provider::refuse_ignored_variables(
        endpoints.ignored_by.as_deref(),
        env,
        &["AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"],
        "IAM Identity Center",
    )?;
    ProviderEndpoints::check(&[endpoints.sso.as_ref(), endpoints.sso_oidc.as_ref()])?;
    let (url, _) = portal_url(sso, endpoints);
    log(&format!(
        "asking IAM Identity Center at {url} {} for role {} in {}",
        net.route(&url).describe(),
        sso.role_name,
        sso.account_id
    ));
    let mut profile = SdkProfile::default()
        .key("sso_account_id", &sso.account_id)
        .key("sso_role_name", &sso.role_name)
        .endpoint("sso", endpoints.sso.as_ref())
        .endpoint("sso_oidc", endpoints.sso_oidc.as_ref());
    profile = match &sso.session {
        Some(session) => profile.key("sso_session", session).section(
            format!("sso-session {session}"),
            vec![
                ("sso_start_url", sso.start_url.clone()),
                ("sso_region", sso.region.clone()),
            ],
        ),
        None => profile
            .key("sso_start_url", &sso.start_url)
            .key("sso_region", &sso.region),
    };
    let credentials = profile
        .provide(&sso.region, timeout, net, &url)?
        .map_err(|text| {
            if text.contains("expired") || text.contains("UnauthorizedException") {
                return signing_in(sso, env).ended();
            }
            Error::new(format!(
                "profile `{}`: IAM Identity Center gave no credentials for role {} in {}: {text}",
                sso.profile, sso.role_name, sso.account_id,
            ))
            .hint(format!(
                "check the account and permission set with `aws sso login` and the access portal ({url})"
            ))
        })?;
    Ok(super::provided_session(&credentials))
}
