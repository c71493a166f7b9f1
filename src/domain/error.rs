//! The error every domain rule reports.

/// A rule of the product was broken by the input.
///
/// `code` is the machine-readable error code of the API (`invalid_request`,
/// `conflict`, ...), `field` names the offending input when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input is malformed or out of range (HTTP 400).
    #[error("{field}: {message}")]
    Invalid { code: &'static str, field: String, message: String },
    /// The input is well formed but contradicts the current state (HTTP 409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The caller may not do this (HTTP 403).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The object does not exist for this caller (HTTP 404).
    #[error("{what} not found")]
    NotFound { what: &'static str },
}

impl DomainError {
    /// A 400 `invalid_request` naming `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { code: "invalid_request", field: field.into(), message: message.into() }
    }

    /// A 409 with a specific code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }

    /// A 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden { code: "forbidden", message: message.into() }
    }

    /// A 404 for an object of kind `what`.
    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound { what }
    }

    /// Prefixes the field name, so errors inside a batch say where they are.
    pub fn within(self, prefix: &str) -> Self {
        match self {
            Self::Invalid { code, field, message } => {
                Self::Invalid { code, field: format!("{prefix}.{field}"), message }
            }
            other => other,
        }
    }
}
