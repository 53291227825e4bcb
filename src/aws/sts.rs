//! The only module that touches aws-sdk-sts and tokio: makes the plan's calls and turns AWS's
//! errors (AWS-RULES §4) into one line in the user's terms plus the fix.

use std::time::Duration;

use aws_sdk_sts::config::StalledStreamProtectionConfig;
use aws_sdk_sts::config::endpoint::{
    DefaultResolver, Endpoint, EndpointFuture, Params, ResolveEndpoint,
};
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::aws::net::{Network, Progress, Route};
use crate::config::limits;
use crate::config::limits::BODY_CAP;
use crate::config::profile::{Hop, Plan};
use crate::creds::{Keys, Secret, Session};
use crate::error::{Error, cause_chain};

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

/// A failed call: proxy and TLS causes told as such, else `explain`'s reading; and when the
/// call carried an MFA code, whether STS can have used it: only a request that was sent can
/// have been (`progress`), and only an answer from STS itself says it was.
fn failure<E>(
    plan: &Plan,
    net: &Network,
    sent_code: bool,
    progress: &Progress,
    timeout: Duration,
    err: &SdkError<E, HttpResponse>,
    explain: impl FnOnce() -> Failure,
) -> Failure
where
    E: std::error::Error + 'static,
{
    let endpoint = endpoint_text(plan);
    let route = net.route(&endpoint);
    let what = format!("STS at {endpoint}");
    let sent = progress.request_sent();
    let connect = match err {
        SdkError::DispatchFailure(_) => {
            crate::aws::net::explain_connect(net, err, &endpoint, &what)
        }
        _ => None,
    };
    // Which timeout fired: the connection's (the SDK's connector reports it), or the call's.
    let fired = match err {
        SdkError::TimeoutError(_) => Some(timeout),
        SdkError::DispatchFailure(d) if d.is_timeout() => Some(connect_timeout(timeout)),
        _ => None,
    };
    let answered = matches!(err, SdkError::ResponseError(_) | SdkError::ServiceError(_));
    // On a forward proxy's route (an http:// endpoint), an answer without STS's request id is
    // the proxy's own.
    let proxy_answer = match (&route, err.raw_response()) {
        (Route::Proxy(p), Some(r))
            if answered
                && endpoint.starts_with("http://")
                && r.headers().get("x-amzn-RequestId").is_none() =>
        {
            Some((p, r.status().as_u16()))
        }
        _ => None,
    };
    let (result, note) = if let Some(e) = connect {
        (Failure::Other(e), NOT_USED)
    } else if let (Some(fired), false) = (fired, sent) {
        (
            Failure::Other(connect_timed_out(net, &route, &endpoint, fired)),
            NOT_USED,
        )
    } else if let Some((p, status)) = proxy_answer {
        let proxy = format!("the proxy {} (from {})", p.shown, p.from);
        if matches!(status, 401 | 407) {
            // tinyproxy answers wrong credentials with 401, not 407.
            (
                Failure::Other(crate::aws::net::proxy_auth_error(p, status)),
                "the MFA code was not used (the proxy stopped the request)",
            )
        } else {
            (
                Failure::Other(
                    Error::new(format!(
                        "{proxy} answered HTTP {status} instead of passing on an answer from {what}"
                    ))
                    .hint(format!(
                        "the proxy may not reach or allow {endpoint}; check the endpoint, ask the proxy's administrators, or add the host to NO_PROXY if it is reachable without the proxy"
                    )),
                ),
                MAY_HAVE_BEEN_USED,
            )
        }
    } else {
        let note = match err {
            SdkError::ConstructionFailure(_) => "the MFA code was not used",
            _ if !sent => NOT_USED,
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => MAY_HAVE_BEEN_USED,
            _ => "STS received the MFA code: use the next one",
        };
        (explain(), note)
    };
    let Failure::Other(e) = result else {
        return result;
    };
    if !sent_code {
        return Failure::Other(e);
    }
    let mut amended = Error::new(format!("{}; {note}", e.message())).exit_code(e.code());
    if let Some(hint) = e.hint_text() {
        amended = amended.hint(hint);
    }
    Failure::Other(amended)
}

const NOT_USED: &str = "the MFA code was not used (the request never reached STS)";
const MAY_HAVE_BEEN_USED: &str = "the MFA code may have been used: use the next one";

