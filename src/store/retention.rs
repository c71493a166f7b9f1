//! Retention (SPEC §16): which conversations have outlived their bot's
//! `retention_days`, and the leases by which one instance at a time runs a
//! background job.

use crate::{
    domain::{Timestamp, ids::Uuid},
    params,
    store::{StoreError, sql::Conn},
};

/// Conversation `v` has had no activity since `$3`: no message, thumb,
/// vote or CSAT answer at or after it, by their own times (a backfilled
/// history is as old as it says); `satisfaction_at` is its latest vote or
/// answer. The `+ 0` keeps the planners from walking every answer and thumb
/// since the cut by time (an index on it) instead of this conversation's.
const QUIET_SINCE_CUT: &str = "v.created_at < $3 AND (v.ended_at IS NULL OR v.ended_at < $3)
    AND (v.satisfaction_at IS NULL OR v.satisfaction_at < $3)
    AND NOT EXISTS (SELECT 1 FROM messages m
                    WHERE m.conversation_id = v.id AND m.account_id = v.account_id AND m.created_at >= $3)
    AND NOT EXISTS (SELECT 1 FROM votes s
                    WHERE s.account_id = v.account_id AND s.conversation_id = v.id AND s.created_at >= $3)
    AND NOT EXISTS (SELECT 1 FROM csat_answers s
                    WHERE s.account_id = v.account_id AND s.conversation_id = v.id AND s.answered_at + 0 >= $3)
    AND NOT EXISTS (SELECT 1 FROM message_feedback f
                    WHERE f.account_id = v.account_id AND f.submitted_at + 0 >= $3
                      AND f.message_id IN (SELECT m.id FROM messages m
                                           WHERE m.conversation_id = v.id AND m.account_id = v.account_id))";

/// Whether conversation `id` still has had no activity since `cut` (it may
/// have come back to life since it was listed).
pub(super) async fn is_expired(c: &mut impl Conn, account: &str, id: &str, cut: Timestamp) -> Result<bool, StoreError> {
    let sql = format!("SELECT 1 FROM conversations v WHERE v.account_id = $1 AND v.id = $2 AND {QUIET_SINCE_CUT}");
    Ok(c.query_opt(&sql, params![account, id, cut]).await?.is_some())
}

/// A conversation that has expired, with its place in the walk.
pub(super) struct Expired {
    pub id: String,
    pub created_at: i64,
    pub seq: i64,
    pub messages: i64,
}

/// Conversations of `bot_id` whose last activity (their latest message,
/// thumb, vote or CSAT answer) is before `cut`, oldest first, after `after`
/// (a `(created_at, seq)` place), at most `limit`. Walks the bot's
/// conversations started before the cut (none started later can have
/// expired).
pub(super) async fn expired(
    c: &mut impl Conn,
    account: &str,
    bot_id: &Uuid,
    cut: Timestamp,
    after: (i64, i64),
    limit: i64,
) -> Result<Vec<Expired>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT v.id, v.created_at, v.seq, v.message_count FROM conversations v
                 WHERE v.account_id = $1 AND v.bot_id = $2 AND v.created_at < $3
                   AND (v.created_at, v.seq) > ($4, $5) AND {QUIET_SINCE_CUT}
                 ORDER BY v.created_at, v.seq LIMIT $6"
            ),
            params![account, bot_id, cut, after.0, after.1, limit],
        )
        .await?;
    rows.iter()
        .map(|r| Ok(Expired { id: r.get(0)?, created_at: r.get(1)?, seq: r.get(2)?, messages: r.get(3)? }))
        .collect()
}

/// Every bot with a retention: its account, id and days.
pub(super) async fn bots_with_retention(c: &mut impl Conn) -> Result<Vec<(String, Uuid, i64)>, StoreError> {
    let rows = c
        .query(
            "SELECT account_id, bot_id, retention_days FROM bot_settings
             WHERE retention_days IS NOT NULL ORDER BY account_id, bot_id",
            &[],
        )
        .await?;
    rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).collect()
}

/// Takes (or renews) the lease on job `name` for `holder` until `until`, if
/// no other holder's lease is still running at `now`. Whether `holder` has it.
pub(super) async fn take_lease(
    c: &mut impl Conn,
    name: &str,
    holder: &str,
    now: Timestamp,
    until: Timestamp,
) -> Result<bool, StoreError> {
    let row = c
        .query_opt(
            "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= $4
             RETURNING holder",
            params![name, holder, until, now],
        )
        .await?;
    Ok(row.is_some())
}

/// Gives the lease on job `name` up, if `holder` has it.
pub(super) async fn release_lease(c: &mut impl Conn, name: &str, holder: &str) -> Result<(), StoreError> {
    c.execute("DELETE FROM job_leases WHERE name = $1 AND holder = $2", params![name, holder]).await.map(drop)
}
