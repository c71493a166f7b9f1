//! Webhooks in the settings (admins only; SPEC §13): the list with each
//! webhook's health (also a panel of the Settings page), and creating one,
//! its secret shown this once. The page of one webhook, with its
//! deliveries and actions, is in `webhooks/webhook.rs`. The forms are
//! parsed by the same domain functions as the API's; a refused one is shown
//! again with the rule's message.

mod webhook;

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

pub use webhook::{delete, retry, rotate, set_active, show, test};

use super::{
    PageForm, PageQuery, SignedIn, WebError, bot_name, bot_select, bots,
    layout::{self, Section},
    non_empty,
    zone::Zone,
};
use crate::{
    app::{App, AppError},
    domain::{
        DomainError, Timestamp,
        account::Bot,
        ids::Uuid,
        webhook::{EventType, NewWebhook, Webhook},
    },
};

const NOTICES: [(&str, &str); 5] = [
    ("deleted", "The webhook was deleted, with its deliveries."),
    ("test_sent", "A test (a ping) is queued; it is listed below."),
    ("retried", "The delivery is queued again, with a new retry window."),
    ("turned_on", "The webhook is on: it receives new events, and what is queued goes out."),
    ("turned_off", "The webhook is off: it receives no new events until it is turned on."),
];

/// What a person may subscribe to (a ping is sent by hand, whatever a webhook wants).
fn subscribable() -> impl Iterator<Item = EventType> {
    EventType::ALL.into_iter().filter(|e| *e != EventType::Ping)
}

fn event_hint(e: EventType) -> &'static str {
    match e {
        EventType::FeedbackCreated => "a thumb given",
        EventType::FeedbackUpdated => "a thumb switched, or its reason changed",
        EventType::FeedbackRetracted => "a thumb taken back",
        EventType::FeedbackReviewed => "a thumb approved or dismissed",
        EventType::VoteCreated => "a conversation voted on",
        EventType::CsatAnswered => "a satisfaction question answered",
        EventType::GoldenExampleCreated => "a golden example made",
        EventType::GoldenExampleDeleted => "a golden example deleted",
        EventType::ConversationEnded => "a conversation ended",
        EventType::Ping => "a test, sent by hand",
    }
}

fn webhook_id(raw: &str) -> Result<Uuid, WebError> {
    Uuid::parse("id", raw).map_err(|_| WebError::NotFound("This webhook does not exist.".into()))
}

fn href(w: &Webhook) -> String {
    format!("/settings/webhooks/{}", w.id)
}

/// Off to the page of webhook `id`, with a notice.
fn to_webhook(id: &Uuid, notice: &str) -> Response {
    Redirect::to(&format!("/settings/webhooks/{id}?notice={notice}")).into_response()
}

/// A refusal by a rule is shown next to its form; anything else is an error page.
fn refusal(e: AppError) -> Result<String, WebError> {
    match e {
        AppError::Rule(DomainError::Invalid { field, message, .. }) => Ok(format!("{field}: {message}")),
        other => Err(other.into()),
    }
}

/// Whether a webhook is on, off, deactivated or failing, and since when.
fn state(w: &Webhook, zone: &Zone) -> Markup {
    html! {
        @if let (false, Some(at)) = (w.active, w.health.deactivated_at) {
            span.pill.bad data-testid="webhook-state" data-state="deactivated" { "deactivated" }
            span.small.block { "on " (layout::time(at, zone)) }
        } @else if !w.active {
            span.pill.muted data-testid="webhook-state" data-state="off" { "off" }
        } @else if let Some(since) = w.health.failing_since {
            span.pill.bad data-testid="webhook-state" data-state="failing" { "failing" }
            span.small.block { "since " (layout::time(since, zone)) }
        } @else {
            span.pill.good data-testid="webhook-state" data-state="active" { "active" }
        }
    }
}

fn when(t: Option<Timestamp>, zone: &Zone) -> Markup {
    html! { @if let Some(t) = t { (layout::time(t, zone)) } @else { span.muted { "never" } } }
}

fn events_summary(w: &Webhook) -> String {
    if subscribable().all(|e| w.events.contains(&e.as_str())) { "every event".to_owned() } else { w.events.join(", ") }
}

