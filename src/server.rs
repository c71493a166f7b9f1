//! Serving connections: HTTP/1.1 on a TCP listener, with the limits a server
//! on the internet needs. A client that sends half a request line, nothing
//! at all, or nothing more on a kept-alive connection is dropped after the
//! header-read timeout; a body that stalls is cut by the body timeout (see
//! `startup.rs`). On shutdown, the listener stops accepting and requests in
//! flight may finish.

use std::{convert::Infallible, net::SocketAddr, time::Duration};

use axum::{Router, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{net::TcpListener, sync::watch};
use tower::ServiceExt as _;

/// How long a client may take to send a request's headers: from the
/// connection's start, or from the end of the previous answer.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
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
            let router = router.clone();
            async move {
                let answered: Result<_, Infallible> = router.oneshot(request.map(axum::body::Body::new)).await;
                answered
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
