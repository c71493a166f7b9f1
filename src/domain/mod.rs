//! The domain: the product's rules with no IO.
//!
//! Everything here is pure: parsing raw input into validated types, the
//! vocabulary of the product (roles, statuses), and the decisions that do not
//! need a database. The store and the HTTP layer call into this module; it
//! never calls out of it.

pub mod access;
pub mod account;
pub mod analytics;
pub mod audit;
pub mod conversation;
pub mod csat;
pub mod erasure;
pub mod error;
pub mod feedback;
pub mod gaps;
pub mod golden;
pub mod ids;
pub mod meaning;
pub mod page;
pub mod people;
pub mod retention;
pub mod rollup;
pub mod satisfaction;
pub mod session;
pub mod text;
pub mod time;
pub mod token;
pub mod transcript;
pub mod vote;
pub mod webhook;

pub use error::DomainError;
pub use time::Timestamp;
