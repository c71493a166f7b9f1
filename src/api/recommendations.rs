//! Knowledge gaps (recommendations): the questions whose answers were thumbed
//! down, grouped by similarity, and answering a group with a golden example.
//!
//! Groups are not stored: each listing reads the most recent thumbs-down
//! (at most [`MAX_ROWS`]) and groups them with the pure rules of
//! [`crate::domain::gaps`], so they follow the data as it changes. What is
//! stored is an answer: a golden example that names its group.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiJson, ApiPath, ApiQuery, AppState, Auth, ErrorResponses};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::{Role, Scope},
        analytics::Period,
        gaps::{AnswerBody, GapAnswerInput, KnowledgeGap, MAX_ROWS, group, is_gap_id, parse_answer},
        golden::GoldenExample,
        ids::Uuid,
        page::{Cursor, Page, PageRequest},
    },
    store::StoreError,
};

/// The knowledge-gap routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_recommendations)).routes(routes!(answer_recommendation))
}

/// Filters of the knowledge-gap routes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GapQuery {
    pub bot_id: Option<String>,
    /// Thumbs-down given at or after; RFC 3339, or a date meaning its midnight in `tz`. Default: 30 days before `to`.
    pub from: Option<String>,
    /// Thumbs-down given before; RFC 3339 or a date. Default: tomorrow's midnight in `tz`.
    pub to: Option<String>,
    /// IANA time zone of bare dates (default UTC).
    pub tz: Option<String>,
    /// Groups a page, 1–500 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Which thumbs-down a listing groups: a bot (or all in scope) and a period.
#[derive(Debug, Clone)]
pub struct GapFilter {
    pub bot: Option<Uuid>,
    pub from: Timestamp,
    pub to: Timestamp,
}

impl GapFilter {
    /// As the analytics routes read `from`, `to` and `tz` (default: the last 30 days).
    pub fn parse(
        bot: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        tz: Option<&str>,
    ) -> Result<Self, DomainError> {
        let bot = bot.filter(|b| !b.is_empty()).map(|b| Uuid::parse("bot_id", b)).transpose()?;
        let period = Period::parse(from, to, tz, Timestamp::now())?;
        Ok(Self { bot, from: period.from, to: period.to })
    }
}

/// The knowledge gaps of `filter` in scope, largest group first.
pub async fn knowledge_gaps(
    state: &AppState,
    scope: &Scope,
    filter: &GapFilter,
) -> Result<Vec<KnowledgeGap>, StoreError> {
    let facts = state.store.knowledge_gap_facts(scope, filter.bot.as_ref(), filter.from, filter.to, MAX_ROWS).await?;
    Ok(group(facts.questions, &facts.answers))
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
    state: &AppState,
    scope: &Scope,
    filter: &GapFilter,
    id: &str,
    answer: &str,
    now: Timestamp,
) -> Result<GoldenExample, StoreError> {
    let answer = parse_answer(answer)?;
    if !is_gap_id(id) {
        return Err(StoreError::NotFound("recommendation"));
    }
    let mut found = knowledge_gaps(state, scope, filter).await?.into_iter().find(|g| g.is_named(id));
    if found.is_none() {
        let anytime = GapFilter { bot: filter.bot.clone(), from: Timestamp(i64::MIN), to: Timestamp(i64::MAX) };
        found = knowledge_gaps(state, scope, &anytime).await?.into_iter().find(|g| g.is_named(id));
    }
    let gap = found.ok_or(StoreError::NotFound("recommendation"))?;
    if let Some(golden) = &gap.golden_example_id {
        return Err(DomainError::conflict(
            "conflict",
            format!("this knowledge gap already has an answer (golden example {golden}); delete it to write another"),
        )
        .into());
    }
    let newest = gap.examples.first().ok_or(StoreError::NotFound("recommendation"))?;
    let input = GapAnswerInput {
        gap_id: gap.id.clone(),
        bot_id: gap.bot_id.clone(),
        question: gap.question.clone(),
        answer,
        conversation_id: newest.conversation_id.clone(),
        message_id: newest.message_id.clone(),
    };
    state.store.answer_knowledge_gap(scope, input, now).await
}

