//! Analytics: the overview, A/B comparisons and the reasons people give.

use axum::{Json, extract::State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiQuery, AppState, Auth, ErrorResponses};
use crate::domain::{
    DomainError, Timestamp,
    access::{Role, Scope},
    analytics::{Comparison, Filters, GroupBy, Overview, Period, ReasonCount, compare, group_reasons, overview},
    feedback::FeedbackType,
    rollup::Counting,
};
use crate::store::StoreError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_overview)).routes(routes!(get_compare)).routes(routes!(get_reasons))
}

/// The filters every analytics call takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    pub bot_id: Option<String>,
    /// Inclusive; RFC 3339, or a date meaning its midnight in `tz`. Default: 30 days before `to`.
    pub from: Option<String>,
    /// Exclusive; RFC 3339 or a date. Default: tomorrow's midnight in `tz`.
    pub to: Option<String>,
    /// IANA time zone the days are cut in (default UTC).
    pub tz: Option<String>,
    /// Only answers of this topic (conversation-level figures: conversations with such an answer).
    pub topic: Option<String>,
    pub min_confidence: Option<f64>,
    pub max_confidence: Option<f64>,
    /// Only conversations of this A/B variant.
    pub variant: Option<String>,
    /// Only signals with (true) or without (false) a reason.
    pub has_reason: Option<bool>,
    /// `compare` only: variant, bot or topic.
    pub group_by: Option<GroupBy>,
    /// `compare` only: the group the others are tested against (default the largest).
    pub baseline: Option<String>,
    /// `reasons` only: positive or negative (default negative).
    pub feedback_type: Option<FeedbackType>,
}

impl AnalyticsQuery {
    fn parse(&self) -> Result<(Filters, Period), ApiError> {
        let filters = Filters::parse(
            self.bot_id.as_deref(),
            self.topic.as_deref(),
            self.min_confidence,
            self.max_confidence,
            self.variant.as_deref(),
            self.has_reason,
        )?;
        let period = Period::parse(self.from.as_deref(), self.to.as_deref(), self.tz.as_deref(), Timestamp::now())?;
        Ok((filters, period))
    }
}

/// Thumbs, CSAT, votes and daily satisfaction of a period, against the previous period.
#[utoipa::path(get, path = "/v1/analytics/overview", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, description = "The figures", body = Overview), ErrorResponses))]
async fn get_overview(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> Result<Json<Overview>, ApiError> {
    principal.require(Role::Server)?;
    let (filters, period) = q.parse()?;
    Ok(Json(overview_of(&state, &principal.scope(), &filters, &period).await?))
}

/// The overview of `period` under `filters`, from the rollups where they
/// answer; the dashboard's overview page shows this same computation.
pub async fn overview_of(
    state: &AppState,
    scope: &Scope,
    filters: &Filters,
    period: &Period,
) -> Result<Overview, StoreError> {
    let (previous_from, _) = period.previous();
    let facts = state
        .store
        .overview_facts(scope, filters, previous_from, period.from, period.to, period.grouping(), Counting::Rollups)
        .await?;
    Ok(overview(period, &facts))
}

/// Message-thumbs satisfaction per variant, bot or topic, with 95% Wilson
/// intervals and two-proportion z-tests against the baseline.
#[utoipa::path(get, path = "/v1/analytics/compare", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, description = "The groups, largest first", body = Comparison), ErrorResponses))]
async fn get_compare(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> Result<Json<Comparison>, ApiError> {
    principal.require(Role::Server)?;
    let group_by = q.group_by.ok_or_else(|| DomainError::invalid("group_by", "is required: variant, bot or topic"))?;
    let (filters, period) = q.parse()?;
    let groups = state
        .store
        .compare_groups(&principal.scope(), &filters, period.from, period.to, group_by, Counting::Rollups)
        .await?;
    Ok(Json(compare(group_by, groups, q.baseline.as_deref())?))
}

/// The reasons given with thumbs, grouped after folding case, spacing and
/// trailing punctuation, most frequent first.
#[utoipa::path(get, path = "/v1/analytics/reasons", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, description = "The reasons", body = ReasonList), ErrorResponses))]
async fn get_reasons(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> Result<Json<ReasonList>, ApiError> {
    principal.require(Role::Server)?;
    let (filters, period) = q.parse()?;
    let kind = q.feedback_type.unwrap_or(FeedbackType::Negative);
    let raw = state.store.reason_counts(&principal.scope(), &filters, period.from, period.to, kind).await?;
    Ok(Json(ReasonList { items: group_reasons(raw) }))
}

/// The answer of `GET /v1/analytics/reasons`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReasonList {
    pub items: Vec<ReasonCount>,
}
