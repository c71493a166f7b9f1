//! Keeping the rollups (see [`crate::domain::rollup`]) in step with the
//! signals, inside the transaction that changes them.
//!
//! A write that can change what a message or a conversation counts for knows
//! its change from the records in hand, or reads that contribution before and
//! after itself ([`Moves`]). The difference is appended to the rollups' pending rows once,
//! at the end of the unit of work (on SQLite, of the whole group commit); a
//! fold, about once a second, adds the pending rows to the rollup rows. A
//! write so never waits on, nor rewrites, the few rows of the current bucket
//! that every other write of the moment also changes. Reads count both, in
//! one statement (see `analytics::rollup_rows`).

use crate::{
    domain::{
        feedback::FeedbackType,
        rollup::{AnswerFact, Contribution, Rows, ThumbFact, VoteFact},
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Dialect, Value, runs_of, typed_value_rows, value_rows},
    },
};

/// What a write can change the contribution of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// The thumbs on one message (its topic may change).
    Message(String),
    /// The signals of a conversation, of the kinds named.
    Conversation { id: String, thumbs: bool, votes: bool, answers: bool },
}

impl Target {
    /// Every signal of a conversation (its variant may change).
    pub(super) fn conversation(id: &str) -> Self {
        Self::Conversation { id: id.to_owned(), thumbs: true, votes: true, answers: true }
    }

    /// A conversation's CSAT answers.
    pub(super) fn answers_of(id: &str) -> Self {
        Self::Conversation { id: id.to_owned(), thumbs: false, votes: false, answers: true }
    }
}

/// A change to the rollups a write finds by reading what its target counts
/// for before and after itself: for writes that move signals between
/// variants or topics (metadata edits) or replace them (a changed CSAT
/// answer), rather than adding records they hold in hand.
pub(super) struct Moves {
    target: Target,
    before: Contribution,
}

impl Moves {
    /// What `target` counts for before the write.
    pub(super) async fn before(c: &mut impl Conn, account_id: &str, target: Target) -> Result<Self, StoreError> {
        let before = contribution(c, account_id, &target).await?;
        Ok(Self { target, before })
    }

    /// Adds what the write changed to `pending`. An edit of something that
    /// counted for nothing before moves nothing, and reads nothing again.
    pub(super) async fn after(
        self,
        c: &mut impl Conn,
        account_id: &str,
        pending: &mut Rows,
        edit: bool,
    ) -> Result<(), StoreError> {
        if edit && self.before == Contribution::default() {
            return Ok(());
        }
        let after = contribution(c, account_id, &self.target).await?;
        pending.absorb(Rows::of(&after).minus(&Rows::of(&self.before)));
        Ok(())
    }
}

/// The change that takes away everything `target` counts for now: for
/// records about to be erased as if they had never been.
pub(super) async fn withdraw(c: &mut impl Conn, account_id: &str, target: &Target) -> Result<Rows, StoreError> {
    Ok(Rows::default().minus(&Rows::of(&contribution(c, account_id, target).await?)))
}

