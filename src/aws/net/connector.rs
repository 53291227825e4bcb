//! The connector of the federation POST (`login`): direct, through a proxy's CONNECT tunnel,
//! or forwarded to an http proxy, as one type so that the client is one type.

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;

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

pub(super) type Stream =
    hyper_rustls::MaybeHttpsStream<hyper_util::rt::TokioIo<tokio::net::TcpStream>>;
pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection of the federation POST; `forward` marks one to a forward proxy, so hyper sends
/// the request's absolute URL (`POST http://host/path`), as a proxy needs.
pub struct Conn {
    pub(super) io: Stream,
    pub(super) forward: bool,
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
