//! Accounts, bots and their settings: review and votes, the rating
//! configuration, and the prompt copy per locale.

use super::{App, AppError};
use crate::domain::{
    DomainError, Timestamp,
    access::{Principal, Scope},
    account::{Account, Bot},
    audit::Actor,
    csat::{PromptCopy, RatingConfig, RatingConfigPatch, ResolvedCopy},
    feedback::{BotSettings, BotSettingsPatch},
    ids::Uuid,
    page::{MAX_LIMIT, Page, PageRequest},
};

impl App {
    pub async fn create_account(&self, name: String, api_access: bool, by: &Actor) -> Result<Account, AppError> {
        Ok(self.store.create_account(name, api_access, by, Timestamp::now()).await?)
    }

    pub async fn account(&self, id: &str) -> Result<Account, AppError> {
        Ok(self.store.get_account(id).await?)
    }

    /// A new bot of the principal's account; a key bound to a bot cannot make one.
    pub async fn create_bot(&self, principal: &Principal, name: String) -> Result<Bot, AppError> {
        if principal.bot_id.is_some() {
            return Err(DomainError::forbidden("a key bound to a bot cannot create bots").into());
        }
        Ok(self.store.create_bot(&principal.account_id, name, &principal.actor, Timestamp::now()).await?)
    }

    pub async fn bot(&self, scope: &Scope, id: &Uuid) -> Result<Bot, AppError> {
        Ok(self.store.get_bot(scope, id).await?)
    }

    pub async fn list_bots(&self, scope: &Scope, page: PageRequest) -> Result<Page<Bot>, AppError> {
        Ok(self.store.list_bots(scope, page).await?)
    }

    /// Every bot in scope (the first 500, which is every bot of any real account).
    pub async fn all_bots(&self, scope: &Scope) -> Result<Vec<Bot>, AppError> {
        Ok(self.store.list_bots(scope, PageRequest::parse(Some(MAX_LIMIT), None)?).await?.items)
    }

    /// The bot a call acts on when the caller may leave it out: the one named,
    /// else the key's own, else the account's only bot.
    pub async fn bot_or_only(&self, principal: &Principal, requested: Option<Uuid>) -> Result<Uuid, AppError> {
        if requested.is_some() || principal.bot_id.is_some() {
            return Ok(principal.resolve_bot(requested)?);
        }
        let bots = self.store.list_bots(&principal.scope(), PageRequest::parse(Some(2), None)?).await?;
        match bots.items.as_slice() {
            [only] => Ok(only.id.clone()),
            _ => Err(DomainError::invalid(
                "bot_id",
                "is required: the key is not bound to a bot and the account has several",
            )
            .into()),
        }
    }

    pub async fn bot_settings(&self, scope: &Scope, bot: &Uuid) -> Result<BotSettings, AppError> {
        Ok(self.store.bot_settings(scope, bot).await?)
    }

    pub async fn update_bot_settings(
        &self,
        by: &Principal,
        bot: &Uuid,
        patch: BotSettingsPatch,
    ) -> Result<BotSettings, AppError> {
        Ok(self.store.update_bot_settings(&by.scope(), bot, patch, &by.actor, Timestamp::now()).await?)
    }

    pub async fn rating_config(&self, scope: &Scope, bot: &Uuid) -> Result<RatingConfig, AppError> {
        Ok(self.store.rating_config(scope, bot).await?)
    }

    pub async fn update_rating_config(
        &self,
        by: &Principal,
        bot: &Uuid,
        patch: RatingConfigPatch,
    ) -> Result<RatingConfig, AppError> {
        Ok(self.store.update_rating_config(&by.scope(), bot, patch, &by.actor, Timestamp::now()).await?)
    }

    /// The prompt copy for `locale`, falling back along its chain to the built-in copy.
    pub async fn prompt_copy(&self, scope: &Scope, bot: &Uuid, locale: &str) -> Result<ResolvedCopy, AppError> {
        Ok(self.store.prompt_copy(scope, bot, locale).await?)
    }

    /// The locales a bot has its own copy for.
    pub async fn prompt_copy_locales(&self, scope: &Scope, bot: &Uuid) -> Result<Vec<String>, AppError> {
        Ok(self.store.prompt_copy_locales(scope, bot).await?)
    }

    /// Stores the copy for a locale; every piece is required.
    pub async fn put_prompt_copy(
        &self,
        by: &Principal,
        bot: &Uuid,
        locale: &str,
        copy: PromptCopy,
    ) -> Result<ResolvedCopy, AppError> {
        let copy = copy.validate()?;
        Ok(self.store.put_prompt_copy(&by.scope(), bot, locale, copy, &by.actor, Timestamp::now()).await?)
    }
}
