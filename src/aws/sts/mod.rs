//! The only module that touches aws-sdk-sts and tokio: makes the plan's calls and turns AWS's
//! errors (AWS-RULES §4) into one line in the user's terms plus the fix.

use std::time::Duration;

use aws_sdk_sts::config::StalledStreamProtectionConfig;
use aws_sdk_sts::config::endpoint::{
    DefaultResolver, Endpoint, EndpointFuture, Params, ResolveEndpoint,
};
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};

use crate::aws::net::{Network, Progress};
use crate::config::limits;
use crate::config::limits::BODY_CAP;
use crate::config::profile::{Hop, Plan};
use crate::creds::{Keys, Secret, Session};
use crate::error::Error;

mod explain;

use explain::*;

/// Why a call failed: an invalid MFA code is told apart, because a prompting caller asks again.
#[derive(Debug)]
pub enum Failure {
    InvalidCode(Error),
    Other(Error),
}

impl Failure {
    pub fn into_error(self) -> Error {
        match self {
            Failure::InvalidCode(e) | Failure::Other(e) => e,
        }
    }
}

/// Logs progress to stderr when `-v` is given; callers pass nothing secret.
pub type Log<'a> = &'a dyn Fn(&str);

/// Where the calls of a chain begin.
pub struct Start {
    /// The first hop to call; hops before it are done (their session signs this one).
    pub hop: usize,
    /// The keys that sign it: the source's for hop 0, else the session of hop `hop - 1`.
    pub keys: Keys,
    /// The duration of hop 0 when it differs from the plan's: hop 0 of a chain is a direct
    /// AssumeRole from long-term keys, not capped at 1h, so it can last as long as its own
    /// profile asks and be cached for later chains.
    pub first_hop_secs: Option<u64>,
}

/// Makes the plan's STS calls from `start`: GetSessionToken, GetFederationToken, or each
/// AssumeRole hop in order, hop 0 carrying the MFA code. Returns a session per call made.
pub fn obtain_hops(
    plan: &Plan,
    start: Start,
    code: Option<&str>,
    timeout: Duration,
    net: &Network,
    log: Log<'_>,
) -> Result<Vec<Session>, Failure> {
    let endpoint = endpoint_text(plan);
    log(&format!(
        "reaching STS at {endpoint} {}; trusting {}",
        net.route(&endpoint).describe(),
        net.describe_roots()
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(Error::new(format!("cannot start the async runtime: {e}"))))?;
    runtime.block_on(async {
        let mfa = plan.mfa.as_ref().zip(code);
        if let Some(name) = &plan.federation_name {
            return Ok(vec![
                get_federation_token(plan, &start.keys, name, timeout, net, log).await?,
            ]);
        }
        if plan.hops.is_empty() {
            let mfa = mfa.map(|(m, c)| (m.serial.as_str(), c));
            return Ok(vec![
                get_session_token(plan, &start.keys, mfa, timeout, net, log).await?,
            ]);
        }
        let mut keys = start.keys;
        let mut sessions = Vec::with_capacity(plan.hops.len());
        for (i, hop) in plan.hops.iter().enumerate().skip(start.hop) {
            let mfa = if i == 0 {
                mfa.map(|(m, c)| (m.serial.as_str(), c))
            } else {
                None
            };
            let secs = match start.first_hop_secs {
                Some(secs) if i == 0 => secs,
                _ => plan.duration.secs,
            };
            let s = assume_role(plan, i, hop, &keys, mfa, secs, timeout, net, log).await?;
            keys = s.keys.clone();
            sessions.push(s);
        }
        Ok(sessions)
    })
}

/// Tests `keys` with one sts:GetCallerIdentity (no MFA needed, no permission needed) at the
/// plan's endpoint; returns the caller's ARN.
pub fn caller_identity(
    plan: &Plan,
    keys: &Keys,
    timeout: Duration,
    net: &Network,
) -> Result<String, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let (client, progress) = client(plan, keys, false, timeout, net);
        let result = client.get_caller_identity().send().await;
        match result {
            Ok(out) => Ok(out.arn().unwrap_or("").to_owned()),
            Err(e) => Err(failure(plan, net, false, &progress, timeout, &e, || {
                explain(
                    plan,
                    ("GetCallerIdentity", None),
                    &Signer::source(plan, keys),
                    false,
                    0,
                    timeout,
                    &e,
                )
            })
            .into_error()),
        }
    })
}

