//! [`WebhookStore`]: webhooks and their deliveries (SPEC §13), as the
//! [`SqlStore`] runs them (SQL in `webhooks.rs`, `deliveries.rs`, and the
//! outbox every write fills, `outbox.rs`).

pub use super::deliveries::{Outcome, Sender};
use super::{SqlStore, StoreError, deliveries, sql::Engine, webhooks};
use crate::domain::{
    Timestamp,
    access::Scope,
    audit::Actor,
    ids::Uuid,
    page::{Page, PageRequest},
    webhook::{Delivery, DeliveryStatus, NewWebhook, Outgoing, RetryPolicy, Webhook, WebhookPatch, WebhookSecret},
};

/// What the store does about webhooks.
#[async_trait::async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_webhook(
        &self,
        scope: &Scope,
        new: NewWebhook,
        secret: &WebhookSecret,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Webhook, StoreError>;
    async fn list_webhooks(&self, scope: &Scope) -> Result<Vec<Webhook>, StoreError>;
    async fn get_webhook(&self, scope: &Scope, id: &Uuid) -> Result<Webhook, StoreError>;
    async fn update_webhook(
        &self,
        scope: &Scope,
        id: &Uuid,
        patch: WebhookPatch,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Webhook, StoreError>;
    async fn delete_webhook(&self, scope: &Scope, id: &Uuid, by: &Actor, now: Timestamp)
    -> Result<Webhook, StoreError>;
    async fn rotate_webhook_secret(
        &self,
        scope: &Scope,
        id: &Uuid,
        secret: &WebhookSecret,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Webhook, StoreError>;
    /// Queues a `ping` for the webhook.
    async fn test_webhook(&self, scope: &Scope, id: &Uuid, now: Timestamp) -> Result<Delivery, StoreError>;
    async fn webhook_deliveries(
        &self,
        scope: &Scope,
        id: &Uuid,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<Page<Delivery>, StoreError>;
    async fn retry_delivery(
        &self,
        scope: &Scope,
        id: &Uuid,
        event_id: &str,
        now: Timestamp,
    ) -> Result<Delivery, StoreError>;

    // ---- the delivery worker --------------------------------------------------

    /// The active webhooks with a delivery due at `now`.
    async fn due_webhooks(&self, now: Timestamp) -> Result<Vec<Uuid>, StoreError>;
    /// An active webhook as its deliveries are sent.
    async fn webhook_sender(&self, id: &Uuid, now: Timestamp) -> Result<Option<Sender>, StoreError>;
    /// Up to `limit` due deliveries of a webhook, in order.
    async fn due_deliveries(&self, id: &Uuid, now: Timestamp, limit: i64) -> Result<Vec<Outgoing>, StoreError>;
    /// Writes a round's outcomes, and holds the webhook until `hold` if
    /// given (none is sent before then); whether the webhook was deactivated.
    async fn record_deliveries(
        &self,
        id: &Uuid,
        outcomes: Vec<Outcome>,
        hold: Option<Timestamp>,
        policy: RetryPolicy,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Deletes up to `limit` deliveries that succeeded before `cut`.
    async fn prune_deliveries(&self, cut: Timestamp, limit: i64) -> Result<u64, StoreError>;
    /// Pending deliveries, and when the oldest was recorded.
    async fn delivery_backlog(&self) -> Result<(i64, Option<Timestamp>), StoreError>;
    /// The bot's name and the message's content, for a Slack line.
    async fn slack_context(
        &self,
        account: &str,
        bot: Option<String>,
        message: Option<String>,
    ) -> Result<(Option<String>, Option<String>), StoreError>;
}

#[async_trait::async_trait]
impl<E: Engine> WebhookStore for SqlStore<E> {
    async fn create_webhook(
        &self,
        scope: &Scope,
        new: NewWebhook,
        secret: &WebhookSecret,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Webhook, StoreError> {
        let (scope, secret, by) = (scope.clone(), secret.clone(), by.clone());
        self.write(move |c| Box::pin(async move { webhooks::create(c, &scope, &new, &secret, &by, now).await })).await
    }

    async fn list_webhooks(&self, scope: &Scope) -> Result<Vec<Webhook>, StoreError> {
        let scope = scope.clone();
        self.engine.read(move |c| Box::pin(async move { webhooks::list(c, &scope).await })).await
    }

    async fn get_webhook(&self, scope: &Scope, id: &Uuid) -> Result<Webhook, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine.read(move |c| Box::pin(async move { webhooks::get(c, &scope, &id).await })).await
    }

    async fn update_webhook(
        &self,
        scope: &Scope,
        id: &Uuid,
        patch: WebhookPatch,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Webhook, StoreError> {
        let (scope, id, by) = (scope.clone(), id.clone(), by.clone());
        self.write(move |c| Box::pin(async move { webhooks::update(c, &scope, &id, &patch, &by, now).await })).await
    }

    async fn delete_webhook(
        &self,
        scope: &Scope,
        id: &Uuid,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Webhook, StoreError> {
        let (scope, id, by) = (scope.clone(), id.clone(), by.clone());
        self.write(move |c| Box::pin(async move { webhooks::delete(c, &scope, &id, &by, now).await })).await
    }

    async fn rotate_webhook_secret(
        &self,
        scope: &Scope,
        id: &Uuid,
        secret: &WebhookSecret,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Webhook, StoreError> {
        let (scope, id, secret, by) = (scope.clone(), id.clone(), secret.clone(), by.clone());
        self.write(move |c| Box::pin(async move { webhooks::rotate(c, &scope, &id, &secret, &by, now).await })).await
    }

    async fn test_webhook(&self, scope: &Scope, id: &Uuid, now: Timestamp) -> Result<Delivery, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.write(move |c| Box::pin(async move { webhooks::test(c, &scope, &id, now).await })).await
    }

    async fn webhook_deliveries(
        &self,
        scope: &Scope,
        id: &Uuid,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<Page<Delivery>, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine
            .read(move |c| Box::pin(async move { webhooks::deliveries(c, &scope, &id, status, page).await }))
            .await
    }

    async fn retry_delivery(
        &self,
        scope: &Scope,
        id: &Uuid,
        event_id: &str,
        now: Timestamp,
    ) -> Result<Delivery, StoreError> {
        let (scope, id, event_id) = (scope.clone(), id.clone(), event_id.to_owned());
        self.write(move |c| Box::pin(async move { webhooks::retry(c, &scope, &id, &event_id, now).await })).await
    }

    async fn due_webhooks(&self, now: Timestamp) -> Result<Vec<Uuid>, StoreError> {
        self.engine.read(move |c| Box::pin(async move { deliveries::due_webhooks(c, now).await })).await
    }

    async fn webhook_sender(&self, id: &Uuid, now: Timestamp) -> Result<Option<Sender>, StoreError> {
        let id = id.clone();
        self.engine.read(move |c| Box::pin(async move { deliveries::sender(c, &id, now).await })).await
    }

    async fn due_deliveries(&self, id: &Uuid, now: Timestamp, limit: i64) -> Result<Vec<Outgoing>, StoreError> {
        let id = id.clone();
        self.engine.read(move |c| Box::pin(async move { deliveries::due(c, &id, now, limit).await })).await
    }

    async fn record_deliveries(
        &self,
        id: &Uuid,
        outcomes: Vec<Outcome>,
        hold: Option<Timestamp>,
        policy: RetryPolicy,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write(move |c| Box::pin(async move { deliveries::record(c, &id, &outcomes, hold, &policy, now).await }))
            .await
    }

    async fn prune_deliveries(&self, cut: Timestamp, limit: i64) -> Result<u64, StoreError> {
        self.write(move |c| Box::pin(async move { deliveries::prune(c, cut, limit).await })).await
    }

    async fn delivery_backlog(&self) -> Result<(i64, Option<Timestamp>), StoreError> {
        self.engine.read(move |c| Box::pin(async move { deliveries::backlog(c).await })).await
    }

    async fn slack_context(
        &self,
        account: &str,
        bot: Option<String>,
        message: Option<String>,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        let account = account.to_owned();
        self.engine
            .read(move |c| {
                Box::pin(
                    async move { deliveries::slack_context(c, &account, bot.as_deref(), message.as_deref()).await },
                )
            })
            .await
    }
}
