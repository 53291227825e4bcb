//! The only module that touches aws-sdk-iam: the three access-key calls `mfaexec rotate` makes
//! (ListAccessKeys, CreateAccessKey, DeleteAccessKey), without `UserName`, so that IAM acts on
//! the user whose key (or MFA session) signs them (AWS-RULES §10). AWS's errors come back in the
//! user's terms. The endpoint is found as the AWS SDKs find it: `AWS_ENDPOINT_URL_IAM`, then
//! `AWS_ENDPOINT_URL`, then the profile's `[services]` section and `endpoint_url`.

use std::time::Duration;

use aws_config::profile::ProfileSet;
use aws_runtime::env_config::EnvConfigValue;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::config::timeout::TimeoutConfig;
use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

use crate::aws::net::Network;
use crate::config::limits;
use crate::config::profile::Located;
use crate::creds::{Keys, Secret};
use crate::error::{Error, Result, cause_chain};
use crate::sys::environ::Environment;

/// An access key as IAM lists it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
}

/// A key CreateAccessKey just made, and the user it belongs to.
#[derive(Debug)]
pub struct NewKey {
    pub user_name: String,
    pub keys: Keys,
}

/// The IAM endpoint configured for `set`'s selected profile, if any; plain http only to
/// loopback, as for STS.
pub fn endpoint(set: &ProfileSet, env: &Environment) -> Result<Option<Located>> {
    let aws_env = env.to_aws_env();
    let ignore = EnvConfigValue::new()
        .env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .profile("ignore_configured_endpoint_urls")
        .load(&aws_env, Some(set))
        .is_some_and(|(v, _)| v.trim().eq_ignore_ascii_case("true"));
    if ignore {
        return Ok(None);
    }
    let Some((value, _)) = EnvConfigValue::new()
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .service_id("iam")
        .load(&aws_env, Some(set))
    else {
        return Ok(None);
    };
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Ok(None);
    }
    // aws-config's own description of the source does not name the variable.
    let from = ["AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL"]
        .into_iter()
        .find(|name| env.get(name).map(str::trim) == Some(value.as_str()))
        .map_or_else(
            || {
                format!(
                    "the endpoint settings of profile `{}`",
                    set.selected_profile()
                )
            },
            str::to_owned,
        );
    crate::config::endpoint::require_tls_beyond_loopback(&value, &from)?;
    Ok(Some(Located { value, from }))
}

/// IAM, signed by one set of keys.
pub struct Iam {
    client: aws_sdk_iam::Client,
    runtime: tokio::runtime::Runtime,
    endpoint: String,
    signer: String,
    timeout: Duration,
    net: Network,
}

