//! Settings of a bot (rating configuration, prompt copy, feedback review and
//! votes), the account's API keys, and its webhooks with their health (their
//! pages are in `webhooks.rs`). A refused change re-renders the page with the
//! rule's own message next to the form.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    PageForm, PageQuery, SignedIn, WebError, bots,
    layout::{self, Section},
    non_empty, query_string,
};
use crate::{
    app::{App, AppError},
    domain::{
        DomainError, Timestamp,
        access::{ApiKey, NewKey, Role},
        account::bot_name,
        csat::{PromptCopy, QuestionCode, RatingConfigPatch},
        feedback::BotSettingsPatch,
        ids::{Uuid, locale},
        page::{MAX_LIMIT, PageRequest},
    },
};

/// Which bot and locale the page shows.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsQuery {
    bot_id: Option<String>,
    locale: Option<String>,
    notice: Option<String>,
}

const NOTICES: [(&str, &str); 6] = [
    ("bot_created", "The bot was created."),
    ("rating_saved", "Rating configuration saved."),
    ("feedback_saved", "Review and vote settings saved."),
    ("copy_saved", "Prompt copy saved."),
    ("key_revoked", "The key was revoked. It stops working at once."),
    ("nothing", ""),
];

const CODES: [(QuestionCode, &str, &str); 3] = [
    (QuestionCode::HelpfulThumbs, "code_helpful_thumbs", "Was this helpful? (thumbs)"),
    (QuestionCode::ExperienceThumbs, "code_experience_thumbs", "How was your experience? (thumbs)"),
    (QuestionCode::SatisfactionStars, "code_satisfaction_stars", "Satisfaction (1–5 stars)"),
];

/// Where a form's refusal is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Bot,
    Rating,
    Feedback,
    Copy,
    Keys,
}

/// What the page shows besides the stored state.
#[derive(Default)]
struct Extras {
    notice: Option<String>,
    error: Option<(Form, String)>,
    new_key: Option<(ApiKey, String)>,
}

fn error_for(extras: &Extras, form: Form) -> Markup {
    html! {
        @if let Some((f, message)) = &extras.error && *f == form {
            p.alert role="alert" data-testid="form-error" { (message) }
        }
    }
}

/// A refusal by a rule is shown next to its form; anything else is an error page.
fn refusal(e: AppError) -> Result<String, WebError> {
    match e {
        AppError::Rule(DomainError::Invalid { field, message, .. }) => Ok(format!("{field}: {message}")),
        other => Err(other.into()),
    }
}

fn checkbox(name: &str, label: &str, checked: bool, hint: Option<&str>) -> Markup {
    html! {
        div.check {
            input type="checkbox" id=(name) name=(name) value="on" checked[checked];
            label for=(name) { (label) @if let Some(h) = hint { span.muted.small.block { (h) } } }
        }
    }
}

