//! Web identity: AssumeRoleWithWebIdentity through the SDK's
//! `WebIdentityTokenCredentialsProvider`, with the token read from `web_identity_token_file`
//! (which a CI system or Kubernetes keeps fresh). The call is unsigned; mfaexec gives the
//! provider its HTTP client, timeouts and the plan's STS endpoint (the environment, or the
//! profile's `[services]` / `endpoint_url`), through `profile_provider`.

use std::time::Duration;

use super::profile_provider::SdkProfile;
use crate::aws::net::Network;
use crate::aws::sts::Log;
use crate::config::profile::{Plan, WebIdentity};
use crate::creds::Session;
use crate::error::{Error, Result};
use crate::sys::environ::Environment;

pub fn role_credentials(
    plan: &Plan,
    w: &WebIdentity,
    env: &Environment,
    timeout: Duration,
    net: &Network,
    log: Log<'_>,
) -> Result<Session> {
    // A missing or unreadable file is named before any call (the SDK would say only "io error").
    if let Err(e) = std::fs::metadata(&w.token_file) {
        return Err(Error::new(format!(
            "profile `{}`: web_identity_token_file {} cannot be read: {e}",
            w.profile, w.token_file
        ))
        .hint("the file holds the OIDC token your CI system or cluster writes; check the path"));
    }
    super::profile_provider::refuse_ignored_variables(
        plan.services.ignored_by.as_deref(),
        env,
        &["AWS_ENDPOINT_URL_STS"],
        "web identity",
    )?;
    let url = crate::aws::sts::endpoint_text(plan);
    log(&format!(
        "reaching STS at {url} {} for AssumeRoleWithWebIdentity",
        net.route(&url).describe()
    ));
    let credentials = SdkProfile::default()
        .key("role_arn", &w.role_arn)
        .key("web_identity_token_file", &w.token_file)
        .key("role_session_name", &w.session_name)
        .endpoint("sts", plan.endpoint.as_ref())
        .provide(plan.sts_region(), timeout, net, &url)?
        .map_err(|text| {
            Error::new(format!(
                "profile `{}`: AssumeRoleWithWebIdentity for {} failed: {text}",
                w.profile, w.role_arn,
            ))
            .hint("check that the role trusts the token's identity provider and audience, and that the token has not expired")
        })?;
    Ok(super::provided_session(&credentials))
}