impl Iam {
    /// `region` only picks the partition: IAM is global (iam.amazonaws.com in `aws`).
    pub fn new(
        keys: &Keys,
        region: &str,
        endpoint: Option<&Located>,
        (timeout, net): (Duration, &Network),
    ) -> Result<Iam> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))?;
        let credentials = Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.expose().to_owned(),
            keys.session_token.as_ref().map(|t| t.expose().to_owned()),
            None,
            "mfaexec",
        );
        let mut builder = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(credentials)
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(timeout.min(Duration::from_secs(10)))
                    .operation_attempt_timeout(timeout)
                    .operation_timeout(timeout)
                    .build(),
            );
        let url = endpoint.map_or_else(|| default_endpoint(region), |e| e.value.clone());
        // The same proxy decision and trusted roots as STS (src/net.rs).
        builder = builder.http_client(net.sdk_client(&url).0);
        if let Some(endpoint) = endpoint {
            builder = builder.endpoint_url(&endpoint.value);
        }
        Ok(Iam {
            client: aws_sdk_iam::Client::from_conf(builder.build()),
            runtime,
            endpoint: url,
            signer: keys.access_key_id.clone(),
            timeout,
            net: net.clone(),
        })
    }

    /// The signing user's keys, oldest first (as IAM lists them).
    pub fn list_access_keys(&self) -> Result<Vec<KeyInfo>> {
        let out = self
            .runtime
            .block_on(self.client.list_access_keys().send())
            .map_err(|e| self.explain("ListAccessKeys", &e))?;
        Ok(out
            .access_key_metadata()
            .iter()
            .filter_map(|k| {
                Some(KeyInfo {
                    access_key_id: k.access_key_id()?.to_owned(),
                    status: k
                        .status()
                        .map_or_else(|| "Active".to_owned(), |s| s.as_str().to_owned()),
                })
            })
            .collect())
    }

    /// A new key for the signing user. Never retried: a retry after an answer lost on the way
    /// would make a second key (or hit the limit of 2), and the first one's secret would be lost.
    pub fn create_access_key(&self) -> Result<NewKey> {
        let out = self
            .runtime
            .block_on(
                self.client
                    .create_access_key()
                    .customize()
                    .config_override(
                        aws_sdk_iam::config::Builder::default()
                            .retry_config(RetryConfig::disabled()),
                    )
                    .send(),
            )
            .map_err(|e| self.explain("CreateAccessKey", &e))?;
        let key = out
            .access_key()
            .ok_or_else(|| Error::new("IAM answered CreateAccessKey without a key"))?;
        Ok(NewKey {
            user_name: key.user_name().to_owned(),
            keys: Keys {
                access_key_id: key.access_key_id().to_owned(),
                secret_access_key: Secret::new(key.secret_access_key()),
                session_token: None,
            },
        })
    }

    pub fn delete_access_key(&self, access_key_id: &str) -> Result<()> {
        self.runtime
            .block_on(
                self.client
                    .delete_access_key()
                    .access_key_id(access_key_id)
                    .send(),
            )
            .map_err(|e| self.explain("DeleteAccessKey", &e))?;
        Ok(())
    }

    /// The user's-terms version of an SDK error.
    fn explain<E>(&self, operation: &str, err: &SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let endpoint = &self.endpoint;
        let signer = &self.signer;
        let no_answer = || {
            Error::new(format!(
                "no answer from IAM at {endpoint} within {} for {operation}",
                limits::format(self.timeout.as_secs())
            ))
        };
        match err {
            SdkError::TimeoutError(_) => return no_answer(),
            SdkError::DispatchFailure(d) if d.is_timeout() => return no_answer(),
            SdkError::DispatchFailure(_) => {
                let what = format!("IAM at {endpoint}");
                if let Some(e) = crate::aws::net::explain_connect(&self.net, err, endpoint, &what) {
                    return e;
                }
                return Error::new(format!(
                    "cannot reach IAM at {endpoint}: {}",
                    cause_chain(err)
                ))
                .hint(
                    "check the network, a proxy, and the endpoint (AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL, the profile's endpoint_url)",
                );
            }
            SdkError::ConstructionFailure(_) => {
                return Error::new(format!(
                    "cannot build the {operation} request: {}",
                    cause_chain(err)
                ));
            }
            _ => {}
        }
        let code = err.code().unwrap_or("");
        let message = err.message().unwrap_or("");
        let status = err.raw_response().map(|r| r.status().as_u16());
        match code {
            "AccessDenied" => Error::new(format!("IAM refused {operation}: {message}")).hint(
                "your IAM policies must allow iam:ListAccessKeys, iam:CreateAccessKey and iam:DeleteAccessKey on your own user; policies often demand MFA for them: set mfa_serial on the profile",
            ),
            "InvalidClientTokenId" => Error::new(format!(
                "IAM refused {operation} signed by {signer}: the key is unknown, deleted or deactivated, or the session was obtained without MFA"
            ))
            .hint("IAM takes session credentials only when they were obtained with MFA: set mfa_serial on the profile"),
            "LimitExceeded" => Error::new(format!("IAM refused {operation}: {message}"))
                .hint("an IAM user has at most 2 access keys"),
            "Throttling" => Error::new(format!("IAM is throttling requests ({message})"))
                .hint("wait a few seconds and try again"),
            "" => match status.filter(|s| (500..600).contains(s)) {
                Some(http) => Error::new(format!("IAM failed with HTTP {http} for {operation}"))
                    .hint("AWS had a problem; try again in a minute"),
                None => Error::new(format!(
                    "unexpected answer from IAM at {endpoint} for {operation}: {}",
                    cause_chain(err)
                ))
                .hint("check the endpoint (AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL, the profile's endpoint_url)"),
            },
            _ if status.is_some_and(|s| s >= 500) => Error::new(format!(
                "IAM failed with HTTP {} for {operation}: {code}",
                status.unwrap_or(500)
            ))
            .hint("AWS had a problem; try again in a minute"),
            _ => Error::new(format!("IAM refused {operation}: {code}: {message}")),
        }
    }
}

/// IAM's global endpoint of the region's partition.
fn default_endpoint(region: &str) -> String {
    match crate::config::endpoint::partition(region) {
        "aws-cn" => "https://iam.cn-north-1.amazonaws.com.cn".to_owned(),
        "aws-us-gov" => "https://iam.us-gov.amazonaws.com".to_owned(),
        _ => "https://iam.amazonaws.com".to_owned(),
    }
}
