//! Retention (SPEC §16): how long a bot keeps its conversations, and the
//! instant before which a conversation's last activity makes it expire.

use super::{Timestamp, error::DomainError};

/// The longest retention a bot can be given: a century, in days.
pub const MAX_RETENTION_DAYS: i64 = 36_500;

/// Checks a retention in days (`field` names it in the error).
pub fn parse_retention_days(field: &str, days: i64) -> Result<i64, DomainError> {
    if (1..=MAX_RETENTION_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(DomainError::invalid(field, format!("must be between 1 and {MAX_RETENTION_DAYS} days")))
    }
}

/// The instant before which a conversation's last activity makes it
/// expire, `days` before `now`.
pub fn retention_cut(now: Timestamp, days: i64) -> Timestamp {
    Timestamp(now.0.saturating_sub(days.saturating_mul(86_400_000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_whole_days_within_a_century() {
        assert_eq!(parse_retention_days("retention_days", 30).unwrap(), 30);
        assert!(parse_retention_days("retention_days", 0).is_err());
        assert!(parse_retention_days("retention_days", MAX_RETENTION_DAYS + 1).is_err());
        assert_eq!(retention_cut(Timestamp(10 * 86_400_000), 3), Timestamp(7 * 86_400_000));
    }
}
