//! What a vote or a CSAT answer leaves on its conversation: its
//! satisfaction, which the newer signal sets (see the domain's
//! `next_satisfaction`).

use crate::{
    domain::{
        Timestamp,
        satisfaction::{Satisfaction, SatisfactionValue, next_satisfaction},
    },
    params,
    store::{StoreError, sql::Conn},
};

/// Folds a new signal into the conversation's satisfaction (a newer signal
/// wins); returns the conversation's variant and language, read under its lock.
pub(super) async fn record(
    c: &mut impl Conn,
    account_id: &str,
    conversation_id: &str,
    score: f64,
    reason: Option<&str>,
    at: Timestamp,
) -> Result<(Option<String>, Option<String>), StoreError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT satisfaction, negative_reason, satisfaction_at, variant, locale FROM conversations
                 WHERE account_id = $1 AND id = $2{}",
                c.dialect().lock_rows()
            ),
            params![account_id, conversation_id],
        )
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let value: Option<String> = row.get(0)?;
    let current = Satisfaction { value: SatisfactionValue::from_db(value.as_deref()), negative_reason: row.get(1)? };
    let since: Option<Timestamp> = row.get(2)?;
    if let Some(next) = next_satisfaction((&current, since), score, reason, at) {
        c.execute_later(
            "UPDATE conversations SET satisfaction = $3, negative_reason = $4, satisfaction_at = $5
             WHERE account_id = $1 AND id = $2",
            params![account_id, conversation_id, next.value.as_str(), next.negative_reason, at],
        )
        .await?;
    }
    Ok((row.get(3)?, row.get(4)?))
}
