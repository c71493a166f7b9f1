//! Typed settings: defaults ← optional TOML file ← `PLAUDIT_*` environment.
//!
//! The file comes from `--config` or `PLAUDIT_CONFIG`; every key can be set in
//! the environment by upper-casing it behind `PLAUDIT_`, for example
//! `PLAUDIT_DATABASE_URL` or `PLAUDIT_RATE_LIMIT_PER_SECOND`.

use std::{fmt, path::Path, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

use crate::{app::WebhookOptions, domain::webhook::RetryPolicy, store::ConnectOptions};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

/// SQLite's durability level for commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    /// Each commit is on disk before the answer: survives power loss.
    Full,
    /// Survives a crash of the process, may lose the last commits on power loss.
    Normal,
}

/// Every setting of the service.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://plaudit.db` (default) or `postgres://user:pass@host/db`.
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// A second listener serving only what a browser needs (the widget, its
    /// feedback, vote and CSAT routes, the rating configuration and prompt
    /// copy, the demo): the one to expose to the internet. Unset: none.
    pub public_listen: Option<String>,
    /// A listener of its own for `/metrics` (then the others do not serve it).
    pub metrics_listen: Option<String>,
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed
    /// for the client's address.
    pub trusted_proxies: Vec<String>,
    /// A tracing filter: `info`, `debug`, `plaudit=debug,tower_http=info`, ...
    pub log_level: String,
    pub log_format: LogFormat,
    /// Largest request body accepted; bigger bodies get 413.
    pub max_body_bytes: usize,
    /// Requests a second allowed per API key (0 turns the limit off).
    pub rate_limit_per_second: u32,
    /// Burst allowance above the steady rate.
    pub rate_limit_burst: u32,
    /// Requests a second per feedback token, for the routes a browser calls
    /// with a public key (0 turns the limit off).
    pub public_rate_limit_per_token: u32,
    pub public_rate_limit_per_token_burst: u32,
    /// Requests a second per client address with a public key (0: off).
    pub public_rate_limit_per_address: u32,
    pub public_rate_limit_per_address_burst: u32,
    /// Seconds a client has to send a request's headers (from connecting, or
    /// from the end of the previous answer on a kept-alive connection).
    pub header_read_timeout_seconds: u64,
    /// Seconds a client has to send a request's body once its headers are in.
    pub body_timeout_seconds: u64,
    /// Seconds to let in-flight requests finish on shutdown.
    pub shutdown_grace_seconds: u64,
    pub sqlite_busy_timeout_ms: u64,
    pub sqlite_synchronous: SqliteSynchronous,
    /// Read connections of the SQLite engine.
    pub sqlite_readers: usize,
    /// Pool size of the PostgreSQL engine, per process.
    pub postgres_max_connections: usize,
    /// Batches of single thumbs and votes the PostgreSQL engine writes at
    /// once, each in one transaction (0: each alone; at most the pool size).
    pub postgres_write_lanes: usize,
    /// How long a key, once found, is admitted without looking it up again,
    /// in milliseconds (0: looked up on every request). A key revoked
    /// through this instance is refused at once; one revoked elsewhere (the
    /// command line, another instance) within this time.
    pub key_cache_ms: u64,
    /// Whether the dashboard is served over https: its session cookie is then `Secure`.
    pub secure_cookies: bool,
    /// How often the retention job looks for conversations that outlived
    /// their bot's `retention_days` (0: never; `plaudit purge` still works).
    pub retention_interval_seconds: u64,
    /// How often the server adds the rollups' pending changes to the rollup
    /// rows, in milliseconds (0: never; figures stay exact either way).
    pub rollup_fold_interval_ms: u64,
    /// How often this instance looks for webhook deliveries due, in
    /// milliseconds (0: it delivers none; another instance must).
    pub webhooks_poll_ms: u64,
    /// How long a failing delivery is retried before it is marked failed.
    pub webhooks_retry_hours: f64,
    /// A webhook whose every delivery failed this long is deactivated.
    pub webhooks_deactivate_hours: f64,
    /// How long succeeded deliveries stay in the log.
    pub webhooks_keep_days: f64,
    /// Webhook URLs may be `http://` (otherwise only `https://`).
    pub webhooks_allow_http: bool,
    /// Webhooks may reach loopback, private and link-local addresses (a
    /// receiver on the same network).
    pub webhooks_allow_private: bool,
    /// How often this instance looks for knowledge-gap questions to embed,
    /// in milliseconds (0: it embeds none; another instance must).
    pub embeddings_poll_ms: u64,
    /// An OpenAI-compatible embeddings endpoint (`…/v1/embeddings`) to use
    /// instead of the built-in model.
    pub embeddings_url: Option<String>,
    /// The `model` asked of that endpoint (default `text-embedding-3-small`).
    pub embeddings_model: Option<String>,
    /// The endpoint's bearer token, if it needs one.
    pub embeddings_api_key: Option<String>,
    /// The address people and receivers reach Plaudit at, such as
    /// `https://feedback.example.com`: invitation links and the single
    /// sign-on redirect are built on it. Default: `http://` + `listen`.
    pub public_url: Option<String>,
    /// Single sign-on (OpenID Connect): the provider's issuer URL. Unset: no single sign-on.
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<String>,
    /// New people whose verified email is of this domain join as viewers.
    pub oidc_join_domain: Option<String>,
    /// The account they join (default: the default account).
    pub oidc_join_account: Option<String>,
    /// Accepted and ignored: the allocator (jemalloc) returns freed memory
    /// to the system by itself. Kept so that existing configurations, which
    /// may set it, still load (unknown keys are refused).
    pub memory_trim_interval_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://plaudit.db".into(),
            listen: "127.0.0.1:8080".into(),
            public_listen: None,
            metrics_listen: None,
            trusted_proxies: Vec::new(),
            log_level: "info,tokio_postgres=warn".into(),
            log_format: LogFormat::Text,
            max_body_bytes: 1024 * 1024,
            rate_limit_per_second: 100,
            rate_limit_burst: 200,
            public_rate_limit_per_token: 5,
            public_rate_limit_per_token_burst: 20,
            public_rate_limit_per_address: 50,
            public_rate_limit_per_address_burst: 100,
            header_read_timeout_seconds: 30,
            body_timeout_seconds: 30,
            shutdown_grace_seconds: 30,
            sqlite_busy_timeout_ms: 5_000,
            sqlite_synchronous: SqliteSynchronous::Full,
            sqlite_readers: 4,
            postgres_max_connections: 16,
            postgres_write_lanes: crate::store::postgres::WRITE_LANES,
            key_cache_ms: 2_000,
            secure_cookies: false,
            rollup_fold_interval_ms: 1_000,
            retention_interval_seconds: 3_600,
            webhooks_poll_ms: 250,
            webhooks_retry_hours: 24.0,
            webhooks_deactivate_hours: 72.0,
            webhooks_keep_days: 7.0,
            webhooks_allow_http: false,
            webhooks_allow_private: false,
            embeddings_poll_ms: 500,
            embeddings_url: None,
            embeddings_model: None,
            embeddings_api_key: None,
            memory_trim_interval_ms: 5_000,
            public_url: None,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_join_domain: None,
            oidc_join_account: None,
        }
    }
}

