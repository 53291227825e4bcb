//! The network settings both HTTP clients share (STS through the SDK, and `login`'s federation
//! POST through hyper): the proxy decision, the trusted roots, and what to tell the user when a
//! connection fails on the way (AWS-RULES §11).
//!
//! One decision for both clients: [`Network::route`] says, for a URL, whether it goes through a
//! proxy (which, from which variable) or directly (and which `NO_PROXY` entry bypassed it). The
//! matching is hyper-util's proxy matcher; the connections are the SDK's own client
//! (aws-smithy-http-client, given the proxy and the trust store) and hyper-util's CONNECT tunnel.

use std::sync::Arc;

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;

use crate::config::network::Settings;
use crate::config::profile::Located;
use crate::error::{Error, Result};

mod connector;
mod explain;
mod proxy;
mod roots;

pub use connector::FederationConnector;
pub use explain::{explain_connect, proxy_auth_error};
pub use proxy::Proxy;
use proxy::{bypasses, proxy};
pub use roots::Roots;
use roots::roots;

/// How a URL is reached.
#[derive(Clone)]
pub enum Route {
    /// No proxy for the URL's scheme: `HTTPS_PROXY` (https) or `HTTP_PROXY` (http) is not set.
    Direct {
        unset: &'static str,
    },
    /// A proxy is set for the scheme, but this `NO_PROXY` entry bypasses it.
    Bypassed {
        entry: String,
        from: String,
    },
    Proxy(Proxy),
}

impl Route {
    /// `through the proxy http://u:****@h:p (from HTTPS_PROXY)`, `directly (...)`.
    pub fn describe(&self) -> String {
        match self {
            Route::Direct { unset } => format!("directly ({unset} is not set)"),
            Route::Bypassed { entry, from } => {
                format!("directly: `{entry}` of {from} bypasses the proxy")
            }
            Route::Proxy(p) => format!("through the proxy {} (from {})", p.shown, p.from),
        }
    }
}

/// The network settings made ready: proxies checked, the CA bundle read.
#[derive(Clone, Default)]
pub struct Network {
    https: Option<Proxy>,
    http: Option<Proxy>,
    no_proxy: Option<Located>,
    pub roots: Option<Roots>,
}

impl Network {
    /// Checks the proxies and reads the CA bundle: called before any MFA code is asked, so a
    /// bad setting costs no code.
    pub fn load(settings: &Settings) -> Result<Network> {
        Ok(Network {
            https: settings.https_proxy.as_ref().map(proxy).transpose()?,
            http: settings.http_proxy.as_ref().map(proxy).transpose()?,
            no_proxy: settings.no_proxy.clone(),
            roots: settings.ca_bundle.as_ref().map(roots).transpose()?,
        })
    }