/// What `target` counts for now.
async fn contribution(c: &mut impl Conn, account_id: &str, target: &Target) -> Result<Contribution, StoreError> {
    let mut out = Contribution::default();
    // The column of `messages` that picks the target's messages.
    let (message_column, id, thumbs, votes, answers) = match target {
        Target::Message(id) => ("id", id, true, false, false),
        Target::Conversation { id, thumbs, votes, answers } => ("conversation_id", id, *thumbs, *votes, *answers),
    };
    if thumbs {
        // Found through the messages (by id, or by conversation) and the
        // feedback's key (account, message, user): feedback has no index by
        // conversation, and both planners otherwise scanned all of the
        // account's feedback for a conversation that exists.
        let rows = c
            .query(
                &format!(
                    "SELECT f.bot_id, v.variant, m.topic, CASE WHEN f.reason IS NULL THEN 0 ELSE 1 END,
                            f.feedback_type, f.submitted_at, f.conversation_id, v.locale
                     FROM message_feedback f
                     JOIN messages m ON m.account_id = f.account_id AND m.id = f.message_id
                     JOIN conversations v ON v.account_id = f.account_id AND v.id = f.conversation_id
                     WHERE f.account_id = $1 AND f.retracted_at IS NULL
                       AND f.message_id IN (SELECT id FROM messages WHERE account_id = $1 AND {message_column} = $2)"
                ),
                params![account_id, id],
            )
            .await?;
        for r in &rows {
            let kind: String = r.get(4)?;
            out.thumbs.push(ThumbFact {
                conversation_id: r.get(6)?,
                bot_id: r.get(0)?,
                variant: r.get(1)?,
                locale: r.get(7)?,
                topic: r.get(2)?,
                has_reason: r.get::<i64>(3)? == 1,
                positive: kind == FeedbackType::Positive.as_str(),
                at: r.get(5)?,
            });
        }
    }
    if votes {
        let rows = c
            .query(
                "SELECT s.bot_id, v.variant, s.direction, s.value, s.created_at, v.locale
                 FROM votes s JOIN conversations v ON v.account_id = s.account_id AND v.id = s.conversation_id
                 WHERE s.account_id = $1 AND s.conversation_id = $2",
                params![account_id, id],
            )
            .await?;
        for r in &rows {
            let direction: String = r.get(2)?;
            out.votes.push(VoteFact {
                bot_id: r.get(0)?,
                variant: r.get(1)?,
                locale: r.get(5)?,
                up: direction == "up",
                value: r.get(3)?,
                at: r.get(4)?,
            });
        }
    }
    if answers {
        let rows = c
            .query(
                "SELECT s.conversation_id, s.bot_id, v.variant, s.question_code, s.score, s.answered_at, v.locale
                 FROM csat_answers s JOIN conversations v ON v.account_id = s.account_id AND v.id = s.conversation_id
                 WHERE s.account_id = $1 AND s.conversation_id = $2",
                params![account_id, id],
            )
            .await?;
        for r in &rows {
            out.answers.push(AnswerFact {
                conversation_id: r.get(0)?,
                bot_id: r.get(1)?,
                variant: r.get(2)?,
                locale: r.get(6)?,
                question_code: r.get(3)?,
                score: r.get(4)?,
                at: r.get(5)?,
            });
        }
    }
    Ok(out)
}

/// Rows a statement: well under both engines' limits on parameters.
const CHUNK: usize = 400;

/// The rollup changes of a transaction's units, per account, written once
/// just before it commits ([`flush`]).
type Pending = std::collections::BTreeMap<String, Rows>;

/// Adds `rows` to what the transaction adds to the conversations' counts and
/// appends to the rollups' pending rows, just before it commits ([`flush`],
/// the engine's `before_commit`): on SQLite, once for the units of a whole
/// commit group.
pub(super) fn add(c: &mut impl Conn, account_id: &str, rows: Rows) {
    if rows.is_empty() {
        return;
    }
    let pending = c.tx_local().get_or_default::<Pending>();
    match pending.get_mut(account_id) {
        Some(gathered) => gathered.absorb(rows),
        None => {
            pending.insert(account_id.to_owned(), rows);
        }
    }
}

/// Writes the rollup changes the transaction's units gathered with [`add`].
pub(super) async fn flush(c: &mut impl Conn) -> Result<(), StoreError> {
    for (account_id, rows) in c.tx_local().take::<Pending>() {
        write(c, &account_id, &rows).await?;
    }
    Ok(())
}

