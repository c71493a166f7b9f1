//! Serving connections: HTTP/1.1 on a TCP listener, with the limits a server
//! on the internet needs. A client that sends half a request line, nothing
//! at all, or nothing more on a kept-alive connection is dropped after the
//! header-read timeout; a body that stalls is cut by the body timeout; a
//! `Content-Length` over the limit is refused (413) without being kept. Every
//! answer gets `nosniff`. These are done here, around the router, rather
//! than as its middleware: per request they cost a header read and a
//! wrapper, where a middleware boxes a future and clones the stack. On
//! shutdown, the listener stops accepting and requests in flight may finish.

use std::{convert::Infallible, net::SocketAddr, time::Duration};

use axum::{Router, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{net::TcpListener, sync::watch};
use tower::ServiceExt as _;
use tower_http::timeout::TimeoutBody;

use crate::http::{body, headers};

/// What a client may take, and send.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// To send a request's headers: from the connection's start, or from
    /// the end of the previous answer.
    pub header_read_timeout: Duration,
    /// To send a request's body once its headers are in.
    pub body_timeout: Duration,
    /// The largest body accepted.
    pub max_body_bytes: usize,
}

/// Serves `router` on `listener` until `stop` turns true, then waits for the
/// connections it started to finish (they close once their request is
/// answered); the caller bounds that wait.
pub async fn serve(listener: TcpListener, router: Router, limits: ConnectionLimits, mut stop: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stopping| *stopping) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait a moment rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let router = router.clone();
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            let too_large = body::declared_too_large(request.headers(), limits.max_body_bytes);
            let request = request.map(|b| axum::body::Body::new(TimeoutBody::new(limits.body_timeout, b)));
            let router = router.clone();
            async move {
                let mut response = if let Some(declared) = too_large {
                    body::refuse_too_large(declared, request.into_body(), limits.max_body_bytes).await
                } else {
                    IntoOk::into_ok(router.oneshot(request).await)
                };
                headers::set_nosniff(&mut response);
                Ok::<_, Infallible>(response)
            }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
}

/// `Result<T, Infallible>` into `T`.
trait IntoOk<T> {
    fn into_ok(self) -> T;
}

impl<T> IntoOk<T> for Result<T, Infallible> {
    fn into_ok(self) -> T {
        match self {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }
}