async fn render(
    app: &App,
    session: &SignedIn,
    bot: Option<&str>,
    locale_raw: Option<&str>,
    extras: Extras,
) -> Result<Markup, WebError> {
    let scope = session.principal.scope();
    let bots = bots(app, session).await?;
    let bot = match bot {
        Some(b) => Some(
            bots.iter()
                .find(|x| x.id.as_str() == b)
                .ok_or_else(|| WebError::NotFound("This bot does not exist.".into()))?,
        ),
        None => bots.first(),
    };
    let loc = match non_empty(locale_raw) {
        Some(l) => locale("locale", l)?,
        None => "en".to_owned(),
    };
    let keys = app.list_keys(&scope, PageRequest::parse(Some(MAX_LIMIT), None)?).await?.items;
    let webhooks = super::webhooks::panel(app, session, &bots).await?;
    let mut bot_state = None;
    if let Some(b) = bot {
        let rating = app.rating_config(&scope, &b.id).await?;
        let settings = app.bot_settings(&scope, &b.id).await?;
        let copy = app.prompt_copy(&scope, &b.id, &loc).await?;
        let locales = app.prompt_copy_locales(&scope, &b.id).await?;
        bot_state = Some((b, rating, settings, copy, locales));
    }
    let bot_id = bot.map(|b| b.id.as_str());
    let notice = extras.notice.as_deref();
    let body = html! {
        div.page-head { h1 { "Settings" } }
        (layout::notice(notice, &NOTICES))
        @if let Some((key, secret)) = &extras.new_key {
            section.panel.secret role="status" #new-key data-testid="new-key" {
                h2 { "New key: " (key.name) }
                p { "Copy the secret now. Plaudit keeps only its hash and will never show it again." }
                p { output.mono.secret-value #new-key-secret data-testid="new-key-secret" { (secret) } }
            }
        }
        div.settings-grid {
            section.panel aria-labelledby="bot-title" {
                h2 #bot-title { "Bot" }
                @if bots.is_empty() {
                    p.muted { "No bots yet. Create the first one." }
                } @else {
                    form.inline method="get" action="/settings" #bot-picker data-testid="bot-picker" {
                        label for="bot_id" { "Settings of" }
                        (super::bot_select(&bots, bot_id, true))
                        button type="submit" { "Show" }
                    }
                }
                @if session.principal.bot_id.is_none() {
                    form.inline method="post" action="/settings/bots" #create-bot-form data-testid="create-bot-form" {
                        (layout::csrf_field(session))
                        label for="new-bot-name" { "New bot" }
                        input #new-bot-name type="text" name="name" required maxlength="200" placeholder="Support assistant";
                        button type="submit" { "Create bot" }
                    }
                    (error_for(&extras, Form::Bot))
                }
            }
            @if let Some((b, rating, settings, copy, locales)) = &bot_state {
                section.panel aria-labelledby="rating-title" {
                    h2 #rating-title { "Conversation rating" }
                    p.muted.small { "The end-of-conversation prompt shows exactly when rating is active: both boxes must agree." }
                    (error_for(&extras, Form::Rating))
                    form method="post" action="/settings/rating" #rating-form data-testid="rating-form" {
                        (layout::csrf_field(session))
                        input type="hidden" name="bot_id" value=(b.id.as_str());
                        (checkbox("conv_rating_active", "Rating active", rating.conv_rating_active, None))
                        (checkbox("conv_rating_popup_active", "Show the prompt (popup)", rating.conv_rating_popup_active, None))
                        fieldset {
                            legend { "Questions asked" }
                            @for (code, name, label) in CODES {
                                (checkbox(name, label, rating.conv_rating_question_codes.contains(&code), Some(code.as_str())))
                            }
                        }
                        button.primary type="submit" data-testid="rating-save" { "Save rating" }
                    }
                }
                section.panel aria-labelledby="feedback-title" {
                    h2 #feedback-title { "Review and votes" }
                    (error_for(&extras, Form::Feedback))
                    form method="post" action="/settings/feedback" #feedback-settings-form data-testid="feedback-settings-form" {
                        (layout::csrf_field(session))
                        input type="hidden" name="bot_id" value=(b.id.as_str());
                        fieldset {
                            legend { "Auto-approval" }
                            (checkbox("auto_approve_positive", "Approve thumbs up automatically", settings.auto_approve_positive, Some("They become golden examples at once.")))
                            (checkbox("auto_approve_negative", "Approve thumbs down automatically", settings.auto_approve_negative, None))
                        }
                        fieldset {
                            legend { "Required reason" }
                            (checkbox("require_reason_positive", "A thumbs up needs a reason", settings.require_reason_positive, None))
                            (checkbox("require_reason_negative", "A thumbs down needs a reason", settings.require_reason_negative, None))
                        }
                        label for="vote_window_seconds" { "Vote window (seconds)" }
                        input #vote_window_seconds type="number" name="vote_window_seconds" min="1" step="1" required
                            value=(settings.vote_window_seconds) aria-describedby="vote-window-hint";
                        p.muted.small #vote-window-hint { "One vote per voter per conversation within this window. 86400 is a day." }
                        label for="retention_days" { "Keep conversations (days)" }
                        input #retention_days type="number" name="retention_days" min="1" max="36500" step="1"
                            value=[settings.retention_days] aria-describedby="retention-hint";
                        p.muted.small #retention-hint { "Conversations are erased this many days after their last activity; past figures stay. Empty: keep them." }
                        button.primary type="submit" data-testid="feedback-settings-save" { "Save" }
                    }
                }
                section.panel.wide aria-labelledby="prompt-copy-title" {
                    h2 #prompt-copy-title { "Prompt copy" }
                    p.locales #copy-locales {
                        span.muted.small { "Saved locales: " }
                        @if locales.is_empty() { span.muted.small { "none yet (the built-in English copy is used)" } }
                        @for l in locales {
                            @let href = format!("/settings{}", query_string(&[("bot_id", Some(b.id.as_str())), ("locale", Some(l.as_str()))]));
                            @if l.eq_ignore_ascii_case(&loc) {
                                a.pill.neutral href=(href) aria-current="true" data-testid="copy-locale" { (l) }
                            } @else {
                                a.pill href=(href) data-testid="copy-locale" { (l) }
                            }
                            " "
                        }
                    }
                    form.inline method="get" action="/settings" #copy-locale-form data-testid="copy-locale-form" {
                        input type="hidden" name="bot_id" value=(b.id.as_str());
                        label for="locale" { "Locale" }
                        input #locale type="text" name="locale" value=(loc) list="common-locales" size="10" required;
                        datalist #common-locales {
                            @for l in ["en", "fr", "fr-CA", "de", "es", "it", "nl", "pt-BR", "ja", "zh-Hans"] { option value=(l) {} }
                        }
                        button type="submit" { "Open or add" }
                    }
                    @if copy.resolved_locale != loc.to_ascii_lowercase() {
                        p.muted.small data-testid="copy-fallback" {
                            "No copy saved for " strong { (loc) } " yet: showing "
                            @if copy.resolved_locale == "default" { "the built-in English copy" } @else { "the copy of " (copy.resolved_locale) }
                            ". Saving stores it for " (loc) "."
                        }
                    }
                    (error_for(&extras, Form::Copy))
                    form method="post" action="/settings/copy" #copy-form data-testid="copy-form" {
                        (layout::csrf_field(session))
                        input type="hidden" name="bot_id" value=(b.id.as_str());
                        input type="hidden" name="locale" value=(loc);
                        @for (name, label, value) in [
                            ("title", "Title", &copy.copy.title),
                            ("negative_reason", "Follow-up question after a thumbs down", &copy.copy.negative_reason),
                            ("negative_placeholder", "Placeholder of the text box", &copy.copy.negative_placeholder),
                            ("negative_button", "Submit button", &copy.copy.negative_button),
                            ("after_submission", "Thank-you message", &copy.copy.after_submission),
                        ] {
                            label for={ "copy-" (name) } { (label) }
                            input id={ "copy-" (name) } type="text" name=(name) value=(value) required maxlength="500";
                        }
                        button.primary type="submit" data-testid="copy-save" { "Save copy for " (loc) }
                    }
                }
            }
            section.panel.wide aria-labelledby="keys-title" #keys {
                h2 #keys-title { "API keys" }
                (error_for(&extras, Form::Keys))
                form.key-create method="post" action={ "/settings/keys" (query_string(&[("bot_id", bot_id)])) } #create-key-form data-testid="create-key-form" {
                    (layout::csrf_field(session))
                    div.field { label for="key-name" { "Name" } input #key-name type="text" name="name" maxlength="200" placeholder="chat backend (prod)"; }
                    div.field {
                        label for="key-role" { "Role" }
                        select #key-role name="role" {
                            option value="server" { "server: the chat backend" }
                            option value="public" { "public: the browser widget" }
                            option value="admin" { "admin: everything" }
                        }
                    }
                    div.field {
                        label for="key-expires" { "Expires after (days)" }
                        input #key-expires type="number" name="expires_in_days" min="1" step="1" placeholder="never";
                    }
                    @if let Some(b) = bot {
                        (checkbox("bind_bot", &format!("Only for {}", b.name), false, None))
                        input type="hidden" name="bot_id" value=(b.id.as_str());
                    }
                    div.field.actions { button.primary type="submit" data-testid="create-key" { "Create key" } }
                }
                div.table-wrap {
                    table.list #keys-table data-testid="keys-table" {
                        caption.visually-hidden { "API keys" }
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Key" } th scope="col" { "Bot" } th scope="col" { "Created" } th scope="col" { "Status" } th scope="col" { span.visually-hidden { "Actions" } } } }
                        tbody {
                            @for k in &keys {
                                tr data-testid="key-row" data-key-id=(k.id) {
                                    td data-label="Name" { (k.name) @if k.id.to_string() == session.principal.actor.id { " " span.pill.muted { "this session" } } }
                                    td data-label="Role" { (k.role.as_str()) }
                                    td data-label="Key" { span.mono { (k.prefix) "…" } }
                                    td data-label="Bot" { (k.bot_id.as_ref().map_or("all", |id| super::bot_name(&bots, id.as_str()))) }
                                    td data-label="Created" { (session.zone.datetime(k.created_at)) }
                                    td data-label="Status" {
                                        @if k.revoked_at.is_some() { span.pill.bad data-testid="key-revoked" { "revoked" } }
                                        @else if k.expires_at.is_some_and(|e| e <= Timestamp::now()) { span.pill.muted { "expired" } }
                                        @else { span.pill.good { "active" } }
                                    }
                                    td {
                                        @if k.revoked_at.is_none() {
                                            form method="post" action={ "/settings/keys/" (k.id) "/revoke" (query_string(&[("bot_id", bot_id)])) } {
                                                (layout::csrf_field(session))
                                                button.danger type="submit" data-testid="revoke-key" aria-label={ "Revoke " (k.name) } { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (webhooks)
        }
    };
    Ok(layout::page("Settings", Section::Settings, session, body))
}

fn back(bot: Option<&str>, locale: Option<&str>, notice: &str) -> Response {
    let q = query_string(&[("bot_id", bot), ("locale", locale), ("notice", Some(notice))]);
    Redirect::to(&format!("/settings{q}")).into_response()
}

async fn refused(
    app: &App,
    session: &SignedIn,
    bot: Option<&str>,
    locale: Option<&str>,
    form: Form,
    message: String,
) -> Result<Response, WebError> {
    let extras = Extras { error: Some((form, message)), ..Extras::default() };
    Ok((StatusCode::BAD_REQUEST, render(app, session, bot, locale, extras).await?).into_response())
}

fn bot_id(raw: Option<&str>) -> Result<Uuid, WebError> {
    let raw = non_empty(raw).ok_or_else(|| WebError::BadRequest("bot_id: is required".into()))?;
    Uuid::parse("bot_id", raw).map_err(|_| WebError::NotFound("This bot does not exist.".into()))
}

/// `GET /settings`
pub async fn page(
    State(app): State<App>,
    session: SignedIn,
    PageQuery(q): PageQuery<SettingsQuery>,
) -> Result<Markup, WebError> {
    let bot = non_empty(q.bot_id.as_deref());
    if let Some(b) = bot {
        Uuid::parse("bot_id", b)?;
    }
    let extras = Extras { notice: q.notice.clone(), ..Extras::default() };
    render(&app, &session, bot, q.locale.as_deref(), extras).await
}

/// A new bot.
#[derive(Debug, Deserialize)]
pub struct BotForm {
    csrf: Option<String>,
    name: Option<String>,
}

/// `POST /settings/bots`
pub async fn create_bot(
    State(app): State<App>,
    session: SignedIn,
    PageForm(form): PageForm<BotForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let name = match bot_name(form.name.as_deref().unwrap_or_default()) {
        Ok(n) => n,
        Err(e) => return refused(&app, &session, None, None, Form::Bot, e.to_string()).await,
    };
    let bot = app.create_bot(&session.principal, name).await?;
    Ok(back(Some(bot.id.as_str()), None, "bot_created"))
}

/// The rating form. Checkboxes are sent only when ticked.
#[derive(Debug, Deserialize)]
pub struct RatingForm {
    csrf: Option<String>,
    bot_id: Option<String>,
    conv_rating_active: Option<String>,
    conv_rating_popup_active: Option<String>,
    code_helpful_thumbs: Option<String>,
    code_experience_thumbs: Option<String>,
    code_satisfaction_stars: Option<String>,
}

/// `POST /settings/rating`
pub async fn save_rating(
    State(app): State<App>,
    session: SignedIn,
    PageForm(form): PageForm<RatingForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let bot = bot_id(form.bot_id.as_deref())?;
    let ticked = [&form.code_helpful_thumbs, &form.code_experience_thumbs, &form.code_satisfaction_stars];
    let codes = CODES.iter().zip(ticked).filter(|(_, t)| t.is_some()).map(|((c, _, _), _)| c.as_str().to_owned());
    let patch = RatingConfigPatch {
        conv_rating_active: Some(form.conv_rating_active.is_some()),
        conv_rating_popup_active: Some(form.conv_rating_popup_active.is_some()),
        conv_rating_question_codes: Some(codes.collect()),
    };
    match app.update_rating_config(&session.principal, &bot, patch).await {
        Ok(_) => Ok(back(Some(bot.as_str()), None, "rating_saved")),
        Err(e) => {
            let message = refusal(e)?;
            refused(&app, &session, Some(bot.as_str()), None, Form::Rating, message).await
        }
    }
}

/// The review and vote settings form.
#[derive(Debug, Deserialize)]
pub struct FeedbackSettingsForm {
    csrf: Option<String>,
    bot_id: Option<String>,
    auto_approve_positive: Option<String>,
    auto_approve_negative: Option<String>,
    require_reason_positive: Option<String>,
    require_reason_negative: Option<String>,
    vote_window_seconds: Option<String>,
    retention_days: Option<String>,
}

/// `POST /settings/feedback`
pub async fn save_feedback(
    State(app): State<App>,
    session: SignedIn,
    PageForm(form): PageForm<FeedbackSettingsForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let bot = bot_id(form.bot_id.as_deref())?;
    let window = match non_empty(form.vote_window_seconds.as_deref()).map(str::parse::<i64>) {
        Some(Ok(w)) => Some(w),
        None => None,
        Some(Err(_)) => {
            let message = "vote_window_seconds: must be a whole number of seconds".to_owned();
            return refused(&app, &session, Some(bot.as_str()), None, Form::Feedback, message).await;
        }
    };
    let retention = match non_empty(form.retention_days.as_deref()).map(str::parse::<i64>) {
        Some(Ok(days)) => Some(days),
        None => None,
        Some(Err(_)) => {
            let message = "retention_days: must be a whole number of days".to_owned();
            return refused(&app, &session, Some(bot.as_str()), None, Form::Feedback, message).await;
        }
    };
    let patch = BotSettingsPatch {
        auto_approve_positive: Some(form.auto_approve_positive.is_some()),
        auto_approve_negative: Some(form.auto_approve_negative.is_some()),
        require_reason_positive: Some(form.require_reason_positive.is_some()),
        require_reason_negative: Some(form.require_reason_negative.is_some()),
        vote_window_seconds: window,
        retention_days: Some(retention),
    };
    match app.update_bot_settings(&session.principal, &bot, patch).await {
        Ok(_) => Ok(back(Some(bot.as_str()), None, "feedback_saved")),
        Err(e) => {
            let message = refusal(e)?;
            refused(&app, &session, Some(bot.as_str()), None, Form::Feedback, message).await
        }
    }
}

/// The prompt copy form.
#[derive(Debug, Deserialize)]
pub struct CopyForm {
    csrf: Option<String>,
    bot_id: Option<String>,
    locale: Option<String>,
    title: Option<String>,
    negative_reason: Option<String>,
    negative_placeholder: Option<String>,
    negative_button: Option<String>,
    after_submission: Option<String>,
}

/// `POST /settings/copy`
pub async fn save_copy(
    State(app): State<App>,
    session: SignedIn,
    PageForm(form): PageForm<CopyForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let bot = bot_id(form.bot_id.as_deref())?;
    let loc = locale("locale", form.locale.as_deref().unwrap_or_default().trim())?;
    let copy = PromptCopy {
        title: form.title.unwrap_or_default(),
        negative_reason: form.negative_reason.unwrap_or_default(),
        negative_placeholder: form.negative_placeholder.unwrap_or_default(),
        negative_button: form.negative_button.unwrap_or_default(),
        after_submission: form.after_submission.unwrap_or_default(),
    };
    let saved = app.put_prompt_copy(&session.principal, &bot, &loc, copy).await;
    match saved {
        Ok(_) => Ok(back(Some(bot.as_str()), Some(&loc), "copy_saved")),
        Err(e) => {
            let message = refusal(e)?;
            refused(&app, &session, Some(bot.as_str()), Some(&loc), Form::Copy, message).await
        }
    }
}

/// The new-key form.
#[derive(Debug, Deserialize)]
pub struct KeyForm {
    csrf: Option<String>,
    name: Option<String>,
    role: Option<String>,
    bind_bot: Option<String>,
    bot_id: Option<String>,
    expires_in_days: Option<String>,
}

/// `POST /settings/keys`: creates a key and shows its secret, this once.
pub async fn create_key(
    State(app): State<App>,
    session: SignedIn,
    PageForm(form): PageForm<KeyForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let page_bot = non_empty(form.bot_id.as_deref());
    let p = &session.principal;
    let now = Timestamp::now();
    let parsed = (|| {
        let role = Role::parse("role", non_empty(form.role.as_deref()).unwrap_or_default())?;
        let days = non_empty(form.expires_in_days.as_deref())
            .map(|d| d.parse::<i64>().map_err(|_| DomainError::invalid("expires_in_days", "must be a whole number")))
            .transpose()?;
        let bound = if form.bind_bot.is_some() { page_bot } else { None };
        NewKey::parse(
            p.account_id.clone(),
            non_empty(form.name.as_deref()),
            role,
            bound,
            days.map(|d| d.saturating_mul(86_400)),
            now,
        )?
        .made_by(p)
    })();
    let new = match parsed {
        Ok(new) => new,
        Err(DomainError::Invalid { field, message, .. }) => {
            return refused(&app, &session, page_bot, None, Form::Keys, format!("{field}: {message}")).await;
        }
        Err(e) => return Err(e.into()),
    };
    let (key, secret) = app.mint_key(new, &session.principal.actor).await?;
    let extras = Extras { new_key: Some((key, secret.expose().to_owned())), ..Extras::default() };
    let page = render(&app, &session, page_bot, None, extras).await?;
    Ok((StatusCode::CREATED, page).into_response())
}

/// The page to go back to after a revocation.
#[derive(Debug, Default, Deserialize)]
pub struct RevokeQuery {
    bot_id: Option<String>,
}

/// `POST /settings/keys/{id}/revoke`
pub async fn revoke_key(
    State(app): State<App>,
    session: SignedIn,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<RevokeQuery>,
    PageForm(form): PageForm<super::session::CsrfForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let id = Uuid::parse("id", &id).map_err(|_| WebError::NotFound("This key does not exist.".into()))?;
    app.revoke_key(&session.principal, &id).await?;
    let bot = non_empty(q.bot_id.as_deref()).filter(|b| Uuid::parse("bot_id", b).is_ok());
    if id.to_string() == session.principal.actor.id {
        // Revoking one's own key ends this session: the next page asks to sign in.
        return Ok(Redirect::to("/login").into_response());
    }
    Ok(back(bot, None, "key_revoked"))
}
