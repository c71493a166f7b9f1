//! Conversation votes: an up or down rating of the whole conversation with a
//! graded value, permanent once recorded, one per voter per window.

use serde::{Deserialize, Serialize};

use super::{
    DomainError, Timestamp,
    access::Rater,
    access::Source,
    ids::{ClientId, Uuid},
};

/// Up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    /// Every value, in order.
    pub const ALL: [Self; 2] = [Self::Up, Self::Down];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
        }
    }

    pub fn from_db(raw: &str) -> Self {
        if raw == "down" { Self::Down } else { Self::Up }
    }

    /// `upvote` or `downvote`, as the vote routes answer.
    pub fn vote_name(self) -> &'static str {
        match self {
            Self::Up => "upvote",
            Self::Down => "downvote",
        }
    }

    /// Checks a value against the direction's range; absent means the strongest.
    pub fn value(self, raw: Option<i64>) -> Result<i64, DomainError> {
        let (range, default) = match self {
            Self::Up => (1..=100, 100),
            Self::Down => (-100..=-1, -100),
        };
        match raw {
            None => Ok(default),
            Some(v) if range.contains(&v) => Ok(v),
            Some(_) => Err(DomainError::Invalid {
                code: "invalid_value",
                field: "value".into(),
                message: match self {
                    Self::Up => "must be a whole number from 1 to 100".into(),
                    Self::Down => "must be a whole number from -100 to -1".into(),
                },
            }),
        }
    }
}

/// A vote to record, parsed.
#[derive(Debug, Clone)]
pub struct VoteInput {
    pub conversation_id: ClientId,
    pub direction: Direction,
    pub value: i64,
    pub reason: Option<String>,
    pub rater: Rater,
    /// Backfill: when it was cast.
    pub created_at: Option<Timestamp>,
}

/// The answer of the vote routes, the same whether the vote was recorded or
/// was a duplicate inside the window.
#[derive(Debug, Clone, Serialize)]
pub struct VoteAck {
    pub conversation_id: String,
    /// `upvote` or `downvote`.
    pub vote: String,
}

/// A recorded vote.
#[derive(Debug, Clone, Serialize)]
pub struct Vote {
    pub id: Uuid,
    pub conversation_id: String,
    pub bot_id: Uuid,
    pub contact_id: Option<String>,
    pub user_id: String,
    pub direction: Direction,
    pub value: i64,
    pub reason: Option<String>,
    pub source: Source,
    /// The activity message written into the conversation with the vote.
    pub activity_message_id: String,
    pub created_at: Timestamp,
}

/// The readable line an activity message carries.
pub fn activity_text(direction: Direction, value: i64, user_id: &str, reason: Option<&str>) -> String {
    let verb = match direction {
        Direction::Up => "upvoted",
        Direction::Down => "downvoted",
    };
    match reason {
        Some(r) => format!("{user_id} {verb} the conversation ({value:+}): {r}"),
        None => format!("{user_id} {verb} the conversation ({value:+})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_default_and_stay_in_range() {
        assert_eq!(Direction::Up.value(None).unwrap(), 100);
        assert_eq!(Direction::Down.value(None).unwrap(), -100);
        assert_eq!(Direction::Up.value(Some(1)).unwrap(), 1);
        assert_eq!(Direction::Down.value(Some(-1)).unwrap(), -1);
        for bad in [0, 101, -1] {
            assert!(Direction::Up.value(Some(bad)).is_err(), "{bad}");
        }
        for bad in [0, -101, 1] {
            assert!(Direction::Down.value(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn activity_lines_read_well() {
        assert_eq!(activity_text(Direction::Up, 100, "u1", None), "u1 upvoted the conversation (+100)");
        assert_eq!(
            activity_text(Direction::Down, -40, "u1", Some("slow")),
            "u1 downvoted the conversation (-40): slow"
        );
    }
}
