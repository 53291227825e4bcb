//! aws-config's providers (IAM Identity Center, web identity, `aws login`) have no endpoint
//! setting: their clients read `AWS_ENDPOINT_URL_*` from the process environment, and a
//! profile's `[services]` section and `endpoint_url` only when the SDK's own profile provider
//! parsed the files. So mfaexec runs them through that profile provider over a config of its
//! making: one profile holding exactly the source's keys, and a `[services]` section with the
//! endpoints mfaexec found by the SDK's rules (plan.rs: the environment, the profile's
//! `[services]` and `endpoint_url`, `ignore_configured_endpoint_urls`). The user's files are
//! not handed over, so nothing else in them can change the call.

use std::fmt::Write;
use std::time::Duration;

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Credentials, ProvideCredentials, Region};
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::aws::net::Network;
use crate::config::profile::Located;
use crate::error::{Error, Result};
use crate::sys::environ::Environment;

/// The one profile of the config handed to the SDK.
const PROFILE: &str = "mfaexec";

/// A config file for the SDK's profile provider, built key by key.
#[derive(Default)]
pub(super) struct SdkProfile {
    profile: Vec<(&'static str, String)>,
    sections: Vec<(String, Vec<(&'static str, String)>)>,
    services: Vec<(&'static str, String)>,
}

impl SdkProfile {
    pub fn key(mut self, key: &'static str, value: &str) -> Self {
        self.profile.push((key, value.to_owned()));
        self
    }

    pub fn section(mut self, header: String, keys: Vec<(&'static str, String)>) -> Self {
        self.sections.push((header, keys));
        self
    }

    /// `service`'s endpoint, under the key of its `[services]` entry (`sso`, `sso_oidc`,
    /// `sts`, `signin`). The SDK's reader turns a service id's spaces into `-` (`sso-oidc`)
    /// where the AWS CLI and the SDK reference use `_` (`sso_oidc`): both are written, so the
    /// endpoint reaches the provider whichever the SDK reads.
    pub fn endpoint(mut self, service: &'static str, endpoint: Option<&Located>) -> Self {
        if let Some(e) = endpoint {
            self.services.push((service, e.value.clone()));
            if let Some(dashed) = dashed(service) {
                self.services.push((dashed, e.value.clone()));
            }
        }
        self
    }

    /// The file's text. Every value came from the INI parser or from mfaexec itself, so none
    /// holds a line break; one that did would add keys of its own, so it is refused.
    fn text(&self) -> Result<String> {
        let mut out = format!("[profile {PROFILE}]\n");
        let mut all = self.profile.iter().chain(self.services.iter());
        if let Some((_, bad)) = all.find(|(_, v)| v.contains(['\n', '\r'])) {
            return Err(Error::new(format!(
                "a profile value holds a line break: {}",
                bad.escape_debug()
            )));
        }
        for (key, value) in &self.profile {
            let _ = writeln!(out, "{key} = {value}");
        }
        if !self.services.is_empty() {
            let _ = writeln!(out, "services = {PROFILE}");
        }
        for (header, keys) in &self.sections {
            let _ = writeln!(out, "[{header}]");
            for (key, value) in keys {
                if value.contains(['\n', '\r']) {
                    return Err(Error::new(format!(
                        "a profile value holds a line break: {}",
                        value.escape_debug()
                    )));
                }
                let _ = writeln!(out, "{key} = {value}");
            }
        }
        if !self.services.is_empty() {
            let _ = writeln!(out, "[services {PROFILE}]");
            for (service, url) in &self.services {
                let _ = writeln!(out, "{service} =\n  endpoint_url = {url}");
            }
        }
        Ok(out)
    }

    /// The provider's credentials, or the SDK's error chain on one line (it holds no secret:
    /// tokens travel in headers and bodies, never in its messages).
    pub fn provide(
        &self,
        region: &str,
        timeout: Duration,
        net: &Network,
        url: &str,
    ) -> Result<std::result::Result<Credentials, String>> {
        let files = EnvConfigFiles::builder()
            .with_contents(EnvConfigFileKind::Config, self.text()?)
            .build();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))?;
        let (http, _progress) = net.sdk_client(url);
        let config = ProviderConfig::empty()
            .with_region(Some(Region::new(region.to_owned())))
            .with_http_client(http)
            .with_timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(timeout.min(Duration::from_secs(10)))
                    .operation_attempt_timeout(timeout)
                    .operation_timeout(timeout)
                    .build(),
            );
        let provider = ProfileFileCredentialsProvider::builder()
            .configure(&config)
            .profile_files(files)
            .profile_name(PROFILE)
            .build();
        Ok(runtime
            .block_on(provider.provide_credentials())
            .map_err(|e| {
                let text = DisplayErrorContext(&e).to_string();
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            }))
    }
}

fn dashed(service: &str) -> Option<&'static str> {
    match service {
        "sso_oidc" => Some("sso-oidc"),
        _ => None,
    }
}

/// With configured endpoints switched off, a variable the SDK's provider reads by itself would
/// still send the call there: refused before any call, naming both.
pub(super) fn refuse_ignored_variables(
    ignored_by: Option<&str>,
    env: &Environment,
    vars: &[&str],
    what: &str,
) -> Result<()> {
    let Some(ignored_by) = ignored_by else {
        return Ok(());
    };
    let Some(var) = vars
        .iter()
        .chain(["AWS_ENDPOINT_URL"].iter())
        .find(|v| env.get(v).is_some_and(|x| !x.trim().is_empty()))
    else {
        return Ok(());
    };
    Err(Error::new(format!(
        "{var} is set, but configured endpoints are switched off ({ignored_by}); the AWS SDK's {what} provider would still use {var}"
    ))
    .hint(format!(
        "unset {var}, or AWS_IGNORE_CONFIGURED_ENDPOINT_URLS / ignore_configured_endpoint_urls"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_holds_the_keys_and_the_endpoints() {
        let e = Located {
            value: "http://127.0.0.1:9".into(),
            from: "x".into(),
        };
        let text = SdkProfile::default()
            .key("sso_session", "corp")
            .section(
                "sso-session corp".into(),
                vec![("sso_region", "us-east-1".into())],
            )
            .endpoint("sso", Some(&e))
            .endpoint("sso_oidc", None)
            .endpoint("sso_oidc", Some(&e))
            .text()
            .unwrap();
        assert_eq!(
            text,
            "[profile mfaexec]\nsso_session = corp\nservices = mfaexec\n[sso-session corp]\nsso_region = us-east-1\n[services mfaexec]\nsso =\n  endpoint_url = http://127.0.0.1:9\nsso_oidc =\n  endpoint_url = http://127.0.0.1:9\nsso-oidc =\n  endpoint_url = http://127.0.0.1:9\n"
        );
        let bad = SdkProfile::default().key("role_arn", "a\nweb_identity_token_file = /x");
        assert!(bad.text().is_err());
    }
}
