//! Erasure and subject access (SPEC §16): what erasing a person or a
//! conversation removes is counted, and the counts are all that is said of
//! it afterwards (the answer, the audit log); what a person's export holds.

use serde::Serialize;

use super::{conversation::Message, csat::CsatAnswer, feedback::Feedback, transcript::Transcript, vote::Vote};

/// What an erasure removed, by kind of record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    pub conversations: u64,
    pub messages: u64,
    pub feedback: u64,
    pub votes: u64,
    pub csat: u64,
    pub golden_examples: u64,
}

impl Erased {
    /// Adds `other`'s counts to these.
    pub fn absorb(&mut self, other: Self) {
        self.conversations += other.conversations;
        self.messages += other.messages;
        self.feedback += other.feedback;
        self.votes += other.votes;
        self.csat += other.csat;
        self.golden_examples += other.golden_examples;
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A thumb a person gave on a conversation not theirs, with the answer it rated.
#[derive(Debug, Clone, Serialize)]
pub struct GivenThumb {
    #[serde(flatten)]
    pub feedback: Feedback,
    pub answer: Message,
}

/// What an account holds about one person (subject access): the
/// conversations whose contact they are, whole, and what they gave on
/// others' conversations — never another person's messages.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectExport {
    pub contact_id: String,
    pub conversations: Vec<Transcript>,
    pub thumbs: Vec<GivenThumb>,
    pub votes: Vec<Vote>,
    pub csat: Vec<CsatAnswer>,
}

/// How figures take an erased conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figures {
    /// As if it had never existed: the rollups and counts lose its signals
    /// (erasing a person, deleting a conversation).
    Correct,
    /// Past periods keep their counts; only the records go (retention).
    Keep,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_zero_is_empty() {
        let mut total = Erased::default();
        assert!(total.is_empty());
        total.absorb(Erased { conversations: 1, messages: 4, ..Erased::default() });
        total.absorb(Erased { messages: 2, votes: 1, ..Erased::default() });
        assert_eq!(total, Erased { conversations: 1, messages: 6, votes: 1, ..Erased::default() });
        assert!(!total.is_empty());
    }
}