fn client(
    plan: &Plan,
    keys: &Keys,
    carries_code: bool,
    timeout: Duration,
    net: &Network,
) -> (aws_sdk_sts::Client, Progress) {
    let credentials = Credentials::new(
        keys.access_key_id.clone(),
        keys.secret_access_key.expose().to_owned(),
        keys.session_token.as_ref().map(|t| t.expose().to_owned()),
        None,
        "mfaexec",
    );
    // A TOTP code works once: the SDK's retry would resend it after a throttle or a 5xx and
    // get "invalid MFA one time pass code", so a call with a code is never retried.
    let retry = if carries_code {
        RetryConfig::disabled()
    } else {
        RetryConfig::standard().with_max_attempts(3)
    };
    let mut builder = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(plan.sts_region().to_owned()))
        .credentials_provider(credentials)
        .retry_config(retry)
        // The SDK's stalled-stream protection gives up on a request body not read for 5s, as
        // while a proxy or a TLS handshake does not answer: it would cut the wait short with a
        // misleading "timeout". These requests and answers are a few KiB; the timeouts below
        // bound them.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(connect_timeout(timeout))
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        );
    let (http, progress) = net.sdk_client(&endpoint_text(plan));
    builder = builder.http_client(http);
    if let Some(endpoint) = &plan.endpoint {
        // An explicit endpoint wins over the FIPS and dual-stack variants (AWS-RULES §11).
        builder = builder.endpoint_url(&endpoint.value);
    } else {
        let flag = |f: &Option<crate::config::network::Flag>| f.as_ref().is_some_and(|f| f.value);
        builder = builder
            .use_fips(flag(&plan.net.use_fips))
            .use_dual_stack(flag(&plan.net.use_dual_stack))
            .endpoint_resolver(Endpoints {
                global: flag(&plan.net.global_endpoint),
            });
    }
    builder = builder.interceptor(BodyCap);
    (aws_sdk_sts::Client::from_conf(builder.build()), progress)
}

/// How long the connection (TCP, a proxy's tunnel, TLS) may take, within the call's timeout.
fn connect_timeout(timeout: Duration) -> Duration {
    timeout.min(Duration::from_secs(10))
}

/// Caps what is read of an STS answer at BODY_CAP, whatever HTTP client the SDK uses: a
/// declared Content-Length over it is refused before reading, and a body without one stops
/// being read there (a server sending hundreds of megabytes must not fill memory).
#[derive(Debug)]
struct BodyCap;

/// The words of BodyCap's errors, recognised by `explain`.
const OVERSIZED: &str = "answer over the size limit";

impl aws_sdk_sts::config::Intercept for BodyCap {
    fn name(&self) -> &'static str {
        "mfaexec::BodyCap"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextMut<
            '_,
        >,
        _components: &aws_sdk_sts::config::RuntimeComponents,
        _cfg: &mut aws_sdk_sts::config::ConfigBag,
    ) -> Result<(), aws_sdk_sts::error::BoxError> {
        let response = context.response_mut();
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > BODY_CAP as u64) {
            return Err(format!("{OVERSIZED} of {} KiB", BODY_CAP / 1024).into());
        }
        let body = std::mem::replace(
            response.body_mut(),
            aws_smithy_types::body::SdkBody::taken(),
        );
        let limited = http_body_util::Limited::new(body, BODY_CAP);
        *response.body_mut() = aws_smithy_types::body::SdkBody::from_body_1_x(
            http_body_util::BodyExt::map_err(limited, |e| -> aws_sdk_sts::error::BoxError {
                if e.is::<http_body_util::LengthLimitError>() {
                    format!("{OVERSIZED} of {} KiB", BODY_CAP / 1024).into()
                } else {
                    e
                }
            }),
        );
        Ok(())
    }
}