async fn write(c: &mut impl Conn, account_id: &str, rows: &Rows) -> Result<(), StoreError> {
    let counts: Vec<(&String, &[i64; 3])> = rows.conversations.iter().collect();
    if counts.len() > 1 && c.dialect() == Dialect::Postgres {
        // Many conversations (a batch of thumbs) in a few statements: each
        // is a round of the server's work, where a row is little. In key
        // order, as everywhere, so that concurrent batches lock them in the
        // same order.
        for run in runs_of(&counts, CHUNK) {
            // Typed, for PostgreSQL to add them to the counts.
            let rows = typed_value_rows(2, &["", "BIGINT", "BIGINT", "BIGINT"], run.len());
            let params: Vec<Value> = std::iter::once(Value::from(account_id))
                .chain(run.iter().flat_map(|(id, [up, down, messages])| {
                    [Value::from(id.as_str()), Value::Int(*up), Value::Int(*down), Value::Int(*messages)]
                }))
                .collect();
            c.execute_later(
                &format!(
                    "UPDATE conversations AS c SET thumbs_up = c.thumbs_up + v.column2,
                         thumbs_down = c.thumbs_down + v.column3, message_count = c.message_count + v.column4
                     FROM (VALUES {rows}) AS v
                     WHERE c.account_id = $1 AND c.id = v.column1"
                ),
                &params,
            )
            .await?;
        }
    } else {
        for (id, [up, down, messages]) in counts {
            c.execute_later(
                "UPDATE conversations SET thumbs_up = thumbs_up + $3, thumbs_down = thumbs_down + $4,
                     message_count = message_count + $5
                 WHERE account_id = $1 AND id = $2",
                params![account_id, id, *up, *down, *messages],
            )
            .await?;
        }
    }
    let [thumbs, votes, csat] = &TABLES;
    append(
        c,
        thumbs,
        rows.thumbs.iter().map(|(k, [up, down])| {
            params![account_id, &k.bot_id, &k.variant, &k.topic, k.has_reason, &k.locale, k.span, k.bucket, *up, *down]
                .to_vec()
        }),
    )
    .await?;
    append(
        c,
        votes,
        rows.votes.iter().map(|(k, [up, down, value])| {
            params![account_id, &k.bot_id, &k.variant, &k.locale, k.span, k.bucket, *up, *down, *value].to_vec()
        }),
    )
    .await?;
    append(
        c,
        csat,
        rows.csat.iter().map(|(k, [total, count])| {
            params![account_id, &k.bot_id, &k.variant, &k.question_code, &k.locale, k.span, k.bucket, *total, *count]
                .to_vec()
        }),
    )
    .await
}

/// A rollup table: its name, its key, and the amounts summed per key. Its
/// pending changes are in `{name}_pending`, and `{name}_all` reads both.
struct Table {
    name: &'static str,
    key: &'static str,
    amounts: &'static [&'static str],
}

const TABLES: [Table; 3] = [
    Table {
        name: "thumb_rollup",
        key: "account_id, bot_id, variant, topic, has_reason, locale, span, bucket",
        amounts: &["up", "down"],
    },
    Table {
        name: "vote_rollup",
        key: "account_id, bot_id, variant, locale, span, bucket",
        amounts: &["up", "down", "value_sum"],
    },
    Table {
        name: "csat_rollup",
        key: "account_id, bot_id, variant, question_code, locale, span, bucket",
        amounts: &["total", "count"],
    },
];

/// Appends changes to a table's pending rows, in multi-row `INSERT`s: an
/// append touches the table's last page, where adding to the rollup rows
/// themselves touched a page per key, and locked each row until commit.
async fn append(c: &mut impl Conn, table: &Table, rows: impl Iterator<Item = Vec<Value>>) -> Result<(), StoreError> {
    let rows: Vec<Vec<Value>> = rows.collect();
    for chunk in runs_of(&rows, CHUNK) {
        let values = value_rows(1, chunk[0].len(), chunk.len());
        let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
        c.execute_later(
            &format!(
                "INSERT INTO {}_pending ({}, {}) VALUES {}",
                table.name,
                table.key,
                table.amounts.join(", "),
                values
            ),
            &params,
        )
        .await?;
    }
    Ok(())
}

