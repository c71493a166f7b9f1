//! Reads for the analytics figures. Figures come from the
//! rollups where a grain answers the filters (see [`crate::domain::rollup`]),
//! else straight from the signal tables; the domain turns the counts into
//! figures.

use crate::{
    domain::{
        Timestamp,
        access::Scope,
        analytics::{
            BUCKET_MS, Filters, GroupBy, Grouping, OverviewFacts, QuestionTotal, RatingBucket, ThumbBucket, VoteTotals,
        },
        csat::QuestionCode,
        feedback::FeedbackType,
        ids::LocaleFilter,
        rollup::{
            ANY, Counting, Grain, bucket_of, from_key_part, key_part, ranges_for, rating_micros, signal_grain,
            thumb_grain,
        },
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Row, Value, locale_matches},
    },
};

/// The parameters `$1`–`$12` every filtered figure query starts with.
fn filter_params(scope: &Scope, f: &Filters, from: Timestamp, to: Timestamp) -> Vec<Value> {
    let locale = f.locale.as_ref();
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
        to,
        locale.map(|l| l.exact().to_owned()),
        locale.map(LocaleFilter::narrower)
    ]
    .to_vec()
}

/// The condition of the language filter (`$11`, `$12`) on the conversation
/// `v`, or, where `v` is not joined (no language filter), the parameters
/// alone.
fn locale_condition(joined: bool) -> String {
    if joined {
        format!(" AND (CAST($11 AS TEXT) IS NULL OR {})", locale_matches("LOWER(v.locale)", "$11", "$12"))
    } else {
        " AND CAST($11 AS TEXT) IS NULL AND CAST($12 AS TEXT) IS NULL".to_owned()
    }
}

