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
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::network::{Settings, mask};
use crate::config::profile::Located;
use crate::error::{Error, Result};

/// A proxy from a variable, checked.
#[derive(Clone)]
pub struct Proxy {
    /// As given, with `http://` added when there was no scheme: the password is in it.
    url: String,
    /// The URL with the password masked, for messages.
    pub shown: String,
    /// The variable it came from.
    pub from: String,
    pub has_auth: bool,
    intercept: Intercept,
}

/// The trusted roots from a CA bundle.
#[derive(Clone)]
pub struct Roots {
    pub path: String,
    pub from: String,
    pem: Vec<u8>,
    certs: Vec<CertificateDer<'static>>,
}

impl Roots {
    pub fn count(&self) -> usize {
        self.certs.len()
    }
}

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
    /// rustls with aws-lc) given this decision and these roots, and the [`Progress`] of its
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
                    tls::rustls_provider::CryptoMode::AwsLc,
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
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
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

/// Whether one `NO_PROXY` entry (`host`, `.suffix`, an IP, a CIDR, `*`, each with an optional
/// `:port`) covers `uri`. hyper-util's matcher does the host part; it knows no ports, so an
/// entry's port is compared here with the URL's (443 and 80 when not written).
fn bypasses(entry: &str, uri: &Uri) -> bool {
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
fn split_port(entry: &str) -> (&str, Option<u16>) {
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

fn proxy(found: &Located) -> Result<Proxy> {
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
    // the host, or silently dropped.
    let authority = url
        .split_once("://")
        .map_or(url.as_str(), |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
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

/// Reads and checks a CA bundle: a PEM file with at least one certificate, each one usable as
/// a root (the SDK's client panics on one that is not, so they are checked here first). As curl
/// and Python do, a leading UTF-8 byte order mark is skipped, and `TRUSTED CERTIFICATE` blocks
/// (`openssl x509 -trustout`) count for the certificate they lead with.
fn roots(found: &Located) -> Result<Roots> {
    let path = &found.value;
    let fix = "AWS_CA_BUNDLE (or ca_bundle) must name a PEM file of one or more certificates (-----BEGIN CERTIFICATE-----), such as your company's root certificate";
    let raw = std::fs::read(path).map_err(|e| {
        Error::new(format!(
            "CA bundle {path} (from {}): cannot read it: {e}",
            found.from
        ))
        .hint(fix)
    })?;
    let text = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&raw);
    let not_pem = |e: String| {
        Error::new(format!(
            "CA bundle {path} (from {}): not a PEM file: {e}",
            found.from
        ))
        .hint(fix)
    };
    let mut certs = CertificateDer::pem_slice_iter(text)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| not_pem(e.to_string()))?;
    certs.extend(trusted_certificates(text).map_err(|e| {
        not_pem(e).hint(format!(
            "write its certificate as plain PEM with `openssl x509 -in {path} -out root.pem`, and point {} at root.pem",
            found.from
        ))
    })?);
    if certs.is_empty() {
        return Err(Error::new(format!(
            "CA bundle {path} (from {}): no certificate in it",
            found.from
        ))
        .hint(fix));
    }
    let mut store = rustls::RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        store.add(cert.clone()).map_err(|e| {
            Error::new(format!(
                "CA bundle {path} (from {}): certificate {} is not usable: {e}",
                found.from,
                i + 1
            ))
            .hint(fix)
        })?;
    }
    Ok(Roots {
        path: path.clone(),
        from: found.from.clone(),
        // The SDK's trust store reads PEM `CERTIFICATE` blocks only: it gets them clean.
        pem: certs
            .iter()
            .map(|c| pem_certificate(c))
            .collect::<String>()
            .into_bytes(),
        certs,
    })
}

/// The certificates leading the `TRUSTED CERTIFICATE` blocks of a PEM text: OpenSSL's format
/// of a certificate followed by its trust settings.
fn trusted_certificates(text: &[u8]) -> std::result::Result<Vec<CertificateDer<'static>>, String> {
    const BEGIN: &[u8] = b"-----BEGIN TRUSTED CERTIFICATE-----";
    const END: &[u8] = b"-----END TRUSTED CERTIFICATE-----";
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let mut found = Vec::new();
    let mut rest = text;
    // Each turn consumes one block, so this ends.
    while let Some(start) = find(rest, BEGIN) {
        let block = &rest[start..];
        let end =
            find(block, END).ok_or("a TRUSTED CERTIFICATE block has no END line")? + END.len();
        let (_, pem) = x509_parser::pem::parse_x509_pem(&block[..end])
            .map_err(|_| "a TRUSTED CERTIFICATE block is not valid base64".to_owned())?;
        let (after, _) = x509_parser::parse_x509_certificate(&pem.contents).map_err(|_| {
            "a TRUSTED CERTIFICATE block does not start with a certificate".to_owned()
        })?;
        let length = pem.contents.len() - after.len();
        found.push(CertificateDer::from(pem.contents[..length].to_vec()));
        rest = &block[end..];
    }
    Ok(found)
}

