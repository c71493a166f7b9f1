//! Plaudit: a self-hosted feedback service for AI assistants.
//!
//! A request travels door → `app` → `domain` and `store`:
//!
//! - The doors: [`api`] (the JSON API, with its OpenAPI document), [`compat`]
//!   (routes shaped like other platforms' APIs), [`web`] (the dashboard, the
//!   embeddable widget and the demo) and [`cli`] (`serve`, `demo`, `migrate`,
//!   `accounts`, `keys`, `users`, `backup`, `export`, `purge`). No door imports another; the HTTP doors
//!   share [`http`] (the JSON error type, extractors, authentication, metrics).
//! - [`app`]: every operation a door performs, written once, on the [`app::App`].
//! - [`domain`]: the rules, pure and unit-tested: validation, roles, lifecycles, figures.
//! - [`store`]: the [`store::Store`] trait, all SQL, and the SQLite and PostgreSQL engines.
//! - [`startup`]: composes the routers from the HTTP doors; [`server`] serves them until shutdown.
//! - [`config`]: typed settings from defaults, an optional TOML file and `PLAUDIT_*` variables.
//! - [`embedding`]: sentence vectors for grouping questions by meaning (a model compiled in, or an endpoint).
//! - [`outbound`]: the one HTTP client for what Plaudit calls out to (single sign-on).
//! - [`telemetry`]: structured logs; [`error_chain`]: an error with its causes on one line;
//!   [`background`]: work repeated while the server runs (rollup folds, retention).
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod background;
pub mod cli;
pub mod compat;
pub mod config;
pub mod domain;
pub mod embedding;
pub mod error_chain;
pub mod http;
pub mod outbound;
pub mod server;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