/// The `FROM … WHERE` of message feedback in the period, filtered (`f` the
/// feedback, `m` its message, `v` its conversation; parameters `$1`–`$12` as
/// [`filter_params`]). The message and the conversation are joined only when
/// a filter or a grouping needs them; an unused filter stays in the text as
/// `CAST($n AS …) IS NULL`, so that every parameter keeps a type.
fn feedback_from(f: &Filters, join_message: bool, join_conversation: bool) -> String {
    let join_message = join_message || f.filters_answers();
    let join_conversation = join_conversation || f.variant.is_some() || f.locale.is_some();
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
    sql.push_str(&locale_condition(join_conversation));
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
/// Without `timed`, the period's bounds are left for the caller to apply.
fn signal_from(table: &str, at: &str, reason: &str, f: &Filters, timed: bool) -> String {
    let mut sql = format!("FROM {table} s");
    let join_conversation = f.variant.is_some() || f.locale.is_some();
    if join_conversation {
        sql.push_str(" JOIN conversations v ON v.account_id = s.account_id AND v.id = s.conversation_id");
    }
    let period = if timed {
        format!("s.{at} >= $9 AND s.{at} < $10")
    } else {
        "CAST($9 AS BIGINT) IS NOT NULL AND CAST($10 AS BIGINT) IS NOT NULL".to_owned()
    };
    sql.push_str(&format!(
        " WHERE s.account_id = $1 AND {period}
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
    sql.push_str(if join_conversation {
        " AND (CAST($7 AS TEXT) IS NULL OR v.variant = $7)"
    } else {
        " AND CAST($7 AS TEXT) IS NULL"
    });
    sql.push_str(&locale_condition(join_conversation));
    sql
}

/// What a rollup read takes: the grain, whether it wants the rows of every
/// bot apart (`per_bot`, for grouping by bot), whether the table is
/// `thumb_rollup` (with topic and reason dimensions), and the grouping its
/// buckets are summed by, if any.
#[derive(Clone, Copy)]
struct RollupRead {
    grain: Grain,
    per_bot: bool,
    thumbs: bool,
    grouping: Option<Grouping>,
}

/// A rollup's rows that meet `condition` and are in `range` (one range of
/// a series, see [`rollup_where`]), with only `columns`, as a subquery (`r`):
/// its folded rows and the changes still pending (see [`super::rollups`]).
/// One statement reads both tables at one moment, so a fold in between can
/// neither count a change twice nor miss it. Naming only the columns a read
/// needs keeps the keys' text out of the union: through a view of every
/// column the same reads took about three times as long.
fn rollup_rows(table: &str, columns: &str, condition: &str, range: &str) -> String {
    format!(
        "(SELECT {columns} FROM {table} WHERE {condition} AND {range}
          UNION ALL SELECT {columns} FROM {table}_pending WHERE {condition} AND {range}) r"
    )
}

/// A read planned ahead of running it: its statement and how its rows turn
/// into the answer, or the answer itself when nothing can match. Planned
/// reads that do not depend on each other run together
/// ([`Conn::query_many`]): on PostgreSQL in one round trip.
enum Planned<T> {
    Ready(T),
    Query { sql: String, params: Vec<Value>, decode: Decode<T> },
}

/// How a planned read's rows become its answer.
type Decode<T> = Box<dyn FnOnce(&[Row]) -> Result<T, StoreError> + Send>;

impl<T> Planned<T> {
    fn query(
        sql: String,
        params: Vec<Value>,
        decode: impl FnOnce(&[Row]) -> Result<T, StoreError> + Send + 'static,
    ) -> Self {
        Self::Query { sql, params, decode: Box::new(decode) }
    }

    /// The statement to run, if any.
    fn statement(&self) -> Option<(&str, &[Value])> {
        match self {
            Self::Ready(_) => None,
            Self::Query { sql, params, .. } => Some((sql, params)),
        }
    }

    /// The answer, from the next rows of `results` if this read had a statement.
    fn finish(self, results: &mut impl Iterator<Item = Vec<Row>>) -> Result<T, StoreError> {
        match self {
            Self::Ready(answer) => Ok(answer),
            Self::Query { decode, .. } => {
                decode(&results.next().ok_or_else(|| StoreError::other("a planned read had no result"))?)
            }
        }
    }
}

/// A rollup's two `amounts` over its rows that meet `condition` in `range`,
/// summed per span of `grouping` (in Rust: the rows come in bucket order
/// from each table, and a `GROUP BY` of the span would sort them).
fn rollup_series<T: 'static>(
    table: &str,
    amounts: &str,
    (condition, range): (&str, &str),
    params: Vec<Value>,
    grouping: Grouping,
    each: fn(i64, [i64; 2]) -> T,
) -> Planned<Vec<T>> {
    let columns = format!("bucket, {amounts}");
    let sql = format!("SELECT {columns} FROM {}", rollup_rows(table, &columns, condition, range));
    Planned::query(sql, params, move |rows| {
        let counts =
            rows.iter().map(|r| Ok((r.get(0)?, [r.get(1)?, r.get(2)?]))).collect::<Result<Vec<_>, StoreError>>()?;
        Ok(grouping.sum(counts).into_iter().map(|(bucket, amounts)| each(bucket, amounts)).collect())
    })
}

/// The sums of a rollup's `columns` over its rows that meet `condition` in
/// any of `ranges`, per value of `key` if any (the key first), from both
/// tables like [`rollup_rows`]. Each range of the folded rows is summed on
/// its own (one index range each; an `OR` of them reads every span of the
/// key) and the pending rows, which are read whole anyway, once; the sums
/// are then added, so a `GROUP BY` of the key follows the index instead of
/// sorting the union.
fn rollup_sums(table: &str, key: Option<&str>, columns: &[&str], condition: &str, ranges: &[String]) -> String {
    let (select_key, group) =
        key.map_or((String::new(), String::new()), |k| (format!("{k}, "), format!(" GROUP BY {k}")));
    let sums = |wrap: &dyn Fn(&str) -> String| columns.iter().map(|c| wrap(c)).collect::<Vec<_>>().join(", ");
    let inner = sums(&|c| format!("SUM({c}) AS {c}"));
    let outer = sums(&|c| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT)"));
    let mut branches: Vec<String> = ranges
        .iter()
        .map(|range| format!("SELECT {select_key}{inner} FROM {table} WHERE {condition} AND {range}{group}"))
        .collect();
    let any_range = ranges.iter().map(|r| format!("({r})")).collect::<Vec<_>>().join(" OR ");
    branches
        .push(format!("SELECT {select_key}{inner} FROM {table}_pending WHERE {condition} AND ({any_range}){group}"));
    format!("SELECT {select_key}{outer} FROM ({}) r{group}", branches.join(" UNION ALL "))
}

/// The `WHERE` of a rollup read, the ranges of rows it reads (each a
/// condition on span and bucket, see [`ranges_for`]) and their parameters,
/// or `None` when the key's bot and the filter's differ, so that nothing can
/// match. At the bot grain the rows of every bot (`per_bot`) or of the one
/// bot or all together; at the dimension grain the finest rows, filtered.
fn rollup_where(
    scope: &Scope,
    f: &Filters,
    read: RollupRead,
    (from, to): (Timestamp, Timestamp),
) -> Option<(String, Vec<String>, Vec<Value>)> {
    let bot = match (&scope.bot_id, &f.bot_id) {
        (Some(a), Some(b)) if a != b => return None,
        (Some(b), _) | (None, Some(b)) => Some(b.as_str().to_owned()),
        (None, None) => None,
    };
    let mut params = params![&scope.account_id].to_vec();
    let mut sql = String::from("account_id = $1");
    let mut push = |sql: &mut String, clause: &str, value: Value| {
        params.push(value);
        sql.push_str(&format!(" AND {clause} ${}", params.len()));
    };
    match read.grain {
        Grain::Bot => {
            sql.push_str(" AND variant = '*' AND locale = '*'");
            if read.thumbs {
                sql.push_str(" AND topic = '*' AND has_reason = -1");
            }
            match bot {
                Some(b) => push(&mut sql, "bot_id =", b.into()),
                None if read.per_bot => sql.push_str(" AND bot_id <> '*'"),
                None => push(&mut sql, "bot_id =", ANY.into()),
            }
        }
        Grain::Dimensions => {
            sql.push_str(" AND variant <> '*'");
            if let Some(b) = bot {
                push(&mut sql, "bot_id =", b.into());
            }
            if let Some(v) = &f.variant {
                push(&mut sql, "variant =", key_part(Some(v)).into());
            }
            if read.thumbs {
                if let Some(t) = &f.topic {
                    push(&mut sql, "topic =", key_part(Some(t)).into());
                }
                if let Some(r) = f.has_reason {
                    push(&mut sql, "has_reason =", r.into());
                }
            }
            if let Some(l) = &f.locale {
                // `=fr` or `=fr-…` (see `locale_part`).
                params.extend([key_part(Some(l.exact())).into(), key_part(Some(&l.narrower())).into()]);
                let n = params.len();
                sql.push_str(&format!(" AND {}", locale_matches("locale", &format!("${}", n - 1), &format!("${n}"))));
            }
        }
    }
    let ranges = ranges_for(read.grain, from.0, to.0, read.grouping);
    let ranges = ranges
        .into_iter()
        .map(|(span, lo, hi)| {
            params.extend([span.into(), lo.into(), hi.into()]);
            let n = params.len();
            format!("span = ${} AND bucket >= ${} AND bucket < ${n}", n - 2, n - 1)
        })
        .collect();
    Some((sql, ranges, params))
}

/// Thumbs per span of `grouping`.
fn thumbs_by_bucket(
    scope: &Scope,
    f: &Filters,
    (from, to): (Timestamp, Timestamp),
    grouping: Grouping,
    counting: Counting,
) -> Planned<Vec<ThumbBucket>> {
    if let (Counting::Rollups, Some(grain)) = (counting, thumb_grain(f, from.0, to.0)) {
        let read = RollupRead { grain, per_bot: false, thumbs: true, grouping: Some(grouping) };
        let Some((w, ranges, params)) = rollup_where(scope, f, read, (from, to)) else {
            return Planned::Ready(Vec::new());
        };
        return rollup_series("thumb_rollup", "up, down", (&w, &ranges[0]), params, grouping, |bucket, [up, down]| {
            ThumbBucket { bucket, up, down }
        });
    }
    let sql = format!(
        "SELECT {g},
            CAST(SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END) AS BIGINT),
            CAST(SUM(CASE WHEN f.feedback_type = 'negative' THEN 1 ELSE 0 END) AS BIGINT)
         {from}
         GROUP BY {g}",
        g = grouping.sql(&format!("f.submitted_at / {BUCKET_MS} * {BUCKET_MS}")),
        from = feedback_from(f, false, false)
    );
    Planned::query(sql, filter_params(scope, f, from, to), |rows| {
        rows.iter().map(|r| Ok(ThumbBucket { bucket: r.get(0)?, up: r.get(1)?, down: r.get(2)? })).collect()
    })
}

