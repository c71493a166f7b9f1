//! Golden examples: the approved answers and corrections, listed and
//! deleted (their download is in `exports.rs`).

use super::{App, AppError};
use crate::domain::{
    Timestamp,
    access::{Principal, Scope},
    golden::GoldenExample,
    ids::Uuid,
    page::{Page, PageRequest},
};

impl App {
    /// Golden examples in scope (of one bot, if given), newest first.
    pub async fn golden_examples(
        &self,
        scope: &Scope,
        bot: Option<&Uuid>,
        page: PageRequest,
    ) -> Result<Page<GoldenExample>, AppError> {
        Ok(self.store.list_golden(scope, bot, page).await?)
    }

    pub async fn delete_golden(&self, by: &Principal, id: &Uuid) -> Result<(), AppError> {
        Ok(self.store.delete_golden(&by.scope(), id, &by.actor, Timestamp::now()).await?)
    }
}
