//! `aws login` sessions (AWS CLI 2.32): the console session's credentials from the SDK's
//! `LoginCredentialsProvider`, which reads the AWS CLI's token cache (`~/.aws/login/cache`)
//! and, when the credentials are due, renews them itself with the session's refresh token
//! (AWS Sign-In's CreateOAuth2Token, signed with the file's DPoP key), writing the file back.
//! mfaexec gives it its HTTP client, timeouts and the Sign-In endpoint as configured
//! (`AWS_ENDPOINT_URL_SIGNIN`, the profile's `[services]` `signin`, through `profile_provider`).
//! A missing token is refused before any call; a console session that has ended is known only
//! from the renewal's answer, and is then the same one-line error, naming `aws login`.

use std::time::Duration;

use super::profile_provider::SdkProfile;
use super::sign_in::SignIn;
use crate::aws::net::Network;
use crate::aws::sts::Log;
use crate::config::login_token;
use crate::config::profile::{Login, Plan, ProviderEndpoints};
use crate::creds::Session;
use crate::error::{Error, Result};
use crate::sys::environ::Environment;
use crate::sys::tty::Terminal;

/// The Sign-In endpoint and where it came from.
pub fn signin_url(plan: &Plan) -> (String, String) {
    match &plan.services.signin {
        Some(e) => (e.value.clone(), e.from.clone()),
        None => (
            format!("https://{}.signin.aws.amazon.com", plan.sts_region()),
            "the SDK's endpoint rules".to_owned(),
        ),
    }
}

/// How the token check and its errors name an `aws login` session.
fn signing_in<'a>(login: &'a Login, env: &Environment) -> SignIn<'a> {
    SignIn {
        profile: &login.profile,
        command: login.login_command(),
        hint: login_token::login_hint(login),
        place: login_token::path(env, login)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.aws/login/cache".to_owned()),
        token: "`aws login` token",
        ended: "the `aws login` session has ended: sign in with",
        what: "a new `aws login` sign-in",
    }
}

/// Refuses a missing token, or credentials that have expired with nothing to renew them.
/// Reads the token file, never the network.
pub fn check_token(login: &Login, env: &Environment) -> Result<()> {
    let token = login_token::state(env, login).map(|s| (s.expires, s.refreshable));
    signing_in(login, env).check(token)
}

/// Runs `aws login --profile P` (`--sso-login`), then checks the token it wrote.
pub fn sign_in(login: &Login, env: &Environment, user: Terminal) -> Result<()> {
    signing_in(login, env).run(env, user)?;
    check_token(login, env)
}

/// The session's credentials through the SDK's provider: the cached ones while they are
/// good, else renewed from the session; with `sign_in_first` (`--sso-login` at a terminal), a
/// missing token is made first by `aws login`.
pub fn credentials(
    login: &Login,
    plan: &Plan,
    env: &Environment,
    sign_in_first: Option<Terminal>,
    (timeout, net): (Duration, &Network),
    log: Log<'_>,
) -> Result<Session> {
    if let Err(e) = check_token(login, env) {
        let Some(user) = sign_in_first else {
            return Err(e);
        };
        sign_in(login, env, user)?;
    }
    super::profile_provider::refuse_ignored_variables(
        plan.services.ignored_by.as_deref(),
        env,
        &["AWS_ENDPOINT_URL_SIGNIN"],
        "`aws login`",
    )?;
    ProviderEndpoints::check(&[plan.services.signin.as_ref()])?;
    let (url, _) = signin_url(plan);
    log(&format!(
        "taking the `aws login` session of {} (renewed at AWS Sign-In {url} {} when due)",
        login.session_arn,
        net.route(&url).describe()
    ));
    let credentials = SdkProfile::default()
        .key("login_session", &login.session_arn)
        .endpoint("signin", plan.services.signin.as_ref())
        .provide(plan.sts_region(), timeout, net, &url)?
        .map_err(|text| {
            let lower = text.to_ascii_lowercase();
            if lower.contains("expired") || lower.contains("reauthenticate") {
                return signing_in(login, env).ended();
            }
            Error::new(format!(
                "profile `{}`: the `aws login` session of {} gave no credentials: {text}",
                login.profile, login.session_arn
            ))
            .hint(format!(
                "sign in again with `{}`, and check the Sign-In endpoint ({url})",
                login.login_command()
            ))
        })?;
    Ok(super::provided_session(&credentials))
}