/// Conversation ratings per bucket: each conversation's answers averaged,
/// counted at its latest answer.
fn ratings(
    scope: &Scope,
    f: &Filters,
    (from, to): (Timestamp, Timestamp),
    grouping: Grouping,
    counting: Counting,
) -> Planned<Vec<RatingBucket>> {
    if let (Counting::Rollups, Some(grain)) = (counting, signal_grain(f, from.0, to.0)) {
        let read = RollupRead { grain, per_bot: false, thumbs: false, grouping: Some(grouping) };
        let Some((w, ranges, params)) = rollup_where(scope, f, read, (from, to)) else {
            return Planned::Ready(Vec::new());
        };
        let w = format!("{w} AND question_code = ''");
        return rollup_series(
            "csat_rollup",
            "total, count",
            (&w, &ranges[0]),
            params,
            grouping,
            |bucket, [micros, count]| RatingBucket { bucket, micros, count },
        );
    }
    // A conversation whose latest answer is in the period has an answer at
    // or after its start: that narrows the conversations to look at.
    let sql = format!(
        "SELECT MAX(s.answered_at), CAST(SUM(s.score) AS BIGINT), COUNT(*)
         {from}
           AND s.conversation_id IN (SELECT a.conversation_id FROM csat_answers a
                                     WHERE a.account_id = $1 AND a.answered_at >= $9)
         GROUP BY s.conversation_id
         HAVING MAX(s.answered_at) >= $9 AND MAX(s.answered_at) < $10",
        from = signal_from("csat_answers", "answered_at", "negative_reason", f, false)
    );
    Planned::query(sql, filter_params(scope, f, from, to), move |rows| {
        let mut buckets: std::collections::BTreeMap<i64, (i64, i64)> = std::collections::BTreeMap::new();
        for r in rows {
            let e = buckets.entry(grouping.group(bucket_of(r.get(0)?))).or_default();
            e.0 += rating_micros(r.get(1)?, r.get(2)?);
            e.1 += 1;
        }
        Ok(buckets.into_iter().map(|(bucket, (micros, count))| RatingBucket { bucket, micros, count }).collect())
    })
}

