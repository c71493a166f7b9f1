//! Building the application and serving it until shutdown.
//!
//! [`Application::build`] binds the listeners (port 0 works, for tests),
//! opens the store, starts the [`App`] and composes the routers from every
//! HTTP door ([`router`]): the main one, and when configured the public one
//! (only what a browser needs, see `http/faces.rs`) and the metrics one.
//! [`Application::run_until`] serves them all until the shutdown future
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
    embedding,
    http::{ApiError, KnownQueries, Rate, RateLimits, StrictQueryLayer, TrustedProxies, faces, metrics, public_cors},
    server::{self, ConnectionLimits},
    store::{self, Store},
    web::{self, WebError, WebOptions, demo::DemoSite},
};

/// How often a server reads the signing secret again (a rotation elsewhere
/// reaches it within this time).
const SECRET_REFRESH: Duration = Duration::from_secs(1);

/// A bound, ready-to-serve Plaudit.
pub struct Application {
    listener: TcpListener,
    router: Router,
    public: Option<(TcpListener, Router)>,
    metrics: Option<(TcpListener, Router)>,
    limits: ConnectionLimits,
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
        let public = bind(settings.public_listen.as_deref()).await?;
        let metrics_listener = bind(settings.metrics_listen.as_deref()).await?;
        if settings.rollup_fold_interval_ms > 0 {
            store::keep_folding(&store, Duration::from_millis(settings.rollup_fold_interval_ms));
        }
        let app = App::start(store)
            .await
            .context("cannot read the signing secret")?
            .with_webhooks(settings.webhook_options());
        if settings.webhooks_poll_ms > 0 {
            app.keep_delivering(Duration::from_millis(settings.webhooks_poll_ms))?;
        }
        if settings.embeddings_poll_ms > 0 {
            let embedder = embedding::from_settings(&settings.embedding_settings())
                .context("cannot load the embedding model (embeddings_url)")?;
            app.keep_representing(embedder, Duration::from_millis(settings.embeddings_poll_ms));
        }
        app.keep_secret_fresh(SECRET_REFRESH);
        if settings.retention_interval_seconds > 0 {
            app.keep_retention(Duration::from_secs(settings.retention_interval_seconds));
        }
        let public_url = settings.public_url(listener.local_addr().ok());
        let sso = single_sign_on(settings, &public_url)?.map(Arc::new);
        let web = WebOptions { secure_cookies: settings.secure_cookies, public_url, sso, demo };
        let routers = routers(&app, settings, &web, metrics_listener.is_some(), public.is_some())?;
        Ok(Self {
            listener,
            router: routers.main,
            public: public.zip(routers.public),
            metrics: metrics_listener.zip(routers.metrics),
            limits: ConnectionLimits {
                header_read_timeout: Duration::from_secs(settings.header_read_timeout_seconds.max(1)),
                body_timeout: Duration::from_secs(settings.body_timeout_seconds.max(1)),
                max_body_bytes: settings.max_body_bytes,
            },
            grace: Duration::from_secs(settings.shutdown_grace_seconds),
            app,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address of the public listener, when there is one.
    pub fn public_addr(&self) -> Option<SocketAddr> {
        self.public.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// The address of the metrics listener, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// Serves until `shutdown` resolves; then stops accepting and gives
    /// in-flight requests up to the grace period to finish.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut servers = tokio::task::JoinSet::new();
        let listeners = [Some((self.listener, self.router)), self.public, self.metrics];
        for (listener, router) in listeners.into_iter().flatten() {
            servers.spawn(server::serve(listener, router, self.limits, rx.clone()));
        }
        shutdown.await;
        let _ = tx.send(true);
        let finished = async { while servers.join_next().await.is_some() {} };
        if tokio::time::timeout(self.grace, finished).await.is_err() {
            tracing::warn!("in-flight requests did not finish within the grace period");
        }
        Ok(())
    }
}

/// Binds an optional listener.
async fn bind(address: Option<&str>) -> anyhow::Result<Option<TcpListener>> {
    match address.map(str::trim).filter(|a| !a.is_empty()) {
        Some(address) => {
            Ok(Some(TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?))
        }
        None => Ok(None),
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

/// The routers of the listeners.
struct Routers {
    main: Router,
    public: Option<Router>,
    metrics: Option<Router>,
}

/// The full router of one listener: the JSON API with its OpenAPI document,
/// the compatible routes, the dashboard with the widget and the demo,
/// `/metrics`, and the layers every request passes through.
pub fn router(app: App, settings: &Settings, web: WebOptions) -> Router {
    routers(&app, settings, &web, false, false).expect("settings already checked").main
}

/// The routers: the main one (with `/metrics` unless it has a listener of
/// its own), the public one (only the browser routes), the metrics one.
fn routers(
    app: &App,
    settings: &Settings,
    web: &WebOptions,
    metrics_apart: bool,
    public: bool,
) -> anyhow::Result<Routers> {
    let metrics = metrics::Metrics::new();
    let exposed = Arc::clone(&metrics);
    let figures = app.clone();
    let exposition = get(move || {
        let (exposed, figures) = (Arc::clone(&exposed), figures.clone());
        async move { metrics::exposition(&exposed, figures.delivery_figures().await.ok()) }
    });
    let trusted = TrustedProxies::parse(&settings.trusted_proxies).map_err(anyhow::Error::msg)?;
    let limits = RateLimits::new(
        Rate { per_second: settings.rate_limit_per_second, burst: settings.rate_limit_burst },
        Rate { per_second: settings.public_rate_limit_per_token, burst: settings.public_rate_limit_per_token_burst },
        Rate {
            per_second: settings.public_rate_limit_per_address,
            burst: settings.public_rate_limit_per_address_burst,
        },
    );
    let doors = || {
        let (documented, openapi) = api::routes().merge(compat::routes()).split_for_parts();
        // The documented routes refuse query parameters the document does not give them.
        let documented = documented.route_layer(StrictQueryLayer(KnownQueries::from_openapi(&openapi)));
        Router::new().merge(documented).merge(api::docs(openapi)).merge(web::router(web.clone()))
    };
    let finish = |router: Router<App>| {
        let router = router
            .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&metrics), metrics::record))
            .fallback(fallback)
            .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
            .with_state(app.clone());
        layers(router, settings, limits.clone(), trusted.clone())
    };
    let main = if metrics_apart { doors() } else { doors().route("/metrics", exposition.clone()) };
    Ok(Routers {
        main: finish(main),
        public: public.then(|| finish(doors().route_layer(axum::middleware::from_fn(faces::public_only)))),
        metrics: metrics_apart.then(|| Router::new().route("/metrics", exposition).with_state(app.clone())),
    })
}

/// The layers every request of the main and public listeners passes through.
fn layers(router: Router, settings: &Settings, limits: Option<Arc<RateLimits>>, trusted: TrustedProxies) -> Router {
    let mut router = router.layer(Extension(trusted));
    if let Some(limits) = limits {
        router = router.layer(Extension(limits));
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
