//! Webhooks (SPEC §13): creating, listing, changing and deleting them,
//! rotating a secret (shown once, like the first), sending a test, and
//! their deliveries. Admins only, which the doors check; a key bound to a
//! bot manages only that bot's webhooks (its scope). The delivery worker
//! is in `delivery.rs`.

use std::{net::IpAddr, time::Duration};

use super::{App, AppError};
use crate::domain::{
    DomainError, Timestamp,
    access::Principal,
    ids::Uuid,
    page::{Page, PageRequest},
    webhook::{
        Delivery, DeliveryStatus, NewWebhook, RetryPolicy, Webhook, WebhookPatch, WebhookSecret, WebhookUrl,
        address_allowed,
    },
};

/// How webhooks behave on this instance (the `webhooks_*` settings).
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// `http://` receivers are allowed.
    pub allow_http: bool,
    /// Receivers on loopback, private or link-local addresses are allowed.
    pub allow_private: bool,
    pub retry: RetryPolicy,
    /// Succeeded deliveries are kept this long.
    pub keep: Duration,
    /// Where people reach Plaudit: Slack lines link transcripts under it.
    pub public_url: Option<String>,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_private: false,
            retry: RetryPolicy {
                retry_for: Duration::from_secs(24 * 3600),
                deactivate_after: Duration::from_secs(72 * 3600),
            },
            keep: Duration::from_secs(7 * 24 * 3600),
            public_url: None,
        }
    }
}

impl App {
    /// Whether webhook URLs may be `http://` (the doors parse URLs with it).
    pub fn webhooks_allow_http(&self) -> bool {
        self.webhooks.allow_http
    }

    /// Creates a webhook and returns it with its secret, shown this once.
    pub async fn create_webhook(&self, by: &Principal, mut new: NewWebhook) -> Result<(Webhook, String), AppError> {
        if let Some(own) = &by.bot_id {
            match &new.subscription.bot_id {
                Some(asked) if asked != own => return Err(DomainError::not_found("bot").into()),
                _ => new.subscription.bot_id = Some(own.clone()),
            }
        }
        self.check_receiver(&new.url).await?;
        let secret = WebhookSecret::generate();
        let made = self.store.create_webhook(&by.scope(), new, &secret, &by.actor, Timestamp::now()).await?;
        Ok((made, secret.expose()))
    }

    pub async fn list_webhooks(&self, by: &Principal) -> Result<Vec<Webhook>, AppError> {
        Ok(self.store.list_webhooks(&by.scope()).await?)
    }

    pub async fn get_webhook(&self, by: &Principal, id: &Uuid) -> Result<Webhook, AppError> {
        Ok(self.store.get_webhook(&by.scope(), id).await?)
    }

    pub async fn update_webhook(&self, by: &Principal, id: &Uuid, patch: WebhookPatch) -> Result<Webhook, AppError> {
        if let Some(url) = &patch.url {
            self.check_receiver(url).await?;
        }
        Ok(self.store.update_webhook(&by.scope(), id, patch, &by.actor, Timestamp::now()).await?)
    }

    pub async fn delete_webhook(&self, by: &Principal, id: &Uuid) -> Result<Webhook, AppError> {
        Ok(self.store.delete_webhook(&by.scope(), id, &by.actor, Timestamp::now()).await?)
    }

    /// A new secret, shown this once; the one it replaces signs too for 24 hours.
    pub async fn rotate_webhook_secret(&self, by: &Principal, id: &Uuid) -> Result<(Webhook, String), AppError> {
        let secret = WebhookSecret::generate();
        let hook = self.store.rotate_webhook_secret(&by.scope(), id, &secret, &by.actor, Timestamp::now()).await?;
        Ok((hook, secret.expose()))
    }

    /// Queues a `ping` for the webhook.
    pub async fn test_webhook(&self, by: &Principal, id: &Uuid) -> Result<Delivery, AppError> {
        Ok(self.store.test_webhook(&by.scope(), id, Timestamp::now()).await?)
    }

    pub async fn webhook_deliveries(
        &self,
        by: &Principal,
        id: &Uuid,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<Page<Delivery>, AppError> {
        Ok(self.store.webhook_deliveries(&by.scope(), id, status, page).await?)
    }

    /// Sends a delivery again now, with a new retry window.
    pub async fn retry_delivery(&self, by: &Principal, id: &Uuid, delivery: &str) -> Result<Delivery, AppError> {
        Ok(self.store.retry_delivery(&by.scope(), id, delivery, Timestamp::now()).await?)
    }

    /// Refuses a receiver on a loopback, private or link-local address
    /// (unless allowed), by its literal address or every address its name
    /// resolves to now. Delivery checks again, on the address it connects to.
    async fn check_receiver(&self, url: &WebhookUrl) -> Result<(), AppError> {
        if self.webhooks.allow_private {
            return Ok(());
        }
        let addresses: Vec<IpAddr> = match url.ip() {
            Some(ip) => vec![ip],
            None => tokio::net::lookup_host((url.host(), 443))
                .await
                .map_err(|_| DomainError::invalid("url", format!("{} does not resolve", url.host())))?
                .map(|a| a.ip())
                .collect(),
        };
        match addresses.iter().find(|ip| !address_allowed(**ip, false)) {
            Some(ip) => Err(DomainError::invalid(
                "url",
                format!(
                    "reaches {ip}, a loopback, private or link-local address (allowed only with webhooks_allow_private)"
                ),
            )
            .into()),
            None => Ok(()),
        }
    }
}
