//! Where credentials may be sent: an `http://` endpoint would carry signed STS requests and
//! answers, or a whole session (the federation form), in clear text to any host on the way.
//! Plain http is allowed only for a loopback host (a local test server or proxy), as the SDKs
//! allow it for the container credentials endpoint (AWS-RULES §9).

use crate::error::{Error, Result};

/// Refuses `url` (from `from`, for the error) when it is http:// to a host that is not loopback.
pub fn require_tls_beyond_loopback(url: &str, from: &str) -> Result<()> {
    let Ok(uri) = url.trim().parse::<http::Uri>() else {
        return Ok(()); // Not a URL at all: the caller's own parse names it.
    };
    let plain = uri
        .scheme_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("http"));
    if !plain || uri.host().is_some_and(is_loopback) {
        return Ok(());
    }
    Err(Error::new(format!(
        "endpoint `{url}` from {from} would send credentials unencrypted: http:// is allowed only for a loopback host"
    ))
    .hint(format!("use https:// in {from}")))
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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
    }
}