    /// The proxy decision for `url`: the scheme's proxy, unless a `NO_PROXY` entry names the
    /// host (and its port, when the entry has one). Loopback is not special: as with curl and
    /// the AWS CLI, only `NO_PROXY` bypasses.
    pub fn route(&self, url: &str) -> Route {
        let Ok(uri) = url.parse::<Uri>() else {
            return Route::Direct {
                unset: "HTTPS_PROXY",
            };
        };
        let (proxy, unset) = match uri.scheme_str() {
            Some("http") => (self.http.as_ref(), "HTTP_PROXY"),
            _ => (self.https.as_ref(), "HTTPS_PROXY"),
        };
        let Some(proxy) = proxy else {
            return Route::Direct { unset };
        };
        if let Some(no) = &self.no_proxy {
            for entry in no.value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                if bypasses(entry, &uri) {
                    return Route::Bypassed {
                        entry: entry.to_owned(),
                        from: no.from.clone(),
                    };
                }
            }
        }
        Route::Proxy(proxy.clone())
    }

    /// The SDK's HTTP client for calls to `endpoint`: its own connector (aws-smithy-http-client,
    /// rustls with ring) given this decision and these roots, and the [`Progress`] of its
    /// calls.
    pub fn sdk_client(&self, endpoint: &str) -> (aws_sdk_sts::config::SharedHttpClient, Progress) {
        use aws_smithy_http_client::proxy::ProxyConfig;
        use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
        use aws_smithy_runtime_api::client::http::{SharedHttpConnector, http_client_fn};

        let proxy = match self.route(endpoint) {
            // The client talks to this endpoint only, so "all" is this decision.
            Route::Proxy(p) => {
                ProxyConfig::all(p.url.as_str()).unwrap_or_else(|_| ProxyConfig::disabled())
            }
            Route::Direct { .. } | Route::Bypassed { .. } => ProxyConfig::disabled(),
        };
        let trust = match &self.roots {
            // Checked by `roots`: the SDK would panic on a PEM it cannot parse.
            Some(r) => TrustStore::empty().with_pem_certificate(r.pem.clone()),
            None => TrustStore::default(),
        };
        let context = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .unwrap_or_default();
        let progress = Progress::default();
        let watch = progress.clone();
        let client = http_client_fn(move |settings, components| {
            let mut builder = aws_smithy_http_client::Connector::builder()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::Ring,
                ))
                .tls_context(context.clone());
            builder.set_connector_settings(Some(settings.clone()));
            builder.set_sleep_impl(components.sleep_impl());
            builder.set_proxy_config(Some(proxy.clone()));
            SharedHttpConnector::new(Watched {
                inner: SharedHttpConnector::new(builder.build()),
                progress: watch.clone(),
            })
        });
        (client, progress)
    }

    /// The connector of the federation POST to `url`: direct, or a CONNECT tunnel through the
    /// proxy (basic auth from its URL), then TLS with these roots; an http:// URL through a
    /// proxy goes to it as a forward request, as the STS calls do (see
    /// [`Network::forward_proxy_auth`] for its header).
    pub fn federation_connector(&self, url: &str) -> Result<FederationConnector> {
        let config = Arc::new(self.rustls_config()?);
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        Ok(match self.route(url) {
            Route::Proxy(p) if url.starts_with("http://") => FederationConnector::Forward {
                proxy: p.intercept.uri().clone(),
                http,
            },
            Route::Proxy(p) => {
                let mut tunnel = Tunnel::new(p.intercept.uri().clone(), http);
                if let Some(auth) = p.intercept.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                FederationConnector::Tunnel(hyper_rustls::HttpsConnector::from((tunnel, config)))
            }
            Route::Direct { .. } | Route::Bypassed { .. } => {
                FederationConnector::Direct(hyper_rustls::HttpsConnector::from((http, config)))
            }
        })
    }

    /// The `Proxy-Authorization` of a forward request to `url` (an http:// URL through a proxy
    /// whose URL has a user name and password): a tunnel sends it with its CONNECT instead.
    pub fn forward_proxy_auth(&self, url: &str) -> Option<http::HeaderValue> {
        match self.route(url) {
            Route::Proxy(p) if url.starts_with("http://") => p.intercept.basic_auth().cloned(),
            _ => None,
        }
    }

    fn rustls_config(&self) -> Result<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::new(format!("cannot set up TLS: {e}")))?;
        let mut config = match &self.roots {
            Some(r) => {
                let mut store = rustls::RootCertStore::empty();
                store.add_parsable_certificates(r.certs.iter().cloned());
                builder.with_root_certificates(store).with_no_client_auth()
            }
            None => {
                use hyper_rustls::ConfigBuilderExt;
                builder
                    .with_native_roots()
                    .map_err(|e| Error::new(format!("no TLS root certificates: {e}")))?
                    .with_no_client_auth()
            }
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }

    pub fn describe_roots(&self) -> String {
        match &self.roots {
            Some(r) => format!(
                "{} (from {}): {} certificate{}, the only roots trusted",
                r.path,
                r.from,
                r.count(),
                if r.count() == 1 { "" } else { "s" }
            ),
            None => "the system's root certificates (AWS_CA_BUNDLE and ca_bundle are not set)"
                .to_owned(),
        }
    }
}

/// Whether a call's request was handed to the connection: the HTTP client reads the request's
/// body only once the connection (TCP, the proxy's tunnel, TLS) is up. Until then the request,
/// and its MFA code, cannot have reached anyone; after it, a forward proxy or STS may have it.
#[derive(Clone, Debug, Default)]
pub struct Progress(Arc<std::sync::atomic::AtomicBool>);