fn pem_certificate(cert: &CertificateDer<'_>) -> String {
    let base64 = data_encoding::BASE64.encode(cert.as_ref());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in base64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The federation POST's connector: one type for every way, so the client is one type.
#[derive(Clone)]
pub enum FederationConnector {
    Direct(hyper_rustls::HttpsConnector<HttpConnector>),
    Tunnel(hyper_rustls::HttpsConnector<Tunnel<HttpConnector>>),
    /// Every connection goes to the proxy, and the request carries the absolute URL.
    Forward {
        proxy: Uri,
        http: HttpConnector,
    },
}

type Stream = hyper_rustls::MaybeHttpsStream<hyper_util::rt::TokioIo<tokio::net::TcpStream>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection of the federation POST; `forward` marks one to a forward proxy, so hyper sends
/// the request's absolute URL (`POST http://host/path`), as a proxy needs.
pub struct Conn {
    io: Stream,
    forward: bool,
}

impl hyper_util::client::legacy::connect::Connection for Conn {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        self.io.connected().proxy(self.forward)
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

impl tower_service::Service<Uri> for FederationConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<Conn, BoxError>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), BoxError>> {
        match self {
            FederationConnector::Direct(c) => c.poll_ready(cx),
            FederationConnector::Tunnel(c) => c.poll_ready(cx),
            FederationConnector::Forward { http, .. } => http.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let plain = |io| Conn { io, forward: false };
        match self {
            FederationConnector::Direct(c) => {
                let connecting = c.call(dst);
                Box::pin(async move { connecting.await.map(plain) })
            }
            FederationConnector::Tunnel(c) => {
                let connecting = c.call(dst);
                Box::pin(async move { connecting.await.map(plain) })
            }
            FederationConnector::Forward { proxy, http } => {
                let connecting = http.call(proxy.clone());
                Box::pin(async move {
                    let io = connecting.await?;
                    Ok(Conn {
                        io: hyper_rustls::MaybeHttpsStream::Http(io),
                        forward: true,
                    })
                })
            }
        }
    }
}

/// A proxy's own 407 (or tinyproxy's 401, its answer to wrong credentials) to a forward
/// request: it wants credentials, or refused those in its URL.
pub fn proxy_auth_error(p: &Proxy, status: u16) -> Error {
    let (what_happened, hint) = if p.has_auth {
        (
            "refused the user name and password in its URL",
            format!(
                "check the user name and password in {} (http://USER:PASSWORD@HOST:PORT, special characters percent-encoded)",
                p.from
            ),
        )
    } else {
        (
            "asks for a user name and password",
            format!(
                "put them in the proxy URL: {}=http://USER:PASSWORD@HOST:PORT (special characters percent-encoded)",
                p.from
            ),
        )
    };
    let status = if status == 407 {
        "407 Proxy Authentication Required".to_owned()
    } else {
        format!("HTTP {status}")
    };
    Error::new(format!(
        "the proxy {} (from {}) {what_happened} ({status})",
        p.shown, p.from
    ))
    .hint(hint)
}

/// What went wrong on the way to a server, in the user's terms, when the cause is the proxy or
/// TLS; None for anything else. Reads an error chain from either client (the SDK's connector or
/// hyper's); `io::Error` hides what it wraps from `source()`, so its inner error is visited too.
/// `what` names the server (`STS at https://...`).
pub fn explain_connect(
    net: &Network,
    err: &(dyn std::error::Error + 'static),
    url: &str,
    what: &str,
) -> Option<Error> {
    let route = &net.route(url);
    let mut chain: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        chain.push(e);
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
        if chain.len() > 32 {
            break;
        }
    }
    let host = url
        .parse::<Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| url.to_owned());
    let texts: Vec<String> = chain.iter().map(|e| e.to_string()).collect();
    // hyper-util does not export its TunnelError: its kinds are told by their texts.
    let has = |needle: &str| texts.iter().any(|t| t.contains(needle));
    if let Route::Proxy(p) = route {
        let proxy = format!("the proxy {} (from {})", p.shown, p.from);
        if has("tunnel error: proxy authorization required") {
            let (what_happened, hint) = if p.has_auth {
                (
                    "refused the user name and password in its URL",
                    format!(
                        "check the user name and password in {} (http://USER:PASSWORD@HOST:PORT, special characters percent-encoded)",
                        p.from
                    ),
                )
            } else {
                (
                    "asks for a user name and password",
                    format!(
                        "put them in the proxy URL: {}=http://USER:PASSWORD@HOST:PORT (special characters percent-encoded)",
                        p.from
                    ),
                )
            };
            return Some(
                Error::new(format!(
                    "{proxy} {what_happened} (407 Proxy Authentication Required)"
                ))
                .hint(hint),
            );
        }
        if has("tunnel error: unexpected end of file") {
            return Some(Error::new(format!(
                "{proxy} closed the connection when asked to tunnel (CONNECT) to {host}"
            ))
            .hint(format!("the proxy may not allow tunnels to {host}, or may want a user name and password; ask its administrators, or add the host to NO_PROXY if it is reachable without the proxy")));
        }
        if has("tunnel error: unsuccessful") {
            // Some proxies (tinyproxy) answer wrong credentials with 401, not 407.
            let hint = if p.has_auth {
                format!(
                    "check the user name and password in {}; else the proxy cannot reach {host} or does not allow it: check the endpoint, or add the host to NO_PROXY if it is reachable without the proxy",
                    p.from
                )
            } else {
                format!(
                    "the proxy cannot reach {host} or does not allow it; check the endpoint, or add the host to NO_PROXY if it is reachable without the proxy"
                )
            };
            return Some(
                Error::new(format!("{proxy} refused to tunnel (CONNECT) to {host}")).hint(hint),
            );
        }
        let connecting_to_proxy = has("tunnel error: failed to create underlying connection")
            || (url.starts_with("http://") && chain.iter().any(|e| is_connect_error(*e)));
        if connecting_to_proxy || has("tunnel error: io error establishing tunnel") {
            let why = if has("dns error") || has("failed to lookup address") {
                "its host name cannot be resolved".to_owned()
            } else if chain.iter().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
            }) {
                "connection refused".to_owned()
            } else {
                texts.last().cloned().unwrap_or_default()
            };
            return Some(
                Error::new(format!("cannot connect to {proxy}: {why}")).hint(format!(
                    "check {} (host and port of the proxy), or unset it if there is no proxy",
                    p.from
                )),
            );
        }
    }
    let tls = chain.iter().find_map(|e| e.downcast_ref::<rustls::Error>());
    if let Some(rustls::Error::InvalidCertificate(cert)) = tls {
        use rustls::CertificateError as C;
        let through = match route {
            Route::Proxy(p) => format!(" (through the proxy {})", p.shown),
            _ => String::new(),
        };
        return match cert {
            C::UnknownIssuer | C::BadSignature | C::UnhandledCriticalExtension => {
                let issuer = net.peer_issuer(url);
                let its_issuer = match &issuer {
                    Some(issuer) => format!("its issuer `{issuer}`"),
                    None => "its issuer".to_owned(),
                };
                Some(match &net.roots {
                    // The bundle is set: it is the bundle that lacks the root.
                    Some(r) => Error::new(format!(
                        "the certificate of {host}{through} is not trusted: {its_issuer} is not among the {} certificate{} of {} (from {})",
                        r.count(),
                        if r.count() == 1 { "" } else { "s" },
                        r.path,
                        r.from
                    ))
                    .hint(format!(
                        "{} must hold the root certificate that issued it (on a network that inspects TLS, your company's root), in PEM; or unset {} to trust the system's roots",
                        r.path, r.from
                    )),
                    None => Error::new(format!(
                        "the certificate of {host}{through} is not trusted: {}",
                        match &issuer {
                            Some(issuer) => format!("its issuer `{issuer}` is not a known certificate authority"),
                            None => "it was not issued by a known certificate authority".to_owned(),
                        }
                    ))
                    .hint("on a network that inspects TLS, set AWS_CA_BUNDLE (or ca_bundle in the profile) to your company's root certificate (a PEM file)"),
                })
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => Some(
                Error::new(format!(
                    "the certificate of {host}{through} is for another host name"
                ))
                .hint(format!("check the endpoint's host name ({what}); a proxy or a wrong DNS entry may be answering for it")),
            ),
            C::ExpiredContext { not_after, .. } => Some(
                Error::new(format!(
                    "the certificate of {host}{through} expired on {}",
                    crate::sys::time::rfc3339(i64::try_from(not_after.as_secs()).unwrap_or(i64::MAX))
                ))
                .hint(format!("check this machine's clock; else {host} (or a proxy that inspects TLS) must renew its certificate")),
            ),
            C::Expired => Some(
                Error::new(format!("the certificate of {host}{through} has expired"))
                .hint(format!("check this machine's clock; else {host} (or a proxy that inspects TLS) must renew its certificate")),
            ),
            C::NotValidYetContext { not_before, .. } => Some(
                Error::new(format!(
                    "the certificate of {host}{through} is not valid before {}",
                    crate::sys::time::rfc3339(i64::try_from(not_before.as_secs()).unwrap_or(i64::MAX))
                ))
                .hint("check this machine's clock"),
            ),
            C::NotValidYet => Some(
                Error::new(format!("the certificate of {host}{through} is not valid yet"))
                .hint("check this machine's clock"),
            ),
            other => Some(
                Error::new(format!(
                    "the certificate of {host}{through} is not acceptable: {other}"
                ))
                .hint("check the machine's clock, and on a network that inspects TLS set AWS_CA_BUNDLE to your company's root certificate"),
            ),
        };
    }
    None
}

