//! How a write runs: in a transaction of its own, where answers (not
//! found, a rule refused) commit like successes (they wrote nothing) and
//! other failures abort; and, for writes that move the rollups, with their
//! change added before the commit.

use futures_util::future::BoxFuture;

use super::rollups;
use crate::{
    domain::rollup::Rows,
    store::{
        StoreError,
        sql::{Engine, Work},
    },
};

/// A write's work that may move the rollups: it adds its change to the rows
/// it is given.
pub(super) trait Counted<C, T>:
    for<'c> FnOnce(&'c mut C, &'c mut Rows) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static
{
}
impl<C, T, F> Counted<C, T> for F where
    F: for<'c> FnOnce(&'c mut C, &'c mut Rows) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static
{
}

/// Runs a write of `account_id` in a transaction of its own (as
/// [`write_settled`]), and adds the change it made to the rollups before
/// the transaction commits.
pub(super) async fn write_counted<E: Engine, T: Send + 'static>(
    engine: &E,
    account_id: String,
    work: impl Counted<E::Conn, T>,
) -> Result<T, StoreError> {
    write_settled(engine, move |c| {
        Box::pin(async move {
            let mut pending = Rows::default();
            let done = work(c, &mut pending).await?;
            rollups::add(c, &account_id, pending);
            Ok(done)
        })
    })
    .await
}

/// A write whose answers (not found, a rule refused) commit like successes
/// (they wrote nothing), while any other error aborts the transaction.
pub(super) async fn write_settled<E: Engine, T: Send + 'static>(
    engine: &E,
    work: impl Work<E::Conn, T>,
) -> Result<T, StoreError> {
    engine.write(move |c| Box::pin(async move { Ok(settle(work(c).await)) })).await.and_then(|r| r?)
}

/// Splits an outcome into an answer for the caller (`Ok(..)`) and a failure
/// that must abort the transaction (`Err`).
pub(super) fn settle<T>(result: Result<T, StoreError>) -> Result<Result<T, StoreError>, StoreError> {
    match result {
        Err(e @ (StoreError::NotFound(_) | StoreError::Rule(_))) => Ok(Err(e)),
        Err(e) => Err(e),
        Ok(v) => Ok(Ok(v)),
    }
}
