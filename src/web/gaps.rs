//! Knowledge gaps: the thumbed-down questions grouped by similarity, with a
//! form per group to write the answer, which becomes a golden example. The
//! same groups and the same rules as `/v1/recommendations`.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    PageForm, PageQuery, SignedIn, WebError, bot_name, bot_select, bots, date_range, enc,
    layout::{self, Section},
    non_empty, query_string,
};
use crate::{
    app::App,
    domain::{
        Timestamp,
        access::Role,
        analytics::Period,
        gaps::GapFilter,
        ids::{LocaleFilter, Uuid},
        page::PageRequest,
    },
};

/// The page's filters: a bot and whole days, both ends included.
#[derive(Debug, Default, Deserialize)]
pub struct GapsQuery {
    bot_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    locale: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
}

/// The filters as the domain takes them, and the first and last day shown.
fn filter(
    bot: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    language: Option<&str>,
    zone: &str,
) -> Result<(GapFilter, String, String), WebError> {
    let (from, to) = date_range(from, to)?;
    let period = Period::parse(from.as_deref(), to.as_deref(), Some(zone), Timestamp::now())?;
    let first = period.days.first().map(|d| d.date.clone()).unwrap_or_default();
    let last = period.days.last().map(|d| d.date.clone()).unwrap_or_default();
    let bot = bot.map(|b| Uuid::parse("bot_id", b)).transpose()?;
    let locale = language.map(|l| LocaleFilter::parse("locale", l)).transpose()?;
    Ok((GapFilter { bot, from: period.from, to: period.to, locale }, first, last))
}

