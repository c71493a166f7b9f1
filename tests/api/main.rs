//! The HTTP API, tested through a real server on a free port.
//!
//! Every test is an `async fn(Backend)` listed in a `both_backends!` block,
//! which runs it once on SQLite and once on PostgreSQL.

mod helpers;

mod analytics;
mod auth;
mod bots;
mod cli;
mod compat;
mod conversations;
mod embeddings;
mod embeddings_server;
mod engine;
mod erasure;
mod errors;
mod feedback;
mod gaps;
mod inbox;
mod ingest;
mod keys;
mod ops;
mod outbound;
mod people;
mod public_face;
mod rating;
mod receiver;
mod retention;
mod review;
mod rollups;
mod schemas;
mod strict;
mod tenancy;
mod thumb_batches;
mod tokens;
mod validation;
mod votes;
mod web;
mod web_lifecycle;
mod web_webhooks;
mod webhook_delivery;
mod webhooks;
mod widget;