/// A connection (TCP, the proxy's tunnel, TLS) that did not complete within `fired`: which
/// part did not answer.
fn connect_timed_out(net: &Network, route: &Route, endpoint: &str, fired: Duration) -> Error {
    let within = limits::format(fired.as_secs().max(1));
    let host = endpoint
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| endpoint.to_owned());
    let wait_hint = "MFAEXEC_STS_TIMEOUT sets how long to wait (e.g. 60s)";
    match route {
        Route::Proxy(p) if endpoint.starts_with("https://") => {
            let proxy = format!("the proxy {} (from {})", p.shown, p.from);
            match net.tunnel_opens(endpoint, Duration::from_secs(3)) {
                Some(true) => Error::new(format!(
                    "no TLS handshake with {host} through {proxy} within {within}: the proxy opened the tunnel (CONNECT), but nothing answered through it"
                ))
                .hint(format!("check the endpoint (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's endpoint_url), or ask the proxy's administrators; {wait_hint}")),
                _ => Error::new(format!(
                    "{proxy} did not answer the request to tunnel (CONNECT) to {host} within {within}"
                ))
                .hint(format!("check {} (host and port of the proxy), or unset it if there is no proxy; {wait_hint}", p.from)),
            }
        }
        Route::Proxy(p) => Error::new(format!(
            "cannot connect to the proxy {} (from {}): no connection within {within}",
            p.shown, p.from
        ))
        .hint(format!(
            "check {} (host and port of the proxy), or unset it if there is no proxy; {wait_hint}",
            p.from
        )),
        Route::Direct { .. } | Route::Bypassed { .. } => Error::new(format!(
            "no connection to STS at {endpoint} within {within} (the TCP connection or the TLS handshake did not complete)"
        ))
        .hint(format!(
            "check the network, a proxy, and the endpoint (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's endpoint_url); {wait_hint}"
        )),
    }
}

/// Who signed a failing call: the source's keys, or (on a later hop) the previous role's session.
struct Signer {
    key: String,
    of: String,
    is_source: bool,
}

impl Signer {
    fn source(plan: &Plan, keys: &Keys) -> Signer {
        Signer {
            key: keys.access_key_id.clone(),
            of: plan.source.describe(),
            is_source: true,
        }
    }
}

