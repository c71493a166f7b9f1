//! Sign-in, sign-out, and the session (and role) every other page requires.
//!
//! A person signs in with their email and password (or through single
//! sign-on, see `sso.rs`); an admin key may sign in too (bootstrap and
//! break-glass). The browser then holds a random session cookie whose row
//! the server reads on every request: signing out, disabling a user,
//! changing their role or revoking the key ends it at once. Each route says
//! the role it needs with a [`Needed`] extension (see `mod.rs`); a route
//! that says nothing needs an admin.

use axum::{
    Extension,
    extract::{FromRequestParts, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::{PageForm, PageQuery, WebError, layout};
use crate::{
    app::{App, AppError, Session},
    domain::{
        DomainError,
        access::{KeyRefusal, Principal, Role},
        people::{SignInRefusal, User},
        session,
    },
    http::ClientAddress,
};

/// How sign-in works on this instance. A request extension of the dashboard's routes.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignInOptions {
    /// Whether cookies are `Secure` (the dashboard is served over https).
    pub secure_cookies: bool,
    /// Whether single sign-on is configured (the sign-in page offers it).
    pub single_sign_on: bool,
}

/// The role a route needs, set on the route with `route_layer(Extension(..))`.
#[derive(Debug, Clone, Copy)]
pub struct Needed(pub Role);

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "plaudit_session";
/// Name of the cookie that remembers the dashboard's time zone.
pub const ZONE_COOKIE: &str = "plaudit_tz";

/// A signed-in person or admin key whose role allows the route, with the
/// CSRF token of the session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub principal: Principal,
    /// The person, for a person's session (`None` for an admin key).
    pub user: Option<User>,
    /// The CSRF token every POST form of this session must carry.
    pub csrf: String,
    /// The time zone the person picked for the dashboard (UTC until then).
    pub zone: super::zone::Zone,
    session: Session,
}

impl SignedIn {
    /// Refuses with 403 unless `presented` is this session's CSRF token.
    pub fn check_csrf(&self, app: &App, presented: Option<&str>) -> Result<(), WebError> {
        match presented {
            Some(token) if app.check_csrf(&self.session, token) => Ok(()),
            _ => Err(WebError::Forbidden(
                "The form's security token is missing or out of date. Reload the page and try again.".into(),
            )),
        }
    }

    /// Whether the role allows what `needed` may do (to show or hide an action).
    pub fn may(&self, needed: Role) -> bool {
        self.principal.role.grants(needed)
    }

    /// Who is signed in, as the page header shows it.
    pub fn who(&self) -> String {
        match &self.user {
            Some(user) => format!("{} ({})", user.name, user.role.as_str()),
            None => format!("{} (admin key)", self.principal.actor.name),
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

pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("plaudit_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The `Set-Cookie` value of a new session.
pub(super) fn set_cookie(value: &str, secure: bool) -> Result<HeaderValue, WebError> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        session::SESSION_TTL_SECONDS
    ))
    .map_err(|_| WebError::Internal)
}

/// Off to the overview with a new session's cookie.
pub(super) fn signed_in(cookie: &str, options: SignInOptions) -> Result<Response, WebError> {
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(header::SET_COOKIE, set_cookie(cookie, options.secure_cookies)?);
    Ok(response)
}

impl FromRequestParts<App> for SignedIn {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let cookie = cookie(&parts.headers, COOKIE_NAME).ok_or(SessionRejection::SignIn)?;
        let session = app.session(cookie).await.map_err(|e| SessionRejection::Error(e.into()))?;
        let session = session.ok_or(SessionRejection::SignIn)?;
        tracing::Span::current().record("key_id", session.principal.actor.reference().as_str());
        let needed = parts.extensions.get::<Needed>().map_or(Role::Admin, |n| n.0);
        if !session.principal.role.grants(needed) {
            return Err(SessionRejection::Error(WebError::Forbidden(format!(
                "This page needs the {} role; yours is {}. Ask an admin of your account.",
                needed.as_str(),
                session.principal.role.as_str()
            ))));
        }
        Ok(Self {
            principal: session.principal.clone(),
            user: session.user.clone(),
            csrf: session.csrf.clone(),
            zone: super::zone::Zone::remembered(self::cookie(&parts.headers, ZONE_COOKIE)),
            session,
        })
    }
}

fn login_form(error: Option<&str>, options: SignInOptions) -> maud::Markup {
    html! {
        section.login {
            p.brand-big { span.logo aria-hidden="true" { "▲" } "Plaudit" }
            h1 { "Sign in" }
            @if let Some(e) = error {
                p.alert role="alert" #login-error data-testid="login-error" { (e) }
            }
            form method="post" action="/login" #login-form data-testid="login-form" {
                label for="email" { "Email" }
                input #email type="email" name="email" autocomplete="username" required autofocus spellcheck="false";
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                button.primary type="submit" data-testid="login-submit" { "Sign in" }
            }
            @if options.single_sign_on {
                p { a.button href="/auth/oidc" data-testid="sso-sign-in" { "Sign in with single sign-on" } }
            }
            details #key-sign-in {
                summary { "Sign in with an admin API key" }
                form method="post" action="/login" #key-form {
                    label for="key" { "Admin API key" }
                    input #key type="password" name="key" autocomplete="off" required placeholder="plk_…" spellcheck="false";
                    button type="submit" data-testid="key-submit" { "Sign in with the key" }
                }
                p.muted.small { "No key yet? Create one on the server with " code { "plaudit keys create --role admin" } "." }
            }
            p.muted.small { "New here? An admin invites you from the dashboard or with " code { "plaudit users invite" } "." }
        }
    }
}

