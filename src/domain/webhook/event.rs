//! An event as webhooks receive it: what happened, what it is about (for
//! the filters, and for erasure), and the Standard Webhooks body every
//! delivery of it carries: `{"type", "timestamp", "data"}`, where `data`
//! is the object as the API shows it, with its `conversation_id` and
//! `bot_id`.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::EventType;
use crate::domain::{
    Timestamp,
    conversation::Conversation,
    csat::CsatAnswer,
    feedback::{Feedback, FeedbackType},
    golden::GoldenExample,
    ids::Uuid,
    vote::{Direction, Vote},
};

/// A CSAT score below this is negative.
const GOOD_SCORE: i64 = 3;

/// One event, ready to be delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `evt_…`: the `webhook-id` of every delivery of it.
    pub id: String,
    pub event_type: EventType,
    pub bot_id: Option<Uuid>,
    pub conversation_id: Option<String>,
    /// The person it is about (the rater, or the conversation's contact).
    pub person: Option<String>,
    /// A thumbs-down, a downvote, a CSAT answer below 3.
    pub negative: bool,
    pub at: Timestamp,
    /// The body, as sent to a `standard` webhook.
    pub body: String,
}

impl Event {
    fn new(event_type: EventType, object: &impl Serialize, about: About<'_>, negative: bool, at: Timestamp) -> Self {
        let mut data = match serde_json::to_value(object) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        if let Some(c) = about.conversation_id {
            data.entry("conversation_id").or_insert_with(|| json!(c));
        }
        if let Some(b) = about.bot_id {
            data.entry("bot_id").or_insert_with(|| json!(b));
        }
        let body = json!({"type": event_type.as_str(), "timestamp": at.to_rfc3339(), "data": data}).to_string();
        Self {
            id: format!("evt_{}", Uuid::new().as_str().replace('-', "")),
            event_type,
            bot_id: about.bot_id.cloned(),
            conversation_id: about.conversation_id.map(str::to_owned),
            person: about.person.map(str::to_owned),
            negative,
            at,
            body,
        }
    }

    /// A thumb's change, by the name its history gives it: `submitted` and
    /// `resubmitted` (after a retraction) are `feedback.created`;
    /// `switched` and `reason_updated` are `feedback.updated`;
    /// `retracted`; `approved` and `dismissed` are `feedback.reviewed`.
    pub fn of_feedback(history_event: &str, f: &Feedback, at: Timestamp) -> Option<Self> {
        let event_type = match history_event {
            "submitted" | "resubmitted" => EventType::FeedbackCreated,
            "switched" | "reason_updated" => EventType::FeedbackUpdated,
            "retracted" => EventType::FeedbackRetracted,
            "approved" | "dismissed" => EventType::FeedbackReviewed,
            _ => return None,
        };
        let about =
            About { bot_id: Some(&f.bot_id), conversation_id: Some(&f.conversation_id), person: Some(&f.user_id) };
        Some(Self::new(event_type, f, about, f.feedback_type == FeedbackType::Negative, at))
    }

    pub fn of_vote(v: &Vote) -> Self {
        let about =
            About { bot_id: Some(&v.bot_id), conversation_id: Some(&v.conversation_id), person: Some(&v.user_id) };
        Self::new(EventType::VoteCreated, v, about, v.direction == Direction::Down, v.created_at)
    }

    pub fn of_csat(a: &CsatAnswer, at: Timestamp) -> Self {
        let about =
            About { bot_id: Some(&a.bot_id), conversation_id: Some(&a.conversation_id), person: Some(&a.user_id) };
        Self::new(EventType::CsatAnswered, a, about, a.score < GOOD_SCORE, at)
    }

    /// A golden example made or deleted; `person` is the rater of the
    /// thumb it was made from.
    pub fn of_golden(event_type: EventType, g: &GoldenExample, person: Option<&str>, at: Timestamp) -> Self {
        let about = About { bot_id: Some(&g.bot_id), conversation_id: Some(&g.conversation_id), person };
        Self::new(event_type, g, about, false, at)
    }

    pub fn conversation_ended(c: &Conversation, at: Timestamp) -> Self {
        let about = About { bot_id: Some(&c.bot_id), conversation_id: Some(&c.id), person: c.contact_id.as_deref() };
        Self::new(EventType::ConversationEnded, c, about, false, at)
    }

    /// The test a person sends to one webhook.
    pub fn ping(webhook_id: &Uuid, at: Timestamp) -> Self {
        let about = About { bot_id: None, conversation_id: None, person: None };
        let data = json!({"webhook_id": webhook_id, "message": "A test from Plaudit: this webhook is reached."});
        Self::new(EventType::Ping, &data, about, false, at)
    }
}

/// What an event is about.
struct About<'a> {
    bot_id: Option<&'a Uuid>,
    conversation_id: Option<&'a str>,
    person: Option<&'a str>,
}