async fn get_session_token(
    plan: &Plan,
    keys: &Keys,
    mfa: Option<(&str, &str)>,
    timeout: Duration,
    net: &Network,
    log: Log<'_>,
) -> Result<Session, Failure> {
    log(&format!(
        "calling sts:GetSessionToken at {} with key {} of {}{}, for {}",
        endpoint_text(plan),
        keys.access_key_id,
        plan.source.describe(),
        mfa.map(|(s, _)| format!(" and MFA {s}"))
            .unwrap_or_default(),
        limits::format(plan.duration.secs),
    ));
    let (client, progress) = client(plan, keys, mfa.is_some(), timeout, net);
    let result = client
        .get_session_token()
        .duration_seconds(plan.duration.secs as i32)
        .set_serial_number(mfa.map(|(s, _)| s.to_owned()))
        .set_token_code(mfa.map(|(_, c)| c.to_owned()))
        .send()
        .await;
    match result {
        Ok(out) => session_from(
            plan,
            "GetSessionToken",
            plan.duration.secs,
            out.credentials(),
            log,
        ),
        Err(e) => Err(failure(
            plan,
            net,
            mfa.is_some(),
            &progress,
            timeout,
            &e,
            || {
                explain(
                    plan,
                    (plan.call.operation(), None),
                    &Signer::source(plan, keys),
                    mfa.is_some(),
                    plan.duration.secs,
                    timeout,
                    &e,
                )
            },
        )),
    }
}

/// The session policy of a console federation token: allow everything, so the session has
/// exactly the user's own permissions (a federation token gets the intersection of the user's
/// policies and this one; without a policy it would get none).
const PASS_THROUGH_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

async fn get_federation_token(
    plan: &Plan,
    keys: &Keys,
    name: &str,
    timeout: Duration,
    net: &Network,
    log: Log<'_>,
) -> Result<Session, Failure> {
    log(&format!(
        "calling sts:GetFederationToken at {} with key {} of {}, name {name}, for {}",
        endpoint_text(plan),
        keys.access_key_id,
        plan.source.describe(),
        limits::format(plan.duration.secs),
    ));
    let (client, progress) = client(plan, keys, false, timeout, net);
    let result = client
        .get_federation_token()
        .name(name)
        .policy(PASS_THROUGH_POLICY)
        .duration_seconds(plan.duration.secs as i32)
        .send()
        .await;
    match result {
        Ok(out) => session_from(
            plan,
            "GetFederationToken",
            plan.duration.secs,
            out.credentials(),
            log,
        ),
        Err(e) => Err(failure(plan, net, false, &progress, timeout, &e, || {
            explain(
                plan,
                (plan.call.operation(), None),
                &Signer::source(plan, keys),
                false,
                plan.duration.secs,
                timeout,
                &e,
            )
        })),
    }
}

