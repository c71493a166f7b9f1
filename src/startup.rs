//! Building the application and serving it until shutdown.
//!
//! [`Application::build`] binds the listener (port 0 works, for tests), opens
//! the store, starts the [`App`] and composes the router from every HTTP door
//! ([`router`]); [`Application::run_until`] serves until the shutdown future
//! resolves, then lets in-flight requests finish.

use anyhow::Context as _;
use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Extension, Router,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderMap, HeaderName, Uri, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    api,
    app::demo::DemoData,
    app::{App, SingleSignOn},
    compat,
    config::Settings,
    domain::account::DEFAULT_ACCOUNT_ID,
    http::{ApiError, KeyRateLimiter, metrics, public_cors},
    store::{self, Store},
    web::{self, WebError, WebOptions, demo::DemoSite},
};

/// A bound, ready-to-serve Plaudit.
pub struct Application {
    listener: TcpListener,
    router: Router,
    grace: Duration,
    pub app: App,
}

impl Application {
    /// Opens the database (running migrations) and binds `settings.listen`.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let store = store::connect(&settings.database_url, &settings.connect_options())
            .await
            .with_context(|| format!("cannot open {}", settings.redacted_database_url()))?;
        let listener = TcpListener::bind(&settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
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
        demo: &DemoData,
    ) -> anyhow::Result<Self> {
        Self::assemble(store, listener, settings, Some(DemoSite::new(demo))).await
    }

    async fn assemble(
        store: Arc<dyn Store>,
        listener: TcpListener,
        settings: &Settings,
        demo: Option<DemoSite>,
    ) -> anyhow::Result<Self> {
        if settings.rollup_fold_interval_ms > 0 {
            store::keep_folding(&store, Duration::from_millis(settings.rollup_fold_interval_ms));
        }
        let app = App::start(store).await.context("cannot read the signing secret")?;
        let public_url = settings.public_url(listener.local_addr().ok());
        let sso = single_sign_on(settings, &public_url)?.map(Arc::new);
        let web = WebOptions { secure_cookies: settings.secure_cookies, public_url, sso, demo };
        Ok(Self {
            listener,
            router: router(app.clone(), settings, web),
            grace: Duration::from_secs(settings.shutdown_grace_seconds),
            app,
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
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, service).with_graceful_shutdown(async move {
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

/// Single sign-on as configured: all of issuer, client id and secret, or none.
fn single_sign_on(settings: &Settings, public_url: &str) -> anyhow::Result<Option<SingleSignOn>> {
    let (issuer, id, secret) = (&settings.oidc_issuer, &settings.oidc_client_id, &settings.oidc_client_secret);
    let (Some(issuer), Some(client_id), Some(client_secret)) = (issuer, id, secret) else {
        if issuer.is_some() || id.is_some() || secret.is_some() {
            anyhow::bail!("single sign-on needs all of oidc_issuer, oidc_client_id and oidc_client_secret");
        }
        return Ok(None);
    };
    Ok(Some(SingleSignOn {
        issuer: issuer.trim_end_matches('/').to_owned(),
        client_id: client_id.clone(),
        client_secret: client_secret.clone(),
        redirect_uri: format!("{public_url}/auth/oidc/callback"),
        join_domain: settings.oidc_join_domain.clone().filter(|d| !d.trim().is_empty()),
        join_account: settings.oidc_join_account.clone().unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_owned()),
        http: crate::outbound::client()?,
    }))
}

/// The full router: the JSON API with its OpenAPI document, the compatible
/// routes, the dashboard with the widget and the demo, `/metrics`, and the
/// layers every request passes through.
pub fn router(app: App, settings: &Settings, web: WebOptions) -> Router {
    let (documented, openapi) = api::routes().merge(compat::routes()).split_for_parts();
    let metrics = metrics::Metrics::new();
    let exposed = Arc::clone(&metrics);
    let mut router = Router::new()
        .merge(documented)
        .merge(api::docs(openapi))
        .merge(web::router(web))
        .route("/metrics", get(move || std::future::ready(metrics::exposition(&exposed))))
        .route_layer(axum::middleware::from_fn_with_state(metrics, metrics::record))
        .fallback(fallback)
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(app);
    if let Some(limiter) = KeyRateLimiter::new(settings.rate_limit_per_second, settings.rate_limit_burst) {
        router = router.layer(Extension(limiter));
    }
    let request_id = HeaderName::from_static("x-request-id");
    router
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
        .layer(public_cors())
}

/// The answer for an address nothing serves: the API's JSON 404, or an HTML
/// page for a browser asking for a page outside `/v1`.
async fn fallback(uri: Uri, headers: HeaderMap) -> Response {
    let wants_html =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    if wants_html && !uri.path().starts_with("/v1/") {
        WebError::NotFound("There is no page at this address.".into()).into_response()
    } else {
        ApiError::NotFound("route".into()).into_response()
    }
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
