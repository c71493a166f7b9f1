//! What an operation answers instead of its result.

use crate::{
    domain::{DomainError, access::KeyRefusal, people::SignInRefusal, token::TokenRefusal},
    store::StoreError,
};

/// Why an operation did not happen. Each door renders it in its own way
/// (a JSON error, an HTML page, a line on stderr).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A rule refused the request (invalid input, forbidden, a conflict with
    /// the stored state).
    #[error(transparent)]
    Rule(#[from] DomainError),
    /// The object does not exist in the caller's scope.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The presented key is unknown, expired or revoked, or its account's
    /// plan has no API access.
    #[error("the key is refused: {0:?}")]
    Key(KeyRefusal),
    /// A person's sign-in was refused.
    #[error("the sign-in is refused: {0:?}")]
    SignIn(SignInRefusal),
    /// The feedback token is not valid for this request.
    #[error("the feedback token is refused: {0:?}")]
    Token(TokenRefusal),
    /// A uniqueness or reference rule of the database refused the write.
    #[error(transparent)]
    Conflict(StoreError),
    /// The database cannot be reached or is overloaded; worth retrying.
    #[error(transparent)]
    Unavailable(StoreError),
    /// Anything else: a bug or a broken database.
    #[error(transparent)]
    Internal(StoreError),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Rule(rule) => Self::Rule(rule),
            e @ StoreError::Conflict(_) => Self::Conflict(e),
            e @ StoreError::Unavailable(_) => Self::Unavailable(e),
            e @ StoreError::Other(_) => Self::Internal(e),
        }
    }
}

impl From<KeyRefusal> for AppError {
    fn from(refusal: KeyRefusal) -> Self {
        Self::Key(refusal)
    }
}

impl From<SignInRefusal> for AppError {
    fn from(refusal: SignInRefusal) -> Self {
        Self::SignIn(refusal)
    }
}

impl From<TokenRefusal> for AppError {
    fn from(refusal: TokenRefusal) -> Self {
        Self::Token(refusal)
    }
}