/// What a `slack` webhook receives: `{"text": …}`, a line a Slack or
/// Mattermost incoming webhook shows as it is. `bot` is the bot's name,
/// `answer` the rated answer (for thumbs), `public_url` where Plaudit's
/// dashboard is reached, to link the transcript.
pub fn slack_body(body: &str, bot: Option<&str>, answer: Option<&str>, public_url: Option<&str>) -> String {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let kind = parsed["type"].as_str().unwrap_or("event");
    let data = &parsed["data"];
    let text_of = |key: &str| data[key].as_str().map(str::to_owned);
    let mut line = match kind {
        "feedback.created" | "feedback.updated" => {
            let thumb = if text_of("feedback_type").as_deref() == Some("negative") { "👎" } else { "👍" };
            let verb = if kind == "feedback.created" { "" } else { " (changed)" };
            format!("{thumb} Feedback{verb}")
        }
        "feedback.retracted" => "↩️ Feedback taken back".to_owned(),
        "feedback.reviewed" => format!("✅ Feedback {}", text_of("status").unwrap_or_default()),
        "vote.created" => {
            let down = text_of("direction").as_deref() == Some("down");
            format!("{} Conversation {}", if down { "👎" } else { "👍" }, if down { "downvoted" } else { "upvoted" })
        }
        "csat.answered" => format!("⭐ CSAT {}/5", data["score"].as_i64().unwrap_or_default()),
        "golden_example.created" => "🏅 Golden example made".to_owned(),
        "golden_example.deleted" => "🗑️ Golden example deleted".to_owned(),
        "conversation.ended" => "🏁 Conversation ended".to_owned(),
        "ping" => "🔔 A test from Plaudit: this webhook is reached.".to_owned(),
        other => other.to_owned(),
    };
    if let Some(bot) = bot {
        line.push_str(&format!(" on {bot}"));
    }
    if let Some(answer) = answer {
        line.push_str(&format!(": “{}”", excerpt(answer, 280)));
    }
    let reason = text_of("reason").or_else(|| text_of("negative_reason"));
    if let Some(reason) = reason.filter(|r| !r.is_empty()) {
        line.push_str(&format!(" — reason: “{}”", excerpt(&reason, 280)));
    }
    if let (Some(base), Some(conversation)) = (public_url, text_of("conversation_id")) {
        let link = format!("{}/inbox/{}", base.trim_end_matches('/'), encode(&conversation));
        line.push_str(&format!(" <{link}|Open the transcript>"));
    }
    json!({ "text": line }).to_string()
}

/// At most `max` characters of `text`, on one line.
fn excerpt(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// A path segment, percent-encoded.
fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>().replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{feedback::FeedbackStatus, ids::Uuid};

    fn thumb(t: FeedbackType) -> Feedback {
        Feedback {
            id: Uuid::new(),
            message_id: "m1".into(),
            conversation_id: "c 1".into(),
            bot_id: Uuid::new(),
            user_id: "visitor-1".into(),
            feedback_type: t,
            reason: Some("wrong price".into()),
            status: FeedbackStatus::Pending,
            source: crate::domain::access::Source::Api,
            reviewed_by: None,
            reviewed_by_id: None,
            reviewed_at: None,
            corrected_response: None,
            review_note: None,
            created_at: Timestamp(1_000),
            updated_at: Timestamp(1_000),
            submitted_at: Timestamp(1_000),
            retracted_at: None,
        }
    }

    #[test]
    fn a_thumbs_body_is_the_record_as_the_api_shows_it() {
        let f = thumb(FeedbackType::Negative);
        let e = Event::of_feedback("submitted", &f, Timestamp(2_000)).unwrap();
        assert_eq!(e.event_type, EventType::FeedbackCreated);
        assert!(e.negative && e.id.starts_with("evt_"));
        assert_eq!(e.person.as_deref(), Some("visitor-1"));
        let body: Value = serde_json::from_str(&e.body).unwrap();
        assert_eq!(body["type"], "feedback.created");
        assert_eq!(body["timestamp"], Timestamp(2_000).to_rfc3339());
        assert_eq!(body["data"]["id"], json!(f.id));
        assert_eq!(body["data"]["conversation_id"], "c 1");
        assert_eq!(body["data"]["reason"], "wrong price");
        assert_eq!(Event::of_feedback("switched", &f, Timestamp(0)).unwrap().event_type, EventType::FeedbackUpdated);
        assert_eq!(Event::of_feedback("dismissed", &f, Timestamp(0)).unwrap().event_type, EventType::FeedbackReviewed);
        assert!(!Event::of_feedback("submitted", &thumb(FeedbackType::Positive), Timestamp(0)).unwrap().negative);
        assert!(Event::of_feedback("noted", &f, Timestamp(0)).is_none());
        assert_ne!(Event::ping(&Uuid::new(), Timestamp(0)).id, Event::ping(&Uuid::new(), Timestamp(0)).id);
    }

    #[test]
    fn a_slack_line_names_the_bot_answer_and_reason_and_links_the_transcript() {
        let e = Event::of_feedback("submitted", &thumb(FeedbackType::Negative), Timestamp(0)).unwrap();
        let body = slack_body(&e.body, Some("Support"), Some("It costs\n 10 €"), Some("https://fb.example.com/"));
        let text: Value = serde_json::from_str(&body).unwrap();
        let text = text["text"].as_str().unwrap();
        assert!(text.starts_with("👎 Feedback on Support: “It costs 10 €” — reason: “wrong price”"), "{text}");
        assert!(text.ends_with("<https://fb.example.com/inbox/c%201|Open the transcript>"), "{text}");
        let plain = slack_body(&e.body, None, None, None);
        assert!(!plain.contains("http"), "{plain}");
        assert_eq!(excerpt(&"x".repeat(300), 280).chars().count(), 281);
    }
}