/// Pending rows of each table that one fold on SQLite moves at most.
pub(super) const FOLD_CHUNK: i64 = 2_000;

/// Adds pending changes to the rollup rows and deletes them, in key order
/// (so that concurrent folds lock rollup rows in the same order). Readers see
/// the same sums before and after: a read counts both tables in one
/// statement, and the fold commits as one transaction. On PostgreSQL a fold
/// moves every pending row. On SQLite it moves the oldest [`FOLD_CHUNK`] of
/// each table: a fold runs on the one writer, and every write queued behind
/// it waits for it, so a second's changes are folded in a few short steps
/// rather than one long one. Returns the pending rows folded, and whether
/// some may be left.
pub(super) async fn fold(c: &mut impl Conn) -> Result<(u64, bool), StoreError> {
    let (mut folded, mut more) = (0, false);
    for t in &TABLES {
        let (name, key) = (t.name, t.key);
        let columns = format!("{key}, {}", t.amounts.join(", "));
        let sums: Vec<String> = t.amounts.iter().map(|a| format!("CAST(SUM({a}) AS BIGINT)")).collect();
        let sums = sums.join(", ");
        let add: Vec<String> = t.amounts.iter().map(|a| format!("{a} = {name}.{a} + excluded.{a}")).collect();
        let add = add.join(", ");
        folded += match c.dialect() {
            // Deletes exactly the rows it sums: a change committed meanwhile
            // stays pending for the next fold.
            Dialect::Postgres => c
                .query(
                    &format!(
                        "WITH moved AS (DELETE FROM {name}_pending RETURNING {columns}),
                              summed AS (INSERT INTO {name} ({columns})
                                         SELECT {key}, {sums} FROM moved GROUP BY {key} ORDER BY {key}
                                         ON CONFLICT ({key}) DO UPDATE SET {add})
                         SELECT COUNT(*) FROM moved"
                    ),
                    &[],
                )
                .await?[0]
                .get::<i64>(0)?
                .unsigned_abs(),
            // One writer: nothing can be added between the statements. Rows
            // are appended in rowid order, so the oldest come first.
            Dialect::Sqlite => {
                let last = c
                    .query_opt(
                        &format!("SELECT rowid FROM {name}_pending ORDER BY rowid LIMIT 1 OFFSET $1"),
                        params![FOLD_CHUNK - 1],
                    )
                    .await?;
                more |= last.is_some();
                let last = last.map_or(Ok(i64::MAX), |r| r.get::<i64>(0))?;
                c.execute(
                    &format!(
                        "INSERT INTO {name} ({columns})
                         SELECT {key}, {sums} FROM {name}_pending WHERE rowid <= $1 GROUP BY {key} ORDER BY {key}
                         ON CONFLICT ({key}) DO UPDATE SET {add}"
                    ),
                    params![last],
                )
                .await?;
                c.execute(&format!("DELETE FROM {name}_pending WHERE rowid <= $1"), params![last]).await?
            }
        };
    }
    Ok((folded, more))
}

/// Reclaims the space of the pending rows a fold deleted, outside any
/// transaction. On PostgreSQL a deleted row stays in the table until a
/// vacuum, and a fold reads the whole table: left to autovacuum (which runs
/// a minute apart at best, and not at all where it is turned off), the
/// pending tables grew to thousands of pages of dead rows that every fold
/// scanned again, and the folds came to take most of the database's time.
/// `SKIP_LOCKED`: an instance whose neighbour is vacuuming leaves it to it.
/// SQLite reuses a deleted row's space at once.
pub(super) async fn tidy(c: &mut impl Conn) -> Result<(), StoreError> {
    if c.dialect() == Dialect::Postgres {
        let tables: Vec<String> = TABLES.iter().map(|t| format!("{}_pending", t.name)).collect();
        c.batch(&format!("VACUUM (SKIP_LOCKED) {}", tables.join(", "))).await?;
    }
    Ok(())
}
