//! Structured logs: text or JSON lines, filtered by the configured level.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{LogFormat, Settings};

/// Installs the global subscriber. `RUST_LOG`, when set, wins over the settings.
/// Logs go to stderr so that commands printing a result on stdout stay scriptable.
pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match settings.log_format {
        LogFormat::Json => registry
            .with(fmt::layer().json().with_current_span(true).with_span_list(false).with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Text => registry.with(fmt::layer().with_writer(std::io::stderr)).try_init(),
    };
    // A second init (tests, embedding) keeps the first subscriber.
    drop(result);
}
