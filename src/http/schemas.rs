//! The OpenAPI schemas of the domain's values that the HTTP doors answer
//! with, and the rating configuration's body and answer, which the native
//! route and its compatible twin share.
//!
//! The domain's types serialize to their JSON themselves and name no
//! OpenAPI crate; their schemas are described here and beside the handlers
//! that answer them (`*Doc` types, documentation only). A test checks that the
//! API's answers match the document.

use serde::{Deserialize, Serialize};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{KnownFormat, ObjectBuilder, RefOr, Schema, SchemaFormat, schema::Type},
};

use crate::domain::{
    Timestamp,
    access::{Role, Source},
    analytics::GroupBy,
    conversation::{ConversationStatus, MessageRole, MessageStatus},
    csat::{QuestionCode, RatingConfigPatch},
    feedback::{FeedbackStatus, FeedbackType, ReviewAction},
    ids::Uuid,
    satisfaction::SatisfactionValue,
    vote::Direction,
};

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples(["2024-06-13T14:32:45Z"])
            .into()
    }
}
impl ToSchema for Timestamp {}

impl PartialSchema for Uuid {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A server-generated UUID (bots, keys, feedback, ...), in its hyphenated form."))
            .into()
    }
}
impl ToSchema for Uuid {}

/// A domain enum's schema: a string, one of its values (`ALL`, each written
/// as its `as_str`, which is also how it serializes).
macro_rules! string_enums {
    ($($ty:ty: $description:literal;)*) => {$(
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($description))
                    .enum_values(Some(<$ty>::ALL.iter().map(|v| v.as_str())))
                    .into()
            }
        }
        impl ToSchema for $ty {}
    )*};
}

string_enums! {
    ConversationStatus: "Whether a conversation is still going.";
    Direction: "Up or down.";
    FeedbackStatus: "Where a feedback record is in its review lifecycle.";
    FeedbackType: "Thumbs up or down.";
    GroupBy: "What `compare` groups by.";
    MessageRole: "Who spoke a message.";
    MessageStatus: "Where an answer is in its life.";
    QuestionCode: "The questions a prompt can ask.";
    ReviewAction: "A reviewer's decision.";
    Role: "What a key may do. Ordered: each role can do everything the ones below it can (public, server, admin).";
    SatisfactionValue: "How a conversation went, by its latest conversation-level signal.";
    Source: "Who gave a piece of feedback, so that analytics can keep them apart.";
}

/// Which questions the end-of-conversation prompt asks, and whether it shows.
#[derive(Serialize, ToSchema)]
#[schema(as = RatingConfig)]
pub struct RatingConfigDoc {
    pub conv_rating_active: bool,
    /// Must equal `conv_rating_active`.
    pub conv_rating_popup_active: bool,
    pub conv_rating_question_codes: Vec<QuestionCode>,
}

/// The body of a rating-configuration PATCH: any subset of the fields.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(as = RatingConfigPatch)]
#[serde(deny_unknown_fields)]
pub struct RatingConfigPatchBody {
    pub conv_rating_active: Option<bool>,
    pub conv_rating_popup_active: Option<bool>,
    pub conv_rating_question_codes: Option<Vec<String>>,
}

impl From<RatingConfigPatchBody> for RatingConfigPatch {
    fn from(body: RatingConfigPatchBody) -> Self {
        Self {
            conv_rating_active: body.conv_rating_active,
            conv_rating_popup_active: body.conv_rating_popup_active,
            conv_rating_question_codes: body.conv_rating_question_codes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each enum's schema lists exactly the values it serializes to.
    #[test]
    fn enum_schemas_list_what_the_values_serialize_to() {
        fn check<T: Serialize + Copy>(all: &[T], as_str: fn(T) -> &'static str) {
            for v in all {
                assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(as_str(*v)));
            }
        }
        check(&ConversationStatus::ALL, ConversationStatus::as_str);
        check(&Direction::ALL, Direction::as_str);
        check(&FeedbackStatus::ALL, FeedbackStatus::as_str);
        check(&FeedbackType::ALL, FeedbackType::as_str);
        check(&GroupBy::ALL, GroupBy::as_str);
        check(&MessageRole::ALL, MessageRole::as_str);
        check(&MessageStatus::ALL, MessageStatus::as_str);
        check(&QuestionCode::ALL, QuestionCode::as_str);
        check(&ReviewAction::ALL, ReviewAction::as_str);
        check(&Role::ALL, Role::as_str);
        check(&SatisfactionValue::ALL, SatisfactionValue::as_str);
        check(&Source::ALL, Source::as_str);
    }
}
