//! Golden examples: the list, deletion, and the downloads, which stream the
//! same output as the API's export.

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
    session::CsrfForm,
};
use crate::{
    app::App,
    domain::{feedback::FeedbackType, golden::ExportFormat, ids::Uuid, page::PageRequest},
    http::download,
};

/// The list's filters.
#[derive(Debug, Default, Deserialize)]
pub struct GoldenQuery {
    bot_id: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
    format: Option<String>,
}

const FORMATS: [(&str, &str); 3] =
    [("openai", "OpenAI fine-tuning (JSONL)"), ("jsonl", "Golden examples (JSONL)"), ("csv", "Spreadsheet (CSV)")];

/// `GET /golden`
pub async fn page(
    State(app): State<App>,
    session: SignedIn,
    PageQuery(q): PageQuery<GoldenQuery>,
) -> Result<Markup, WebError> {
    let bot = non_empty(q.bot_id.as_deref());
    let bot_id = bot.map(|b| Uuid::parse("bot_id", b)).transpose()?;
    let page = PageRequest::parse(Some(50), non_empty(q.cursor.as_deref()))?;
    let examples = app.golden_examples(&session.principal.scope(), bot_id.as_ref(), page).await?;
    let bots = bots(&app, &session).await?;
    let next = examples
        .next_cursor
        .as_deref()
        .map(|c| format!("/golden{}", query_string(&[("bot_id", bot), ("cursor", Some(c))])));
    let body = html! {
        div.page-head {
            h1 { "Golden examples" }
            p.muted { "Approved answers and corrections, ready to train or evaluate on." }
        }
        (layout::notice(q.notice.as_deref(), &[("deleted", "The golden example was deleted.")]))
        div.toolbar {
            form.filters method="get" action="/golden" #golden-filters aria-label="Golden example filters" {
                div.field { label for="bot_id" { "Bot" } (bot_select(&bots, bot, false)) }
                div.field.actions { button.primary type="submit" { "Filter" } }
            }
            div.downloads #golden-downloads {
                span.muted.small { "Download:" }
                @for (format, label) in FORMATS {
                    a.button href={ "/golden/export" (query_string(&[("format", Some(format)), ("bot_id", bot)])) }
                        data-testid={ "golden-export-" (format) } download { (label) }
                }
            }
        }
        @if examples.items.is_empty() {
            p.empty data-testid="golden-empty" { "No golden examples yet. Approve feedback in the review queue, or answer a knowledge gap, to make some." }
        } @else {
            div.table-wrap {
                table.list #golden-table data-testid="golden-table" {
                    caption.visually-hidden { "Golden examples" }
                    thead {
                        tr {
                            th scope="col" { "Question" }
                            th scope="col" { "Ideal answer" }
                            th scope="col" { "From" }
                            th scope="col" { "Bot" }
                            th scope="col" { "Created" }
                            th scope="col" { span.visually-hidden { "Actions" } }
                        }
                    }
                    tbody {
                        @for e in &examples.items {
                            @let question = e.messages.iter().rev().find(|t| t.role == "user").map(|t| t.content.as_str());
                            tr data-testid="golden-row" data-golden-id=(e.id) {
                                td data-label="Question" { (question.unwrap_or("—")) }
                                td data-label="Ideal answer" { (e.ideal_response) }
                                td data-label="From" {
                                    @if e.origin == "knowledge_gap" {
                                        a.badge href="/gaps" data-testid="golden-from-gap" { "knowledge gap" }
                                    } @else if e.feedback_type == FeedbackType::Positive { span.badge.good { "thumbs up" } } @else { span.badge.bad { "correction" } }
                                    " " a.small href={ "/inbox/" (enc(&e.conversation_id)) } { "conversation" }
                                }
                                td data-label="Bot" { (bot_name(&bots, e.bot_id.as_str())) }
                                td data-label="Created" { (layout::time(e.created_at, &session.zone)) }
                                td {
                                    form method="post" action={ "/golden/" (e.id) "/delete" } {
                                        (layout::csrf_field(&session))
                                        button.danger type="submit" data-testid="golden-delete" aria-label="Delete this golden example" { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(href) = next {
            nav.pager aria-label="Pages" { a.button href=(href) rel="next" { "Next page →" } }
        }
    };
    Ok(layout::page("Golden examples", Section::Golden, &session, body))
}

/// `POST /golden/{id}/delete`
pub async fn delete(
    State(app): State<App>,
    session: SignedIn,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let id = Uuid::parse("id", &id).map_err(|_| WebError::NotFound("This golden example does not exist.".into()))?;
    app.delete_golden(&session.principal, &id).await?;
    Ok(Redirect::to("/golden?notice=deleted").into_response())
}

/// `GET /golden/export?format=…`: the same stream as `GET /v1/golden-examples/export`.
pub async fn export(
    State(app): State<App>,
    session: SignedIn,
    PageQuery(q): PageQuery<GoldenQuery>,
) -> Result<Response, WebError> {
    let format = ExportFormat::parse(non_empty(q.format.as_deref()))?;
    let bot = non_empty(q.bot_id.as_deref()).map(|b| Uuid::parse("bot_id", b)).transpose()?;
    Ok(download(app.export_golden(session.principal.scope(), bot, format).await?))
}
