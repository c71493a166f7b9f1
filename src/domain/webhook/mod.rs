//! Webhooks (SPEC §13), the rules that need no IO: the events a webhook can
//! subscribe to and which of them reach one that wants only the negative
//! ones; its URL's rules and how it is shown; its secret; the Standard
//! Webhooks signature of a delivery; and when a failed delivery is tried
//! again. `event.rs`: an event and its body; `subscription.rs`: a webhook
//! as configured; `delivery.rs`: a delivery and what follows an attempt.

use std::{net::IpAddr, time::Duration};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::DomainError;

mod delivery;
mod event;
mod subscription;

pub use delivery::{Attempt, Delivery, DeliveryStatus, Next, Outgoing, RetryPolicy};
pub use event::{Event, slack_body};
pub use subscription::{
    Format, Health, NewWebhook, Subscription, Webhook, WebhookPatch, events_column, events_from_column, parse_events,
};

/// What happened, as a webhook subscribes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    FeedbackCreated,
    /// Switched, or its reason changed.
    FeedbackUpdated,
    FeedbackRetracted,
    /// Approved or dismissed.
    FeedbackReviewed,
    VoteCreated,
    CsatAnswered,
    GoldenExampleCreated,
    GoldenExampleDeleted,
    ConversationEnded,
    /// A test a person sends.
    Ping,
}

impl EventType {
    pub const ALL: [Self; 10] = [
        Self::FeedbackCreated,
        Self::FeedbackUpdated,
        Self::FeedbackRetracted,
        Self::FeedbackReviewed,
        Self::VoteCreated,
        Self::CsatAnswered,
        Self::GoldenExampleCreated,
        Self::GoldenExampleDeleted,
        Self::ConversationEnded,
        Self::Ping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FeedbackCreated => "feedback.created",
            Self::FeedbackUpdated => "feedback.updated",
            Self::FeedbackRetracted => "feedback.retracted",
            Self::FeedbackReviewed => "feedback.reviewed",
            Self::VoteCreated => "vote.created",
            Self::CsatAnswered => "csat.answered",
            Self::GoldenExampleCreated => "golden_example.created",
            Self::GoldenExampleDeleted => "golden_example.deleted",
            Self::ConversationEnded => "conversation.ended",
            Self::Ping => "ping",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == raw)
            .ok_or_else(|| DomainError::invalid(field, "is not an event (for example feedback.created)"))
    }

    /// Whether an event of this type, `negative` or not (a thumbs-down, a
    /// downvote, a CSAT answer below 3), reaches a webhook that wants only
    /// the negative ones: only thumbs created or updated, votes and CSAT
    /// answers can be negative; nothing else reaches such a webhook (a
    /// `ping` is sent to it by hand, whatever it wants).
    pub fn reaches_only_negative(self, negative: bool) -> bool {
        match self {
            Self::FeedbackCreated | Self::FeedbackUpdated | Self::VoteCreated | Self::CsatAnswered => negative,
            Self::Ping => true,
            _ => false,
        }
    }
}

/// The prefix of a webhook's secret, as the Standard Webhooks libraries
/// expect it.
const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a secret.
const SECRET_BYTES: usize = 32;

/// A webhook's signing secret: random bytes, shown once as `whsec_` and
/// their base64.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    pub fn generate() -> Self {
        Self(rand::random::<[u8; SECRET_BYTES]>().to_vec())
    }

    /// A secret as shown (`whsec_…`).
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let bytes = raw
            .strip_prefix(SECRET_PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() >= 24)
            .ok_or_else(|| DomainError::invalid(field, "must be whsec_ and the base64 of at least 24 bytes"))?;
        Ok(Self(bytes))
    }

    /// `whsec_` and the base64 of the bytes: how it is shown, and stored.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The signature of a delivery, as the Standard Webhooks specification
    /// defines it: `v1,` and the base64 of the HMAC-SHA256, keyed with the
    /// secret's bytes, of `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: a signature with each secret in use
