//! Reads for the inbox and the analytics figures. They count straight from
//! the signal tables, filtered; the domain turns the counts into figures.

use super::conversations::conversation_from;
use crate::{
    domain::{
        Timestamp,
        access::Scope,
        analytics::{BUCKET_MS, CsatFact, Filters, GroupBy, InboxFilter, ThumbBucket, VoteTotals},
        feedback::FeedbackType,
        page::{Cursor, Page, PageRequest},
    },
    params,
    store::{
        ConversationRow, StoreError,
        sql::{Conn, Value},
    },
};

/// The parameters `$1`–`$8` every filtered figure query starts with.
fn filter_params(scope: &Scope, f: &Filters, from: Timestamp, to: Timestamp) -> Vec<Value> {
    params![
        &scope.account_id,
        scope.bot_id.as_ref(),
        f.bot_id.as_ref(),
        f.topic.as_deref(),
        f.min_confidence,
        f.max_confidence,
        f.variant.as_deref(),
        f.has_reason,
        from,
        to
    ]
    .to_vec()
}

/// The `FROM … WHERE` of message feedback in the period, filtered (`f` the
/// feedback, `m` its message, `v` its conversation; parameters `$1`–`$10` as
/// [`filter_params`]). The message and the conversation are joined only when
/// a filter or a grouping needs them; an unused filter stays in the text as
/// `CAST($n AS …) IS NULL`, so that every parameter keeps a type.
fn feedback_from(f: &Filters, join_message: bool, join_conversation: bool) -> String {
    let join_message = join_message || f.filters_answers();
    let join_conversation = join_conversation || f.variant.is_some();
    let mut sql = String::from("FROM message_feedback f");
    if join_message {
        sql.push_str(" JOIN messages m ON m.account_id = f.account_id AND m.id = f.message_id");
    }
    if join_conversation {
        sql.push_str(" JOIN conversations v ON v.account_id = f.account_id AND v.id = f.conversation_id");
    }
    sql.push_str(
        " WHERE f.account_id = $1 AND f.retracted_at IS NULL
          AND (CAST($2 AS TEXT) IS NULL OR f.bot_id = $2)
          AND (CAST($3 AS TEXT) IS NULL OR f.bot_id = $3)",
    );
    sql.push_str(if join_message {
        " AND (CAST($4 AS TEXT) IS NULL OR m.topic = $4)
          AND (CAST($5 AS DOUBLE PRECISION) IS NULL OR m.confidence >= $5)
          AND (CAST($6 AS DOUBLE PRECISION) IS NULL OR m.confidence <= $6)"
    } else {
        " AND CAST($4 AS TEXT) IS NULL AND CAST($5 AS DOUBLE PRECISION) IS NULL AND CAST($6 AS DOUBLE PRECISION) IS NULL"
    });
    sql.push_str(if join_conversation {
        " AND (CAST($7 AS TEXT) IS NULL OR v.variant = $7)"
    } else {
        " AND CAST($7 AS TEXT) IS NULL"
    });
    sql.push_str(
        " AND (CAST($8 AS BIGINT) IS NULL OR (CASE WHEN f.reason IS NULL THEN 0 ELSE 1 END) = $8)
          AND f.submitted_at >= $9 AND f.submitted_at < $10",
    );
    sql
}

