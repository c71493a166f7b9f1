//! API keys: admitting the key a request presents, and minting, listing and
//! revoking keys. A secret is shown once, when minted; only its hash is kept.

use super::{App, AppError};
use crate::domain::{
    Timestamp,
    access::{ApiKey, NewKey, Principal, Scope, Secret, hash_secret},
    audit::Actor,
    ids::Uuid,
    page::{Page, PageRequest},
};

impl App {
    /// The principal a presented secret acts as, if its key is admitted now.
    pub async fn admit_key(&self, secret: &str) -> Result<Principal, AppError> {
        let record = self.store.find_key(&hash_secret(secret)).await?;
        Ok(Principal::admit(record, Timestamp::now())?)
    }

    /// Creates a key and returns it with its secret, which is shown this once.
    pub async fn mint_key(&self, key: NewKey, by: &Actor) -> Result<(ApiKey, Secret), AppError> {
        let secret = Secret::generate();
        let (hash, prefix) = (hash_secret(secret.expose()), secret.display_prefix());
        let key = self.store.create_key(key, hash, prefix, by, Timestamp::now()).await?;
        Ok((key, secret))
    }

    /// The keys in scope, newest first, without secrets.
    pub async fn list_keys(&self, scope: &Scope, page: PageRequest) -> Result<Page<ApiKey>, AppError> {
        Ok(self.store.list_keys(scope, page).await?)
    }

    /// Revokes a key in scope at once (and ends its dashboard sessions);
    /// revoking it again keeps the first time.
    pub async fn revoke_key(&self, by: &Principal, id: &Uuid) -> Result<ApiKey, AppError> {
        Ok(self.store.revoke_key(&by.scope(), id, &by.actor, Timestamp::now()).await?)
    }

    /// Revokes a key of any account, by id: for operators (the command line).
    pub async fn revoke_any_key(&self, id: &Uuid, by: &Actor) -> Result<ApiKey, AppError> {
        let key = self.store.get_key_by_id(id).await?;
        Ok(self.store.revoke_key(&Scope::account(key.account_id), id, by, Timestamp::now()).await?)
    }
}