#[allow(clippy::too_many_arguments)]
async fn assume_role(
    plan: &Plan,
    index: usize,
    hop: &Hop,
    keys: &Keys,
    mfa: Option<(&str, &str)>,
    secs: u64,
    timeout: Duration,
    net: &Network,
    log: Log<'_>,
) -> Result<Session, Failure> {
    let signer = if index == 0 {
        format!("key {} of {}", keys.access_key_id, plan.source.describe())
    } else {
        format!("the session of {}", plan.hops[index - 1].role_arn)
    };
    log(&format!(
        "calling sts:AssumeRole {} at {} with {signer}{}, session name {}, for {}",
        hop.role_arn,
        endpoint_text(plan),
        mfa.map(|(s, _)| format!(" and MFA {s}"))
            .unwrap_or_default(),
        hop.session_name,
        limits::format(secs),
    ));
    let (client, progress) = client(plan, keys, mfa.is_some(), timeout, net);
    let result = client
        .assume_role()
        .role_arn(&hop.role_arn)
        .role_session_name(&hop.session_name)
        .duration_seconds(secs as i32)
        .set_external_id(hop.external_id.clone())
        .set_source_identity(hop.source_identity.clone())
        .set_serial_number(mfa.map(|(s, _)| s.to_owned()))
        .set_token_code(mfa.map(|(_, c)| c.to_owned()))
        .send()
        .await;
    match result {
        Ok(out) => session_from(plan, "AssumeRole", secs, out.credentials(), log),
        Err(e) => {
            let signer = if index == 0 {
                Signer::source(plan, keys)
            } else {
                Signer {
                    key: keys.access_key_id.clone(),
                    of: format!("the session of role {}", plan.hops[index - 1].role_arn),
                    is_source: false,
                }
            };
            Err(failure(
                plan,
                net,
                mfa.is_some(),
                &progress,
                timeout,
                &e,
                || {
                    explain(
                        plan,
                        ("AssumeRole", Some(hop)),
                        &signer,
                        mfa.is_some(),
                        secs,
                        timeout,
                        &e,
                    )
                },
            ))
        }
    }
}

/// The STS API model's maximum length of `AccessKeyId`.
const KEY_ID_MAX: usize = 128;
/// Secrets are 40 characters today; this leaves room for a change without taking megabytes.
const SECRET_MAX: usize = 1024;
/// Session tokens grow with session tags and policies; AWS gives no maximum, a few KiB is usual.
const TOKEN_MAX: usize = 32 * 1024;
/// STS's clock and this machine's may differ by as much as SigV4 allows (15 minutes).
const CLOCK_SLACK_SECS: i64 = 900;

/// The session in an STS answer, once it is whole and sane: a truncated or damaged answer
/// (the SDK fills what is missing with empty strings and the epoch) is refused here, before
/// anything uses or caches it.
fn session_from(
    plan: &Plan,
    operation: &str,
    asked_secs: u64,
    credentials: Option<&aws_sdk_sts::types::Credentials>,
    log: Log<'_>,
) -> Result<Session, Failure> {
    let endpoint = endpoint_text(plan);
    let refuse = |why: String| {
        Failure::Other(
            Error::new(format!(
                "unusable answer from STS at {endpoint} for {operation}: {why}"
            ))
            .hint("nothing was cached; try again, and check the endpoint (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's endpoint_url) if this repeats"),
        )
    };
    let c = credentials.ok_or_else(|| refuse("no credentials".to_owned()))?;
    for (what, value, max) in [
        ("access key id", c.access_key_id(), KEY_ID_MAX),
        ("secret access key", c.secret_access_key(), SECRET_MAX),
        ("session token", c.session_token(), TOKEN_MAX),
    ] {
        if value.trim().is_empty() {
            return Err(refuse(format!("the {what} is empty")));
        }
        if value.len() > max {
            return Err(refuse(format!(
                "the {what} is {} bytes long (at most {max} are accepted)",
                value.len()
            )));
        }
    }
    let key_id = c.access_key_id();
    // Before anything caches it (issue 18): a cached key id with a NUL failed every later run.
    if !crate::creds::is_key_id(key_id) {
        return Err(refuse(
            "the access key id is not 16 to 128 upper-case letters and digits".to_owned(),
        ));
    }
    for (what, value) in [
        ("secret access key", c.secret_access_key()),
        ("session token", c.session_token()),
    ] {
        if !crate::creds::has_no_control(value) {
            return Err(refuse(format!("the {what} holds a control character")));
        }
    }
    let expiration = c.expiration().secs();
    let now = crate::sys::time::now();
    if expiration <= now {
        return Err(refuse(format!(
            "the expiration is missing or already past ({})",
            crate::sys::time::rfc3339(expiration)
        )));
    }
    let latest = now
        .saturating_add(i64::try_from(asked_secs).unwrap_or(i64::MAX))
        .saturating_add(CLOCK_SLACK_SECS);
    if expiration > latest {
        return Err(refuse(format!(
            "the expiration {} is far beyond the {} asked for",
            crate::sys::time::rfc3339(expiration),
            limits::format(asked_secs)
        )));
    }
    log(&format!(
        "got temporary key {key_id} expiring {}",
        crate::sys::time::rfc3339(expiration)
    ));
    Ok(Session {
        keys: Keys {
            access_key_id: key_id.to_owned(),
            secret_access_key: Secret::new(c.secret_access_key()),
            session_token: Some(Secret::new(c.session_token())),
        },
        expiration,
    })
}