/// `GET /login`
pub async fn login_page(Extension(options): Extension<SignInOptions>) -> maud::Markup {
    layout::bare("Sign in", login_form(None, options))
}

/// The sign-in form: an email and password, or an admin key.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: Option<String>,
    password: Option<String>,
    key: Option<String>,
}

/// Whether a POST comes from another site: its `Origin` names a host other
/// than ours. Browsers send `Origin` on every cross-site POST, so this stops a
/// page elsewhere from signing a visitor in to an account of its choosing.
pub(super) fn cross_site(headers: &HeaderMap) -> bool {
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

/// `POST /login`: checks the password (or the key) and sets the session cookie.
pub async fn login(
    State(app): State<App>,
    Extension(options): Extension<SignInOptions>,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, WebError> {
    if cross_site(&headers) {
        return Err(WebError::Forbidden("Sign in from this site's own sign-in page.".into()));
    }
    let refuse = |status: StatusCode, message: &str| {
        Ok((status, layout::bare("Sign in", login_form(Some(message), options))).into_response())
    };
    let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned);
    let attempt = match (present(&form.key), present(&form.email), form.password.as_deref().filter(|p| !p.is_empty())) {
        (Some(key), _, _) => app.sign_in_with_key(&key).await,
        (None, Some(email), Some(password)) => {
            let address = address.map(|ip| ip.to_string());
            app.sign_in_with_password(&email, password, address.as_deref()).await
        }
        _ => return refuse(StatusCode::BAD_REQUEST, "Enter your email and password."),
    };
    let cookie = match attempt {
        Ok(cookie) => cookie,
        Err(AppError::SignIn(SignInRefusal::WrongCredentials)) => {
            return refuse(StatusCode::UNAUTHORIZED, "Wrong email or password.");
        }
        Err(AppError::SignIn(SignInRefusal::Throttled { retry_after_secs })) => {
            let minutes = (retry_after_secs + 59) / 60;
            let mut response = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many failed sign-ins. Try again in {minutes} minutes."),
            )?;
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Ok(response);
        }
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
    signed_in(&cookie, options)
}

/// A form that carries only its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

/// `GET /logout`: signing out changes state, so it takes a form (and its
/// CSRF token); this page offers it, and signing out everywhere.
pub async fn logout_page(session: SignedIn) -> maud::Markup {
    layout::bare(
        "Sign out",
        html! {
            section.login {
                h1 { "Sign out?" }
                form method="post" action="/logout" #logout-confirm {
                    (layout::csrf_field(&session))
                    button.primary type="submit" { "Sign out" }
                }
                @if session.user.is_some() {
                    form method="post" action="/logout/everywhere" #logout-everywhere {
                        (layout::csrf_field(&session))
                        button type="submit" data-testid="sign-out-everywhere" { "Sign out on every device" }
                    }
                }
                p { a href="/" { "Back to the overview" } }
            }
        },
    )
}

fn to_sign_in() -> Response {
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(header::SET_COOKIE, clear_cookie());
    response
}

/// `POST /logout`: ends this session.
pub async fn logout(
    State(app): State<App>,
    session: SignedIn,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    app.sign_out(&session.session).await?;
    Ok(to_sign_in())
}

/// `POST /logout/everywhere`: ends every session of the signed-in person.
pub async fn logout_everywhere(
    State(app): State<App>,
    session: SignedIn,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&app, form.csrf.as_deref())?;
    app.sign_out_everywhere(&session.session).await?;
    Ok(to_sign_in())
}

/// `GET /time-zone?tz=` (the footer's picker).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Picked {
    tz: Option<String>,
}

/// Remembers the picked zone for a year and goes back to the page the
/// picker was on (the same site's, by its `Referer`), else the overview.
pub async fn pick_zone(
    _signed_in: SignedIn,
    Extension(options): Extension<SignInOptions>,
    headers: HeaderMap,
    PageQuery(picked): PageQuery<Picked>,
) -> Result<Response, WebError> {
    let zone = super::zone::Zone::parse(picked.tz.as_deref().unwrap_or_default())
        .ok_or_else(|| WebError::BadRequest("tz: must be an IANA time zone such as Europe/Paris".into()))?;
    let secure = if options.secure_cookies { "; Secure" } else { "" };
    let cookie =
        HeaderValue::from_str(&format!("{ZONE_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}", zone.name))
            .map_err(|_| WebError::Internal)?;
    let mut response = Redirect::to(&back(&headers)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The path (and query) of the same site's page in `Referer`, else `/`.
fn back(headers: &HeaderMap) -> String {
    let Some(referer) = headers.get(header::REFERER).and_then(|v| v.to_str().ok()) else { return "/".into() };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let rest = referer.split_once("://").map_or("", |(_, rest)| rest);
    match rest.split_once('/') {
        Some((h, path)) if !host.is_empty() && h == host && !path.starts_with('/') => format!("/{path}"),
        _ => "/".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_way_back_stays_on_the_site() {
        let mut h = HeaderMap::new();
        assert_eq!(back(&h), "/");
        h.insert(header::HOST, HeaderValue::from_static("plaudit.example"));
        h.insert(header::REFERER, HeaderValue::from_static("https://plaudit.example/gaps?bot_id=x"));
        assert_eq!(back(&h), "/gaps?bot_id=x");
        h.insert(header::REFERER, HeaderValue::from_static("https://evil.example/x"));
        assert_eq!(back(&h), "/");
        h.insert(header::REFERER, HeaderValue::from_static("https://plaudit.example//evil.example"));
        assert_eq!(back(&h), "/");
    }
}