/// `GET /gaps`
pub async fn page(
    State(app): State<App>,
    session: SignedIn,
    PageQuery(q): PageQuery<GapsQuery>,
) -> Result<Markup, WebError> {
    let bot = non_empty(q.bot_id.as_deref());
    let (from_day, to_day) = (non_empty(q.from.as_deref()), non_empty(q.to.as_deref()));
    let language = non_empty(q.locale.as_deref());
    let (gap_filter, first, last) = filter(bot, from_day, to_day, language, &session.zone.name)?;
    let request = PageRequest::parse(Some(25), non_empty(q.cursor.as_deref()))?;
    let gaps = app.gaps(&session.principal.scope(), &gap_filter, request).await?;
    let bots = bots(&app, &session).await?;
    // The form posts with the filters, so the answer finds the group the page showed.
    let filters = query_string(&[
        ("bot_id", bot),
        ("from", Some(first.as_str())),
        ("to", Some(last.as_str())),
        ("locale", language),
    ]);
    let next = gaps.next_cursor.as_deref().map(|c| {
        let query = [
            ("bot_id", bot),
            ("from", Some(first.as_str())),
            ("to", Some(last.as_str())),
            ("locale", language),
            ("cursor", Some(c)),
        ];
        format!("/gaps{}", query_string(&query))
    });
    let body = html! {
        div.page-head {
            h1 { "Knowledge gaps" }
            p.muted {
                "Questions whose answers were thumbed down, grouped by meaning per bot and language, largest group first ("
                (first) " to " (last) ", " (session.zone.name) "; groups span all time, the dates choose what is counted). "
                "Write the answer a group should have had: it becomes a golden example."
            }
        }
        (layout::notice(q.notice.as_deref(), &[("answered", "Answered: it is now a golden example.")]))
        form.filters method="get" action="/gaps" #gaps-filters data-testid="gaps-filters" role="search" aria-label="Knowledge gap filters" {
            div.field { label for="from" { "From" } input #from type="date" name="from" value=(first); }
            div.field { label for="to" { "To" } input #to type="date" name="to" value=(last); }
            div.field { label for="bot_id" { "Bot" } (bot_select(&bots, bot, false)) }
            (layout::locale_field(language))
            div.field.actions { button.primary type="submit" { "Filter" } }
        }
        @if gaps.items.is_empty() {
            p.empty data-testid="gaps-empty" { "No thumbed-down questions in this period." }
        }
        ol.queue #gaps-list {
            @for gap in &gaps.items {
                li.panel.gap-item id={ "gap-" (gap.id) } data-testid="gap-item" data-gap-id=(gap.id) data-count=(gap.count) {
                    div.review-head {
                        span.badge.bad data-testid="gap-count" {
                            (layout::thumb(false)) " " (gap.count) @if gap.count == 1 { " thumbed-down answer" } @else { " thumbed-down answers" }
                        }
                        @if gap.answered {
                            span.badge.good data-testid="gap-answered" { "Answered" }
                        }
                        @if gap.pending {
                            span.badge data-testid="gap-pending" title="Not compared by meaning yet: it joins its group within seconds" { "New" }
                        }
                        span.muted.small {
                            (bot_name(&bots, gap.bot_id.as_str()))
                            @if let Some(locale) = &gap.locale { " · " (locale) }
                            " · first " (layout::time(gap.first_seen, &session.zone))
                            " · last " (layout::time(gap.last_seen, &session.zone))
                        }
                    }
                    p.big.gap-question data-testid="gap-question" { (gap.question) }
                    p.small.muted data-testid="gap-trend" {
                        (gap.previous_count) " in the previous period"
                        @if !gap.reasons.is_empty() {
                            " · reasons: "
                            @for (i, r) in gap.reasons.iter().enumerate() {
                                @if i > 0 { ", " }
                                span data-testid="gap-reason" { (r.reason) " (" (r.count) ")" }
                            }
                        }
                    }
                    details {
                        summary { "Examples (" (gap.examples.len()) ")" }
                        ul.plain.small {
                            @for e in &gap.examples {
                                li data-testid="gap-example" {
                                    a href={ "/inbox/" (enc(&e.conversation_id)) "#m-" (enc(&e.message_id)) } { (e.question) }
                                    " " span.muted { (session.zone.datetime(e.rated_at)) }
                                }
                            }
                        }
                    }
                    @if gap.answered {
                        p.small { "Its answer is on " a href="/golden" { "Golden examples" } "." }
                    } @else if session.may(Role::Reviewer) {
                        form method="post" action={ "/gaps/" (gap.id) "/answer" (filters) } data-testid="gap-form" {
                            (layout::csrf_field(&session))
                            @let field = format!("answer-{}", gap.id);
                            label for=(field) { "The answer it should have had" }
                            textarea id=(field) name="answer" rows="3" required data-testid="gap-answer" {}
                            div.buttons {
                                button.primary type="submit" data-testid="gap-submit" { "Save as golden example" }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(href) = next {
            nav.pager aria-label="Pages" { a.button href=(href) rel="next" data-testid="gaps-next" { "Next page →" } }
        }
    };
    Ok(layout::page("Knowledge gaps", Section::Gaps, &session, body))
}

/// An answer to a gap.
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    csrf: Option<String>,
    answer: Option<String>,
}

/// The filters the page was showing.
#[derive(Debug, Default, Deserialize)]
pub struct Back {
    bot_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    locale: Option<String>,
}

/// `POST /gaps/{id}/answer`
pub async fn answer(
    State(app): State<App>,
    session: SignedIn,
    Path(id): Path<String>,
    PageQuery(back): PageQuery<Back>,
    PageForm(form): PageForm<AnswerForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let bot = non_empty(back.bot_id.as_deref());
    let (from, to) = (non_empty(back.from.as_deref()), non_empty(back.to.as_deref()));
    let language = non_empty(back.locale.as_deref());
    // Checked as the page checks them: the redirect carries them back.
    filter(bot, from, to, language, &session.zone.name)?;
    app.answer_gap(&session.principal, &id, form.answer.as_deref().unwrap_or_default()).await?;
    let to = query_string(&[
        ("bot_id", bot),
        ("from", from),
        ("to", to),
        ("locale", language),
        ("notice", Some("answered")),
    ]);
    Ok(Redirect::to(&format!("/gaps{to}")).into_response())
}