impl Network {
    /// Whether the proxy of `url` opens a tunnel (CONNECT) to its host within `wait`: asked
    /// again on a second connection that sends nothing through the tunnel, only to tell the
    /// user which of the proxy or the server did not answer. None when `url` is not proxied.
    pub fn tunnel_opens(&self, url: &str, wait: std::time::Duration) -> Option<bool> {
        let uri: Uri = url.parse().ok()?;
        let Route::Proxy(p) = self.route(url) else {
            return None;
        };
        let ask = move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                use tower_service::Service;
                let mut http = HttpConnector::new();
                http.enforce_http(false);
                let mut tunnel = Tunnel::new(p.intercept.uri().clone(), http);
                if let Some(auth) = p.intercept.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                let open = async {
                    std::future::poll_fn(|cx| tunnel.poll_ready(cx))
                        .await
                        .ok()?;
                    tunnel.call(uri).await.ok().map(|_| ())
                };
                Some(
                    tokio::time::timeout(wait, open)
                        .await
                        .ok()
                        .flatten()
                        .is_some(),
                )
            })
        };
        // Its own thread and runtime: the callers are inside the runtime of the failed call.
        std::thread::scope(|scope| scope.spawn(ask).join().ok().flatten())
    }
}

impl Network {
    /// The issuer of the certificate the server of `url` shows, reached the same way (directly
    /// or through the proxy): a second handshake, made only to name it in an error, which sends
    /// no request and trusts nothing. None when it cannot be had within a few seconds.
    pub fn peer_issuer(&self, url: &str) -> Option<String> {
        let uri: Uri = url.parse().ok()?;
        let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
        let server_name = rustls::pki_types::ServerName::try_from(host.to_owned()).ok()?;
        let route = self.route(url);
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let seen = Arc::new(std::sync::Mutex::new(None));
        let capture = Arc::new(Capture {
            seen: Arc::clone(&seen),
            schemes: provider
                .signature_verification_algorithms
                .supported_schemes(),
        });
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .ok()?
            .dangerous()
            .with_custom_certificate_verifier(capture)
            .with_no_client_auth();
        // Its own thread and runtime: the callers are inside the runtime of the failed call.
        let handshake = move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                use tower_service::Service;
                let connect = async {
                    let mut http = HttpConnector::new();
                    http.enforce_http(false);
                    let stream = match route {
                        Route::Proxy(p) => {
                            let mut tunnel = Tunnel::new(p.intercept.uri().clone(), http);
                            if let Some(auth) = p.intercept.basic_auth() {
                                tunnel = tunnel.with_auth(auth.clone());
                            }
                            std::future::poll_fn(|cx| tunnel.poll_ready(cx))
                                .await
                                .ok()?;
                            tunnel.call(uri).await.ok()?
                        }
                        Route::Direct { .. } | Route::Bypassed { .. } => {
                            std::future::poll_fn(|cx| http.poll_ready(cx)).await.ok()?;
                            http.call(uri).await.ok()?
                        }
                    };
                    let tls = tokio_rustls::TlsConnector::from(Arc::new(config));
                    // Fails by design once the certificate is seen.
                    let _ = tls
                        .connect(server_name, hyper_util::rt::TokioIo::new(stream))
                        .await;
                    Some(())
                };
                tokio::time::timeout(std::time::Duration::from_secs(5), connect)
                    .await
                    .ok()
                    .flatten()
            })
        };
        std::thread::scope(|scope| scope.spawn(handshake).join().ok().flatten())?;
        let der: Vec<u8> = seen.lock().ok()?.take()?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
        Some(cert.issuer().to_string())
    }
}

/// A verifier that keeps the server's certificate and refuses it: for [`Network::peer_issuer`].
#[derive(Debug)]
struct Capture {
    seen: Arc<std::sync::Mutex<Option<Vec<u8>>>>,
    schemes: Vec<rustls::SignatureScheme>,
}

impl rustls::client::danger::ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(end_entity.to_vec());
        }
        Err(rustls::Error::General("only looking".into()))
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("only looking".into()))
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("only looking".into()))
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.schemes.clone()
    }
}

fn is_connect_error(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<hyper_util::client::legacy::Error>()
        .is_some_and(|h| h.is_connect())
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
