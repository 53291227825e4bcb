//! The endpoint's connections: accepted up to the limit, where a new one takes the place of
//! the oldest that has not presented the token (issue 18), and one more gets 503 only when
//! every connection has. Each is served by `respond`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{OwnedSemaphorePermit, TryAcquireError};

use super::{BUSY_TIMEOUT, HEAD_TIMEOUT, MAX_HEAD_BYTES, MAX_HEADERS, Shared, respond};

/// A connection being served, in the order they were accepted: whether it has presented the
/// token, its task (aborted to close it), and its place under the limit.
struct Served {
    authenticated: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
    permit: OwnedSemaphorePermit,
}

pub(crate) async fn accept(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut served: VecDeque<Served> = VecDeque::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of descriptors, say: wait rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        served.retain(|c| !c.task.is_finished());
        let permit = match Arc::clone(&shared.connections).try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::Closed) => return,
            Err(TryAcquireError::NoPermits) => {
                // The oldest that has not shown the token (an idle or a foreign connection)
                // is closed, and its place taken; the command's own are never.
                match served
                    .iter()
                    .position(|c| !c.authenticated.load(Ordering::Relaxed))
                {
                    Some(oldest) => {
                        let evicted = served.remove(oldest).expect("found above");
                        evicted.task.abort();
                        evicted.permit
                    }
                    None => {
                        tokio::spawn(busy(stream));
                        continue;
                    }
                }
            }
        };
        let authenticated = Arc::new(AtomicBool::new(false));
        let shared = Arc::clone(&shared);
        let marked = Arc::clone(&authenticated);
        let task = tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let shared = Arc::clone(&shared);
                if presents_token(&req, &shared) {
                    marked.store(true, Ordering::Relaxed);
                }
                async move { Ok::<_, Infallible>(respond(&shared, req).await) }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(MAX_HEAD_BYTES)
                .max_headers(MAX_HEADERS)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        served.push_back(Served {
            authenticated,
            task,
            permit,
        });
    }
}

/// Whether the request carries a token of the endpoint (`answer` checks it again, with the
/// rest).
fn presents_token(req: &Request<Incoming>, shared: &Shared) -> bool {
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    shared.knows(given)
}

/// A connection over the limit: one request answered with 503 at once, then closed.
async fn busy(stream: tokio::net::TcpStream) {
    let service = service_fn(|_req| async {
        let message = "too many connections to the credentials endpoint; try again";
        let mut response = Response::new(Full::new(Bytes::from(
            serde_json::json!({ "Message": message }).to_string(),
        )));
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        response.headers_mut().insert(
            CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Ok::<_, Infallible>(response)
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(BUSY_TIMEOUT)
        .keep_alive(false)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        .serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(BUSY_TIMEOUT * 2, connection).await;
}
