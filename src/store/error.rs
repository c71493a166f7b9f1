//! What can go wrong in the store, with the failure beneath kept as the source.

use std::{error::Error, sync::Arc};

use crate::domain::DomainError;

/// The failure beneath a store error: a driver's or the system's error, or
/// a sentence of ours when nothing beneath failed. Shared, so that one
/// failed group commit can answer each of the writes it carried.
pub type Cause = Arc<dyn Error + Send + Sync>;

/// What can go wrong in the store, independent of the engine.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist in the caller's scope.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness or reference rule of the database refused the write.
    #[error("a database constraint refused the write")]
    Conflict(#[source] Cause),
    /// A rule of the domain, checked against stored state, refused the write.
    #[error(transparent)]
    Rule(#[from] DomainError),
    /// The database cannot be reached or is overloaded; worth retrying.
    #[error("the database is unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else: a bug or a broken database.
    #[error("the database failed")]
    Other(#[source] Cause),
}

impl StoreError {
    pub fn conflict(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::Conflict(Arc::from(cause.into()))
    }

    pub fn unavailable(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::Unavailable(Arc::from(cause.into()))
    }

    pub fn other(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::Other(Arc::from(cause.into()))
    }
}

/// A sentence of ours in front of the error beneath it ("cannot start the
/// SQLite writer" over the system's error), keeping that error as the source.
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct Because {
    context: String,
    #[source]
    source: Box<dyn Error + Send + Sync>,
}

/// `context`, caused by `source`.
pub fn because(context: impl Into<String>, source: impl Into<Box<dyn Error + Send + Sync>>) -> Because {
    Because { context: context.into(), source: source.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_stays_a_source() {
        let io = std::io::Error::other("disk on fire");
        let e = StoreError::other(because("cannot start the writer", io));
        assert_eq!(e.to_string(), "the database failed");
        let cause = e.source().expect("a source");
        assert_eq!(cause.to_string(), "cannot start the writer");
        assert_eq!(cause.source().expect("the system's error").to_string(), "disk on fire");
    }
}