impl Progress {
    pub fn request_sent(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The SDK's connector, with the request body watched for [`Progress`].
#[derive(Debug)]
struct Watched {
    inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    progress: Progress,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for Watched {
    fn call(
        &self,
        mut request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        use aws_smithy_types::body::SdkBody;
        let flag = Arc::clone(&self.progress.0);
        let body = request.take_body();
        *request.body_mut() =
            SdkBody::from_body_1_x(http_body_util::BodyExt::map_frame(body, move |frame| {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                frame
            }));
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(https: &str, no_proxy: &str) -> Network {
        let located = |v: &str, from: &str| {
            (!v.is_empty()).then(|| Located {
                value: v.to_owned(),
                from: from.to_owned(),
            })
        };
        Network::load(&Settings {
            https_proxy: located(https, "HTTPS_PROXY"),
            http_proxy: located(https, "HTTP_PROXY"),
            no_proxy: located(no_proxy, "NO_PROXY"),
            ..Settings::default()
        })
        .unwrap()
    }

    fn bypassed_by(n: &Network, url: &str) -> Option<String> {
        match n.route(url) {
            Route::Bypassed { entry, .. } => Some(entry),
            Route::Proxy(_) => None,
            Route::Direct { .. } => panic!("no proxy for {url}"),
        }
    }

    #[test]
    fn no_proxy_entries_hosts_suffixes_ips_cidrs_ports_and_star() {
        let n = network(
            "http://proxy:3128",
            "internal.example, .corp.example, 10.1.2.3, 192.168.0.0/16, sts.eu-west-1.amazonaws.com:8443, [::1]:8080, fd00::/8",
        );
        let cases = [
            ("https://internal.example/", Some("internal.example")),
            ("https://a.internal.example/", Some("internal.example")),
            ("https://notinternal.example/", None),
            ("https://corp.example/", Some(".corp.example")),
            ("https://x.y.corp.example/", Some(".corp.example")),
            ("https://10.1.2.3/", Some("10.1.2.3")),
            ("https://10.1.2.4/", None),
            ("https://192.168.7.7:9000/", Some("192.168.0.0/16")),
            ("https://sts.eu-west-1.amazonaws.com/", None),
            (
                "https://sts.eu-west-1.amazonaws.com:8443/",
                Some("sts.eu-west-1.amazonaws.com:8443"),
            ),
            ("http://[::1]:8080/", Some("[::1]:8080")),
            ("http://[::1]:8081/", None),
            ("https://[fd00::5]/", Some("fd00::/8")),
            // Loopback is not special.
            ("https://127.0.0.1:4443/", None),
            ("https://localhost/", None),
        ];
        for (url, expected) in cases {
            assert_eq!(bypassed_by(&n, url).as_deref(), expected, "{url}");
        }
        let all = network("http://proxy:3128", "*");
        assert_eq!(
            bypassed_by(&all, "https://sts.amazonaws.com/").as_deref(),
            Some("*")
        );
    }

    #[test]
    fn proxies_are_checked_and_masked() {
        let n = network("http://alice:s3cr%40t@proxy.example:3128", "");
        let Route::Proxy(p) = n.route("https://sts.amazonaws.com/") else {
            panic!("not proxied");
        };
        assert_eq!(p.shown, "http://alice:****@proxy.example:3128");
        assert!(p.has_auth);
        assert_eq!(
            p.intercept.basic_auth().unwrap(),
            // alice:s3cr@t
            "Basic YWxpY2U6czNjckB0"
        );
        let bare = network("proxy.example:3128", "");
        let Route::Proxy(p) = bare.route("https://sts.amazonaws.com/") else {
            panic!("not proxied");
        };
        assert_eq!(p.shown, "http://proxy.example:3128");
        for bad in ["socks5://proxy:1080", "https://proxy:443", "http://"] {
            let err = Network::load(&Settings {
                https_proxy: Some(Located {
                    value: bad.to_owned(),
                    from: "HTTPS_PROXY".into(),
                }),
                ..Settings::default()
            })
            .err()
            .unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(
                err.message().starts_with("HTTPS_PROXY `"),
                "{}",
                err.message()
            );
        }
        let err = Network::load(&Settings {
            https_proxy: Some(Located {
                value: "ftp://bob:hunter2@proxy:21".into(),
                from: "HTTPS_PROXY".into(),
            }),
            ..Settings::default()
        })
        .err()
        .unwrap();
        assert!(!err.render().contains("hunter2"), "{}", err.render());
    }

    #[test]
    fn debug_output_hides_proxy_passwords() {
        let settings = Settings {
            https_proxy: Some(Located {
                value: "http://bob:hunter2@proxy:3128".into(),
                from: "HTTPS_PROXY".into(),
            }),
            http_proxy: Some(Located {
                value: "bob:hunter3@proxy:3128".into(),
                from: "http_proxy".into(),
            }),
            ..Settings::default()
        };
        let text = format!("{settings:?}");
        assert!(!text.contains("hunter"), "{text}");
        assert!(text.contains("http://bob:****@proxy:3128"), "{text}");
    }

    #[test]
    fn the_scheme_picks_the_proxy() {
        let n = Network::load(&Settings {
            https_proxy: Some(Located {
                value: "http://secure:1".into(),
                from: "https_proxy".into(),
            }),
            ..Settings::default()
        })
        .unwrap();
        assert!(matches!(
            n.route("https://sts.amazonaws.com/"),
            Route::Proxy(_)
        ));
        assert!(matches!(
            n.route("http://127.0.0.1:9/"),
            Route::Direct {
                unset: "HTTP_PROXY"
            }
        ));
    }
}
