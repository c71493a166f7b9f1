//! Building the application and serving it until shutdown.
//!
//! [`Application::build`] binds the listener (port 0 works, for tests), opens
//! the store and assembles the router; [`Application::run_until`] serves until
//! the shutdown future resolves, then lets in-flight requests finish.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::HeaderName,
    response::{IntoResponse, Response},
};
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    api::{self, ApiError, AppState, KeyRateLimiter},
    config::Settings,
    store::{self, Store},
    web::demo::DemoSite,
};

/// A bound, ready-to-serve Plaudit.
pub struct Application {
    listener: TcpListener,
    router: Router,
    grace: Duration,
    pub state: AppState,
}

impl Application {
    /// Opens the database (running migrations) and binds `settings.listen`.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let store = store::connect(&settings.database_url, &settings.connect_options())
            .await
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", settings.redacted_database_url()))?;
        let listener = TcpListener::bind(&settings.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))?;
        Self::with_store(store, listener, settings).await
    }

    /// Assembles the application around an open store and a bound listener.
    pub async fn with_store(store: Arc<dyn Store>, listener: TcpListener, settings: &Settings) -> anyhow::Result<Self> {
        Self::assemble(store, listener, settings, None).await
    }

    /// As [`Application::with_store`], with the demo page and its chat backend
    /// turned on (`plaudit demo`).
    pub async fn with_demo(
        store: Arc<dyn Store>,
        listener: TcpListener,
        settings: &Settings,
        demo: DemoSite,
    ) -> anyhow::Result<Self> {
        Self::assemble(store, listener, settings, Some(Arc::new(demo))).await
    }

    async fn assemble(
        store: Arc<dyn Store>,
        listener: TcpListener,
        settings: &Settings,
        demo: Option<Arc<DemoSite>>,
    ) -> anyhow::Result<Self> {
        if settings.rollup_fold_interval_ms > 0 {
            store::keep_folding(&store, Duration::from_millis(settings.rollup_fold_interval_ms));
        }
        let token_secret =
            store.signing_secret().await.map_err(|e| anyhow::anyhow!("cannot read the signing secret: {e}"))?;
        let state = AppState {
            store,
            rate_limiter: KeyRateLimiter::new(settings.rate_limit_per_second, settings.rate_limit_burst),
            token_secret: Arc::new(token_secret.into_bytes()),
            metrics: api::metrics::Metrics::new(),
            demo,
            secure_cookies: settings.secure_cookies,
        };
        Ok(Self {
            listener,
            router: router(state.clone(), settings),
            grace: Duration::from_secs(settings.shutdown_grace_seconds),
            state,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves; then stops accepting and gives
    /// in-flight requests up to the grace period to finish.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let server = axum::serve(self.listener, self.router).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = tx.send(true);
        });
        let grace = self.grace;
        let deadline = async move {
            let _ = rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = server => result,
            () = deadline => {
                tracing::warn!("in-flight requests did not finish within the grace period");
                Ok(())
            }
        }
    }
}

/// The full router: the API and the browser-facing pages, plus the layers every request passes through.
pub fn router(state: AppState, settings: &Settings) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    api::router(state)
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(CatchPanicLayer::custom(|_| -> Response {
            ApiError::Internal("a handler panicked".into()).into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let path = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    tracing::info_span!("request", method = %req.method(), path, request_id = id, key_id = tracing::field::Empty)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(api::public_cors())
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed by this call,
/// not when the future is first polled: the server may answer (readiness
/// included) before then, and a SIGTERM in between would otherwise end the
/// process by the default action instead of a clean shutdown.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let listeners = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::interrupt()).ok(), signal(SignalKind::terminate()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            async fn recv(listener: Option<tokio::signal::unix::Signal>) {
                match listener {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            let (interrupt, terminate) = listeners;
            tokio::select! {
                () = recv(interrupt) => {},
                () = recv(terminate) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing in-flight requests");
    }
}