/// The user's-terms version of an SDK error of the call named `operation`. `hop` is the
/// AssumeRole's hop, None for the other calls.
fn explain<E>(
    plan: &Plan,
    (operation, hop): (&str, Option<&Hop>),
    signer: &Signer,
    sent_code: bool,
    secs: u64,
    timeout: Duration,
    err: &SdkError<E, HttpResponse>,
) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let endpoint = endpoint_text(plan);
    let other = |e: Error| Failure::Other(e);
    match err {
        SdkError::TimeoutError(_) => {
            return other(
                Error::new(format!(
                    "no answer from STS at {endpoint} within {}",
                    limits::format(timeout.as_secs())
                ))
                .hint("check the network or proxy; MFAEXEC_STS_TIMEOUT sets how long to wait (e.g. 60s)"),
            );
        }
        SdkError::DispatchFailure(d) => {
            let what = if d.is_timeout() {
                format!(
                    "no answer from STS at {endpoint} within {}",
                    limits::format(timeout.as_secs())
                )
            } else {
                format!("cannot reach STS at {endpoint}: {}", cause_chain(err))
            };
            return other(Error::new(what).hint(
                "check the network, a proxy, and the endpoint (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's endpoint_url)",
            ));
        }
        SdkError::ConstructionFailure(_) => {
            return other(Error::new(format!(
                "cannot build the {operation} request: {}",
                cause_chain(err)
            )));
        }
        _ => {}
    }
    if cause_chain(err).contains(OVERSIZED) {
        return other(
            Error::new(format!(
                "unusable answer from STS at {endpoint} for {operation}: {OVERSIZED} of {} KiB",
                BODY_CAP / 1024
            ))
            .hint("nothing was cached; check the endpoint (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's endpoint_url)"),
        );
    }
    let code = err.code().unwrap_or("");
    let message = err.message().unwrap_or("");
    let status = err.raw_response().map(|r| r.status().as_u16());
    let serial = plan.mfa.as_ref().map(|m| m.serial.as_str()).unwrap_or("");
    let mfa_profile = plan.mfa.as_ref().map(|m| m.profile.as_str()).unwrap_or("");
    let role = hop.map(|h| h.role_arn.as_str()).unwrap_or("");
    let (signing_key, source) = (signer.key.as_str(), signer.of.as_str());
    // A later hop is signed by a session STS issued moments before: if STS refuses it, the
    // user's files are not at fault.
    let retry_hint = "STS refused a session it had just issued; try again, and check the endpoint if this repeats";
    let duration = limits::format(secs);
    let profile = &plan.profile;

    if message.contains("invalid MFA one time pass code") {
        return Failure::InvalidCode(
            Error::new(format!(
                "the MFA code for {serial} was refused: it is wrong or was already used"
            ))
            .hint("each code works once: wait for the next code from your device and try again"),
        );
    }
    let e = if message.contains("exceeds the MaxSessionDuration") {
        Error::new(format!(
            "role {role} does not allow sessions of {duration} (over its MaxSessionDuration)"
        ))
        .hint(format!(
            "raise the role's \"Maximum session duration\" in IAM (up to 12h), or ask for less with --duration 1h (now from {})",
            plan.duration.origin
        ))
    } else if message.contains("1 hour session limit") {
        Error::new(format!(
            "profile `{profile}`: role chaining limits sessions to 1h, but {duration} was asked for"
        ))
        .hint("AssumeRole with temporary credentials is capped at 1h; point source_profile at a profile with long-term keys, or ask for --duration 1h")
    } else if message.contains("unable to validate MFA code") {
        Error::new(format!(
            "MFA device {serial} (mfa_serial of profile `{mfa_profile}`) does not belong to the IAM user of key {signing_key} ({source})"
        ))
        .hint("copy your device's ARN from the IAM console (Users → you → Security credentials → MFA) into mfa_serial")
    } else if message.contains("must provide both MFA serial") {
        Error::new(format!(
            "STS wants an MFA serial and a code together for {operation}"
        ))
        .hint("set mfa_serial on the profile and pass the code with -t, or let mfaexec ask for it")
    } else if message.contains("Roles may not be assumed by root accounts") {
        Error::new(format!(
            "key {signing_key} ({source}) belongs to a root user, and root users cannot assume roles"
        ))
        .hint("create an IAM user, and put its keys in the source profile")
    } else if message.contains("is not authorized to perform: sts:AssumeRole") {
        let caller = message
            .strip_prefix("User: ")
            .and_then(|m| m.split(" is not authorized").next())
            .unwrap_or(signing_key);
        let mut hint = format!(
            "the role's trust policy must allow {caller}, and that identity's IAM policies must allow sts:AssumeRole on the role; check role_arn of profile `{}`",
            hop.map(|h| h.profile.as_str()).unwrap_or(profile)
        );
        if plan.mfa.is_none() {
            hint.push_str("; if the trust policy requires MFA, add mfa_serial to the profile");
        }
        Error::new(format!("{caller} may not assume role {role}")).hint(hint)
    } else if message.contains("is not authorized to perform: sts:GetFederationToken") {
        Error::new(format!(
            "the IAM user of key {signing_key} ({source}) may not call sts:GetFederationToken"
        ))
        .hint("a console sign-in without a role needs sts:GetFederationToken in your IAM policies; or give the profile a role (role_arn)")
    } else if message.contains("with session credentials") {
        Error::new(format!(
            "key {signing_key} ({source}) is temporary, and {operation} needs long-term keys"
        ))
        .hint("use your IAM user's own keys (aws_access_key_id starting with AKIA) in that profile")
    } else if !signer.is_source
        && matches!(
            code,
            "InvalidClientTokenId" | "ExpiredToken" | "SignatureDoesNotMatch"
        )
        && !is_clock_skew(message)
    {
        Error::new(format!(
            "STS refused temporary key {signing_key} ({source}) when assuming {role}: {code}"
        ))
        .hint(retry_hint)
    } else if code == "InvalidClientTokenId" {
        Error::new(format!(
            "access key {signing_key} ({source}) is not valid: unknown, deleted or deactivated"
        ))
        .hint("check aws_access_key_id there; the IAM console (Users → you → Security credentials) lists your keys and makes new ones")
    } else if code == "SignatureDoesNotMatch" && is_clock_skew(message) {
        Error::new("STS refused the request as expired: this machine's clock is off")
            .hint("set the clock right (e.g. `timedatectl set-ntp true`) and try again")
    } else if code == "SignatureDoesNotMatch" {
        Error::new(format!(
            "the secret key does not match access key {signing_key} ({source})"
        ))
        .hint("fix aws_secret_access_key there; a new key pair can be made in the IAM console")
    } else if code == "ExpiredToken" {
        Error::new(format!(
            "the session token of key {signing_key} ({source}) has expired"
        ))
        .hint("those are temporary credentials: renew them, or use long-term keys")
    } else if code == "Throttling" || code == "ThrottlingException" {
        let again = if sent_code {
            "wait a few seconds and try again with the next MFA code"
        } else {
            "wait a few seconds and try again"
        };
        Error::new(format!("STS is throttling requests ({message})")).hint(again)
    } else if let Some(http) = status.filter(|s| (500..600).contains(s)) {
        Error::new(format!("STS failed with HTTP {http} for {operation}"))
            .hint("AWS had a problem; try again in a minute")
    } else if code.is_empty() {
        Error::new(format!(
            "unexpected answer from STS at {endpoint} for {operation}: {}",
            cause_chain(err)
        ))
        .hint("check the endpoint (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's endpoint_url)")
    } else if code == "ValidationError" {
        Error::new(format!("STS refused {operation}: {message}"))
            .hint("check the profile's values named above")
    } else {
        Error::new(format!("STS refused {operation}: {code}: {message}"))
    };
    other(e)
}

/// AWS's two clock-skew messages: "Signature expired: ..." (clock behind) and "Signature not yet
/// current: ..." (clock ahead).
fn is_clock_skew(message: &str) -> bool {
    message.contains("Signature expired") || message.contains("Signature not yet current")
}
