//! A proxy URL from a variable, checked (scheme, host, port, basic auth written safely), and
//! the `NO_PROXY` entries that bypass it.

use http::Uri;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};

use crate::config::network::mask;
use crate::config::profile::Located;
use crate::error::{Error, Result};

/// A proxy from a variable, checked.
#[derive(Clone)]
pub struct Proxy {
    /// As given, with `http://` added when there was no scheme: the password is in it.
    pub(super) url: String,
    /// The URL with the password masked, for messages.
    pub shown: String,
    /// The variable it came from.
    pub from: String,
    pub has_auth: bool,
    pub(super) intercept: Intercept,
}

/// `:port`) covers `uri`. hyper-util's matcher does the host part; it knows no ports, so an
/// entry's port is compared here with the URL's (443 and 80 when not written).
pub(super) fn bypasses(entry: &str, uri: &Uri) -> bool {
    let (host_rule, port) = split_port(entry);
    if let Some(port) = port {
        let effective = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("http") => 80,
            _ => 443,
        });
        if port != effective {
            return false;
        }
    }
    Matcher::builder()
        .all("http://proxy.invalid")
        .no(host_rule)
        .build()
        .intercept(uri)
        .is_none()
}

/// `host:port` and `[v6]:port` lose their port; a bare IPv6 address or CIDR (several colons)
/// keeps all it has.
pub(super) fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((addr, tail)) => (addr, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (entry, None),
        };
    }
    match entry.split_once(':') {
        Some((host, port)) if !port.contains(':') => match port.parse() {
            Ok(p) => (host, Some(p)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

pub(super) fn proxy(found: &Located) -> Result<Proxy> {
    let raw = found.value.as_str();
    let url = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("http://{raw}")
    };
    let shown = mask(&url);
    let bad = |why: &str| {
        Error::usage(format!("{} `{shown}`: {why}", found.from))
            .hint(format!("set it to http://HOST:PORT, or http://USER:PASSWORD@HOST:PORT for basic auth (percent-encode special characters), e.g. {}=http://proxy.example.com:3128", found.from))
    };
    // A raw `@` in the password would end the user info there: the rest would be taken for
    // the host, or silently dropped. A raw `/`, `?` or `#` ends the authority before the user
    // info's `@`: the password's start would be taken for the host (issue 18), so the proxy
    // connected to would not be the one the message names.
    let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    if let Some((before, _)) = rest.rsplit_once('@')
        && let Some(raw) = before.chars().find(|c| matches!(c, '/' | '?' | '#'))
    {
        let encoded = match raw {
            '/' => "%2F",
            '?' => "%3F",
            _ => "%23",
        };
        return Err(bad(&format!(
            "the user name or password holds a raw `{raw}`: write {raw} as {encoded}"
        )));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.matches('@').count() > 1 {
        return Err(bad(
            "the user name or password holds a raw `@`: write @ as %40",
        ));
    }
    let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(bad("only http:// proxies are supported"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    let intercept = Matcher::builder()
        .all(url.as_str())
        .build()
        .intercept(&Uri::from_static("https://sts.amazonaws.com/"))
        .ok_or_else(|| bad("not a proxy URL"))?;
    Ok(Proxy {
        has_auth: intercept.basic_auth().is_some(),
        url,
        shown,
        from: found.from.clone(),
        intercept,
    })
}
