//! Where credentials may be sent: an `http://` endpoint would carry signed STS requests and
//! answers, or a whole session (the federation form), in clear text to any host on the way.
//! Plain http is allowed only for a loopback host (a local test server or proxy), as the SDKs
//! allow it for the container credentials endpoint (AWS-RULES §9).

use crate::error::{Error, Result};

/// Refuses `url` (from `from`, for the error) unless it is an absolute http:// or https:// URL
/// with a host, and when it is http:// to a host that is not loopback. Checked before any
/// call: a URL the SDK cannot apply fails only after the MFA code is in the request, and the
/// SDK's error then quotes the whole request, code included.
pub fn require_tls_beyond_loopback(url: &str, from: &str) -> Result<()> {
    let uri = url.trim().parse::<http::Uri>().ok();
    let scheme = uri
        .as_ref()
        .and_then(|u| u.scheme_str())
        .map(str::to_ascii_lowercase);
    let host = uri
        .as_ref()
        .and_then(|u| u.host())
        .filter(|h| !h.is_empty());
    let (Some(scheme), Some(host)) = (scheme, host) else {
        return Err(not_absolute(url, from));
    };
    match scheme.as_str() {
        "https" => Ok(()),
        "http" if is_loopback(host) => Ok(()),
        "http" => Err(Error::new(format!(
            "endpoint `{url}` from {from} would send credentials unencrypted: http:// is allowed only for a loopback host"
        ))
        .hint(format!("use https:// in {from}"))),
        _ => Err(not_absolute(url, from)),
    }
}

fn not_absolute(url: &str, from: &str) -> Error {
    Error::new(format!(
        "endpoint `{url}` from {from} is not an absolute http:// or https:// URL with a host"
    ))
    .hint(format!(
        "write it in full in {from}, e.g. https://sts.us-east-1.amazonaws.com"
    ))
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The AWS partition of a region: `aws-cn`, `aws-us-gov` or `aws`.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "https://sts.example.com",
            "http://127.0.0.1:8080",
            "http://127.9.9.9/",
            "http://[::1]:4566",
            "http://localhost:4566",
            "HTTPS://Example.com",
        ] {
            assert!(require_tls_beyond_loopback(ok, "X").is_ok(), "{ok}");
        }
        for bad in [
            "http://sts.example.com",
            "HTTP://10.0.0.1",
            "http://127.0.0.1.evil.com",
            "http://[::2]/",
            "http://localhost.evil.com",
        ] {
            let e = require_tls_beyond_loopback(bad, "X").unwrap_err();
            assert!(e.message().contains("unencrypted"), "{bad}");
        }
        for bad in [
            "127.0.0.1:18710",
            "http:example.com",
            "example.com",
            "//example.com",
            "ftp://example.com",
            "https://",
            "",
        ] {
            let e = require_tls_beyond_loopback(bad, "X").unwrap_err();
            assert!(e.message().contains("not an absolute"), "{bad}");
        }
    }
}
