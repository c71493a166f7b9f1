//! The review queue: pending feedback with the exchange it rates; approve,
//! dismiss, or approve with a corrected answer, under the API's rules.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    PageForm, PageQuery, SignedIn, WebError, bot_name, bot_select, bots, enc,
    layout::{self, Section},
    non_empty, query_string,
};
use crate::{
    app::App,
    domain::{
        feedback::{FeedbackFilter, FeedbackStatus, FeedbackType, ReviewAction, ReviewRequest},
        ids::{LocaleFilter, Uuid},
        page::PageRequest,
    },
};

/// The queue's filters.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    bot_id: Option<String>,
    feedback_type: Option<String>,
    locale: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
}

const NOTICES: [(&str, &str); 2] =
    [("approved", "Approved: it is now a golden example."), ("dismissed", "Dismissed: it left the queue.")];

/// `GET /review`
pub async fn page(
    State(app): State<App>,
    session: SignedIn,
    PageQuery(q): PageQuery<QueueQuery>,
) -> Result<Markup, WebError> {
    let bot = non_empty(q.bot_id.as_deref());
    let kind = non_empty(q.feedback_type.as_deref());
    let language = non_empty(q.locale.as_deref());
    let filter = FeedbackFilter {
        status: Some(FeedbackStatus::Pending),
        feedback_type: match kind {
            None => None,
            Some("positive") => Some(FeedbackType::Positive),
            Some("negative") => Some(FeedbackType::Negative),
            Some(_) => return Err(WebError::BadRequest("feedback_type: must be positive or negative".into())),
        },
        bot_id: bot.map(|b| Uuid::parse("bot_id", b)).transpose()?,
        from: None,
        to: None,
        locale: language.map(|l| LocaleFilter::parse("locale", l)).transpose()?,
    };
    let page = PageRequest::parse(Some(25), non_empty(q.cursor.as_deref()))?;
    let items = app.review_queue(&session.principal.scope(), &filter, page).await?;
    let bots = bots(&app, &session).await?;
    let back = query_string(&[("bot_id", bot), ("feedback_type", kind), ("locale", language)]);
    let next = items.next_cursor.as_deref().map(|c| {
        let query = [("bot_id", bot), ("feedback_type", kind), ("locale", language), ("cursor", Some(c))];
        format!("/review{}", query_string(&query))
    });
    let body = html! {
        div.page-head {
            h1 { "Review queue" }
            p.muted { "Pending feedback, newest first. Approving makes a golden example; negative feedback needs a corrected answer to be approved." }
        }
        (layout::notice(q.notice.as_deref(), &NOTICES))
        form.filters method="get" action="/review" #review-filters data-testid="review-filters" aria-label="Review filters" {
            div.field { label for="bot_id" { "Bot" } (bot_select(&bots, bot, false)) }
            div.field {
                label for="feedback_type" { "Type" }
                select #feedback_type name="feedback_type" {
                    option value="" selected[kind.is_none()] { "Both" }
                    option value="negative" selected[kind == Some("negative")] { "Thumbs down" }
                    option value="positive" selected[kind == Some("positive")] { "Thumbs up" }
                }
            }
            (layout::locale_field(language))
            div.field.actions { button.primary type="submit" { "Filter" } }
        }
        @if items.items.is_empty() {
            p.empty data-testid="review-empty" { "Nothing to review. Well done." }
        }
        ol.queue {
            @for item in &items.items {
                @let f = &item.feedback;
                @let negative = f.feedback_type == FeedbackType::Negative;
                li.panel.review-item id={ "review-" (f.id) } data-testid="review-item" data-feedback-id=(f.id) {
                    div.review-head {
                        @if negative {
                            span.badge.bad { (layout::thumb(false)) " Thumbs down" }
                        } @else {
                            span.badge.good { (layout::thumb(true)) " Thumbs up" }
                        }
                        span.muted.small {
                            (bot_name(&bots, f.bot_id.as_str())) " · " (f.user_id) " · " (session.zone.datetime(f.submitted_at))
                            " · " a href={ "/inbox/" (enc(&f.conversation_id)) "#m-" (enc(&f.message_id)) } { "conversation" }
                        }
                    }
                    dl.exchange {
                        dt { "Question" }
                        dd { @if let Some(qn) = &item.question { (qn) } @else { span.muted { "(no user message before it)" } } }
                        dt { "Answer" }
                        dd { (item.answer) }
                        @if let Some(reason) = &f.reason {
                            dt { "Reason" }
                            dd.reason { (reason) }
                        }
                    }
                    form method="post" action={ "/review/" (f.id) (back) } data-testid="review-form" {
                        (layout::csrf_field(&session))
                        @let field = format!("corrected-{}", f.id);
                        @if negative {
                            label for=(field) { "Corrected answer " span.muted.small { "(required to approve)" } }
                            textarea id=(field) name="corrected_response" rows="3" required data-testid="review-corrected" {}
                        } @else {
                            details {
                                summary { "Write a corrected answer (optional)" }
                                label for=(field) { "Corrected answer" }
                                textarea id=(field) name="corrected_response" rows="3" data-testid="review-corrected" {}
                            }
                        }
                        @let note = format!("note-{}", f.id);
                        label for=(note) { "Note for other reviewers " span.muted.small { "(optional)" } }
                        input id=(note) type="text" name="note";
                        div.buttons {
                            button.primary type="submit" name="action" value="approve" data-testid="review-approve" { "Approve" }
                            // Dismissing needs no corrected answer: skip the browser's check.
                            button type="submit" name="action" value="dismiss" formnovalidate data-testid="review-dismiss" { "Dismiss" }
                        }
                    }
                }
            }
        }
        @if let Some(href) = next {
            nav.pager aria-label="Pages" { a.button href=(href) rel="next" data-testid="review-next" { "Next page →" } }
        }
    };
    Ok(layout::page("Review", Section::Review, &session, body))
}

/// A review decision.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    csrf: Option<String>,
    action: Option<String>,
    corrected_response: Option<String>,
    note: Option<String>,
}

/// Where the queue was, to go back to it.
#[derive(Debug, Default, Deserialize)]
pub struct Back {
    bot_id: Option<String>,
    feedback_type: Option<String>,
}

/// `POST /review/{id}`
pub async fn decide(
    State(app): State<App>,
    session: SignedIn,
    Path(id): Path<String>,
    PageQuery(back): PageQuery<Back>,
    PageForm(form): PageForm<ReviewForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let id = Uuid::parse("id", &id).map_err(|_| WebError::NotFound("This feedback does not exist.".into()))?;
    let action = match form.action.as_deref() {
        Some("approve") => ReviewAction::Approve,
        Some("dismiss") => ReviewAction::Dismiss,
        _ => return Err(WebError::BadRequest("action: must be approve or dismiss".into())),
    };
    let body = ReviewRequest {
        action,
        corrected_response: non_empty(form.corrected_response.as_deref()).map(str::to_owned),
        note: non_empty(form.note.as_deref()).map(str::to_owned),
    };
    app.review(&session.principal, &id, body).await?;
    let notice = if action == ReviewAction::Approve { "approved" } else { "dismissed" };
    let to = query_string(&[
        ("bot_id", non_empty(back.bot_id.as_deref())),
        ("feedback_type", non_empty(back.feedback_type.as_deref())),
        ("notice", Some(notice)),
    ]);
    Ok(Redirect::to(&format!("/review{to}")).into_response())
}