impl Settings {
    /// Loads the settings: defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Self::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(Box::new(figment::Error::from(format!("config file {} does not exist", path.display()))));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment.merge(Env::prefixed("PLAUDIT_").ignore(&["config", "test_postgres_url"])).extract().map_err(Box::new)
    }

    /// The database URL with any password replaced by `***`.
    pub fn redacted_database_url(&self) -> String {
        redact_url(&self.database_url)
    }

    /// The address people reach Plaudit at: `public_url`, else `http://` +
    /// the address actually bound (`bound`, when known, for port 0).
    pub fn public_url(&self, bound: Option<std::net::SocketAddr>) -> String {
        match self.public_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", bound.map_or_else(|| self.listen.clone(), |a| a.to_string())),
        }
    }

    /// Where embeddings come from: the endpoint if one is set (a blank
    /// value is none), else the built-in model.
    pub fn embedding_settings(&self) -> crate::embedding::EmbeddingSettings {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        crate::embedding::EmbeddingSettings {
            url: given(&self.embeddings_url),
            model: given(&self.embeddings_model),
            api_key: given(&self.embeddings_api_key),
        }
    }

    /// The webhook options these settings imply; Slack lines link to
    /// `public_url` when it is set.
    pub fn webhook_options(&self) -> WebhookOptions {
        let hours = |h: f64| Duration::from_secs_f64((h.max(0.0) * 3600.0).min(1e12));
        WebhookOptions {
            allow_http: self.webhooks_allow_http,
            allow_private: self.webhooks_allow_private,
            retry: RetryPolicy {
                retry_for: hours(self.webhooks_retry_hours),
                deactivate_after: hours(self.webhooks_deactivate_hours),
            },
            keep: hours(self.webhooks_keep_days * 24.0),
            public_url: self
                .public_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(|u| u.trim_end_matches('/').to_owned()),
        }
    }

    /// The engine options these settings imply.
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            sqlite_busy_timeout_ms: self.sqlite_busy_timeout_ms,
            sqlite_synchronous_full: self.sqlite_synchronous == SqliteSynchronous::Full,
            sqlite_readers: self.sqlite_readers,
            postgres_max_connections: self.postgres_max_connections,
            postgres_write_lanes: self.postgres_write_lanes,
            key_cache_ms: self.key_cache_ms,
        }
    }
}

