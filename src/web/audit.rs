//! The audit log page (admins only): every change, newest first, filtered
//! by action and by who made it.

use axum::extract::State;
use maud::html;
use serde::Deserialize;

use super::{PageQuery, SignedIn, WebError, enc, layout, layout::Section, non_empty, query_string};
use crate::{
    app::App,
    domain::{
        audit::{Action, AuditFilter},
        page::PageRequest,
    },
};

/// The page's filters.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    cursor: Option<String>,
}

fn json(value: Option<&serde_json::Value>) -> String {
    value.map_or_else(String::new, serde_json::Value::to_string)
}

/// `GET /audit`
pub async fn page(
    State(app): State<App>,
    session: SignedIn,
    PageQuery(q): PageQuery<AuditQuery>,
) -> Result<maud::Markup, WebError> {
    let (action, actor) = (non_empty(q.action.as_deref()), non_empty(q.actor.as_deref()));
    let filter = AuditFilter::parse(actor, action, None, None)?;
    let page = PageRequest::parse(Some(100), non_empty(q.cursor.as_deref()))?;
    let entries = app.audit_log(&session.principal.scope(), &filter, page).await?;
    let body = html! {
        h1 { "Audit log" }
        p.muted { "Every change made by a person, a key or the command line. It keeps configuration values, never secrets nor what end users wrote." }
        form.filters method="get" action="/audit" #audit-filters role="search" aria-label="Audit log filters" {
            div.field {
                label for="audit-action" { "Action" }
                select #audit-action name="action" {
                    option value="" { "All actions" }
                    @for a in Action::ALL { option value=(a.as_str()) selected[action == Some(a.as_str())] { (a.as_str()) } }
                }
            }
            div.field {
                label for="audit-actor" { "Actor" }
                input #audit-actor type="text" name="actor" value=(actor.unwrap_or_default()) placeholder="user:<id>, key:<id> or cli";
            }
            div.field.actions { button.primary type="submit" { "Filter" } a.button href="/audit" { "Clear" } }
        }
        div.table-wrap {
            table.list #audit-table data-testid="audit-table" {
                caption.visually-hidden { "Audit log" }
                thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" } th scope="col" { "Target" } th scope="col" { "Before" } th scope="col" { "After" } } }
                tbody {
                    @for e in &entries.items {
                        tr data-testid="audit-row" data-action=(e.action) {
                            td data-label="When" { (layout::time(e.at, &session.zone)) }
                            td data-label="Who" {
                                a href={ "/audit" (query_string(&[("actor", Some(&e.actor.reference()))])) } { (e.actor.name) }
                                " " span.muted { "(" (e.actor.kind.as_str()) ")" }
                            }
                            td data-label="Action" { code { (e.action) } }
                            td data-label="Target" { (e.target.kind) " " span.mono { (e.target.id) } }
                            td data-label="Before" { code.small { (json(e.before.as_ref())) } }
                            td data-label="After" { code.small { (json(e.after.as_ref())) } }
                        }
                    }
                }
            }
        }
        @if entries.items.is_empty() { p.muted { "No entries." } }
        @if let Some(cursor) = &entries.next_cursor {
            @let more = query_string(&[("action", action), ("actor", actor)]);
            @let sep = if more.is_empty() { "?" } else { "&" };
            nav.pager aria-label="Pages" { a.button href={ "/audit" (more) (sep) "cursor=" (enc(cursor)) } rel="next" { "Next page →" } }
        }
    };
    Ok(layout::page("Audit log", Section::Audit, &session, body))
}
