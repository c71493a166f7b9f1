//! One person's data (SPEC §16): erasing it, and exporting it for them.

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    ApiError, ApiPath, App, Auth, ErrorResponses,
    conversations::{ErasedDoc, MessageDoc, TranscriptDoc},
    csat::CsatAnswerDoc,
    feedback::FeedbackDoc,
    votes::VoteDoc,
};
use crate::domain::{
    access::Role,
    erasure::{Erased, SubjectExport},
};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(erase_contact)).routes(routes!(export_contact))
}

/// The person: the contact id their conversations carry, and the `user_id`
/// their thumbs, votes and CSAT answers carry.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ContactPath {
    pub contact_id: String,
}

/// The answer of an erasure.
#[derive(Serialize, ToSchema)]
pub struct ContactErased {
    pub contact_id: String,
    #[schema(value_type = ErasedDoc)]
    pub erased: Erased,
}

/// Erases everything the account holds about one person (admin): the
/// conversations whose contact they are, and the thumbs, votes and CSAT
/// answers they gave elsewhere, with every figure corrected. Idempotent: a
/// repeat, or a person the account does not know, answers zeros.
#[utoipa::path(delete, path = "/v1/contacts/{contact_id}", tag = "contacts", params(ContactPath),
    responses((status = 200, description = "Erased", body = ContactErased), ErrorResponses))]
async fn erase_contact(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<ContactPath>,
) -> Result<Json<ContactErased>, ApiError> {
    principal.require(Role::Admin)?;
    let erased = app.erase_contact(&principal, &path.contact_id).await?;
    Ok(Json(ContactErased { contact_id: path.contact_id, erased }))
}

/// A thumb the person gave on someone else's conversation, with the answer it rated.
#[derive(Serialize, ToSchema)]
#[schema(as = GivenThumb)]
pub struct GivenThumbDoc {
    #[serde(flatten)]
    pub feedback: FeedbackDoc,
    pub answer: MessageDoc,
}

/// What the account holds about one person.
#[derive(Serialize, ToSchema)]
#[schema(as = SubjectExport)]
pub struct SubjectExportDoc {
    pub contact_id: String,
    /// The conversations whose contact they are, whole.
    pub conversations: Vec<TranscriptDoc>,
    /// Thumbs they gave on other conversations.
    pub thumbs: Vec<GivenThumbDoc>,
    /// Votes they gave on other conversations.
    pub votes: Vec<VoteDoc>,
    /// CSAT answers they gave on other conversations.
    pub csat: Vec<CsatAnswerDoc>,
}

/// Everything the account holds about one person (admin), matched exactly
/// on the contact id: their conversations whole, and what they gave on
/// others' conversations with the answer it rated — never another person's
/// messages.
#[utoipa::path(get, path = "/v1/contacts/{contact_id}/export", tag = "contacts", params(ContactPath),
    responses((status = 200, description = "Their data", body = SubjectExportDoc), ErrorResponses))]
async fn export_contact(
    State(app): State<App>,
    Auth(principal): Auth,
    ApiPath(path): ApiPath<ContactPath>,
) -> Result<Json<SubjectExport>, ApiError> {
    principal.require(Role::Admin)?;
    Ok(Json(app.subject_export(&principal, &path.contact_id).await?))
}