/// Hides the password of `scheme://user:password@host/...`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_once('/').map_or((rest, None), |(a, t)| (a, Some(t)));
    let redacted_authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = tail.map(|t| format!("/{}", redact_query_password(t))).unwrap_or_default();
    format!("{scheme}://{redacted_authority}{tail}")
}

fn redact_query_password(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &self.redacted_database_url())
            .field("listen", &self.listen)
            .field("public_listen", &self.public_listen)
            .field("metrics_listen", &self.metrics_listen)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("log_level", &self.log_level)
            .field("log_format", &self.log_format)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("rate_limit_per_second", &self.rate_limit_per_second)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field("public_rate_limit_per_token", &self.public_rate_limit_per_token)
            .field("public_rate_limit_per_token_burst", &self.public_rate_limit_per_token_burst)
            .field("public_rate_limit_per_address", &self.public_rate_limit_per_address)
            .field("public_rate_limit_per_address_burst", &self.public_rate_limit_per_address_burst)
            .field("header_read_timeout_seconds", &self.header_read_timeout_seconds)
            .field("body_timeout_seconds", &self.body_timeout_seconds)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field("sqlite_busy_timeout_ms", &self.sqlite_busy_timeout_ms)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("sqlite_readers", &self.sqlite_readers)
            .field("postgres_max_connections", &self.postgres_max_connections)
            .field("postgres_write_lanes", &self.postgres_write_lanes)
            .field("secure_cookies", &self.secure_cookies)
            .field("rollup_fold_interval_ms", &self.rollup_fold_interval_ms)
            .field("retention_interval_seconds", &self.retention_interval_seconds)
            .field("webhooks_poll_ms", &self.webhooks_poll_ms)
            .field("webhooks_retry_hours", &self.webhooks_retry_hours)
            .field("webhooks_deactivate_hours", &self.webhooks_deactivate_hours)
            .field("webhooks_keep_days", &self.webhooks_keep_days)
            .field("webhooks_allow_http", &self.webhooks_allow_http)
            .field("webhooks_allow_private", &self.webhooks_allow_private)
            .field("embeddings_poll_ms", &self.embeddings_poll_ms)
            .field("embeddings_url", &self.embeddings_url.as_ref().map(|_| "***"))
            .field("embeddings_model", &self.embeddings_model)
            .field("embeddings_api_key", &self.embeddings_api_key.as_ref().map(|_| "***"))
            .field("memory_trim_interval_ms", &self.memory_trim_interval_ms)
            .field("public_url", &self.public_url)
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_client_id", &self.oidc_client_id)
            .field("oidc_client_secret", &self.oidc_client_secret.as_ref().map(|_| "***"))
            .field("oidc_join_domain", &self.oidc_join_domain)
            .field("oidc_join_account", &self.oidc_join_account)
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_print() {
        let s = Settings {
            database_url: "postgres://app:s3cret@db:5432/plaudit?password=other".into(),
            ..Settings::default()
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(!printed.contains("other"), "{printed}");
        assert!(printed.contains("postgres://app:***@db:5432/plaudit?password=***"), "{printed}");
        assert_eq!(redact_url("sqlite://plaudit.db"), "sqlite://plaudit.db");
    }

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("plaudit.toml", "listen = \"0.0.0.0:9000\"\nlog_level = \"debug\"\n")?;
            jail.set_env("PLAUDIT_LOG_LEVEL", "warn");
            jail.set_env("PLAUDIT_DATABASE_URL", "postgres://postgres@localhost/x");
            let s = Settings::load(Some(Path::new("plaudit.toml"))).map_err(|e| *e)?;
            assert_eq!(s.listen, "0.0.0.0:9000");
            assert_eq!(s.log_level, "warn");
            assert_eq!(s.database_url, "postgres://postgres@localhost/x");
            assert_eq!(s.max_body_bytes, 1024 * 1024);
            assert_eq!(s.connect_options().postgres_write_lanes, 4);
            jail.set_env("PLAUDIT_POSTGRES_WRITE_LANES", "2");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.connect_options().postgres_write_lanes, 2);
            Ok(())
        });
    }

    #[test]
    fn a_missing_file_or_a_bad_value_is_an_error() {
        figment::Jail::expect_with(|jail| {
            assert!(Settings::load(Some(Path::new("nope.toml"))).is_err());
            jail.set_env("PLAUDIT_LOG_FORMAT", "xml");
            assert!(Settings::load(None).is_err());
            Ok(())
        });
    }
}
