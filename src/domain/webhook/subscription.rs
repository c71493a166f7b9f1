//! A webhook as it is configured: where it goes, what it wants, and how
//! it is shown (its URL masked, its secret never), with the inputs that
//! create and change one.

use serde::{Deserialize, Serialize};

use super::{Event, EventType, WebhookUrl};
use crate::domain::{DomainError, Timestamp, ids::Uuid, text};

/// Characters in a description, at most.
const MAX_DESCRIPTION: usize = 500;

/// What a webhook's deliveries look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Standard Webhooks: `{"type", "timestamp", "data"}`, signed.
    Standard,
    /// `{"text": …}` for a Slack or Mattermost incoming webhook.
    Slack,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Slack => "slack",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        match raw {
            "standard" => Ok(Self::Standard),
            "slack" => Ok(Self::Slack),
            _ => Err(DomainError::invalid(field, "must be standard or slack")),
        }
    }
}

/// Which events reach a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub events: Vec<EventType>,
    /// Only this bot's events (none: every bot of the account).
    pub bot_id: Option<Uuid>,
    pub only_negative: bool,
}

impl Subscription {
    /// Whether `event` is delivered to a webhook subscribed so. A `ping` is
    /// never fanned out: it is sent to one webhook, by hand.
    pub fn wants(&self, event: &Event) -> bool {
        event.event_type != EventType::Ping
            && self.events.contains(&event.event_type)
            && (self.bot_id.is_none() || self.bot_id == event.bot_id)
            && (!self.only_negative || event.event_type.reaches_only_negative(event.negative))
    }
}

/// Parses a list of event types: at least one, each once.
pub fn parse_events(field: &str, raw: &[String]) -> Result<Vec<EventType>, DomainError> {
    if raw.is_empty() {
        return Err(DomainError::invalid(field, "must name at least one event"));
    }
    let mut events = raw.iter().map(|e| EventType::parse(field, e)).collect::<Result<Vec<_>, _>>()?;
    events.sort();
    events.dedup();
    Ok(events)
}

/// The stored form of a list of events: comma-separated.
pub fn events_column(events: &[EventType]) -> String {
    events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",")
}

/// The list of events a stored column holds (unknown names are skipped).
pub fn events_from_column(raw: &str) -> Vec<EventType> {
    raw.split(',').filter_map(|e| EventType::parse("events", e).ok()).collect()
}

fn checked_description(raw: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(raw) = raw.map(str::trim).filter(|d| !d.is_empty()) else { return Ok(None) };
    text::refuse_nul("description", raw)?;
    if raw.chars().count() > MAX_DESCRIPTION {
        return Err(DomainError::invalid("description", format!("must be at most {MAX_DESCRIPTION} characters")));
    }
    Ok(Some(raw.to_owned()))
}

/// A webhook to create, checked.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub account_id: String,
    pub url: WebhookUrl,
    pub subscription: Subscription,
    pub description: Option<String>,
    pub format: Format,
}

impl NewWebhook {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        account_id: String,
        url: &str,
        events: &[String],
        description: Option<&str>,
        bot_id: Option<&str>,
        format: Option<&str>,
        only_negative: Option<bool>,
        allow_http: bool,
    ) -> Result<Self, DomainError> {
        Ok(Self {
            account_id,
            url: WebhookUrl::parse("url", url, allow_http)?,
            subscription: Subscription {
                events: parse_events("events", events)?,
                bot_id: bot_id.map(|b| Uuid::parse("bot_id", b)).transpose()?,
                only_negative: only_negative.unwrap_or(false),
            },
            description: checked_description(description)?,
            format: format.map(|f| Format::parse("format", f)).transpose()?.unwrap_or(Format::Standard),
        })
    }
}

/// A change to a webhook: each field given is set.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<WebhookUrl>,
    pub events: Option<Vec<EventType>>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
    pub only_negative: Option<bool>,
}