/// The webhooks with their health, and the way to each one's deliveries.
fn table(hooks: &[Webhook], bots: &[Bot], session: &SignedIn) -> Markup {
    html! {
        div.table-wrap {
            table.list #webhooks-table data-testid="webhooks-table" {
                caption.visually-hidden { "Webhooks" }
                thead { tr {
                    th scope="col" { "Receiver" } th scope="col" { "Events" } th scope="col" { "Status" }
                    th scope="col" { "Last success" } th scope="col" { "Last failure" }
                    th scope="col" class="num" { "Pending" } th scope="col" class="num" { "Failed" }
                    th scope="col" { span.visually-hidden { "Actions" } }
                } }
                tbody {
                    @for w in hooks {
                        tr data-testid="webhook-row" data-webhook-id=(w.id) {
                            td data-label="Receiver" {
                                a.mono href=(href(w)) data-testid="webhook-url" { (w.url) }
                                @if let Some(d) = &w.description { span.muted.small.block { (d) } }
                            }
                            td data-label="Events" {
                                span.small { (events_summary(w)) }
                                span.muted.small.block {
                                    (w.bot_id.as_ref().map_or("all bots", |b| bot_name(bots, b.as_str())))
                                    " · " (w.format.as_str())
                                    @if w.only_negative { " · negative only" }
                                }
                            }
                            td data-label="Status" { (state(w, &session.zone)) }
                            td data-label="Last success" data-testid="webhook-last-success" { (when(w.health.last_success_at, &session.zone)) }
                            td data-label="Last failure" data-testid="webhook-last-failure" { (when(w.health.last_failure_at, &session.zone)) }
                            td.num data-label="Pending" data-testid="webhook-pending" { (w.health.pending) }
                            td.num data-label="Failed" data-testid="webhook-failed" { (w.health.failed) }
                            td {
                                div.buttons {
                                    a.button href=(href(w)) data-testid="webhook-open" aria-label={ "Deliveries of " (w.url) } { "Deliveries" }
                                    form method="post" action={ (href(w)) "/test" } {
                                        (layout::csrf_field(session))
                                        button type="submit" data-testid="webhook-test" aria-label={ "Send a test to " (w.url) } { "Send a test" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The webhooks panel of the Settings page.
pub async fn panel(app: &App, session: &SignedIn, bots: &[Bot]) -> Result<Markup, WebError> {
    let hooks = app.list_webhooks(&session.principal).await?;
    Ok(html! {
        section.panel.wide aria-labelledby="webhooks-title" #webhooks data-testid="webhooks-panel" {
            h2 #webhooks-title { "Webhooks" }
            p.muted.small { "Events sent as they happen to your own service, a queue, or a Slack channel: signed, and retried when the receiver fails." }
            @if hooks.is_empty() {
                p.muted { "No webhooks yet." }
            } @else {
                (table(&hooks, bots, session))
            }
            p { a.button href="/settings/webhooks" data-testid="manage-webhooks" { "Add or manage webhooks" } }
        }
    })
}

/// What was typed into the new-webhook form, to show it again when refused.
#[derive(Debug, Default)]
struct Draft {
    url: String,
    events: Vec<String>,
    bot_id: Option<String>,
    format: String,
    only_negative: bool,
    description: String,
}

impl Draft {
    /// The form's pairs: the events are checkboxes all named `events`.
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let one = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        Self {
            url: one("url").unwrap_or_default(),
            events: pairs.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.clone()).collect(),
            bot_id: one("bot_id"),
            format: one("format").unwrap_or_default(),
            only_negative: one("only_negative").is_some(),
            description: one("description").unwrap_or_default(),
        }
    }
}

/// What the list page shows besides the stored webhooks.
#[derive(Default)]
struct Extras {
    notice: Option<String>,
    created: Option<(Webhook, String)>,
    error: Option<String>,
    draft: Draft,
}

fn secret_panel(title: &str, secret: &str) -> Markup {
    html! {
        section.panel.secret role="status" #webhook-secret data-testid="webhook-secret" {
            h2 { (title) }
            p { "Copy the signing secret now: it is shown only this once. Receivers check each delivery's "
                code { "webhook-signature" } " with it (any Standard Webhooks library does)." }
            p { output.mono.secret-value #webhook-secret-value data-testid="webhook-secret-value" { (secret) } }
        }
    }
}

fn create_form(app: &App, session: &SignedIn, bots: &[Bot], extras: &Extras) -> Markup {
    let d = &extras.draft;
    let url_hint = if app.webhooks_allow_http() {
        "https:// (http:// is allowed on this server). A Slack address is itself a secret: pages show only its host."
    } else {
        "https:// only. A Slack address is itself a secret: pages show only its host."
    };
    html! {
        section.panel aria-labelledby="create-webhook-title" #create-webhook {
            h2 #create-webhook-title { "Add a webhook" }
            @if let Some(message) = &extras.error {
                p.alert role="alert" data-testid="form-error" { (message) }
            }
            form method="post" action="/settings/webhooks" #create-webhook-form data-testid="create-webhook-form" {
                (layout::csrf_field(session))
                label for="webhook-url" { "Receiver URL" }
                input #webhook-url type="text" name="url" inputmode="url" required maxlength="2048" spellcheck="false"
                    autocomplete="off" placeholder="https://hooks.example.com/plaudit" value=(d.url) aria-describedby="webhook-url-hint";
                p.muted.small #webhook-url-hint { (url_hint) }
                fieldset {
                    legend { "Events" }
                    @for e in subscribable() {
                        @let id = format!("event-{}", e.as_str().replace(['.', '_'], "-"));
                        div.check {
                            input type="checkbox" id=(id) name="events" value=(e.as_str()) checked[d.events.iter().any(|x| x == e.as_str())];
                            label for=(id) { span.mono { (e.as_str()) } span.muted.small.block { (event_hint(e)) } }
                        }
                    }
                }
                div.check {
                    input type="checkbox" id="webhook-only-negative" name="only_negative" value="on" checked[d.only_negative];
                    label for="webhook-only-negative" { "Only the negative ones"
                        span.muted.small.block { "Thumbs down (given, or switched to down), downvotes and satisfaction answers below 3; no other event." } }
                }
                label for="bot_id" { "Bot" }
                (bot_select(bots, non_empty(d.bot_id.as_deref()), session.principal.bot_id.is_some()))
                label for="webhook-format" { "Format" }
                select #webhook-format name="format" {
                    option value="standard" selected[d.format != "slack"] { "Standard Webhooks: the event as JSON, signed" }
                    option value="slack" selected[d.format == "slack"] { "Slack or Mattermost: a readable line" }
                }
                label for="webhook-description" { "Description (optional)" }
                input #webhook-description type="text" name="description" maxlength="500" value=(d.description)
                    placeholder="Thumbs down to the support channel";
                button.primary type="submit" data-testid="create-webhook" { "Add webhook" }
            }
        }
    }
}

async fn render_list(app: &App, session: &SignedIn, extras: Extras) -> Result<Markup, WebError> {
    let hooks = app.list_webhooks(&session.principal).await?;
    let bots = bots(app, session).await?;
    let body = html! {
        p.crumbs { a href="/settings" { "← Settings" } }
        div.page-head {
            h1 { "Webhooks" }
            p.muted { "Each event is posted to the webhooks subscribed to it, in order, signed, and retried when the receiver fails." }
        }
        (layout::notice(extras.notice.as_deref(), &NOTICES))
        @if let Some((hook, secret)) = &extras.created {
            (secret_panel(&format!("New webhook to {}", hook.url), secret))
        }
        @if hooks.is_empty() {
            p.empty { "No webhooks yet. Add the first one below." }
        } @else {
            (table(&hooks, &bots, session))
        }
        (create_form(app, session, &bots, &extras))
    };
    Ok(layout::page("Webhooks", Section::Settings, session, body))
}

/// The page's notice after a change.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    notice: Option<String>,
}

/// `GET /settings/webhooks`
pub async fn page(
    State(app): State<App>,
    session: SignedIn,
    PageQuery(q): PageQuery<ListQuery>,
) -> Result<Markup, WebError> {
    render_list(&app, &session, Extras { notice: q.notice, ..Extras::default() }).await
}

/// `POST /settings/webhooks`: creates a webhook and shows its secret, this once.
pub async fn create(
    State(app): State<App>,
    session: SignedIn,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let csrf = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
    session.check_csrf(&app, csrf)?;
    let draft = Draft::from_pairs(&pairs);
    let parsed = NewWebhook::parse(
        session.principal.account_id.clone(),
        draft.url.trim(),
        &draft.events,
        non_empty(Some(&draft.description)),
        non_empty(draft.bot_id.as_deref()),
        non_empty(Some(&draft.format)),
        Some(draft.only_negative),
        app.webhooks_allow_http(),
    );
    let error = match parsed {
        Ok(new) => match app.create_webhook(&session.principal, new).await {
            Ok(created) => {
                let page = render_list(&app, &session, Extras { created: Some(created), ..Extras::default() }).await?;
                return Ok((StatusCode::CREATED, page).into_response());
            }
            Err(e) => refusal(e)?,
        },
        Err(e) => refusal(e.into())?,
    };
    let page = render_list(&app, &session, Extras { error: Some(error), draft, ..Extras::default() }).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
}
