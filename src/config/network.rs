//! The network settings of a plan, as the environment and the selected profile give them
//! (AWS-RULES §11): proxies, `NO_PROXY`, the CA bundle, FIPS and dual-stack endpoints. Read with
//! the plan and checked there; nothing here opens a file or a connection (`aws::net` does).

use aws_config::profile::Profile;

use crate::config::profile::Located;
use crate::error::{Error, Result};
use crate::sys::environ::Environment;

/// A yes/no setting and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub value: bool,
    pub from: String,
}

/// What the environment and the selected profile say about the network: read with the plan,
/// no I/O (the CA bundle file is read by [`Network::load`], only when a call is to be made).
/// Its `Debug` masks the proxies' passwords.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub https_proxy: Option<Located>,
    pub http_proxy: Option<Located>,
    pub no_proxy: Option<Located>,
    pub ca_bundle: Option<Located>,
    pub use_fips: Option<Flag>,
    pub use_dual_stack: Option<Flag>,
    /// `sts_regional_endpoints = legacy`: the global endpoint for the regions that had it.
    pub global_endpoint: Option<Flag>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let masked = |p: &Option<Located>| p.as_ref().map(|l| (mask(&l.value), l.from.clone()));
        f.debug_struct("Settings")
            .field("https_proxy", &masked(&self.https_proxy))
            .field("http_proxy", &masked(&self.http_proxy))
            .field("no_proxy", &self.no_proxy)
            .field("ca_bundle", &self.ca_bundle)
            .field("use_fips", &self.use_fips)
            .field("use_dual_stack", &self.use_dual_stack)
            .field("global_endpoint", &self.global_endpoint)
            .finish()
    }
}

/// Reads the settings: the variables first, then the selected profile's keys, as the AWS CLI.
pub fn settings(top: &Profile, env: &Environment) -> Result<Settings> {
    let var = |names: &[&str]| {
        names.iter().find_map(|n| {
            env.get(n).map(|v| Located {
                value: v.trim().to_owned(),
                from: (*n).to_owned(),
            })
        })
    };
    let key = |name: &str| {
        top.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| Located {
                value: v.to_owned(),
                from: format!("{name} of profile `{}`", top.name()),
            })
    };
    let either = |variable: &str, profile_key: &str| var(&[variable]).or_else(|| key(profile_key));
    let flag = |variable: &str, profile_key: &str| -> Result<Option<Flag>> {
        let Some(found) = either(variable, profile_key) else {
            return Ok(None);
        };
        let value = if found.value.eq_ignore_ascii_case("true") {
            true
        } else if found.value.eq_ignore_ascii_case("false") {
            false
        } else {
            return Err(Error::usage(format!(
                "{}: `{}` is neither true nor false",
                found.from, found.value
            )));
        };
        Ok(Some(Flag {
            value,
            from: found.from,
        }))
    };
    let global_endpoint = match either("AWS_STS_REGIONAL_ENDPOINTS", "sts_regional_endpoints") {
        None => None,
        Some(l) if l.value.eq_ignore_ascii_case("regional") => Some(Flag {
            value: false,
            from: l.from,
        }),
        Some(l) if l.value.eq_ignore_ascii_case("legacy") => Some(Flag {
            value: true,
            from: l.from,
        }),
        Some(l) => {
            return Err(Error::usage(format!(
                "{}: `{}` is neither regional nor legacy",
                l.from, l.value
            )));
        }
    };
    let ca_bundle = either("AWS_CA_BUNDLE", "ca_bundle").map(|mut l| {
        if let (Some(rest), Some(home)) = (l.value.strip_prefix("~/"), env.get("HOME")) {
            l.value = format!("{}/{rest}", home.trim_end_matches('/'));
        }
        l
    });
    Ok(Settings {
        // Lower case first, as curl and botocore (the AWS CLI) read them: with both set, the
        // command mfaexec runs and mfaexec then take the same proxy.
        https_proxy: var(&["https_proxy", "HTTPS_PROXY"]),
        http_proxy: var(&["http_proxy", "HTTP_PROXY"]),
        no_proxy: var(&["no_proxy", "NO_PROXY"]),
        ca_bundle,
        use_fips: flag("AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint")?,
        use_dual_stack: flag("AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint")?,
        global_endpoint,
    })
}

/// The URL with any password replaced by `****` (the user name stays: it helps and is not
/// secret). The user info is everything before the last `@`: a URL whose password holds a raw
/// `/`, `?` or `#` (refused, see `aws::net::proxy`, but named in that very error) must not have
/// its user info cut there, which would show the password (issue 18). When there is no raw
/// `/`, `?` or `#` before that `@`, this is the authority a URL parser finds.
pub fn mask(url: &str) -> String {
    let (prefix, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    let user_end = userinfo
        .find([':', '/', '?', '#'])
        .unwrap_or(userinfo.len());
    let user = &userinfo[..user_end];
    if user_end < userinfo.len() {
        format!("{prefix}{user}:****@{host}")
    } else {
        format!("{prefix}{user}@{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_every_password_however_it_is_written() {
        for (url, shown) in [
            (
                "http://alice:s3cret@127.0.0.1:3128",
                "http://alice:****@127.0.0.1:3128",
            ),
            (
                "http://alice:s3cr/et@127.0.0.1:3128",
                "http://alice:****@127.0.0.1:3128",
            ),
            (
                "http://alice:s3?cr#et@127.0.0.1:3128/",
                "http://alice:****@127.0.0.1:3128/",
            ),
            (
                "http://alice:p@ss@proxy:3128",
                "http://alice:****@proxy:3128",
            ),
            ("http://alice@proxy:3128", "http://alice@proxy:3128"),
            ("alice:pw@proxy:3128", "alice:****@proxy:3128"),
            ("http://proxy:3128/", "http://proxy:3128/"),
        ] {
            assert_eq!(mask(url), shown, "{url}");
        }
    }
}