/// The `FROM … WHERE` of a conversation-level signal table (alias `s`, with
/// `bot_id`, `conversation_id`, the time column `at` and the reason column
/// `reason`), filtered like [`feedback_from`]: topic and confidence select
/// conversations with an answer that matches.
fn signal_from(table: &str, at: &str, reason: &str, f: &Filters) -> String {
    let mut sql = format!("FROM {table} s");
    if f.variant.is_some() {
        sql.push_str(" JOIN conversations v ON v.account_id = s.account_id AND v.id = s.conversation_id");
    }
    sql.push_str(&format!(
        " WHERE s.account_id = $1 AND s.{at} >= $9 AND s.{at} < $10
          AND (CAST($2 AS TEXT) IS NULL OR s.bot_id = $2)
          AND (CAST($3 AS TEXT) IS NULL OR s.bot_id = $3)
          AND (CAST($8 AS BIGINT) IS NULL OR (CASE WHEN s.{reason} IS NULL THEN 0 ELSE 1 END) = $8)"
    ));
    sql.push_str(if f.filters_answers() {
        " AND EXISTS (SELECT 1 FROM messages m
                      WHERE m.account_id = s.account_id AND m.conversation_id = s.conversation_id
                        AND (CAST($4 AS TEXT) IS NULL OR m.topic = $4)
                        AND (CAST($5 AS DOUBLE PRECISION) IS NULL OR m.confidence >= $5)
                        AND (CAST($6 AS DOUBLE PRECISION) IS NULL OR m.confidence <= $6))"
    } else {
        " AND CAST($4 AS TEXT) IS NULL AND CAST($5 AS DOUBLE PRECISION) IS NULL AND CAST($6 AS DOUBLE PRECISION) IS NULL"
    });
    sql.push_str(if f.variant.is_some() {
        " AND (CAST($7 AS TEXT) IS NULL OR v.variant = $7)"
    } else {
        " AND CAST($7 AS TEXT) IS NULL"
    });
    sql
}

pub(super) async fn thumbs_by_bucket(
    c: &mut impl Conn,
    scope: &Scope,
    f: &Filters,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ThumbBucket>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT f.submitted_at / {BUCKET_MS},
                    CAST(SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN f.feedback_type = 'negative' THEN 1 ELSE 0 END) AS BIGINT)
                 {from}
                 GROUP BY f.submitted_at / {BUCKET_MS}",
                from = feedback_from(f, false, false)
            ),
            &filter_params(scope, f, from, to),
        )
        .await?;
    rows.iter()
        .map(|r| Ok(ThumbBucket { bucket: r.get::<i64>(0)? * BUCKET_MS, up: r.get(1)?, down: r.get(2)? }))
        .collect()
}

pub(super) async fn csat_facts(
    c: &mut impl Conn,
    scope: &Scope,
    f: &Filters,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<CsatFact>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT s.conversation_id, s.question_code, s.answered_at, s.score {}",
                signal_from("csat_answers", "answered_at", "negative_reason", f)
            ),
            &filter_params(scope, f, from, to),
        )
        .await?;
    rows.iter()
        .map(|r| Ok(CsatFact { conversation_id: r.get(0)?, question_code: r.get(1)?, at: r.get(2)?, score: r.get(3)? }))
        .collect()
}

pub(super) async fn vote_totals(
    c: &mut impl Conn,
    scope: &Scope,
    f: &Filters,
    from: Timestamp,
    to: Timestamp,
) -> Result<VoteTotals, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT CAST(COALESCE(SUM(CASE WHEN s.direction = 'up' THEN 1 ELSE 0 END), 0) AS BIGINT),
                        CAST(COALESCE(SUM(CASE WHEN s.direction = 'down' THEN 1 ELSE 0 END), 0) AS BIGINT),
                        CAST(COALESCE(SUM(s.value), 0) AS BIGINT)
                 {}",
                signal_from("votes", "created_at", "reason", f)
            ),
            &filter_params(scope, f, from, to),
        )
        .await?
        .ok_or_else(|| StoreError::Other("an aggregate returned no row".into()))?;
    Ok(VoteTotals { upvotes: row.get(0)?, downvotes: row.get(1)?, value_sum: row.get(2)? })
}

pub(super) async fn compare_groups(
    c: &mut impl Conn,
    scope: &Scope,
    f: &Filters,
    from: Timestamp,
    to: Timestamp,
    group_by: GroupBy,
) -> Result<Vec<(Option<String>, i64, i64)>, StoreError> {
    let key = match group_by {
        GroupBy::Variant => "v.variant",
        GroupBy::Bot => "f.bot_id",
        GroupBy::Topic => "m.topic",
    };
    let rows = c
        .query(
            &format!(
                "SELECT {key}, COUNT(*), CAST(SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END) AS BIGINT)
                 {from}
                 GROUP BY {key}",
                from = feedback_from(f, group_by == GroupBy::Topic, group_by == GroupBy::Variant)
            ),
            &filter_params(scope, f, from, to),
        )
        .await?;
    rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).collect()
}

