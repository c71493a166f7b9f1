//! Regrouping a shelf: the questions of one bot and language, over all
//! time, grouped by meaning over their nearest-neighbour graph
//! ([`crate::domain::meaning`]). Each group is named by its oldest
//! thumbed-down answer and represented by its most central question.

use super::{MEANING_THRESHOLD, gap_id};
use crate::domain::{
    Timestamp,
    ids::Uuid,
    meaning::{
        linkage::{central, group_by_meaning},
        neighbours::Neighbourhood,
    },
};

/// A question of a shelf as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShelfQuestion {
    /// Its place in the embedding queue.
    pub seq: i64,
    /// The rated answer.
    pub message_id: String,
    /// Its first thumbs-down.
    pub first_rated: Timestamp,
    /// Its group, once grouped.
    pub group_id: Option<String>,
    /// Whether it represents its group.
    pub central: bool,
}

/// A question of a shelf with its vector (stored form, [`crate::domain::meaning::vector`])
/// and its neighbours' seqs (none: not linked yet), as the store reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShelfRow {
    pub question: ShelfQuestion,
    pub vector: Vec<u8>,
    pub neighbours: Option<Vec<i64>>,
}

/// Represented questions of a shelf, in queue order, and the shelf's
/// counts when read: of changes, of removals, of neighbour lists stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShelfRows {
    pub changed: i64,
    pub removed: i64,
    pub linked: i64,
    pub rows: Vec<ShelfRow>,
}

/// A question's place after regrouping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub seq: i64,
    pub group_id: String,
    pub central: bool,
}

/// Groups the questions of a shelf of `bot` (`questions[i]` holds vector
/// `i` of `hood`, every one linked) and returns the places that changed.
/// The groups depend on the vectors and their order only (the store reads
/// them in queue order), never on when each was represented.
pub fn regroup(bot: &Uuid, questions: &[ShelfQuestion], hood: &Neighbourhood) -> Vec<Assignment> {
    let mut changed = Vec::new();
    for members in group_by_meaning(&hood.vectors, &hood.edges(), MEANING_THRESHOLD) {
        let Some(oldest) = members
            .iter()
            .map(|&m| &questions[m])
            .min_by(|a, b| a.first_rated.cmp(&b.first_rated).then_with(|| a.message_id.cmp(&b.message_id)))
        else {
            continue;
        };
        let id = gap_id(bot, &oldest.message_id);
        let centre = central(&hood.vectors, &members);
        for &m in &members {
            let q = &questions[m];
            let central = centre == Some(m);
            if q.group_id.as_deref() != Some(id.as_str()) || q.central != central {
                changed.push(Assignment { seq: q.seq, group_id: id.clone(), central });
            }
        }
    }
    changed
}
