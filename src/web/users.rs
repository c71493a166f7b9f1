//! The people of an account (admins only): invitations, roles, disabling;
//! and the invitation link where a person sets their password.

use std::sync::Arc;

use axum::{
    Extension,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::{
    PageForm, PageQuery, SignedIn, WebError, enc, layout,
    layout::Section,
    non_empty,
    session::{SignInOptions, cross_site, signed_in},
};
use crate::{
    app::{App, AppError},
    domain::{
        DomainError,
        access::Role,
        ids::Uuid,
        page::PageRequest,
        people::{NewUser, User, invitation_link},
    },
    store::UserChange,
};

/// The address people reach Plaudit at, for the links the pages show.
#[derive(Debug, Clone)]
pub struct PublicUrl(pub Arc<str>);

/// The page's query: a cursor, and a notice after a change.
#[derive(Debug, Default, Deserialize)]
pub struct UsersQuery {
    cursor: Option<String>,
    notice: Option<String>,
}

const NOTICES: &[(&str, &str)] = &[
    ("role_changed", "The role is changed; their sessions have ended."),
    ("disabled", "The user is disabled; their sessions have ended."),
    ("enabled", "The user may sign in again."),
    ("signed_out", "Every session of the user has ended."),
];

fn status(user: &User) -> maud::Markup {
    html! {
        @if !user.active() { span.pill.bad { "disabled" } }
        @else if !user.has_password { span.pill.muted { "invited" } }
        @else { span.pill.good { "active" } }
    }
}

async fn render(
    app: &App,
    session: &SignedIn,
    query: &UsersQuery,
    invited: Option<(&User, &str)>,
    error: Option<&str>,
) -> Result<maud::Markup, WebError> {
    let page = PageRequest::parse(Some(100), non_empty(query.cursor.as_deref()))?;
    let users = app.list_users(&session.principal.scope(), page).await?;
    let me = session.user.as_ref().map(|u| u.id.clone());
    let body = html! {
        h1 { "Users" }
        p.muted { "Viewers read the overview, inbox, transcripts and knowledge gaps. Reviewers also review feedback, answer gaps and keep golden examples. Admins also change settings, keys and users, and read the audit log." }
        (layout::notice(query.notice.as_deref(), NOTICES))
        @if let Some((user, link)) = invited {
            div.secret role="status" data-testid="invitation" {
                p { "Send this link to " strong { (user.email) } ". It works once, for 7 days, and is shown only now." }
                input.mono type="text" readonly value=(link) aria-label="Invitation link" data-testid="invitation-link";
            }
        }
        @if let Some(e) = error { p.alert role="alert" data-testid="users-error" { (e) } }
        section.card {
            h2 { "Invite someone" }
            form method="post" action="/users" #invite-form data-testid="invite-form" {
                (layout::csrf_field(session))
                div.field { label for="invite-email" { "Email" } input #invite-email type="email" name="email" required; }
                div.field { label for="invite-name" { "Name" } input #invite-name type="text" name="name" maxlength="200"; }
                div.field {
                    label for="invite-role" { "Role" }
                    select #invite-role name="role" {
                        @for role in Role::USER_ROLES { option value=(role.as_str()) { (role.as_str()) } }
                    }
                }
                div.field.actions { button.primary type="submit" data-testid="invite-submit" { "Invite" } }
            }
        }
        div.table-wrap {
            table.list #users-table data-testid="users-table" {
                caption.visually-hidden { "Users" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Role" } th scope="col" { "Status" } th scope="col" { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for u in &users.items {
                        tr data-testid="user-row" data-user-id=(u.id) data-email=(u.email) {
                            td data-label="Name" { (u.name) @if me.as_ref() == Some(&u.id) { " " span.pill.muted { "you" } } }
                            td data-label="Email" { (u.email) }
                            td data-label="Role" { (u.role.as_str()) }
                            td data-label="Status" { (status(u)) }
                            td {
                                @if me.as_ref() != Some(&u.id) {
                                    form.inline method="post" action={ "/users/" (u.id) } {
                                        (layout::csrf_field(session))
                                        input type="hidden" name="action" value="role";
                                        label.visually-hidden for={ "role-" (u.id) } { "Role of " (u.name) }
                                        select id={ "role-" (u.id) } name="role" data-testid="user-role" {
                                            @for role in Role::USER_ROLES { option value=(role.as_str()) selected[role == u.role] { (role.as_str()) } }
                                        }
                                        button type="submit" data-testid="user-set-role" { "Change role" }
                                    }
                                    form.inline method="post" action={ "/users/" (u.id) } {
                                        (layout::csrf_field(session))
                                        @if u.active() {
                                            input type="hidden" name="action" value="disable";
                                            button.danger type="submit" data-testid="user-disable" aria-label={ "Disable " (u.name) } { "Disable" }
                                        } @else {
                                            input type="hidden" name="action" value="enable";
                                            button type="submit" data-testid="user-enable" aria-label={ "Enable " (u.name) } { "Enable" }
                                        }
                                    }
                                    form.inline method="post" action={ "/users/" (u.id) } {
                                        (layout::csrf_field(session))
                                        input type="hidden" name="action" value="sign_out";
                                        button type="submit" data-testid="user-sign-out" { "Sign out everywhere" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(cursor) = &users.next_cursor {
            nav.pager aria-label="Pages" { a.button href={ "/users?cursor=" (enc(cursor)) } rel="next" { "Next page →" } }
        }
    };
    Ok(layout::page("Users", Section::Users, session, body))
}

/// `GET /users`
pub async fn page(
    State(app): State<App>,
    session: SignedIn,
    PageQuery(q): PageQuery<UsersQuery>,
) -> Result<maud::Markup, WebError> {
    render(&app, &session, &q, None, None).await
}

/// The invitation form.
#[derive(Debug, Deserialize)]
pub struct InviteForm {
    csrf: Option<String>,
    email: Option<String>,
    name: Option<String>,
    role: Option<String>,
}

/// `POST /users`: invites a person and shows their link, this once.
pub async fn invite(
    State(app): State<App>,
    Extension(PublicUrl(public_url)): Extension<PublicUrl>,
    session: SignedIn,
    PageForm(form): PageForm<InviteForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let account = session.principal.account_id.clone();
    let new = NewUser::parse(
        account,
        form.email.as_deref().unwrap_or_default(),
        form.name.as_deref(),
        form.role.as_deref().unwrap_or_default(),
    );
    let refusal = match new {
        Ok(new) => match app.invite_user(new, &session.principal.actor).await {
            Ok(invited) => {
                let link = invitation_link(&public_url, &invited.token);
                let page = render(&app, &session, &UsersQuery::default(), Some((&invited.user, &link)), None).await?;
                return Ok((StatusCode::CREATED, page).into_response());
            }
            Err(AppError::Rule(DomainError::Conflict { message, .. })) => message,
            Err(e) => return Err(e.into()),
        },
        Err(DomainError::Invalid { field, message, .. }) => format!("{field}: {message}"),
        Err(e) => return Err(e.into()),
    };
    let page = render(&app, &session, &UsersQuery::default(), None, Some(&refusal)).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
}

/// A change to a user.
#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    csrf: Option<String>,
    action: Option<String>,
    role: Option<String>,
}

/// `POST /users/{id}`: changes a role, disables, enables, or signs out everywhere.
pub async fn change(
    State(app): State<App>,
    session: SignedIn,
    Path(id): Path<String>,
    PageForm(form): PageForm<ChangeForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let id = Uuid::parse("id", &id).map_err(|_| WebError::NotFound("This user does not exist.".into()))?;
    let (change, notice) = match form.action.as_deref() {
        Some("role") => {
            let role = Role::parse_user("role", form.role.as_deref().unwrap_or_default())?;
            (UserChange::Role(role), "role_changed")
        }
        Some("disable") => (UserChange::Disabled(true), "disabled"),
        Some("enable") => (UserChange::Disabled(false), "enabled"),
        Some("sign_out") => (UserChange::SignOutEverywhere, "signed_out"),
        _ => return Err(WebError::BadRequest("action: must be one of role, disable, enable, sign_out".into())),
    };
    app.change_user(&session.principal, &id, change).await?;
    Ok(Redirect::to(&format!("/users?notice={notice}")).into_response())
}

fn invitation_form(token: &str, email: &str, error: Option<&str>) -> maud::Markup {
    html! {
        section.login {
            p.brand-big { span.logo aria-hidden="true" { "▲" } "Plaudit" }
            h1 { "Choose a password" }
            p { "for " strong { (email) } }
            @if let Some(e) = error { p.alert role="alert" data-testid="invitation-error" { (e) } }
            form method="post" action={ "/invite/" (enc(token)) } #invitation-form {
                label for="password" { "Password (at least 12 characters)" }
                input #password type="password" name="password" autocomplete="new-password" minlength="12" required autofocus;
                label for="confirm" { "The same password again" }
                input #confirm type="password" name="confirm" autocomplete="new-password" minlength="12" required;
                button.primary type="submit" data-testid="invitation-submit" { "Set password and sign in" }
            }
        }
    }
}

fn unusable(message: &str) -> Response {
    let body = html! {
        section.login {
            h1 { "This link does not work" }
            p.alert role="alert" data-testid="invitation-error" { (message) }
            p { a href="/login" { "Sign in" } }
        }
    };
    (StatusCode::GONE, layout::bare("Invitation", body)).into_response()
}

/// `GET /invite/{token}`: the form to set a password, if the link still works.
pub async fn invitation_page(State(app): State<App>, Path(token): Path<String>) -> Result<Response, WebError> {
    match app.invitation(&token).await? {
        Ok(invitation) => {
            Ok(layout::bare("Choose a password", invitation_form(&token, &invitation.user.email, None)).into_response())
        }
        Err(refusal) => Ok(unusable(refusal.message())),
    }
}

/// The password form of an invitation.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    password: Option<String>,
    confirm: Option<String>,
}

/// `POST /invite/{token}`: sets the password, uses the link up, signs in.
pub async fn accept_invitation(
    State(app): State<App>,
    Extension(options): Extension<SignInOptions>,
    headers: HeaderMap,
    Path(token): Path<String>,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, WebError> {
    if cross_site(&headers) {
        return Err(WebError::Forbidden("Set your password from this site's own page.".into()));
    }
    let invitation = match app.invitation(&token).await? {
        Ok(invitation) => invitation,
        Err(refusal) => return Ok(unusable(refusal.message())),
    };
    let email = invitation.user.email;
    let again = |message: &str| {
        Ok((StatusCode::BAD_REQUEST, layout::bare("Choose a password", invitation_form(&token, &email, Some(message))))
            .into_response())
    };
    let password = form.password.unwrap_or_default();
    if form.confirm.as_deref() != Some(password.as_str()) {
        return again("The two passwords differ.");
    }
    match app.accept_invitation(&token, &password).await {
        Ok(cookie) => signed_in(&cookie, options),
        Err(AppError::Rule(DomainError::Invalid { message, .. })) => again(&format!("The password {message}.")),
        Err(AppError::Rule(DomainError::Conflict { message, .. })) => Ok(unusable(&message)),
        Err(e) => Err(e.into()),
    }
}
