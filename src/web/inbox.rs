//! The inbox (conversations newest first, filtered) and the transcript of one
//! conversation with its badges and satisfaction card.

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
    zone::Zone,
};
use crate::{
    app::App,
    domain::{
        access::Role,
        analytics::{InboxFilter, SatisfactionFilter, ThumbsFilter},
        conversation::MessageRole,
        feedback::FeedbackType,
        ids::{ClientId, LocaleFilter, Uuid},
        page::PageRequest,
        transcript::TranscriptMessage,
    },
};

/// The inbox's filters.
#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    feedback: Option<String>,
    thumbs: Option<String>,
    locale: Option<String>,
    bot_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
    contact_id: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
}

/// The conversation's satisfaction: its votes and CSAT answers.
const SATISFACTION_CHOICES: [(&str, &str); 4] =
    [("", "Any"), ("upvote", "Satisfied"), ("downvote", "Dissatisfied"), ("unknown", "No vote or CSAT")];
/// Thumbs on its answers.
const THUMBS_CHOICES: [(&str, &str); 3] =
    [("", "Any"), ("down", "A thumbs-down on an answer"), ("up", "A thumbs-up on an answer")];

/// `GET /inbox`
pub async fn list(
    State(app): State<App>,
    session: SignedIn,
    PageQuery(q): PageQuery<InboxQuery>,
) -> Result<Markup, WebError> {
    let feedback = non_empty(q.feedback.as_deref());
    let thumbs = non_empty(q.thumbs.as_deref());
    let language = non_empty(q.locale.as_deref());
    let bot = non_empty(q.bot_id.as_deref());
    let (from_day, to_day) = (non_empty(q.from.as_deref()), non_empty(q.to.as_deref()));
    let text = non_empty(q.q.as_deref());
    let contact = non_empty(q.contact_id.as_deref());
    let (from, to) = date_range(from_day, to_day)?;
    let filter = InboxFilter {
        bot_id: bot.map(|b| Uuid::parse("bot_id", b)).transpose()?,
        feedback: feedback.map(|f| SatisfactionFilter::parse("feedback", f)).transpose()?,
        thumbs: thumbs.map(|t| ThumbsFilter::parse("thumbs", t)).transpose()?,
        locale: language.map(|l| LocaleFilter::parse("locale", l)).transpose()?,
        // Whole days in the person's time zone.
        from: from.as_deref().map(|t| session.zone.start_of("from", t)).transpose()?,
        to: to.as_deref().map(|t| session.zone.start_of("to", t)).transpose()?,
        q: text.map(str::to_owned),
        contact_id: contact.map(str::to_owned),
    };
    let page = PageRequest::parse(Some(50), non_empty(q.cursor.as_deref()))?;
    let rows = app.inbox(&session.principal.scope(), &filter, page).await?;
    let bots = bots(&app, &session).await?;
    let next = rows.next_cursor.as_deref().map(|c| {
        format!(
            "/inbox{}",
            query_string(&[
                ("feedback", feedback),
                ("thumbs", thumbs),
                ("locale", language),
                ("bot_id", bot),
                ("from", from_day),
                ("to", to_day),
                ("q", text),
                ("contact_id", contact),
                ("cursor", Some(c)),
            ])
        )
    });
    let body = html! {
        div.page-head { h1 { "Inbox" } p.muted { "Conversations, newest first." } }
        (layout::notice(q.notice.as_deref(), &[
            ("erased", "The person was erased: their conversations, and every thumb, vote and CSAT answer they gave. The audit log records how much."),
            ("deleted", "The conversation was deleted, with everything in it."),
        ]))
        @if let Some(person) = contact {
            section.panel #contact-panel data-testid="contact-panel" aria-labelledby="contact-title" {
                h2 #contact-title { "Contact " span.mono #contact-filter { (person) } }
                p.muted { "Only this person's conversations are listed. " a href="/inbox" { "Show everyone" } }
                @if session.may(Role::Admin) {
                    form method="post" action="/inbox/erase" #erase-person data-testid="erase-person" {
                        (layout::csrf_field(&session))
                        input type="hidden" name="contact_id" value=(person);
                        label.check {
                            input type="checkbox" name="confirm" value="yes" required data-testid="erase-confirm";
                            " Erase everything about this person: their conversations, and the thumbs, votes and CSAT answers they gave anywhere. This cannot be undone."
                        }
                        button.danger type="submit" data-testid="erase-person-submit" { "Erase this person" }
                    }
                }
            }
        }
        form.filters method="get" action="/inbox" #inbox-filters data-testid="inbox-filters" role="search" aria-label="Inbox filters" {
            div.field {
                label for="feedback" { "Satisfaction (votes, CSAT)" }
                select #feedback name="feedback" {
                    @for (value, label) in SATISFACTION_CHOICES {
                        option value=(value) selected[feedback.unwrap_or("") == value] { (label) }
                    }
                }
            }
            div.field {
                label for="thumbs" { "Thumbs on answers" }
                select #thumbs name="thumbs" {
                    @for (value, label) in THUMBS_CHOICES {
                        option value=(value) selected[thumbs.unwrap_or("") == value] { (label) }
                    }
                }
            }
            div.field { label for="bot_id" { "Bot" } (bot_select(&bots, bot, false)) }
            (layout::locale_field(language))
            div.field { label for="from" { "From" } input #from type="date" name="from" value=[from_day]; }
            div.field { label for="to" { "To" } input #to type="date" name="to" value=[to_day]; }
            div.field.grow { label for="q" { "Search" } input #q type="search" name="q" value=[text] placeholder="Text, conversation or contact id"; }
            @if let Some(person) = contact { input type="hidden" name="contact_id" value=(person); }
            div.field.actions { button.primary type="submit" data-testid="inbox-apply" { "Filter" } a.button href="/inbox" { "Clear" } }
        }
        @if rows.items.is_empty() {
            p.empty data-testid="inbox-empty" { "No conversations match these filters." }
        } @else {
            div.table-wrap {
                table.list #inbox-table data-testid="inbox-table" {
                    caption.visually-hidden { "Conversations" }
                    thead {
                        tr {
                            th scope="col" { "Conversation" }
                            th scope="col" { "Bot" }
                            th scope="col" { "Started" }
                            th scope="col" class="num" { "Messages" }
                            th scope="col" class="num" { "Thumbs" }
                            th scope="col" { "Satisfaction" }
                        }
                    }
                    tbody {
                        @for row in &rows.items {
                            @let c = &row.conversation;
                            tr data-testid="inbox-row" data-conversation-id=(c.id) {
                                td data-label="Conversation" {
                                    a.strong href={ "/inbox/" (enc(&c.id)) } data-testid="conversation-link" { (c.id) }
                                    @if let Some(contact) = &c.contact_id {
                                        br;
                                        a.muted.small href={ "/inbox" (query_string(&[("contact_id", Some(contact.as_str()))])) } data-testid="contact-link" { "Contact " (contact) }
                                    }
                                }
                                td data-label="Bot" { (bot_name(&bots, c.bot_id.as_str())) }
                                td data-label="Started" { (layout::time(c.created_at, &session.zone)) }
                                td data-label="Messages" class="num" { (row.message_count) }
                                td data-label="Thumbs" class="num" {
                                    span.count.good title="thumbs up" { (layout::thumb(true)) " " (row.thumbs_up) }
                                    " "
                                    span.count.bad title="thumbs down" { (layout::thumb(false)) " " (row.thumbs_down) }
                                }
                                td data-label="Satisfaction" { (layout::satisfaction_badge(c.satisfaction.value.as_str())) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(href) = next {
            nav.pager aria-label="Pages" { a.button href=(href) rel="next" data-testid="inbox-next" { "Next page →" } }
        }
    };
    Ok(layout::page("Inbox", Section::Inbox, &session, body))
}

fn message(m: &TranscriptMessage, zone: &Zone) -> Markup {
    let msg = &m.message;
    html! {
        @match msg.role {
            MessageRole::Activity => {
                li.activity data-testid="message" data-role="activity" id={ "m-" (enc(&msg.id)) } {
                    span.muted.small { (msg.content) " · " (zone.datetime(msg.created_at)) }
                }
            }
            MessageRole::System => {
                li.system data-testid="message" data-role="system" id={ "m-" (enc(&msg.id)) } {
                    span.role { "System" } p { (msg.content) }
                }
            }
            role => {
                @let class = if role == MessageRole::User { "msg user" } else { "msg assistant" };
                li class=(class) data-testid="message" data-role=(role.as_str()) id={ "m-" (enc(&msg.id)) } {
                    div.bubble {
                        span.role { @if role == MessageRole::User { "User" } @else { "Assistant" } }
                        p.content { (msg.content) }
                    }
                    span.meta.muted.small { (zone.datetime(msg.created_at)) @if msg.status.as_str() != "completed" { " · " (msg.status.as_str()) } }
                    @if let Some(badges) = &m.feedback && (badges.up > 0 || badges.down > 0) {
                        div.badges data-testid="feedback-badges" {
                            @if badges.up > 0 {
                                span.badge.good data-testid="badge-up" title="thumbs up" { (layout::thumb(true)) " " (badges.up) }
                            }
                            @if badges.down > 0 {
                                span.badge.bad data-testid="badge-down" title="thumbs down" { (layout::thumb(false)) " " (badges.down) }
                            }
                            @for r in &badges.records {
                                @if let Some(reason) = &r.reason {
                                    span class={ "reason-chip " (if r.feedback_type == FeedbackType::Positive { "good" } else { "bad" }) } {
                                        "“" (reason) "”"
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

/// `GET /inbox/{id}`
pub async fn transcript(State(app): State<App>, session: SignedIn, Path(id): Path<String>) -> Result<Markup, WebError> {
    let id = ClientId::parse("id", &id).map_err(|_| WebError::NotFound("This conversation does not exist.".into()))?;
    let t = app.transcript(&session.principal.scope(), &id).await?;
    let bots = bots(&app, &session).await?;
    let c = &t.conversation;
    let s = &c.satisfaction;
    let body = html! {
        p.crumbs { a href="/inbox" { "← Inbox" } }
        div.page-head {
            h1 { "Conversation " span.mono { (c.id) } }
            p.muted {
                (bot_name(&bots, c.bot_id.as_str()))
                @if let Some(contact) = &c.contact_id {
                    " · contact "
                    a #contact-id href={ "/inbox" (query_string(&[("contact_id", Some(contact.as_str()))])) } { (contact) }
                }
                @if let Some(locale) = &c.locale { " · " (locale) }
                " · started " (layout::time(c.created_at, &session.zone))
                " · " (c.status.as_str())
            }
        }
        div.transcript-grid {
            section.panel aria-label="Transcript" {
                @if t.messages.is_empty() {
                    p.empty { "No messages yet." }
                } @else {
                    ol.transcript #transcript data-testid="transcript" {
                        @for m in &t.messages { (message(m, &session.zone)) }
                    }
                }
            }
            aside.side {
                section.panel.satisfaction #satisfaction-card data-testid="satisfaction-card" data-satisfaction=(s.value.as_str()) aria-labelledby="sat-title" {
                    h2 #sat-title { "Satisfaction" }
                    p.big { (layout::satisfaction_badge(s.value.as_str())) }
                    @if let Some(reason) = &s.negative_reason {
                        span.has-popover tabindex="0" data-testid="negative-reason" aria-describedby="negative-reason-text" {
                            "Reason "
                            span.popover role="tooltip" #negative-reason-text { (reason) }
                        }
                    }
                }
                @if !t.csat.is_empty() {
                    section.panel aria-labelledby="csat-title" {
                        h2 #csat-title { "CSAT answers" }
                        ul.plain {
                            @for a in &t.csat {
                                li {
                                    span.mono.small { (a.question_code.as_str()) } ": " strong { (a.value) }
                                    " (" (a.score) "/5)"
                                    @if let Some(r) = &a.negative_reason { br; span.muted { "“" (r) "”" } }
                                    br; span.muted.small { (a.user_id) " · " (session.zone.datetime(a.answered_at)) }
                                }
                            }
                        }
                    }
                }
                @if session.may(Role::Admin) {
                    section.panel aria-labelledby="delete-title" {
                        h2 #delete-title { "Delete" }
                        form method="post" action={ "/inbox/" (enc(&c.id)) "/delete" } data-testid="delete-conversation" {
                            (layout::csrf_field(&session))
                            label.check {
                                input type="checkbox" name="confirm" value="yes" required;
                                " Delete this conversation with its messages, feedback, votes, CSAT answers and golden examples."
                            }
                            button.danger type="submit" { "Delete conversation" }
                        }
                    }
                }
                @if !t.votes.is_empty() {
                    section.panel aria-labelledby="votes-title" {
                        h2 #votes-title { "Votes" }
                        ul.plain {
                            @for v in &t.votes {
                                li {
                                    (layout::thumb(v.direction.as_str() == "up")) " vote " (v.direction.as_str()) " (" (v.value) ")"
                                    @if let Some(r) = &v.reason { br; span.muted { "“" (r) "”" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page("Conversation", Section::Inbox, &session, body))
}

/// The form that erases a person, or deletes a conversation: it must be confirmed.
#[derive(Debug, Deserialize)]
pub struct EraseForm {
    csrf: Option<String>,
    contact_id: Option<String>,
    confirm: Option<String>,
}

impl EraseForm {
    fn confirmed(&self) -> Result<(), WebError> {
        match self.confirm.as_deref() {
            Some("yes") => Ok(()),
            _ => Err(WebError::BadRequest("Tick the box to confirm: this cannot be undone.".into())),
        }
    }
}

/// `POST /inbox/erase`: erases the person (admin).
pub async fn erase(
    State(app): State<App>,
    session: SignedIn,
    PageForm(form): PageForm<EraseForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    form.confirmed()?;
    let Some(person) = non_empty(form.contact_id.as_deref()) else {
        return Err(WebError::BadRequest("contact_id: the person to erase is missing".into()));
    };
    app.erase_contact(&session.principal, person).await?;
    Ok(Redirect::to("/inbox?notice=erased").into_response())
}

/// `POST /inbox/{id}/delete`: deletes the conversation (admin).
pub async fn delete(
    State(app): State<App>,
    session: SignedIn,
    Path(id): Path<String>,
    PageForm(form): PageForm<EraseForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    form.confirmed()?;
    let id = ClientId::parse("id", &id).map_err(|_| WebError::NotFound("This conversation does not exist.".into()))?;
    app.delete_conversation(&session.principal, &id).await?;
    Ok(Redirect::to("/inbox?notice=deleted").into_response())
}
