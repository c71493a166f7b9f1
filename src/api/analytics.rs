//! Analytics: the overview, A/B comparisons and the reasons people give.

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiError, ApiQuery, App, Auth, ErrorResponses};
use crate::domain::{
    Timestamp,
    access::Role,
    analytics::{Comparison, Filters, GroupBy, Overview, Period, ReasonCount, ReasonGrouping},
    feedback::FeedbackType,
};

pub fn router() -> OpenApiRouter<App> {
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
    /// Only conversations in this language (BCP 47; `fr` also matches `fr-CA`).
    pub locale: Option<String>,
    /// `compare`: variant, bot, topic or locale (required). `reasons`: meaning (default: reasons that mean the same are one) or text (only case, spacing and trailing punctuation folded).
    pub group_by: Option<String>,
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
            self.locale.as_deref(),
        )?;
        let period = Period::parse(self.from.as_deref(), self.to.as_deref(), self.tz.as_deref(), Timestamp::now())?;
        Ok((filters, period))
    }
}

/// Thumbs, CSAT, votes and daily satisfaction of a period, against the previous period.
#[utoipa::path(get, path = "/v1/analytics/overview", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, description = "The figures", body = OverviewDoc), ErrorResponses))]
async fn get_overview(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> Result<Json<Overview>, ApiError> {
    principal.require(Role::Server)?;
    let (filters, period) = q.parse()?;
    Ok(Json(app.overview(&principal.scope(), &filters, &period).await?))
}

/// Message-thumbs satisfaction per variant, bot, topic or language, with 95% Wilson
/// intervals and two-proportion z-tests against the baseline.
#[utoipa::path(get, path = "/v1/analytics/compare", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, description = "The groups, largest first", body = ComparisonDoc), ErrorResponses))]
async fn get_compare(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> Result<Json<Comparison>, ApiError> {
    principal.require(Role::Server)?;
    let (filters, period) = q.parse()?;
    let group_by = q.group_by.as_deref().map(GroupBy::parse).transpose()?;
    Ok(Json(app.compare(&principal.scope(), &filters, &period, group_by, q.baseline.as_deref()).await?))
}

/// The reasons given with thumbs, grouped after folding case, spacing and
/// trailing punctuation and then by meaning ("didn't understand my
/// question" with "the bot misunderstood me"), most frequent first; each
/// group shown by its most frequent spelling. `group_by=text` stops at the
/// folding. A reason not yet embedded by the background worker (seconds),
/// or longer than 200 characters, stays as it is.
#[utoipa::path(get, path = "/v1/analytics/reasons", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, description = "The reasons", body = ReasonList), ErrorResponses))]
async fn get_reasons(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> Result<Json<ReasonList>, ApiError> {
    principal.require(Role::Server)?;
    let (filters, period) = q.parse()?;
    let kind = q.feedback_type.unwrap_or(FeedbackType::Negative);
    let grouping = ReasonGrouping::parse(q.group_by.as_deref())?;
    Ok(Json(ReasonList { items: app.reasons(&principal.scope(), &filters, &period, kind, grouping).await? }))
}

/// The answer of `GET /v1/analytics/reasons`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReasonList {
    #[schema(value_type = Vec<ReasonCountDoc>)]
    pub items: Vec<ReasonCount>,
}

/// The answer of `GET /v1/analytics/overview`.
#[derive(Serialize, ToSchema)]
#[schema(as = Overview)]
pub struct OverviewDoc {
    pub period: PeriodOutDoc,
    pub previous_period: PeriodOutDoc,
    pub message_feedback: MessageFeedbackFiguresDoc,
    pub csat: CsatFiguresDoc,
    pub votes: VoteFiguresDoc,
    pub satisfaction: SatisfactionFiguresDoc,
}

/// A period as answered.
#[derive(Serialize, ToSchema)]
#[schema(as = PeriodOut)]
pub struct PeriodOutDoc {
    pub from: Timestamp,
    pub to: Timestamp,
    pub tz: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = MessageFeedbackFigures)]
pub struct MessageFeedbackFiguresDoc {
    pub thumbs_up: ThumbFigureDoc,
    pub thumbs_down: ThumbFigureDoc,
}

/// Thumbs up (or down) of the period against the previous one.
#[derive(Serialize, ToSchema)]
#[schema(as = ThumbFigure)]
pub struct ThumbFigureDoc {
    pub count: i64,
    /// Share among all thumbs of the period, 0–100.
    pub percent: Option<f64>,
    pub previous_count: i64,
    pub previous_percent: Option<f64>,
    /// `100·(count − previous_count)/previous_count`.
    pub change_percent: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CsatFigures)]
pub struct CsatFiguresDoc {
    /// Over rated conversations, each conversation's answers averaged first (1–5).
    pub average: Option<f64>,
    pub rated_conversations: i64,
    pub previous_average: Option<f64>,
    pub daily: Vec<CsatDayDoc>,
    pub by_question: Vec<CsatQuestionDoc>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CsatDay)]
pub struct CsatDayDoc {
    pub date: String,
    pub average: Option<f64>,
    /// Rated conversations that day.
    pub count: i64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CsatQuestion)]
pub struct CsatQuestionDoc {
    pub question_code: String,
    pub average: Option<f64>,
    pub count: i64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = VoteFigures)]
pub struct VoteFiguresDoc {
    pub upvotes: i64,
    pub downvotes: i64,
    pub average_value: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SatisfactionFigures)]
pub struct SatisfactionFiguresDoc {
    pub daily: Vec<SatisfactionDayDoc>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SatisfactionDay)]
pub struct SatisfactionDayDoc {
    pub date: String,
    /// Positive thumbs.
    pub good: i64,
    /// All thumbs.
    pub total: i64,
    /// `100·good/total`.
    pub rate: Option<f64>,
}

/// The answer of `GET /v1/analytics/compare`.
#[derive(Serialize, ToSchema)]
#[schema(as = Comparison)]
pub struct ComparisonDoc {
    pub group_by: GroupBy,
    pub baseline: Option<String>,
    pub groups: Vec<CompareGroupDoc>,
}

/// One group of a comparison.
#[derive(Serialize, ToSchema)]
#[schema(as = CompareGroup)]
pub struct CompareGroupDoc {
    /// The variant, bot id or topic; `null` for messages without one.
    pub key: Option<String>,
    /// Thumbs in the group.
    pub n: i64,
    /// Positive thumbs.
    pub good: i64,
    /// `100·good/n`.
    pub rate: Option<f64>,
    /// 95% Wilson interval of the rate, in percent.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Two-sided pooled two-proportion z-test against the baseline; `null` for the baseline.
    pub p_value: Option<f64>,
}

/// A reason and how often it was given.
#[derive(Serialize, ToSchema)]
#[schema(as = ReasonCount)]
pub struct ReasonCountDoc {
    pub reason: String,
    pub count: i64,
}
