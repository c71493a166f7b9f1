//! The audit log: who changed what, when. Every change made by a person, a
//! key or the command line is one entry, written in the same transaction as
//! the change. `before` and `after` hold configuration values only: never a
//! secret, never an end user's text or identifier (a review records the
//! feedback id and the decision, not the reason).

use serde::Serialize;
use serde_json::Value;

use super::{DomainError, Timestamp, ids::Uuid};

/// What kind of actor made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// A person signed in to the dashboard.
    User,
    /// An API key (through the API, or signed in to the dashboard).
    Key,
    /// An operator at the server, through the `plaudit` command.
    Cli,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Key => "key",
            Self::Cli => "cli",
        }
    }

    pub fn from_db(raw: &str) -> Self {
        match raw {
            "user" => Self::User,
            "key" => Self::Key,
            _ => Self::Cli,
        }
    }
}

/// Who acts: a person, a key, or the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: String,
    /// A person's display name, or a key's name.
    pub name: String,
}

impl Actor {
    pub fn key(id: &Uuid, name: &str) -> Self {
        Self { kind: ActorKind::Key, id: id.to_string(), name: name.to_owned() }
    }

    pub fn user(id: &Uuid, name: &str) -> Self {
        Self { kind: ActorKind::User, id: id.to_string(), name: name.to_owned() }
    }

    /// The operator at the server.
    pub fn cli() -> Self {
        Self { kind: ActorKind::Cli, id: "cli".into(), name: "command line".into() }
    }

    /// The server itself, running a background job (`job` names it), as
    /// the operator configured it.
    pub fn job(job: &str) -> Self {
        Self { kind: ActorKind::Cli, id: job.into(), name: format!("{job} job") }
    }

    /// `user:<id>`, `key:<id>` or `cli`: how records name who decided
    /// (`reviewed_by_id`), and how the audit log's `actor` filter is written.
    pub fn reference(&self) -> String {
        match self.kind {
            ActorKind::Cli => "cli".into(),
            kind => format!("{}:{}", kind.as_str(), self.id),
        }
    }
}

/// Every kind of change the log records, `resource.verb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Action {
    #[serde(rename = "account.created")]
    AccountCreated,
    #[serde(rename = "bot.created")]
    BotCreated,
    #[serde(rename = "settings.updated")]
    SettingsUpdated,
    #[serde(rename = "rating_config.updated")]
    RatingConfigUpdated,
    #[serde(rename = "prompt_copy.updated")]
    PromptCopyUpdated,
    #[serde(rename = "key.created")]
    KeyCreated,
    #[serde(rename = "key.revoked")]
    KeyRevoked,
    #[serde(rename = "user.invited")]
    UserInvited,
    #[serde(rename = "user.joined")]
    UserJoined,
    #[serde(rename = "user.role_changed")]
    UserRoleChanged,
    #[serde(rename = "user.disabled")]
    UserDisabled,
    #[serde(rename = "user.enabled")]
    UserEnabled,
    #[serde(rename = "user.signed_out_everywhere")]
    UserSignedOutEverywhere,
    #[serde(rename = "feedback.reviewed")]
    FeedbackReviewed,
    #[serde(rename = "golden_example.created")]
    GoldenExampleCreated,
    #[serde(rename = "golden_example.deleted")]
    GoldenExampleDeleted,
    /// A person erased: the entry holds the counts, never whom.
    #[serde(rename = "contact.erased")]
    ContactErased,
    /// A conversation deleted: the counts, never which.
    #[serde(rename = "conversation.deleted")]
    ConversationDeleted,
    /// A bot's expired conversations erased (retention): the counts.
    #[serde(rename = "conversations.purged")]
    ConversationsPurged,
    /// Webhooks: their URL masked, never their secret.
    #[serde(rename = "webhook.created")]
    WebhookCreated,
    #[serde(rename = "webhook.updated")]
    WebhookUpdated,
    #[serde(rename = "webhook.deleted")]
    WebhookDeleted,
    #[serde(rename = "webhook.secret_rotated")]
    WebhookSecretRotated,
    /// Deactivated for failing `webhooks_deactivate_hours` (by the delivery job).
    #[serde(rename = "webhook.deactivated")]
    WebhookDeactivated,
}

