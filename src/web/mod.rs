//! The browser-facing side: the embeddable widget and the demo page.
//!
//! These are doors onto the same API: the widget calls the public routes with
//! a public key and a feedback token, and the demo logs through the store.

pub mod demo;
pub mod widget;

use axum::Router;

use crate::api::AppState;

/// The widget's and the demo's routes.
pub fn router() -> Router<AppState> {
    Router::new().merge(widget::router()).merge(demo::router())
}
