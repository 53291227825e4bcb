//! What a failed connection means, said so a user can act on it: the proxy that refused, the
//! host that was not found, the certificate that was not trusted (and by whom it was issued).

use std::sync::Arc;

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use rustls::pki_types::CertificateDer;

use crate::error::Error;

use super::*;

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
        let provider = Arc::new(rustls::crypto::ring::default_provider());
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
pub(super) struct Capture {
    pub(super) seen: Arc<std::sync::Mutex<Option<Vec<u8>>>>,
    pub(super) schemes: Vec<rustls::SignatureScheme>,
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

pub(super) fn is_connect_error(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<hyper_util::client::legacy::Error>()
        .is_some_and(|h| h.is_connect())
}
