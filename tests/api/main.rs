//! The HTTP API, tested through a real server on a free port.
//!
//! Every test is an `async fn(Backend)` listed in a `both_backends!` block,
//! which runs it once on SQLite and once on PostgreSQL.

mod helpers;

mod auth;
mod bots;
mod cli;
mod conversations;
mod errors;
mod ingest;
mod keys;
mod ops;
mod tenancy;
mod validation;