/// The STS endpoint the calls go to: the explicit one, else what the SDK's endpoint resolver
/// gives for the region and the FIPS, dual-stack and global-endpoint settings.
pub fn endpoint_text(plan: &Plan) -> String {
    resolve_endpoint(plan).unwrap_or_else(|_| format!("the STS endpoint of {}", plan.sts_region()))
}

/// [`endpoint_text`], or why there is none (FIPS or dual-stack where a partition has neither).
pub fn resolve_endpoint(plan: &Plan) -> Result<String, Error> {
    if let Some(e) = &plan.endpoint {
        return Ok(e.value.clone());
    }
    let flag = |f: &Option<crate::config::network::Flag>| f.as_ref().is_some_and(|f| f.value);
    let params = Params::builder()
        .region(plan.sts_region())
        .use_fips(flag(&plan.net.use_fips))
        .use_dual_stack(flag(&plan.net.use_dual_stack))
        .build()
        .map_err(|e| Error::new(format!("cannot resolve the STS endpoint: {e}")))?;
    resolve(&params, flag(&plan.net.global_endpoint))
        .map(|e| e.url().to_owned())
        .map_err(|e| {
            let variants: Vec<&str> = [
                (&plan.net.use_fips, "FIPS"),
                (&plan.net.use_dual_stack, "dual-stack"),
            ]
            .into_iter()
            .filter(|(f, _)| flag(f))
            .map(|(_, name)| name)
            .collect();
            Error::new(format!(
                "no {} STS endpoint in region {}: {e}",
                variants.join(" and "),
                plan.sts_region()
            ))
            .hint("unset AWS_USE_FIPS_ENDPOINT / AWS_USE_DUALSTACK_ENDPOINT (or use_fips_endpoint / use_dualstack_endpoint in the profile) for this region, or set AWS_ENDPOINT_URL_STS")
        })
}

/// The SDK's own STS endpoint rules, with `UseGlobalEndpoint` set from `sts_regional_endpoints`
/// (the Rust SDK never sets it; the AWS CLI does).
#[derive(Debug)]
struct Endpoints {
    global: bool,
}

impl ResolveEndpoint for Endpoints {
    fn resolve_endpoint<'a>(&'a self, params: &'a Params) -> EndpointFuture<'a> {
        EndpointFuture::ready(resolve(params, self.global))
    }
}

fn resolve(params: &Params, global: bool) -> Result<Endpoint, aws_sdk_sts::error::BoxError> {
    use std::future::Future;
    let params = Params::builder()
        .set_region(params.region().map(str::to_owned))
        .set_use_fips(params.use_fips())
        .set_use_dual_stack(params.use_dual_stack())
        .set_endpoint(params.endpoint().map(str::to_owned))
        .use_global_endpoint(global)
        .build()?;
    let resolver = DefaultResolver::new();
    let future = std::pin::pin!(resolver.resolve_endpoint(&params));
    // The generated resolver is synchronous: its future is ready on the first poll.
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.poll(&mut cx) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => Err("the endpoint resolver did not answer at once".into()),
    }
}
