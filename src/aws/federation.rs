//! The AWS console federation endpoint (AWS-RULES §5): a session becomes a sign-in token, and
//! the token a console URL valid for 15 minutes.
//!
//! `getSigninToken` is sent as a POST form, so the credentials are never in a URL (proxies and
//! servers log URLs). Besides `sts.rs`, this is the only module that does network I/O.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::aws::net::Network;
use crate::config::endpoint::partition;
use crate::config::limits::BODY_CAP;
use crate::config::profile::Located;
use crate::creds::Session;
use crate::error::{Error, Result, cause_chain};
use crate::sys::environ::Environment;

pub const ISSUER: &str = "mfaexec";
/// How long AWS keeps a sign-in URL valid.
pub const URL_LIFETIME: &str = "15 minutes";
/// A sign-in token is about 1 KiB; one far longer is not a token.
const SIGNIN_TOKEN_MAX: usize = 8 * 1024;

/// The federation endpoint: `MFAEXEC_FEDERATION_ENDPOINT`, else the partition's.
pub fn endpoint(region: &str, env: &Environment) -> Result<Located> {
    if let Some(url) = env.get("MFAEXEC_FEDERATION_ENDPOINT") {
        crate::config::endpoint::require_tls_beyond_loopback(url, "MFAEXEC_FEDERATION_ENDPOINT")?;
        return Ok(Located {
            value: url.to_owned(),
            from: "MFAEXEC_FEDERATION_ENDPOINT".to_owned(),
        });
    }
    let url = match partition(region) {
        "aws-us-gov" => "https://signin.amazonaws-us-gov.com/federation",
        "aws-cn" => "https://signin.amazonaws.cn/federation",
        _ => "https://signin.aws.amazon.com/federation",
    };
    Ok(Located {
        value: url.to_owned(),
        from: format!("the {} partition", partition(region)),
    })
}

/// The console page to open: the region's console home, or `--destination` (a full https URL
/// as given, or a path on the region's console with the region kept).
pub fn destination(region: &str, requested: Option<&str>) -> Result<String> {
    let base = match partition(region) {
        "aws-us-gov" => "https://console.amazonaws-us-gov.com".to_owned(),
        "aws-cn" => "https://console.amazonaws.cn".to_owned(),
        _ => format!("https://{region}.console.aws.amazon.com"),
    };
    let path = match requested.map(str::trim) {
        None | Some("") => "/console/home",
        Some(url) if url.starts_with("https://") => {
            if url.contains(char::is_whitespace) {
                return Err(bad_destination(url));
            }
            return Ok(url.to_owned());
        }
        Some(path) if path.starts_with('/') && !path.starts_with("//") => path,
        Some(other) => return Err(bad_destination(other)),
    };
    if path.contains(char::is_whitespace) {
        return Err(bad_destination(path));
    }
    // The region goes in the query, before any fragment (`/cloudwatch/home#logs:`).
    let (before_fragment, fragment) = match path.split_once('#') {
        Some((p, f)) => (p, format!("#{f}")),
        None => (path, String::new()),
    };
    let region_param = if before_fragment.contains("region=") {
        String::new()
    } else if before_fragment.contains('?') {
        format!("&region={region}")
    } else {
        format!("?region={region}")
    };
    Ok(format!("{base}{before_fragment}{region_param}{fragment}"))
}

fn bad_destination(text: &str) -> Error {
    Error::usage(format!(
        "--destination `{text}` is neither an https URL nor a console path"
    ))
    .hint("e.g. --destination /s3/home, --destination '/cloudwatch/home#logs:', or a full https://... console URL")
}

/// Exchanges the session for a sign-in token. `session_duration` is sent only for sessions from
/// AssumeRole with long-term keys; AWS refuses it for any other.
pub fn signin_token(
    endpoint: &str,
    session: &Session,
    session_duration: Option<u64>,
    timeout: Duration,
    net: &Network,
) -> Result<String> {
    let keys = &session.keys;
    let session_json = serde_json::json!({
        "sessionId": keys.access_key_id,
        "sessionKey": keys.secret_access_key.expose(),
        "sessionToken": keys.session_token.as_ref().map(|t| t.expose()).unwrap_or(""),
    })
    .to_string();
    let mut form = format!("Action=getSigninToken&Session={}", encode(&session_json));
    if let Some(secs) = session_duration {
        form.push_str(&format!("&SessionDuration={secs}"));
    }
    let (status, body) = post_form(endpoint, form, timeout, net)?;
    let fix_endpoint = "check the network, a proxy, and MFAEXEC_FEDERATION_ENDPOINT if it is set";
    match status {
        200 => {}
        400 | 401 | 403 if session_duration.is_some() => {
            return Err(Error::new(format!(
                "the sign-in endpoint {endpoint} refused the session with a console duration (HTTP {status})"
            ))
            .hint("AWS accepts SessionDuration only for role sessions from AssumeRole with long-term keys; try again with --refresh, and report it if it repeats"));
        }
        400 | 401 | 403 => {
            return Err(Error::new(format!(
                "the sign-in endpoint {endpoint} refused the credentials (HTTP {status})"
            ))
            .hint("it accepts only role sessions and federation tokens that have not expired; try again with --refresh"));
        }
        500..=599 => {
            return Err(Error::new(format!(
                "the sign-in endpoint {endpoint} failed with HTTP {status}"
            ))
            .hint("AWS had a problem; try again in a minute"));
        }
        other => {
            return Err(Error::new(format!(
                "unexpected answer from the sign-in endpoint {endpoint}: HTTP {other}"
            ))
            .hint(fix_endpoint));
        }
    }
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("SigninToken")?.as_str().map(str::to_owned))
        .filter(|t| !t.is_empty());
    if let Some(t) = token.as_ref().filter(|t| t.len() > SIGNIN_TOKEN_MAX) {
        return Err(Error::new(format!(
            "unexpected answer from the sign-in endpoint {endpoint}: a SigninToken of {} bytes, over the {} KiB a token may have",
            t.len(),
            SIGNIN_TOKEN_MAX / 1024
        ))
        .hint(fix_endpoint));
    }
    token.ok_or_else(|| {
        Error::new(format!(
            "unexpected answer from the sign-in endpoint {endpoint}: no SigninToken"
        ))
        .hint(fix_endpoint)
    })
}