/// Each CSAT question's answers in the period.
fn questions(
    scope: &Scope,
    f: &Filters,
    from: Timestamp,
    to: Timestamp,
    counting: Counting,
) -> Planned<Vec<QuestionTotal>> {
    let (sql, params) = if let (Counting::Rollups, Some(grain)) = (counting, signal_grain(f, from.0, to.0)) {
        let read = RollupRead { grain, per_bot: false, thumbs: false, grouping: None };
        let Some((w, ranges, params)) = rollup_where(scope, f, read, (from, to)) else {
            return Planned::Ready(Vec::new());
        };
        let codes = QuestionCode::ALL.map(|q| format!("'{}'", q.as_str())).join(", ");
        let condition = format!("{w} AND question_code IN ({codes})");
        (rollup_sums("csat_rollup", Some("question_code"), &["total", "count"], &condition, &ranges), params)
    } else {
        let sql = format!(
            "SELECT s.question_code, CAST(SUM(s.score) AS BIGINT), COUNT(*) {} GROUP BY s.question_code",
            signal_from("csat_answers", "answered_at", "negative_reason", f, true)
        );
        (sql, filter_params(scope, f, from, to))
    };
    Planned::query(sql, params, |rows| {
        rows.iter()
            .map(|r| Ok(QuestionTotal { question_code: r.get(0)?, total: r.get(1)?, count: r.get(2)? }))
            .collect()
    })
}

fn vote_totals(scope: &Scope, f: &Filters, from: Timestamp, to: Timestamp, counting: Counting) -> Planned<VoteTotals> {
    let (sql, params) = if let (Counting::Rollups, Some(grain)) = (counting, signal_grain(f, from.0, to.0)) {
        let read = RollupRead { grain, per_bot: false, thumbs: false, grouping: None };
        let Some((w, ranges, params)) = rollup_where(scope, f, read, (from, to)) else {
            return Planned::Ready(VoteTotals::default());
        };
        (rollup_sums("vote_rollup", None, &["up", "down", "value_sum"], &w, &ranges), params)
    } else {
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(CASE WHEN s.direction = 'up' THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN s.direction = 'down' THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(s.value), 0) AS BIGINT)
             {}",
            signal_from("votes", "created_at", "reason", f, true)
        );
        (sql, filter_params(scope, f, from, to))
    };
    Planned::query(sql, params, |rows| {
        let row = rows.first().ok_or_else(|| StoreError::other("an aggregate returned no row"))?;
        Ok(VoteTotals { upvotes: row.get(0)?, downvotes: row.get(1)?, value_sum: row.get(2)? })
    })
}