impl Action {
    pub const ALL: [Self; 24] = [
        Self::AccountCreated,
        Self::BotCreated,
        Self::SettingsUpdated,
        Self::RatingConfigUpdated,
        Self::PromptCopyUpdated,
        Self::KeyCreated,
        Self::KeyRevoked,
        Self::UserInvited,
        Self::UserJoined,
        Self::UserRoleChanged,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::UserSignedOutEverywhere,
        Self::FeedbackReviewed,
        Self::GoldenExampleCreated,
        Self::GoldenExampleDeleted,
        Self::ContactErased,
        Self::ConversationDeleted,
        Self::ConversationsPurged,
        Self::WebhookCreated,
        Self::WebhookUpdated,
        Self::WebhookDeleted,
        Self::WebhookSecretRotated,
        Self::WebhookDeactivated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountCreated => "account.created",
            Self::BotCreated => "bot.created",
            Self::SettingsUpdated => "settings.updated",
            Self::RatingConfigUpdated => "rating_config.updated",
            Self::PromptCopyUpdated => "prompt_copy.updated",
            Self::KeyCreated => "key.created",
            Self::KeyRevoked => "key.revoked",
            Self::UserInvited => "user.invited",
            Self::UserJoined => "user.joined",
            Self::UserRoleChanged => "user.role_changed",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::UserSignedOutEverywhere => "user.signed_out_everywhere",
            Self::FeedbackReviewed => "feedback.reviewed",
            Self::GoldenExampleCreated => "golden_example.created",
            Self::GoldenExampleDeleted => "golden_example.deleted",
            Self::ContactErased => "contact.erased",
            Self::ConversationDeleted => "conversation.deleted",
            Self::ConversationsPurged => "conversations.purged",
            Self::WebhookCreated => "webhook.created",
            Self::WebhookUpdated => "webhook.updated",
            Self::WebhookDeleted => "webhook.deleted",
            Self::WebhookSecretRotated => "webhook.secret_rotated",
            Self::WebhookDeactivated => "webhook.deactivated",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == raw)
            .ok_or_else(|| DomainError::invalid(field, "is not an action of the audit log (for example key.created)"))
    }

    /// The kind of thing the action changes.
    pub fn target_kind(self) -> &'static str {
        match self {
            Self::AccountCreated => "account",
            Self::BotCreated | Self::SettingsUpdated | Self::RatingConfigUpdated | Self::PromptCopyUpdated => "bot",
            Self::KeyCreated | Self::KeyRevoked => "key",
            Self::UserInvited
            | Self::UserJoined
            | Self::UserRoleChanged
            | Self::UserDisabled
            | Self::UserEnabled
            | Self::UserSignedOutEverywhere => "user",
            Self::FeedbackReviewed => "feedback",
            Self::GoldenExampleCreated | Self::GoldenExampleDeleted => "golden_example",
            Self::ContactErased => "contact",
            Self::ConversationDeleted => "conversation",
            Self::ConversationsPurged => "bot",
            Self::WebhookCreated
            | Self::WebhookUpdated
            | Self::WebhookDeleted
            | Self::WebhookSecretRotated
            | Self::WebhookDeactivated => "webhook",
        }
    }
}

/// What a change was made to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// One entry of the log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: Uuid,
    #[serde(skip)]
    pub account_id: String,
    pub at: Timestamp,
    pub actor: Actor,
    pub action: String,
    pub target: Target,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditEntry {
    /// An entry for `action` on the thing with id `target`, made now by `actor`.
    pub fn new(
        account_id: &str,
        actor: &Actor,
        action: Action,
        target: impl ToString,
        before: Option<Value>,
        after: Option<Value>,
        at: Timestamp,
    ) -> Self {
        Self {
            id: Uuid::new(),
            account_id: account_id.to_owned(),
            at,
            actor: actor.clone(),
            action: action.as_str().to_owned(),
            target: Target { kind: action.target_kind().to_owned(), id: target.to_string() },
            before,
            after,
        }
    }
}

/// Configuration values as the log keeps them: the object's JSON.
pub fn values(config: &impl Serialize) -> Option<Value> {
    serde_json::to_value(config).ok()
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// `user:<id>`, `key:<id>` or `cli`.
    pub actor: Option<String>,
    pub action: Option<Action>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl AuditFilter {
    pub fn parse(
        actor: Option<&str>,
        action: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Self, DomainError> {
        let actor = actor
            .map(|a| {
                let ok = a == "cli"
                    || a.split_once(':').is_some_and(|(kind, id)| matches!(kind, "user" | "key") && !id.is_empty());
                if ok {
                    Ok(a.to_owned())
                } else {
                    Err(DomainError::invalid("actor", "must be user:<id>, key:<id> or cli"))
                }
            })
            .transpose()?;
        let action = action.map(|a| Action::parse("action", a)).transpose()?;
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(DomainError::invalid("from", "must be before to"));
        }
        Ok(Self { actor, action, from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_back_and_name_their_target() {
        for action in Action::ALL {
            assert_eq!(Action::parse("action", action.as_str()).unwrap(), action);
            assert_eq!(serde_json::to_value(action).unwrap(), action.as_str());
            assert!(action.as_str().starts_with(action.target_kind()) || action.target_kind() == "bot");
        }
        assert!(Action::parse("action", "key.deleted").is_err());
    }

    #[test]
    fn actors_are_referred_to_by_kind_and_id() {
        let id = Uuid::new();
        assert_eq!(Actor::user(&id, "Ana").reference(), format!("user:{id}"));
        assert_eq!(Actor::key(&id, "ci").reference(), format!("key:{id}"));
        assert_eq!(Actor::cli().reference(), "cli");
    }

    #[test]
    fn filters_are_checked() {
        assert!(AuditFilter::parse(Some("user:abc"), Some("user.invited"), None, None).is_ok());
        assert!(AuditFilter::parse(Some("cli"), None, None, None).is_ok());
        assert!(AuditFilter::parse(Some("bob"), None, None, None).is_err());
        assert!(AuditFilter::parse(Some("user:"), None, None, None).is_err());
        assert!(AuditFilter::parse(None, Some("nope"), None, None).is_err());
        assert!(AuditFilter::parse(None, None, Some(Timestamp(5)), Some(Timestamp(5))).is_err());
    }
}
