//! What every HTTP door shares: the JSON error type and its rendering, the
//! extractors whose rejections are that error, the key and feedback-token
//! authentication of a request (with its rate limit), the request metrics,
//! and streamed downloads. The JSON API, the compatible routes and the
//! dashboard stand on it; it stands on the application and the domain.

mod auth;
mod cors;
mod download;
mod error;
mod explain;
mod extract;
pub mod metrics;
mod schemas;

pub use auth::{Auth, FEEDBACK_TOKEN_HEADER, KeyRateLimiter};
pub use cors::{is_browser_route, public_cors};
pub use download::download;
pub use error::{ApiError, ErrorBody, ErrorResponses};
pub use explain::explain;
pub use extract::{ApiJson, ApiPath, ApiQuery, JsonObject, OptionalJson, parse_json, parse_json_as};
pub use schemas::{RatingConfigDoc, RatingConfigPatchBody};
