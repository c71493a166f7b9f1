//! Single sign-on's two addresses: `/auth/oidc` sends the browser to the
//! provider (the state, nonce and PKCE verifier travel signed in a
//! short-lived cookie), and `/auth/oidc/callback` signs the person in when
//! the provider sends them back.

use std::sync::Arc;

use axum::{
    Extension,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::{
    PageQuery, WebError, layout,
    session::{SignInOptions, cookie, signed_in},
};
use crate::{
    app::{App, RoundTrip, SingleSignOn, SsoError},
    domain::{Timestamp, session},
};

/// The cookie that carries a sign-in's round trip.
const ROUND_TRIP_COOKIE: &str = "plaudit_sso";

fn configured(sso: Option<Arc<SingleSignOn>>) -> Result<Arc<SingleSignOn>, WebError> {
    sso.ok_or_else(|| WebError::NotFound("Single sign-on is not configured on this server.".into()))
}

fn refused(status: StatusCode, message: &str) -> Response {
    let body = html! {
        section.login {
            h1 { "Single sign-on did not work" }
            p.alert role="alert" data-testid="sso-error" { (message) }
            p { a href="/login" { "Back to sign-in" } }
        }
    };
    (status, layout::bare("Single sign-on", body)).into_response()
}

/// `GET /auth/oidc`: off to the provider.
pub async fn start(
    State(app): State<App>,
    Extension(sso): Extension<Option<Arc<SingleSignOn>>>,
    Extension(options): Extension<SignInOptions>,
) -> Result<Response, WebError> {
    let sso = configured(sso)?;
    let (url, trip) = match sso.begin().await {
        Ok(begun) => begun,
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on could not start");
            return Ok(refused(StatusCode::BAD_GATEWAY, "The sign-on provider cannot be reached. Try again later."));
        }
    };
    let signed = session::sign_round_trip(&trip, &app.secret(), Timestamp::now());
    let secure = if options.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{ROUND_TRIP_COOKIE}={signed}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        session::SIGN_ON_TTL_SECONDS
    );
    let mut response = Redirect::to(&url).into_response();
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| WebError::Internal)?);
    Ok(response)
}

/// What the provider sends the browser back with.
#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/oidc/callback`: checks what came back and signs the person in.
pub async fn callback(
    State(app): State<App>,
    Extension(sso): Extension<Option<Arc<SingleSignOn>>>,
    Extension(options): Extension<SignInOptions>,
    headers: HeaderMap,
    PageQuery(back): PageQuery<Callback>,
) -> Result<Response, WebError> {
    let sso = configured(sso)?;
    if let Some(error) = back.error {
        tracing::info!(error, "the sign-on provider refused the sign-in");
        return Ok(refused(StatusCode::UNAUTHORIZED, "The sign-on provider did not sign you in."));
    }
    let trip = cookie(&headers, ROUND_TRIP_COOKIE)
        .and_then(|raw| session::verify_round_trip::<RoundTrip>(raw, &app.secret(), Timestamp::now()).ok());
    let (Some(trip), Some(code), Some(state)) = (trip, back.code, back.state) else {
        return Ok(refused(StatusCode::BAD_REQUEST, "This sign-in link is stale. Start again from the sign-in page."));
    };
    let mut response = match app.sign_in_with_sso(&sso, &trip, &code, &state).await {
        Ok(cookie) => signed_in(&cookie, options)?,
        Err(SsoError::NotAllowed(message)) => refused(StatusCode::FORBIDDEN, &message),
        Err(SsoError::Mismatch(what)) => {
            tracing::info!(what, "single sign-on came back altered");
            refused(StatusCode::BAD_REQUEST, "This sign-in link is stale. Start again from the sign-in page.")
        }
        Err(SsoError::Provider(e)) => {
            tracing::warn!(error = %e, "single sign-on failed at the provider");
            refused(StatusCode::BAD_GATEWAY, "The sign-on provider did not confirm who you are. Try again.")
        }
        Err(SsoError::App(e)) => return Err(e.into()),
    };
    let clear = format!("{ROUND_TRIP_COOKIE}=; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0");
    response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&clear).map_err(|_| WebError::Internal)?);
    Ok(response)
}
