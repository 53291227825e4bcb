//! IAM Identity Center: role credentials from the SDK's `SsoCredentialsProvider`, which reads
//! the AWS CLI's token cache and, for an sso-session with a refresh token, renews the token
//! itself (OIDC CreateToken). mfaexec gives it its HTTP client (proxy, CA bundle) and the
//! timeouts; the portal's endpoint is the SDK's choice, `AWS_ENDPOINT_URL_SSO` included.
//! A token that has expired and cannot be renewed is refused here, before any call: only a
//! browser sign-in (`aws sso login`) can make a new one, and mfaexec never opens one itself.

use std::time::Duration;

use aws_config::provider_config::ProviderConfig;
use aws_config::sso::SsoCredentialsProvider;
use aws_sdk_sts::config::ProvideCredentials;
use aws_sdk_sts::config::Region;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::aws::net::Network;
use crate::aws::sts::Log;
use crate::config::profile::Sso;
use crate::config::sso_token;
use crate::creds::Session;
use crate::error::{Class, Error, Result};
use crate::sys::environ::Environment;
use crate::sys::tty::Terminal;

/// The portal's URL as the SDK picks it: `AWS_ENDPOINT_URL_SSO`, else `AWS_ENDPOINT_URL`,
/// else the region's portal.
pub fn portal_url(sso: &Sso, env: &Environment) -> (String, &'static str) {
    let ignore = env
        .get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if !ignore {
        for var in ["AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL"] {
            if let Some(url) = env.get(var).map(str::trim).filter(|v| !v.is_empty()) {
                return (url.to_owned(), var);
            }
        }
    }
    (
        format!("https://portal.sso.{}.amazonaws.com", sso.region),
        "the SDK's endpoint rules",
    )
}

/// Refuses a missing or expired token that the provider cannot renew: one line naming the
/// profile and the command that signs in again. Reads the token file, never the network.
pub fn check_token(sso: &Sso, env: &Environment) -> Result<()> {
    let place = sso_token::path(env, sso)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "~/.aws/sso/cache".to_owned());
    match sso_token::state(env, sso) {
        None => Err(Error::new(format!(
            "profile `{}`: no IAM Identity Center token ({place}): sign in with `{}`",
            sso.profile,
            sso.login_command()
        ))
        .hint(sso_token::login_hint(sso))),
        Some(state) if state.expires <= crate::sys::time::now() && !state.refreshable => {
            Err(expired(sso))
        }
        Some(_) => Ok(()),
    }
}

/// Only the user can sign in again: under `--server` this is handled like a typed MFA code.
fn expired(sso: &Sso) -> Error {
    Error::new(format!(
        "profile `{}`: the IAM Identity Center token has expired: run `{}`",
        sso.profile,
        sso.login_command()
    ))
    .hint(sso_token::login_hint(sso))
    .class(Class::NeedsUser {
        what: "a new IAM Identity Center sign-in",
    })
}

/// Runs `aws sso login` for `sso` (`--sso-login`): the AWS CLI on the PATH mfaexec was given,
/// with mfaexec's environment, its output on stderr (stdout may be an `env` script or a
/// credential_process answer). It takes the `Terminal`, which only a run with the user in front
/// of it has: a `--server` renewal cannot open a browser sign-in.
pub fn sign_in(sso: &Sso, env: &Environment, _user: Terminal) -> Result<()> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let aws = which::which_in("aws", env.get_os("PATH"), cwd).map_err(|_| {
        Error::new(format!(
            "profile `{}`: --sso-login runs the AWS CLI (`{}`), but `aws` is not on PATH",
            sso.profile,
            sso.login_command()
        ))
        .hint("install the AWS CLI v2, or sign in from where it is installed")
    })?;
    let words = sso.login_command();
    let args: Vec<&str> = words.split(' ').skip(1).collect();
    crate::say!("mfaexec: profile `{}`: running `{words}`", sso.profile);
    let stderr = std::io::stderr();
    let out = std::os::fd::AsFd::as_fd(&stderr)
        .try_clone_to_owned()
        .map(std::process::Stdio::from)
        .unwrap_or_else(|_| std::process::Stdio::null());
    let status = std::process::Command::new(aws)
        .args(args)
        .env_clear()
        .envs(env.iter())
        .stdout(out)
        .status()
        .map_err(|e| Error::new(format!("cannot run `{words}`: {e}")))?;
    if !status.success() {
        return Err(Error::new(format!(
            "profile `{}`: `{words}` failed ({status})",
            sso.profile
        ))
        .hint(sso_token::login_hint(sso)));
    }
    check_token(sso, env)
}

/// One GetRoleCredentials call through the SDK's provider; with `sign_in_first` (`--sso-login`
/// at a terminal), an expired token is renewed first by `aws sso login`.
pub fn role_credentials(
    sso: &Sso,
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
    let (url, from) = portal_url(sso, env);
    crate::config::endpoint::require_tls_beyond_loopback(&url, from)?;
    log(&format!(
        "asking IAM Identity Center at {url} {} for role {} in {}",
        net.route(&url).describe(),
        sso.role_name,
        sso.account_id
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))?;
    let (http, _progress) = net.sdk_client(&url);
    let config = ProviderConfig::empty()
        .with_region(Some(Region::new(sso.region.clone())))
        .with_http_client(http)
        .with_timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeout.min(Duration::from_secs(10)))
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        );
    let mut builder = SsoCredentialsProvider::builder()
        .configure(&config)
        .start_url(&sso.start_url)
        .account_id(&sso.account_id)
        .role_name(&sso.role_name)
        .region(Region::new(sso.region.clone()));
    if let Some(session) = &sso.session {
        builder = builder.session_name(session);
    }
    let provider = builder.build();
    let credentials = runtime
        .block_on(provider.provide_credentials())
        .map_err(|e| {
            let text = DisplayErrorContext(&e).to_string();
            if text.contains("expired") || text.contains("UnauthorizedException") {
                return expired(sso);
            }
            Error::new(format!(
                "profile `{}`: IAM Identity Center gave no credentials for role {} in {}: {}",
                sso.profile,
                sso.role_name,
                sso.account_id,
                one_line(&text)
            ))
            .hint(format!(
                "check the account and permission set with `aws sso login` and the access portal ({url})"
            ))
        })?;
    Ok(super::provided_session(&credentials))
}

/// The SDK's error chain has no secrets (the token is a header, never in a message), but may
/// span lines.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
