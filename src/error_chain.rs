//! An error and its causes on one line, for logs and for tests.

use std::{error::Error, fmt::Display};

/// An error and each error beneath it on one line (`outer: inner: innermost`),
/// for a log field: the JSON log format records only an error's own message.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            write!(f, ": {cause}")?;
            next = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("the database is unavailable")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_chain_names_every_cause() {
        let e = Outer(std::io::Error::other("refused"));
        assert_eq!(Chain(&e).to_string(), "the database is unavailable: refused");
    }
}