/// `<endpoint>?Action=login&Issuer=..&Destination=..&SigninToken=..`, each value encoded.
pub fn login_url(endpoint: &str, destination: &str, token: &str) -> String {
    format!(
        "{endpoint}?Action=login&Issuer={}&Destination={}&SigninToken={}",
        encode(ISSUER),
        encode(destination),
        encode(token)
    )
}

/// The URL with its sign-in token masked, for `-v`.
pub fn masked(url: &str) -> String {
    match url.split_once("&SigninToken=") {
        Some((head, _)) => format!("{head}&SigninToken=****"),
        None => url.to_owned(),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn post_form(
    endpoint: &str,
    form: String,
    timeout: Duration,
    net: &Network,
) -> Result<(u16, Bytes)> {
    let uri: hyper::Uri = endpoint.parse().map_err(|_| {
        Error::new(format!("the sign-in endpoint `{endpoint}` is not a URL"))
            .hint("check MFAEXEC_FEDERATION_ENDPOINT")
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))?;
    let unreachable = |e: &dyn std::fmt::Display| {
        Error::new(format!("cannot reach the sign-in endpoint {endpoint}: {e}"))
            .hint("check the network, a proxy, and MFAEXEC_FEDERATION_ENDPOINT if it is set")
    };
    runtime.block_on(async {
        // The proxy decision and the trusted roots are the STS client's (src/net.rs).
        let connector = net.federation_connector(endpoint)?;
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
        let mut request = http::Request::post(uri);
        if let Some(auth) = net.forward_proxy_auth(endpoint) {
            request = request.header(http::header::PROXY_AUTHORIZATION, auth);
        }
        let request = request
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(
                http::header::USER_AGENT,
                concat!("mfaexec/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| unreachable(&e))?;
        let exchange = async {
            let response = client.request(request).await.map_err(|e| {
                let what = format!("the sign-in endpoint {endpoint}");
                crate::aws::net::explain_connect(net, &e, endpoint, &what)
                    .unwrap_or_else(|| unreachable(&cause_chain(&e)))
            })?;
            let status = response.status().as_u16();
            // Only a proxy answers 407: on the forward route (an http:// endpoint) it is the
            // proxy's own answer.
            if let (407, crate::aws::net::Route::Proxy(p), true) =
                (status, net.route(endpoint), endpoint.starts_with("http://"))
            {
                return Err(crate::aws::net::proxy_auth_error(&p, status));
            }
            let oversized = || {
                Error::new(format!(
                    "unusable answer from the sign-in endpoint {endpoint}: over the size limit of {} KiB",
                    BODY_CAP / 1024
                ))
                .hint("check MFAEXEC_FEDERATION_ENDPOINT if it is set")
            };
            let declared = response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
            if declared.is_some_and(|n| n > BODY_CAP as u64) {
                return Err(oversized());
            }
            // A body without a length stops being read at the cap.
            let body = http_body_util::Limited::new(response.into_body(), BODY_CAP)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        oversized()
                    } else {
                        unreachable(&e)
                    }
                })?
                .to_bytes();
            Ok((status, body))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(format!(
                "no answer from the sign-in endpoint {endpoint} within {}",
                crate::config::limits::format(timeout.as_secs())
            ))
            .hint("check the network or proxy; MFAEXEC_STS_TIMEOUT sets how long to wait")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_keep_the_region() {
        assert_eq!(
            destination("eu-west-1", None).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
        );
        assert_eq!(
            destination("eu-west-1", Some("/s3/home")).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"
        );
        assert_eq!(
            destination("eu-west-1", Some("/cloudwatch/home#logs:")).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logs:"
        );
        assert_eq!(
            destination("eu-west-1", Some("/ec2/home?tab=1")).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/ec2/home?tab=1&region=eu-west-1"
        );
        assert_eq!(
            destination("us-gov-west-1", None).unwrap(),
            "https://console.amazonaws-us-gov.com/console/home?region=us-gov-west-1"
        );
        assert_eq!(
            destination("cn-north-1", Some("/s3/home")).unwrap(),
            "https://console.amazonaws.cn/s3/home?region=cn-north-1"
        );
        assert_eq!(
            destination(
                "eu-west-1",
                Some("https://example.console.aws.amazon.com/x")
            )
            .unwrap(),
            "https://example.console.aws.amazon.com/x"
        );
        for bad in [
            "s3",
            "//evil",
            "http://plain",
            "/a b",
            "javascript:alert(1)",
        ] {
            assert!(destination("eu-west-1", Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode("AZaz09-_.~"), "AZaz09-_.~");
    }

    #[test]
    fn masking_hides_the_token() {
        let url = login_url("https://e/f", "https://d", "SECRET");
        assert!(!masked(&url).contains("SECRET"));
        assert!(masked(&url).ends_with("SigninToken=****"));
    }
}