/// The overview's six reads: thumbs and ratings per span for the period
/// (`from`–`to`) and the one before it (`previous_from`–`from`), the CSAT
/// questions and the votes. They do not depend on each other, so they run
/// together.
pub(super) async fn overview_facts(
    c: &mut impl Conn,
    scope: &Scope,
    f: &Filters,
    (previous_from, from, to): (Timestamp, Timestamp, Timestamp),
    grouping: Grouping,
    counting: Counting,
) -> Result<OverviewFacts, StoreError> {
    let (now, before) = ((from, to), (previous_from, from));
    let (thumbs, previous_thumbs) =
        (thumbs_by_bucket(scope, f, now, grouping, counting), thumbs_by_bucket(scope, f, before, grouping, counting));
    let (ratings, previous_ratings) =
        (ratings(scope, f, now, grouping, counting), ratings(scope, f, before, grouping, counting));
    let (questions, votes) = (questions(scope, f, from, to, counting), vote_totals(scope, f, from, to, counting));
    let mut results = {
        let statements: Vec<_> = [
            thumbs.statement(),
            previous_thumbs.statement(),
            ratings.statement(),
            previous_ratings.statement(),
            questions.statement(),
            votes.statement(),
        ]
        .into_iter()
        .flatten()
        .collect();
        c.query_many(&statements).await?.into_iter()
    };
    Ok(OverviewFacts {
        thumbs: thumbs.finish(&mut results)?,
        previous_thumbs: previous_thumbs.finish(&mut results)?,
        ratings: ratings.finish(&mut results)?,
        previous_ratings: previous_ratings.finish(&mut results)?,
        questions: questions.finish(&mut results)?,
        votes: votes.finish(&mut results)?,
    })
}

pub(super) async fn compare_groups(
    c: &mut impl Conn,
    scope: &Scope,
    f: &Filters,
    from: Timestamp,
    to: Timestamp,
    group_by: GroupBy,
    counting: Counting,
) -> Result<Vec<(Option<String>, i64, i64)>, StoreError> {
    if let (Counting::Rollups, Some(grain)) = (counting, thumb_grain(f, from.0, to.0)) {
        // Variants and topics are only at the finest grain.
        let (grain, key) = match group_by {
            GroupBy::Bot => (grain, "bot_id"),
            GroupBy::Variant => (Grain::Dimensions, "variant"),
            GroupBy::Topic => (Grain::Dimensions, "topic"),
            GroupBy::Locale => (Grain::Dimensions, "locale"),
        };
        let read = RollupRead { grain, per_bot: true, thumbs: true, grouping: None };
        let Some((w, ranges, params)) = rollup_where(scope, f, read, (from, to)) else { return Ok(Vec::new()) };
        let rows = c.query(&rollup_sums("thumb_rollup", Some(key), &["up", "down"], &w, &ranges), &params).await?;
        return rows
            .iter()
            .map(|r| {
                let k: String = r.get(0)?;
                let k = if group_by == GroupBy::Bot { Some(k) } else { from_key_part(&k) };
                let (up, down): (i64, i64) = (r.get(1)?, r.get(2)?);
                Ok((k, up + down, up))
            })
            .filter(|g| !matches!(g, Ok((_, 0, _))))
            .collect();
    }
    let key = match group_by {
        GroupBy::Variant => "v.variant",
        GroupBy::Bot => "f.bot_id",
        GroupBy::Topic => "m.topic",
        GroupBy::Locale => "LOWER(v.locale)",
    };
    let rows = c
        .query(
            &format!(
                "SELECT {key}, COUNT(*), CAST(SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END) AS BIGINT)
                 {from}
                 GROUP BY {key}",
                from = feedback_from(
                    f,
                    group_by == GroupBy::Topic,
                    matches!(group_by, GroupBy::Variant | GroupBy::Locale)
                )
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
                   AND f.reason IS NOT NULL AND f.feedback_type = $13
                 GROUP BY f.reason",
                from = feedback_from(f, false, false)
            ),
            &params,
        )
        .await?;
    rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads that need no statement take no result: each planned read gets
    /// the rows of its own statement, whatever was ready around it.
    #[test]
    fn planned_reads_take_the_results_of_their_own_statements() {
        let count = |rows: &[Row]| rows.first().map_or(Ok(-1), |r| r.get::<i64>(0));
        let plans = [
            Planned::query("first".into(), Vec::new(), count),
            Planned::Ready(7),
            Planned::query("second".into(), Vec::new(), count),
            Planned::query("third".into(), Vec::new(), count),
        ];
        let statements: Vec<&str> = plans.iter().filter_map(Planned::statement).map(|(sql, _)| sql).collect();
        assert_eq!(statements, ["first", "second", "third"]);
        let mut results = vec![vec![Row(vec![Value::Int(1)])], Vec::new(), vec![Row(vec![Value::Int(3)])]].into_iter();
        let answers: Vec<i64> = plans.into_iter().map(|p| p.finish(&mut results).unwrap()).collect();
        assert_eq!(answers, [1, 7, -1, 3]);
        // A statement without its result is an error, not a wrong answer.
        let missing = Planned::query("fourth".into(), Vec::new(), count).finish(&mut results);
        assert!(missing.is_err());
    }
}
