//! Plaudit: a self-hosted feedback service for AI assistants.
//!
//! A request travels `api` → `domain` → `store`:
//!
//! - [`config`]: typed settings from defaults, an optional TOML file and `PLAUDIT_*` variables.
//! - [`startup`]: builds the router from the state and serves it until shutdown.
//! - [`api`]: the HTTP layer (axum): extraction, authentication, one error type, OpenAPI.
//! - [`compat`]: routes shaped like other platforms' APIs, onto the same store.
//! - [`domain`]: the rules, pure and unit-tested: validation, roles, lifecycles.
//! - [`store`]: the [`store::Store`] trait, all SQL, and the SQLite and PostgreSQL engines.
//! - [`export`]: conversation exports, shared by the API and the CLI.
//! - [`memory`]: hands the memory a burst of work freed back to the system.
//! - [`web`]: the dashboard (server-rendered HTML over the same store and domain), the
//!   embeddable widget (`/widget.js`) and the demo (`/demo`, `plaudit demo`).
//! - [`cli`]: the command-line doors (`serve`, `migrate`, `accounts`, `keys`, `export`).
// The one exception is the allocator call in `memory`, allowed there alone.
#![deny(unsafe_code)]

pub mod api;
pub mod cli;
pub mod compat;
pub mod config;
pub mod domain;
pub mod export;
pub mod memory;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
