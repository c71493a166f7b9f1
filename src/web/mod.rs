//! The dashboard: server-rendered HTML pages over the same operations of
//! the [`App`] as the JSON API.
//!
//! Pages are built with `maud`, which escapes every interpolated value, so
//! user text (messages, reasons, bot names, contact ids) can never become
//! markup. People sign in with a password or single sign-on (an admin key
//! may too); the session lives in the database (see `session.rs`), and every
//! POST form carries the session's CSRF token. [`pages`] is the one table of
//! which role each page and action needs. Pages work with plain links and
//! forms, without JavaScript.
//!
//! Beside the dashboard: the embeddable widget (`/widget.js`, [`widget`]) and
//! the demo (`/demo`, `plaudit demo`, [`demo`]), doors onto the same API: the
//! widget calls the public routes with a public key and a feedback token, and
//! the demo's chat backend logs through the same operations as the API.

mod audit;
mod chart;
pub mod demo;
mod error;
mod gaps;
mod golden;
mod inbox;
mod layout;
mod overview;
mod review;
mod session;
mod settings;
mod sso;
mod users;
mod webhooks;
pub mod widget;
mod zone;

use axum::{
    Router,
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderValue, header, request::Parts},
    response::{IntoResponse, Redirect},
    routing::get,
};
use serde::de::DeserializeOwned;

pub use error::WebError;
pub use session::{SignInOptions, SignedIn};

use crate::{app::App, domain::access::Role, http};
use session::Needed;

/// The stylesheet, embedded in the binary.
const APP_CSS: &str = include_str!("app.css");

/// What the dashboard's door is told at start.
#[derive(Debug, Clone, Default)]
pub struct WebOptions {
    /// Whether the session cookie is marked `Secure` (served over https).
    pub secure_cookies: bool,
    /// The address people reach Plaudit at (invitation links, single sign-on).
    pub public_url: String,
    /// Single sign-on, when configured.
    pub sso: Option<std::sync::Arc<crate::app::SingleSignOn>>,
    /// Set when running as `plaudit demo`: turns on `/demo` and its chat backend.
    pub demo: Option<demo::DemoSite>,
}

/// The dashboard, the widget and the demo. What they are told at start
/// travels with their routes, as request extensions.
pub fn router(options: WebOptions) -> Router<App> {
    let demo = demo::router()
        .layer(axum::Extension(options.demo.map(std::sync::Arc::new)))
        .layer(axum::middleware::map_response(http::styled_page_headers));
    let sign_in = SignInOptions { secure_cookies: options.secure_cookies, single_sign_on: options.sso.is_some() };
    let pages = pages()
        .layer(axum::Extension(sign_in))
        .layer(axum::Extension(users::PublicUrl(options.public_url.into())))
        .layer(axum::Extension(options.sso));
    Router::new().merge(pages).merge(widget::router()).merge(demo)
}

/// Every page of the dashboard, and its stylesheet, grouped by the role
/// they need: viewers read, reviewers also decide, admins also configure.
/// A page outside these groups (none should be) would need an admin.
fn pages() -> Router<App> {
    let open = Router::new()
        .route("/login", get(session::login_page).post(session::login))
        .route("/invite/{token}", get(users::invitation_page).post(users::accept_invitation))
        .route("/auth/oidc", get(sso::start))
        .route("/auth/oidc/callback", get(sso::callback))
        .route("/assets/app.css", get(stylesheet));
    let viewer = Router::new()
        .route("/", get(overview::page))
        .route("/logout", get(session::logout_page).post(session::logout))
        .route("/logout/everywhere", get(back_to("/logout")).post(session::logout_everywhere))
        .route("/inbox", get(inbox::list))
        .route("/inbox/{id}", get(inbox::transcript))
        .route("/gaps", get(gaps::page))
        .route("/time-zone", get(session::pick_zone))
        .route_layer(axum::Extension(Needed(Role::Viewer)));
    let reviewer = Router::new()
        .route("/review", get(review::page))
        .route("/review/{id}", get(back_to("/review")).post(review::decide))
        .route("/gaps/{id}/answer", get(back_to("/gaps")).post(gaps::answer))
        .route("/golden", get(golden::page))
        .route("/golden/export", get(golden::export))
        .route("/golden/{id}/delete", get(back_to("/golden")).post(golden::delete))
        .route_layer(axum::Extension(Needed(Role::Reviewer)));
    let admin = Router::new()
        .route("/settings", get(settings::page))
        .route("/settings/bots", get(back_to("/settings")).post(settings::create_bot))
        .route("/settings/rating", get(back_to("/settings")).post(settings::save_rating))
        .route("/settings/feedback", get(back_to("/settings")).post(settings::save_feedback))
        .route("/settings/copy", get(back_to("/settings")).post(settings::save_copy))
        .route("/settings/keys", get(back_to("/settings")).post(settings::create_key))
        .route("/settings/keys/{id}/revoke", get(back_to("/settings")).post(settings::revoke_key))
        .route("/settings/webhooks", get(webhooks::page).post(webhooks::create))
        .route("/settings/webhooks/{id}", get(webhooks::show))
        .route("/settings/webhooks/{id}/test", get(back_to("/settings/webhooks")).post(webhooks::test))
        .route("/settings/webhooks/{id}/active", get(back_to("/settings/webhooks")).post(webhooks::set_active))
        .route("/settings/webhooks/{id}/rotate", get(back_to("/settings/webhooks")).post(webhooks::rotate))
        .route("/settings/webhooks/{id}/delete", get(back_to("/settings/webhooks")).post(webhooks::delete))
        .route(
            "/settings/webhooks/{id}/deliveries/{delivery_id}/retry",
            get(back_to("/settings/webhooks")).post(webhooks::retry),
        )
        .route("/users", get(users::page).post(users::invite))
        .route("/users/{id}", get(back_to("/users")).post(users::change))
        .route("/audit", get(audit::page))
        .route("/inbox/erase", get(back_to("/inbox")).post(inbox::erase))
        .route("/inbox/{id}/delete", get(back_to("/inbox")).post(inbox::delete))
        .route_layer(axum::Extension(Needed(Role::Admin)));
    open.merge(viewer).merge(reviewer).merge(admin).layer(axum::middleware::map_response(http::page_headers))
}

