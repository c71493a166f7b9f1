//! Sign-in, sign-out, and the session every other page requires.
//!
//! An admin key signs in once; the browser then holds a signed cookie naming
//! that key (no secret in it). Each request re-reads the key, so a revoked or
//! expired key, or an account that lost API access, ends the session at once.

use axum::{
    Extension,
    extract::{FromRequestParts, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::{PageForm, WebError, layout};
use crate::{
    app::{App, AppError, Session},
    domain::{DomainError, access::KeyRefusal, access::Principal, session},
};

/// How the session cookie is set: `Secure` when the dashboard is served
/// over https. A request extension of the dashboard's routes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cookies {
    pub secure: bool,
}

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "plaudit_session";

/// A signed-in admin, with the CSRF token of the session.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub principal: Principal,
    /// The CSRF token every POST form of this session must carry.
    pub csrf: String,
    session: Session,
}

impl AdminSession {
    /// Refuses with 403 unless `presented` is this session's CSRF token.
    pub fn check_csrf(&self, app: &App, presented: Option<&str>) -> Result<(), WebError> {
        match presented {
            Some(token) if app.check_csrf(&self.session, token) => Ok(()),
            _ => Err(WebError::Forbidden(
                "The form's security token is missing or out of date. Reload the page and try again.".into(),
            )),
        }
    }
}

/// Why a request has no usable session.
pub enum SessionRejection {
    /// Not signed in (or no longer): off to the sign-in page.
    SignIn,
    Error(WebError),
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => {
                let mut response = Redirect::to("/login").into_response();
                response.headers_mut().insert(header::SET_COOKIE, clear_cookie());
                response
            }
            Self::Error(e) => e.into_response(),
        }
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("plaudit_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

fn set_cookie(value: &str, secure: bool) -> Result<HeaderValue, WebError> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        session::SESSION_TTL_SECONDS
    ))
    .map_err(|_| WebError::Internal)
}

impl FromRequestParts<App> for AdminSession {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let cookie = session_cookie(&parts.headers).ok_or(SessionRejection::SignIn)?;
        let session = app.session(cookie).await.map_err(|e| SessionRejection::Error(e.into()))?;
        let session = session.ok_or(SessionRejection::SignIn)?;
        tracing::Span::current().record("key_id", session.principal.key_id.as_str());
        Ok(Self { principal: session.principal.clone(), csrf: session.csrf.clone(), session })
    }
}

fn login_form(error: Option<&str>) -> maud::Markup {
    html! {
        section.login {
            p.brand-big { span.logo aria-hidden="true" { "▲" } "Plaudit" }
            h1 { "Sign in" }
            p.muted { "Use an admin API key of your account. Plaudit keeps only a signed session cookie; the key itself is not stored in the browser." }
            @if let Some(e) = error {
                p.alert role="alert" #login-error data-testid="login-error" { (e) }
            }
            form method="post" action="/login" #login-form data-testid="login-form" {
                label for="key" { "Admin API key" }
                input #key type="password" name="key" autocomplete="current-password" required
                    autofocus placeholder="plk_…" spellcheck="false";
                button.primary type="submit" data-testid="login-submit" { "Sign in" }
            }
            p.muted.small { "No key yet? Create one on the server with " code { "plaudit keys create --role admin" } "." }
        }
    }
}

/// `GET /login`
pub async fn login_page() -> maud::Markup {
    layout::bare("Sign in", login_form(None))
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    key: Option<String>,
}

/// Whether a POST comes from another site: its `Origin` names a host other
/// than ours. Browsers send `Origin` on every cross-site POST, so this stops a
/// page elsewhere from signing a visitor in to an account of its choosing.
fn cross_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    // Behind a proxy that rewrites `Host`, the public name is in `X-Forwarded-Host`.
    let ours = [headers.get(header::HOST), headers.get("x-forwarded-host")]
        .into_iter()
        .flatten()
        .filter_map(|v| v.to_str().ok())
        .any(|host| origin_host.eq_ignore_ascii_case(host.trim()));
    origin == "null" || !ours
}

/// `POST /login`: checks the key and sets the session cookie.
pub async fn login(
    State(app): State<App>,
    Extension(cookies): Extension<Cookies>,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, WebError> {
    if cross_site(&headers) {
        return Err(WebError::Forbidden("Sign in from this site's own sign-in page.".into()));
    }
    let refuse = |status: StatusCode, message: &str| {
        Ok((status, layout::bare("Sign in", login_form(Some(message)))).into_response())
    };
    let Some(secret) = form.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) else {
        return refuse(StatusCode::BAD_REQUEST, "Enter an admin API key.");
    };
    let cookie = match app.sign_in(secret).await {
        Ok(cookie) => cookie,
        Err(AppError::Key(KeyRefusal::Invalid)) => {
            return refuse(StatusCode::UNAUTHORIZED, "This key is not valid: unknown, expired or revoked.");
        }
        Err(AppError::Key(KeyRefusal::NoApiAccess)) => {
            return refuse(StatusCode::FORBIDDEN, "This account's plan does not include API access.");
        }
        Err(AppError::Rule(DomainError::Forbidden { .. })) => {
            return refuse(StatusCode::FORBIDDEN, "The dashboard needs an admin key; this key is not one.");
        }
        Err(e) => return Err(e.into()),
    };
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(header::SET_COOKIE, set_cookie(&cookie, cookies.secure)?);
    Ok(response)
}

/// A form that carries only its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

/// `GET /logout`: signing out changes state, so it takes a form (and its
/// CSRF token); this page offers it.
pub async fn logout_page(session: AdminSession) -> maud::Markup {
    layout::bare(
        "Sign out",
        html! {
            section.login {
                h1 { "Sign out?" }
                form method="post" action="/logout" #logout-confirm {
                    (layout::csrf_field(&session))
                    button.primary type="submit" { "Sign out" }
                }
                p { a href="/" { "Back to the overview" } }
            }
        },
    )
}

/// `POST /logout`: clears the session cookie.
pub async fn logout(
    State(app): State<App>,
    session: AdminSession,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(header::SET_COOKIE, clear_cookie());
    Ok(response)
}