/// (two for a day after a rotation), space-separated as the specification
/// allows.
pub fn signature_header(secrets: &[&WebhookSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|s| s.sign(id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// A webhook's URL, checked: `https` (or `http` where allowed), a host, at
/// most 2,048 characters, no user name or password in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

/// The longest URL accepted.
const MAX_URL_LEN: usize = 2048;

impl WebhookUrl {
    pub fn parse(field: &str, raw: &str, allow_http: bool) -> Result<Self, DomainError> {
        if raw.len() > MAX_URL_LEN {
            return Err(DomainError::invalid(field, format!("must be at most {MAX_URL_LEN} characters")));
        }
        let url = url::Url::parse(raw).map_err(|e| DomainError::invalid(field, format!("is not a URL ({e})")))?;
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            "http" => return Err(DomainError::invalid(field, "must be https (http needs webhooks_allow_http)")),
            _ => return Err(DomainError::invalid(field, "must be an https URL")),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(DomainError::invalid(field, "must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(DomainError::invalid(field, "must not hold a user name or password"));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// The host written as an address, if it is one (no name to resolve).
    pub fn ip(&self) -> Option<IpAddr> {
        match self.0.host()? {
            url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
            url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
            url::Host::Domain(_) => None,
        }
    }

    /// How lists, logs and the audit log show it: scheme, host and port,
    /// and the path masked (a Slack URL's path is its secret).
    pub fn masked(&self) -> String {
        let port = self.0.port().map(|p| format!(":{p}")).unwrap_or_default();
        let path = if self.0.path() == "/" && self.0.query().is_none() { "/" } else { "/****" };
        format!("{}://{}{port}{path}", self.0.scheme(), self.host())
    }
}

/// Whether a delivery may go to `ip`: loopback, private, link-local,
/// unspecified, shared (CGNAT), broadcast and multicast addresses are refused
/// unless `allow_private` (a receiver on the same network), so that a URL,
/// or the name it resolves to, cannot point Plaudit at what only it can reach.
pub fn address_allowed(ip: IpAddr, allow_private: bool) -> bool {
    if allow_private {
        return true;
    }
    match ip {
        IpAddr::V4(a) => {
            let shared = a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64;
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || a.is_documentation()
                || shared)
        }
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => address_allowed(IpAddr::V4(v4), false),
            None => {
                !(a.is_loopback()
                    || a.is_unspecified()
                    || a.is_multicast()
                    || a.is_unique_local()
                    || a.is_unicast_link_local())
            }
        },
    }
}

/// The first retry's gap, and the longest.
const FIRST_RETRY: Duration = Duration::from_secs(4);
const LONGEST_RETRY: Duration = Duration::from_secs(3600);

/// How long after its `attempt`-th failed attempt (from 1) a delivery is
/// tried again: 4 s, doubling to at most an hour, each stretched by
/// `jitter` (from 0 to 1: up to a quarter more), so that the deliveries
/// that failed together do not all come back at once.
pub fn retry_after(attempt: u32, jitter: f64) -> Duration {
    let doubled = FIRST_RETRY.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let base = doubled.min(LONGEST_RETRY);
    base + base.mul_f64(jitter.clamp(0.0, 1.0) / 4.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let secret = WebhookSecret::parse("secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signed = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#);
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let other = WebhookSecret::generate();
        let header = signature_header(&[&secret, &other], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert!(header.split(' ').all(|s| s.starts_with("v1,")));
    }

    #[test]
    fn secrets_are_shown_once_as_whsec_and_read_back() {
        let secret = WebhookSecret::generate();
        let shown = secret.expose();
        assert!(shown.starts_with("whsec_") && shown.len() > 40);
        assert_eq!(WebhookSecret::parse("s", &shown).unwrap(), secret);
        assert_ne!(WebhookSecret::generate(), secret);
        assert!(WebhookSecret::parse("s", "whsec_c2hvcnQ=").is_err(), "too short");
        assert!(WebhookSecret::parse("s", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err(), "no prefix");
        assert_eq!(format!("{secret:?}"), "WebhookSecret(..)", "never printed");
    }

    #[test]
    fn only_negative_webhooks_get_negative_signals_only() {
        assert!(EventType::FeedbackCreated.reaches_only_negative(true));
        assert!(!EventType::FeedbackCreated.reaches_only_negative(false));
        assert!(EventType::FeedbackUpdated.reaches_only_negative(true), "a switch to negative");
        assert!(!EventType::FeedbackRetracted.reaches_only_negative(true));
        assert!(!EventType::FeedbackReviewed.reaches_only_negative(true));
        assert!(!EventType::ConversationEnded.reaches_only_negative(true));
        assert!(EventType::Ping.reaches_only_negative(false));
        for e in EventType::ALL {
            assert_eq!(EventType::parse("events[0]", e.as_str()).unwrap(), e);
        }
        assert!(EventType::parse("events[0]", "feedback.deleted").is_err());
    }

    #[test]
    fn urls_are_https_with_a_host_and_shown_masked() {
        let slack = WebhookUrl::parse("url", "https://hooks.slack.com/services/T0/B0/XXXX", false).unwrap();
        assert_eq!(slack.masked(), "https://hooks.slack.com/****");
        assert_eq!(
            WebhookUrl::parse("url", "https://example.com:8443/", false).unwrap().masked(),
            "https://example.com:8443/"
        );
        assert!(WebhookUrl::parse("url", "http://example.com/hook", false).is_err());
        assert!(WebhookUrl::parse("url", "http://example.com/hook", true).is_ok());
        assert!(WebhookUrl::parse("url", "ftp://example.com/hook", true).is_err());
        assert!(WebhookUrl::parse("url", "https://user:pw@example.com/", false).is_err());
        assert!(WebhookUrl::parse("url", "not a url", false).is_err());
        assert_eq!(
            WebhookUrl::parse("url", "https://127.0.0.1/x", false).unwrap().ip(),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(WebhookUrl::parse("url", "https://example.com/x", false).unwrap().ip(), None);
    }

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            let ip: IpAddr = private.parse().unwrap();
            assert!(!address_allowed(ip, false), "{private}");
            assert!(address_allowed(ip, true), "{private} when allowed");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"] {
            assert!(address_allowed(public.parse().unwrap(), false), "{public}");
        }
    }

    #[test]
    fn retries_start_within_five_seconds_and_double_to_an_hour() {
        assert!(retry_after(1, 1.0) <= Duration::from_secs(5));
        assert_eq!(retry_after(2, 0.0), Duration::from_secs(8));
        assert_eq!(retry_after(3, 0.0), Duration::from_secs(16));
        assert_eq!(retry_after(30, 0.0), Duration::from_secs(3600));
        assert!(retry_after(30, 1.0) <= Duration::from_secs(4500));
        assert!(retry_after(2, 0.5) > retry_after(2, 0.0), "jitter stretches the gap");
    }
}