/// The addresses forms post to only change things; opened as pages (a
/// reload, a bookmark) they lead back to where the form was.
fn back_to(to: &'static str) -> impl Fn() -> std::future::Ready<Redirect> + Clone + Send + Sync + 'static {
    move || std::future::ready(Redirect::to(to))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        APP_CSS,
    )
}

/// A query string, refused with an HTML 400 page when malformed.
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        refuse_nul(parts.uri.query().unwrap_or_default().as_bytes())?;
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| WebError::BadRequest(e.body_text()))
    }
}

/// A submitted form, refused with an HTML 400 page when malformed.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body =
            axum::body::Bytes::from_request(req, state).await.map_err(|e| WebError::BadRequest(e.body_text()))?;
        refuse_nul(&body)?;
        serde_urlencoded::from_bytes(&body)
            .map(Self)
            .map_err(|e| WebError::BadRequest(format!("The form was not understood: {e}")))
    }
}

/// Refuses a query string or form with a NUL character in a name or value.
fn refuse_nul(encoded: &[u8]) -> Result<(), WebError> {
    match form_urlencoded::parse(encoded).find(|(k, v)| k.contains('\0') || v.contains('\0')) {
        Some((name, _)) => Err(crate::domain::text::nul(&name.replace('\0', "\\u0000")).into()),
        None => Ok(()),
    }
}

/// Percent-encodes a value for a URL path segment or query value.
pub fn enc(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string from the pairs whose value is set and not empty.
pub fn query_string(pairs: &[(&str, Option<&str>)]) -> String {
    let parts: Vec<String> =
        pairs.iter().filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| format!("{k}={}", enc(v)))).collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

/// An empty form field counts as absent.
pub fn non_empty(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

/// A date range as the pages take it: `from` and `to` are both days included
/// (`to` is what people expect from a date picker). Returns `from` and the
/// exclusive end the domain's filters take (the day after `to`).
pub fn date_range(from: Option<&str>, to: Option<&str>) -> Result<(Option<String>, Option<String>), WebError> {
    let day = |field: &str, raw: &str| {
        raw.parse::<jiff::civil::Date>()
            .map_err(|_| WebError::BadRequest(format!("{field}: must be a date such as 2024-06-13")))
    };
    let from = non_empty(from).map(|f| day("from", f)).transpose()?;
    let to = non_empty(to)
        .map(|t| {
            day("to", t)?
                .checked_add(jiff::ToSpan::day(1))
                .map_err(|_| WebError::BadRequest("to: is out of range".into()))
        })
        .transpose()?;
    Ok((from.map(|d| d.to_string()), to.map(|d| d.to_string())))
}

/// The account's bots (the first 500, which is every bot of any real account).
pub async fn bots(app: &App, session: &SignedIn) -> Result<Vec<crate::domain::account::Bot>, WebError> {
    Ok(app.all_bots(&session.principal.scope()).await?)
}

/// A bot's name by id, for tables.
pub fn bot_name<'a>(bots: &'a [crate::domain::account::Bot], id: &str) -> &'a str {
    bots.iter().find(|b| b.id.as_str() == id).map_or("—", |b| b.name.as_str())
}

/// A `<select>` of the bots, with "All bots" unless `required`.
pub fn bot_select(bots: &[crate::domain::account::Bot], selected: Option<&str>, required: bool) -> maud::Markup {
    maud::html! {
        select #bot_id name="bot_id" {
            @if !required {
                option value="" selected[selected.is_none()] { "All bots" }
            }
            @for b in bots {
                option value=(b.id.as_str()) selected[selected == Some(b.id.as_str())] { (b.name) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_percent_encoded() {
        assert_eq!(enc("a b/c?d&e=f"), "a%20b%2Fc%3Fd%26e%3Df");
        assert_eq!(enc("é"), "%C3%A9");
        assert_eq!(query_string(&[("a", Some("1")), ("b", None), ("c", Some(""))]), "?a=1");
        assert_eq!(query_string(&[]), "");
    }

    #[test]
    fn the_last_day_of_a_range_is_included() {
        let (from, to) = date_range(Some("2024-02-28"), Some("2024-02-29")).unwrap();
        assert_eq!((from.as_deref(), to.as_deref()), (Some("2024-02-28"), Some("2024-03-01")));
        assert_eq!(date_range(Some(""), None).unwrap(), (None, None));
        assert!(date_range(Some("yesterday"), None).is_err());
        assert!(date_range(None, Some("2024-13-01")).is_err());
    }
}
