//! Knowledge gaps: listing the groups of a period, paging through a
//! group's members, and answering a group with a golden example.
//!
//! Groups are stored: the embedding worker ([`super::representing`],
//! [`super::gap_groups`]) links and regroups each shelf over all time. A
//! listing counts the period's thumbs-down by group in the store, orders
//! them with the pure rules of [`crate::domain::gaps`], and reads the
//! details of the groups on its page. A listing is kept until the store says
//! something it depends on changed ([`Listings`]).

use std::{collections::HashMap, sync::Mutex};

use super::{App, AppError};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::{Principal, Scope},
        gaps::{GapAnswerInput, GapExample, GapFilter, GapKey, KnowledgeGap, is_gap_id, order, parse_answer},
        golden::GoldenExample,
        page::{Cursor, Page, PageRequest},
    },
    store::Store,
};

/// How many listings an instance keeps.
const KEPT_LISTINGS: usize = 64;

/// The listings an instance has answered, each with the store's token of
/// what it depended on: a listing asked again while nothing changed is
/// answered from here.
#[derive(Default)]
pub struct Listings(Mutex<HashMap<String, (String, Page<KnowledgeGap>)>>);

impl Listings {
    fn get(&self, key: &str, token: &str) -> Option<Page<KnowledgeGap>> {
        let kept = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.get(key).filter(|(t, _)| t == token).map(|(_, page)| page.clone())
    }

    fn keep(&self, key: String, token: String, page: &Page<KnowledgeGap>) {
        let mut kept = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.len() >= KEPT_LISTINGS && !kept.contains_key(&key) {
            kept.clear();
        }
        kept.insert(key, (token, page.clone()));
    }
}

/// Where a page of groups starts and how many it takes: the groups are
/// ordered by their counts in the period, so the cursor is an offset.
fn offsets(page: PageRequest) -> Result<(usize, usize), DomainError> {
    let bad = || DomainError::invalid("cursor", "is not a cursor returned by this API");
    let start = page.after.map_or(0, |c| c.at);
    if start < 0 || page.after.is_some_and(|c| c.seq != -1) {
        return Err(bad());
    }
    Ok((usize::try_from(start).map_err(|_| bad())?, usize::try_from(page.limit).map_err(|_| bad())?))
}

/// One page of the gaps of `filter` in scope, read from the store.
async fn listing(
    store: &dyn Store,
    scope: &Scope,
    filter: &GapFilter,
    page: PageRequest,
) -> Result<Page<KnowledgeGap>, AppError> {
    let (start, limit) = offsets(page)?;
    let started = std::time::Instant::now();
    let ordered = order(store.gap_tallies(scope, filter).await?);
    let counted = started.elapsed();
    let ordered_len = ordered.len();
    let more = ordered_len > start.saturating_add(limit);
    let shown: Vec<_> = ordered.into_iter().skip(start).take(limit).collect();
    let wanted = shown.iter().map(|(id, t)| (t.key.clone(), id.clone(), t.bot_id.clone())).collect();
    let details = store.gap_details(scope, wanted, (filter.from, filter.to)).await?;
    tracing::debug!(
        groups = ordered_len,
        counting_ms = counted.as_millis(),
        details_ms = (started.elapsed() - counted).as_millis(),
        "listed knowledge gaps"
    );
    let items =
        shown.into_iter().zip(details).map(|((id, tally), detail)| KnowledgeGap::of(id, tally, detail)).collect();
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
        // A thumbs-down is listed at once: what the worker has not moved
        // from the queue yet moves now.
        self.store.drain_gap_queue().await?;
        let token = self.store.gap_listing_token(scope).await?;
        let key = format!(
            "{}|{:?}|{:?}|{}|{}|{:?}|{:?}",
            scope.account_id, scope.bot_id, filter.bot, filter.from.0, filter.to.0, filter.locale, page
        );
        if let Some(kept) = self.gap_listings.get(&key, &token) {
            return Ok(kept);
        }
        let answered = listing(&*self.store, scope, filter, page).await?;
        self.gap_listings.keep(key, token, &answered);
        Ok(answered)
    }

    /// One page of every thumbed-down answer of the group `id` names (its
    /// id, or a member's own), the most recently queued first.
    pub async fn gap_members(&self, scope: &Scope, id: &str, page: PageRequest) -> Result<Page<GapExample>, AppError> {
        let key = self.find_gap(scope, id).await?.0;
        Ok(self.store.gap_members(scope, key, page).await?)
    }

    async fn find_gap(&self, scope: &Scope, id: &str) -> Result<(GapKey, crate::domain::ids::Uuid), AppError> {
        if !is_gap_id(id) {
            return Err(AppError::NotFound("recommendation"));
        }
        self.store.find_gap(scope, id).await?.ok_or(AppError::NotFound("recommendation"))
    }

    /// Answers the group `id` names with a golden example: its
    /// representative question the prompt. Any id the group was listed
    /// under, in any period, finds it. An id that names no group is a 404; a
    /// group already answered (for its id or a member's) is a 409: delete
    /// that golden example to write another.
    pub async fn answer_gap(&self, by: &Principal, id: &str, answer: &str) -> Result<GoldenExample, AppError> {
        let scope = &by.scope();
        let answer = parse_answer(answer)?;
        let (key, bot) = self.find_gap(scope, id).await?;
        let gap_id = match &key {
            GapKey::Group(group) => group.clone(),
            GapKey::Alone(_) => id.to_owned(),
        };
        let all_time = (Timestamp(i64::MIN), Timestamp(i64::MAX));
        let detail = self.store.gap_details(scope, vec![(key, gap_id.clone(), bot.clone())], all_time).await?;
        let detail = detail.into_iter().next().ok_or(AppError::NotFound("recommendation"))?;
        if let Some(golden) = &detail.golden_example_id {
            return Err(DomainError::conflict(
                "conflict",
                format!(
                    "this knowledge gap already has an answer (golden example {golden}); delete it to write another"
                ),
            )
            .into());
        }
        let newest = detail.examples.first().ok_or(AppError::NotFound("recommendation"))?;
        let input = GapAnswerInput {
            gap_id,
            bot_id: bot,
            question: detail.question.trim().to_owned(),
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

    #[test]
    fn a_cursor_is_an_offset_into_the_ordered_groups() {
        assert_eq!(offsets(PageRequest::parse(Some(2), None).unwrap()).unwrap(), (0, 2));
        let next = Cursor { at: 4, seq: -1 }.encode();
        assert_eq!(offsets(PageRequest::parse(Some(2), Some(&next)).unwrap()).unwrap(), (4, 2));
        // A keyset cursor of another list is not an offset.
        let foreign = Cursor { at: 3, seq: 7 }.encode();
        assert!(offsets(PageRequest::parse(Some(2), Some(&foreign)).unwrap()).is_err());
    }
}