pub(super) async fn reason_counts(
    c: &mut impl Conn,
    scope: &Scope,
    f: &Filters,
    from: Timestamp,
    to: Timestamp,
    feedback_type: FeedbackType,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut params = filter_params(scope, f, from, to);
    params.push(feedback_type.as_str().into());
    let rows = c
        .query(
            &format!(
                "SELECT f.reason, COUNT(*) {from}
                   AND f.reason IS NOT NULL AND f.feedback_type = $11
                 GROUP BY f.reason",
                from = feedback_from(f, false, false)
            ),
            &params,
        )
        .await?;
    rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
}

/// An inbox row's counts: messages (activity left out), positive and negative thumbs.
const INBOX_COUNTS: &str = "
    (SELECT COUNT(*) FROM messages m
      WHERE m.account_id = v.account_id AND m.conversation_id = v.id AND m.role <> 'activity'),
    (SELECT CAST(COALESCE(SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END), 0) AS BIGINT)
       FROM message_feedback f
      WHERE f.account_id = v.account_id AND f.conversation_id = v.id AND f.retracted_at IS NULL),
    (SELECT CAST(COALESCE(SUM(CASE WHEN f.feedback_type = 'negative' THEN 1 ELSE 0 END), 0) AS BIGINT)
       FROM message_feedback f
      WHERE f.account_id = v.account_id AND f.conversation_id = v.id AND f.retracted_at IS NULL)";

/// Conversations newest first, filtered, each with its counts (unless not wanted).
pub(super) async fn inbox(
    c: &mut impl Conn,
    scope: &Scope,
    filter: &InboxFilter,
    page: PageRequest,
    with_counts: bool,
) -> Result<Page<ConversationRow>, StoreError> {
    // Exports read the transcripts anyway: the counts would be work thrown away.
    let counts = if with_counts { INBOX_COUNTS } else { "0, 0, 0" };
    let (at, seq) = super::page_start(&page);
    let rows = c
        .query(
            &format!(
                "SELECT {columns}, {counts}
                 FROM conversations v
                 WHERE v.account_id = $1
                   AND (CAST($2 AS TEXT) IS NULL OR v.bot_id = $2)
                   AND (CAST($3 AS TEXT) IS NULL OR v.bot_id = $3)
                   AND (CAST($4 AS TEXT) IS NULL OR v.satisfaction = $4 OR ($4 = 'unknown' AND v.satisfaction IS NULL))
                   AND v.created_at >= $5 AND v.created_at < $6
                   AND (CAST($7 AS TEXT) IS NULL
                        OR LOWER(v.id) LIKE $7 ESCAPE '\\'
                        OR LOWER(COALESCE(v.contact_id, '')) LIKE $7 ESCAPE '\\'
                        OR EXISTS (SELECT 1 FROM messages m
                                    WHERE m.account_id = v.account_id AND m.conversation_id = v.id
                                      AND LOWER(m.content) LIKE $7 ESCAPE '\\'))
                   AND (v.created_at < $8 OR (v.created_at = $8 AND v.seq < $9))
                 ORDER BY v.created_at DESC, v.seq DESC LIMIT $10",
                columns = super::conversations::CONVERSATION_COLUMNS
            ),
            params![
                &scope.account_id,
                scope.bot_id.as_ref(),
                filter.bot_id.as_ref(),
                filter.feedback.map(|f| f.satisfaction()),
                filter.from.map_or(i64::MIN, |t| t.0),
                filter.to.map_or(i64::MAX, |t| t.0),
                filter.like_pattern(),
                at,
                seq,
                page.limit + 1
            ],
        )
        .await?;
    let rows = rows
        .iter()
        .map(|r| {
            let row = ConversationRow {
                conversation: conversation_from(r)?,
                message_count: r.get(12)?,
                thumbs_up: r.get(13)?,
                thumbs_down: r.get(14)?,
            };
            Ok((row, Cursor { at: r.get(6)?, seq: r.get(9)? }))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}
