//! Knowledge gaps: the questions whose answers were thumbed down, grouped
//! by meaning, and answering a group with a golden example.
//!
//! Groups are not stored: each listing reads the most recent thumbs-down
//! (at most [`MAX_ROWS`]) with their questions' vectors (stored by the
//! embedding worker, [`super::representing`]) and groups them with the pure
//! rules of [`crate::domain::gaps`]. What is stored is an answer: a golden
//! example that names its group.

use super::{App, AppError};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::Principal,
        access::Scope,
        gaps::{GapAnswerInput, GapFilter, KnowledgeGap, MAX_ROWS, group, is_gap_id, parse_answer},
        golden::GoldenExample,
        page::{Cursor, Page, PageRequest},
    },
    store::Store,
};

/// The knowledge gaps of `filter` in scope, largest group first.
async fn all_gaps(store: &dyn Store, scope: &Scope, filter: &GapFilter) -> Result<Vec<KnowledgeGap>, AppError> {
    let facts = store.knowledge_gap_facts(scope, filter, MAX_ROWS).await?;
    Ok(group(facts.questions, &facts.answers))
}

/// One page of groups: they are computed, not stored, so the cursor is an
/// offset into the ordered list.
fn page_of(gaps: Vec<KnowledgeGap>, page: PageRequest) -> Result<Page<KnowledgeGap>, DomainError> {
    let start = page.after.map_or(0, |c| c.at);
    let bad = || DomainError::invalid("cursor", "is not a cursor returned by this API");
    if start < 0 || page.after.is_some_and(|c| c.seq != -1) {
        return Err(bad());
    }
    let start = usize::try_from(start).map_err(|_| bad())?;
    let limit = usize::try_from(page.limit).map_err(|_| bad())?;
    let more = gaps.len() > start.saturating_add(limit);
    let items: Vec<KnowledgeGap> = gaps.into_iter().skip(start).take(limit).collect();
    let next_cursor = more.then(|| Cursor { at: (start + limit) as i64, seq: -1 }.encode());
    Ok(Page { items, next_cursor })
}

impl App {
    /// One page of the knowledge gaps of `filter` in scope, largest group first.
    pub async fn gaps(
        &self,
        scope: &Scope,
        filter: &GapFilter,
        page: PageRequest,
    ) -> Result<Page<KnowledgeGap>, AppError> {
        Ok(page_of(all_gaps(&*self.store, scope, filter).await?, page)?)
    }

    /// Answers the group named `id` with a golden example.
    ///
    /// The group is looked for among the groups of `filter` (the listing the id
    /// came from), then among the groups of every recent thumbs-down whatever its
    /// date, so an id from a listing of another period still works. An id that
    /// names no group is a 404; a group already answered (by its id, or through an
    /// answer to a paraphrase of it) is a 409: delete that golden example to write
    /// another.
    pub async fn answer_gap(
        &self,
        by: &Principal,
        filter: &GapFilter,
        id: &str,
        answer: &str,
    ) -> Result<GoldenExample, AppError> {
        let scope = &by.scope();
        let answer = parse_answer(answer)?;
        if !is_gap_id(id) {
            return Err(AppError::NotFound("recommendation"));
        }
        let mut found = all_gaps(&*self.store, scope, filter).await?.into_iter().find(|g| g.is_named(id));
        if found.is_none() {
            let anytime = GapFilter { from: Timestamp(i64::MIN), to: Timestamp(i64::MAX), ..filter.clone() };
            found = all_gaps(&*self.store, scope, &anytime).await?.into_iter().find(|g| g.is_named(id));
        }
        let gap = found.ok_or(AppError::NotFound("recommendation"))?;
        if let Some(golden) = &gap.golden_example_id {
            return Err(DomainError::conflict(
                "conflict",
                format!(
                    "this knowledge gap already has an answer (golden example {golden}); delete it to write another"
                ),
            )
            .into());
        }
        let newest = gap.examples.first().ok_or(AppError::NotFound("recommendation"))?;
        let input = GapAnswerInput {
            gap_id: gap.id.clone(),
            bot_id: gap.bot_id.clone(),
            question: gap.question.clone(),
            answer,
            conversation_id: newest.conversation_id.clone(),
            message_id: newest.message_id.clone(),
        };
        Ok(self.store.answer_knowledge_gap(scope, input, &by.actor, Timestamp::now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::Uuid;

    fn gaps(n: usize) -> Vec<KnowledgeGap> {
        (0..n)
            .map(|i| KnowledgeGap {
                id: format!("{i:016x}"),
                bot_id: Uuid::from_db("b".into()),
                question: format!("q{i}"),
                count: 1,
                previous_count: 0,
                reasons: vec![],
                example_message_ids: vec![],
                examples: vec![],
                first_seen: Timestamp(0),
                last_seen: Timestamp(0),
                locale: None,
                pending: false,
                answered: false,
                golden_example_id: None,
                aliases: vec![],
                members: vec![],
            })
            .collect()
    }

    #[test]
    fn pages_walk_the_groups_in_order() {
        let first = page_of(gaps(5), PageRequest::parse(Some(2), None).unwrap()).unwrap();
        assert_eq!(first.items.iter().map(|g| g.question.as_str()).collect::<Vec<_>>(), ["q0", "q1"]);
        let cursor = first.next_cursor.unwrap();
        let second = page_of(gaps(5), PageRequest::parse(Some(2), Some(&cursor)).unwrap()).unwrap();
        assert_eq!(second.items[0].question, "q2");
        let last = page_of(gaps(5), PageRequest::parse(Some(2), second.next_cursor.as_deref()).unwrap()).unwrap();
        assert_eq!((last.items.len(), last.next_cursor), (1, None));
        // A keyset cursor of another list is not an offset.
        let foreign = Cursor { at: 3, seq: 7 }.encode();
        assert!(page_of(gaps(5), PageRequest::parse(Some(2), Some(&foreign)).unwrap()).is_err());
    }
}