impl WebhookPatch {
    pub fn parse(
        url: Option<&str>,
        events: Option<&[String]>,
        description_given: Option<Option<&str>>,
        active: Option<bool>,
        only_negative: Option<bool>,
        allow_http: bool,
    ) -> Result<Self, DomainError> {
        Ok(Self {
            url: url.map(|u| WebhookUrl::parse("url", u, allow_http)).transpose()?,
            events: events.map(|e| parse_events("events", e)).transpose()?,
            description: description_given.map(checked_description).transpose()?,
            active,
            only_negative,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.url.is_none()
            && self.events.is_none()
            && self.description.is_none()
            && self.active.is_none()
            && self.only_negative.is_none()
    }
}

/// How a webhook is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Health {
    pub last_success_at: Option<Timestamp>,
    pub last_failure_at: Option<Timestamp>,
    /// Since when every attempt failed (none: the last one succeeded).
    pub failing_since: Option<Timestamp>,
    /// When it was deactivated for failing too long.
    pub deactivated_at: Option<Timestamp>,
    /// Deliveries waiting to be sent.
    pub pending: i64,
    /// Deliveries that gave up, until retried or deleted.
    pub failed: i64,
}

/// A webhook as the API shows it: its URL masked, never its secret.
#[derive(Debug, Clone, Serialize)]
pub struct Webhook {
    pub id: Uuid,
    pub account_id: String,
    /// Scheme, host and a masked path: a Slack URL is itself a secret.
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<&'static str>,
    pub bot_id: Option<Uuid>,
    pub format: Format,
    pub only_negative: bool,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub health: Health,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t: EventType, bot: &Uuid, negative: bool) -> Event {
        let mut e = Event::ping(bot, Timestamp(0));
        (e.event_type, e.bot_id, e.negative) = (t, Some(bot.clone()), negative);
        e
    }

    #[test]
    fn a_subscription_filters_by_event_bot_and_negativity() {
        let (bot, other) = (Uuid::new(), Uuid::new());
        let all = Subscription { events: EventType::ALL.to_vec(), bot_id: None, only_negative: false };
        assert!(all.wants(&event(EventType::FeedbackCreated, &bot, false)));
        assert!(!all.wants(&event(EventType::Ping, &bot, false)), "a ping goes to one webhook, by hand");
        let one_bot = Subscription { bot_id: Some(bot.clone()), ..all.clone() };
        assert!(one_bot.wants(&event(EventType::VoteCreated, &bot, false)));
        assert!(!one_bot.wants(&event(EventType::VoteCreated, &other, false)));
        let votes = Subscription { events: vec![EventType::VoteCreated], ..all.clone() };
        assert!(!votes.wants(&event(EventType::CsatAnswered, &bot, true)));
        let negative = Subscription { only_negative: true, ..all };
        assert!(negative.wants(&event(EventType::FeedbackUpdated, &bot, true)));
        assert!(!negative.wants(&event(EventType::FeedbackUpdated, &bot, false)));
        assert!(!negative.wants(&event(EventType::FeedbackRetracted, &bot, true)));
        assert!(!negative.wants(&event(EventType::GoldenExampleCreated, &bot, false)));
    }

    #[test]
    fn inputs_are_checked() {
        let events = |e: &[&str]| e.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let ok = NewWebhook::parse(
            "a".into(),
            "https://hooks.example.com/x",
            &events(&["vote.created", "feedback.created", "vote.created"]),
            Some("  "),
            None,
            Some("slack"),
            None,
            false,
        )
        .unwrap();
        assert_eq!(ok.subscription.events, [EventType::FeedbackCreated, EventType::VoteCreated]);
        assert_eq!((ok.format, ok.description), (Format::Slack, None));
        let bad = |url: &str, ev: &[&str], format: Option<&str>| match NewWebhook::parse(
            "a".into(),
            url,
            &events(ev),
            None,
            None,
            format,
            None,
            false,
        )
        .unwrap_err()
        {
            DomainError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(bad("http://hooks.example.com", &["ping"], None), "url");
        assert_eq!(bad("https://hooks.example.com", &[], None), "events");
        assert_eq!(bad("https://hooks.example.com", &["feedback.made"], None), "events");
        assert_eq!(bad("https://hooks.example.com", &["ping"], Some("xml")), "format");
        assert_eq!(events_from_column(&events_column(&EventType::ALL)), EventType::ALL);
        assert!(WebhookPatch::default().is_empty());
    }
}