/// One page of groups: they are computed, not stored, so the cursor is an
/// offset into the ordered list.
pub fn page_of(gaps: Vec<KnowledgeGap>, page: PageRequest) -> Result<Page<KnowledgeGap>, DomainError> {
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

/// Questions whose answers were thumbed down, grouped by similarity so that
/// paraphrases land together; largest group first.
///
/// Reads the most recent 2,000 current thumbs-down of the period (retracted
/// ones left out), each with the user message before the rated answer.
/// Groups are per bot; each names a representative question (its most
/// frequent phrasing), the number of thumbed-down answers, a few of them
/// newest first, the first and last thumbs-down, and whether it was answered.
#[utoipa::path(get, path = "/v1/recommendations", tag = "knowledge gaps", params(GapQuery),
    responses((status = 200, description = "The groups, largest first", body = Page<KnowledgeGap>), ErrorResponses))]
async fn list_recommendations(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<GapQuery>,
) -> Result<Json<Page<KnowledgeGap>>, ApiError> {
    principal.require(Role::Server)?;
    let filter = GapFilter::parse(q.bot_id.as_deref(), q.from.as_deref(), q.to.as_deref(), q.tz.as_deref())?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let gaps = knowledge_gaps(&state, &principal.scope(), &filter).await?;
    Ok(Json(page_of(gaps, page)?))
}

/// Where `POST /v1/recommendations/{id}/answer` looks for the group: the
/// filters of the listing the id came from.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnswerQuery {
    pub bot_id: Option<String>,
    /// As in the listing (default: 30 days before `to`).
    pub from: Option<String>,
    /// As in the listing (default: tomorrow's midnight in `tz`).
    pub to: Option<String>,
    /// IANA time zone of bare dates (default UTC).
    pub tz: Option<String>,
}

/// Path of one knowledge gap.
#[derive(Debug, Deserialize, IntoParams)]
pub struct GapPath {
    /// The group's id, from `GET /v1/recommendations`.
    pub id: String,
}

/// Answers a knowledge gap (admin): the group's representative question and
/// the answer become a golden example (origin `knowledge_gap`).
///
/// Send the filters of the listing the id came from (`bot_id`, `from`, `to`,
/// `tz`; the same defaults). 400 for an empty answer, 404 for an id that
/// names no group, 409 when the group already has an answer (delete that
/// golden example to write another).
#[utoipa::path(post, path = "/v1/recommendations/{id}/answer", tag = "knowledge gaps", params(GapPath, AnswerQuery),
    request_body = AnswerBody,
    responses((status = 201, description = "The golden example made", body = GoldenExample), ErrorResponses))]
async fn answer_recommendation(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<GapPath>,
    ApiQuery(q): ApiQuery<AnswerQuery>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<(StatusCode, Json<GoldenExample>), ApiError> {
    principal.require(Role::Admin)?;
    let filter = GapFilter::parse(q.bot_id.as_deref(), q.from.as_deref(), q.to.as_deref(), q.tz.as_deref())?;
    let golden = answer_gap(&state, &principal.scope(), &filter, &path.id, &body.answer, Timestamp::now()).await?;
    Ok((StatusCode::CREATED, Json(golden)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaps(n: usize) -> Vec<KnowledgeGap> {
        (0..n)
            .map(|i| KnowledgeGap {
                id: format!("{i:016x}"),
                bot_id: Uuid::from_db("b".into()),
                question: format!("q{i}"),
                count: 1,
                example_message_ids: vec![],
                examples: vec![],
                first_seen: Timestamp(0),
                last_seen: Timestamp(0),
                answered: false,
                golden_example_id: None,
                aliases: vec![],
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
