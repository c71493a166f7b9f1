//! What every HTTP door shares: the JSON error type and its rendering, the
//! extractors whose rejections are that error, the key and feedback-token
//! authentication of a request (with its rate limit), the request metrics,
//! pages' security headers, and streamed downloads. The JSON API, the compatible routes and the
//! dashboard stand on it; it stands on the application and the domain.

mod auth;
pub mod body;
pub mod client;
mod cors;
mod download;
mod error;
mod explain;
mod extract;
pub mod faces;
pub mod headers;
pub mod metrics;
mod schemas;
mod strict;

pub use auth::{Auth, FEEDBACK_TOKEN_HEADER, Rate, RateLimits};
pub use client::{ClientAddress, TrustedProxies};
pub use cors::public_cors;
pub use download::download;
pub use error::{ApiError, ErrorBody, ErrorResponses};
pub use explain::explain;
pub use extract::{ApiJson, ApiPath, ApiQuery, JsonObject, OptionalJson, parse_envelope_as, parse_json, parse_json_as};
pub use headers::{page_headers, styled_page_headers};
pub use schemas::{RatingConfigDoc, RatingConfigPatchBody};
pub use strict::{KnownQueries, StrictQueryLayer};
