//! Web identity: AssumeRoleWithWebIdentity through the SDK's
//! `WebIdentityTokenCredentialsProvider`, with the token read from `web_identity_token_file`
//! (which a CI system or Kubernetes keeps fresh). The call is unsigned; mfaexec gives the
//! provider its HTTP client and timeouts, and the endpoint is the SDK's choice from the
//! environment (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`).

use std::time::Duration;

use aws_config::provider_config::ProviderConfig;
use aws_config::web_identity_token::{StaticConfiguration, WebIdentityTokenCredentialsProvider};
use aws_sdk_sts::config::ProvideCredentials;
use aws_sdk_sts::config::Region;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::aws::net::Network;
use crate::aws::sts::Log;
use crate::config::profile::{Plan, WebIdentity};
use crate::creds::Session;
use crate::error::{Error, Result};

pub fn role_credentials(
    plan: &Plan,
    w: &WebIdentity,
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
    let url = crate::aws::sts::endpoint_text(plan);
    log(&format!(
        "reaching STS at {url} {} for AssumeRoleWithWebIdentity",
        net.route(&url).describe()
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))?;
    let (http, _progress) = net.sdk_client(&url);
    let config = ProviderConfig::empty()
        .with_region(Some(Region::new(plan.sts_region().to_owned())))
        .with_http_client(http)
        .with_timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeout.min(Duration::from_secs(10)))
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        );
    let provider = WebIdentityTokenCredentialsProvider::builder()
        .configure(&config)
        .static_configuration(StaticConfiguration {
            web_identity_token_file: w.token_file.clone().into(),
            role_arn: w.role_arn.clone(),
            session_name: w.session_name.clone(),
        })
        .build();
    let credentials = runtime
        .block_on(provider.provide_credentials())
        .map_err(|e| {
            let text = DisplayErrorContext(&e).to_string();
            Error::new(format!(
                "profile `{}`: AssumeRoleWithWebIdentity for {} failed: {}",
                w.profile,
                w.role_arn,
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            ))
            .hint("check that the role trusts the token's identity provider and audience, and that the token has not expired")
        })?;
    Ok(super::provided_session(&credentials))
}
