//! What a failed STS call means to the user: the AWS error read against the plan (which hop,
//! which keys signed it, the duration rule it broke), and whether the MFA code was used.

use std::time::Duration;

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::aws::net::{Network, Progress, Route};
use crate::config::limits;
use crate::config::limits::BODY_CAP;
use crate::config::profile::{Hop, Plan};
use crate::creds::Keys;
use crate::error::{Error, cause_chain};

use super::*;

/// A failed call: proxy and TLS causes told as such, else `explain`'s reading; and when the
/// call carried an MFA code, whether STS can have used it: only a request that was sent can
/// have been (`progress`), and only an answer from STS itself says it was.
pub(super) fn failure<E>(
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

pub(super) const NOT_USED: &str = "the MFA code was not used (the request never reached STS)";
pub(super) const MAY_HAVE_BEEN_USED: &str = "the MFA code may have been used: use the next one";

/// A connection (TCP, the proxy's tunnel, TLS) that did not complete within `fired`: which
/// part did not answer.
pub(super) fn connect_timed_out(
    net: &Network,
    route: &Route,
    endpoint: &str,
    fired: Duration,
) -> Error {
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
pub(super) struct Signer {
    pub(super) key: String,
    pub(super) of: String,
    pub(super) is_source: bool,
}

impl Signer {
    pub(super) fn source(plan: &Plan, keys: &Keys) -> Signer {
        Signer {
            key: keys.access_key_id.clone(),
            of: plan.source.describe(),
            is_source: true,
        }
    }
}

/// The user's-terms version of an SDK error of the call named `operation`. `hop` is the
/// AssumeRole's hop, None for the other calls.
pub(super) fn explain<E>(
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
pub(super) fn is_clock_skew(message: &str) -> bool {
    message.contains("Signature expired") || message.contains("Signature not yet current")
}
