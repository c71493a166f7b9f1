//! Knowledge gaps: counting the thumbs-down of a period by stored group,
//! the details a listing shows of a group, its members, and writing an
//! answer (a golden example).

use super::{
    bots,
    golden::{GOLDEN_COLUMNS, golden_from},
    messages::QUESTION_BEFORE,
    outbox,
};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::Scope,
        audit::{Action, Actor, AuditEntry},
        gaps::{GapAnswerInput, GapDetail, GapExample, GapKey, GapTally, MAX_EXAMPLES},
        golden::{GoldenExample, question_prompt},
        ids::{LocaleFilter, Uuid},
        page::{Cursor, Page, PageRequest},
        webhook::{Event, EventType},
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Dialect, locale_matches},
    },
};

/// Which thumbs-down of an account a gap's queries read: non-retracted
/// negative ones of the scope's bot (`$2`) and the filter's (`$3`).
const DOWN: &str = "f.account_id = $1 AND f.retracted_at IS NULL AND f.feedback_type = 'negative'
    AND (CAST($2 AS TEXT) IS NULL OR f.bot_id = $2) AND (CAST($3 AS TEXT) IS NULL OR f.bot_id = $3)";

/// The thumbs-down of `[previous_from, to)` counted by gap: by stored group,
/// and each answer not grouped yet alone (if it has a question).
pub(super) async fn tallies(
    c: &mut impl Conn,
    scope: &Scope,
    bot: Option<&Uuid>,
    (previous_from, from, to): (Timestamp, Timestamp, Timestamp),
    locale: Option<&LocaleFilter>,
) -> Result<Vec<GapTally>, StoreError> {
    if let Some(b) = bot {
        bots::get(c, scope, b).await?;
    }
    let language = "COALESCE(g.locale, LOWER(cv.locale), '')";
    let in_language = locale_matches(language, "$7", "$8");
    let rows = c
        .query(
            &format!(
                "SELECT g.group_id, CASE WHEN g.group_id IS NULL THEN f.message_id END, f.bot_id, {language},
                    COUNT(DISTINCT CASE WHEN f.submitted_at >= $6 THEN f.message_id END),
                    COUNT(DISTINCT f.message_id),
                    MIN(CASE WHEN f.submitted_at >= $6 THEN f.submitted_at END), MAX(f.submitted_at)
                 FROM message_feedback f
                 JOIN gap_questions g ON g.account_id = f.account_id AND g.message_id = f.message_id
                 JOIN messages m ON m.account_id = f.account_id AND m.id = f.message_id
                 JOIN conversations cv ON cv.account_id = m.account_id AND cv.id = m.conversation_id
                 WHERE {DOWN} AND f.submitted_at >= $4 AND f.submitted_at < $5
                   AND (g.vector IS NOT NULL OR g.represented_at IS NULL)
                   AND (g.group_id IS NOT NULL OR {QUESTION_BEFORE} IS NOT NULL)
                   AND (CAST($7 AS TEXT) IS NULL OR {in_language})
                 GROUP BY g.group_id, CASE WHEN g.group_id IS NULL THEN f.message_id END, f.bot_id, {language}"
            ),
            params![
                &scope.account_id,
                scope.bot_id.as_ref(),
                bot,
                previous_from,
                to,
                from,
                locale.map(LocaleFilter::exact),
                locale.map(LocaleFilter::narrower)
            ],
        )
        .await?;
    let mut tallies = Vec::with_capacity(rows.len());
    for mut r in rows {
        let key = match (r.take::<Option<String>>(0)?, r.take::<Option<String>>(1)?) {
            (Some(group), _) => GapKey::Group(group),
            (None, Some(message)) => GapKey::Alone(message),
            (None, None) => continue,
        };
        let (count, all): (i64, i64) = (r.get(4)?, r.get(5)?);
        let last_seen: Timestamp = r.get(7)?;
        tallies.push(GapTally {
            key,
            bot_id: r.get(2)?,
            locale: r.take(3)?,
            count,
            previous_count: all - count,
            first_seen: r.get::<Option<Timestamp>>(6)?.unwrap_or(last_seen),
            last_seen,
        });
    }
    Ok(tallies)
}

/// How a gap's queries join its questions to their feedback: from the
/// questions, never the other way, since a period may hold far more
/// thumbs-down than the group (SQLite takes the tables in the order of a
/// `CROSS JOIN`; PostgreSQL's planner weighs its statistics).
fn group_first(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "CROSS JOIN",
        Dialect::Postgres => "JOIN",
    }
}

/// The column and value that select a gap's questions.
fn members_of(key: &GapKey) -> (&'static str, &str) {
    match key {
        GapKey::Group(id) => ("group_id", id),
        GapKey::Alone(message) => ("message_id", message),
    }
}

/// What a listing shows of the gap `key` of `bot` beyond its tally: its
/// representative question, its newest answers and the reasons given in
/// `[from, to)`, and the golden example written for it (for its id or one of
/// its members' ids), if any.
pub(super) async fn detail(
    c: &mut impl Conn,
    scope: &Scope,
    (key, id, bot): (&GapKey, &str, &Uuid),
    (from, to): (Timestamp, Timestamp),
) -> Result<GapDetail, StoreError> {
    let (column, value) = members_of(key);
    let (account, scoped) = (&scope.account_id, scope.bot_id.as_ref());
    let join = group_first(c.dialect());
    let members = format!(
        "gap_questions g {join} message_feedback f ON f.account_id = g.account_id AND f.message_id = g.message_id
         AND g.account_id = $1 AND g.{column} = $4"
    );
    // Unary plus: the period filters the group's feedback, it never picks
    // the index that finds it.
    let period = "+f.submitted_at >= $5 AND +f.submitted_at < $6";
    let example_sql = format!(
        "SELECT m.id, m.conversation_id, {QUESTION_BEFORE}, e.rated FROM (
            SELECT f.message_id, MAX(f.submitted_at) AS rated FROM {members}
            WHERE {DOWN} AND {period}
            GROUP BY f.message_id ORDER BY rated DESC, f.message_id DESC LIMIT $7) e
         JOIN messages m ON m.account_id = $1 AND m.id = e.message_id
         ORDER BY e.rated DESC, m.id DESC"
    );
    #[allow(clippy::cast_possible_wrap)]
    let examples_p = params![account, scoped, bot, value, from, to, MAX_EXAMPLES as i64];
    let central_sql = format!(
        "SELECT {QUESTION_BEFORE} FROM gap_questions g JOIN messages m ON m.account_id = g.account_id AND m.id = g.message_id
         WHERE g.account_id = $1 AND g.{column} = $2 AND (g.central = 1 OR g.group_id IS NULL) LIMIT 1"
    );
    let central_p = params![account, value];
    let reason_sql = format!(
        "SELECT f.reason, COUNT(*) FROM {members}
         WHERE {DOWN} AND {period} AND f.reason IS NOT NULL GROUP BY f.reason"
    );
    let reason_p = params![account, scoped, bot, value, from, to];
    let answer_sql = format!(
        "SELECT ge.id FROM golden_examples ge
         WHERE ge.account_id = $1 AND ge.gap_id IS NOT NULL AND ge.bot_id = $2
           AND (ge.gap_id = $4 OR ge.gap_id IN (
                SELECT g.alias FROM gap_questions g WHERE g.account_id = $1 AND g.{column} = $3 AND g.alias IS NOT NULL))
         ORDER BY ge.created_at DESC, ge.seq DESC LIMIT 1"
    );
    let answer_p = params![account, bot, value, id];
    let mut all = c
        .query_many(&[
            (&example_sql, examples_p),
            (&central_sql, central_p),
            (&reason_sql, reason_p),
            (&answer_sql, answer_p),
        ])
        .await?
        .into_iter();
    let (examples, central, reasons, answer) =
        (all.next().unwrap_or_default(), all.next().unwrap_or_default(), all.next().unwrap_or_default(), all.next());
    let examples = examples
        .into_iter()
        .map(|mut r| {
            Ok(GapExample {
                message_id: r.take(0)?,
                conversation_id: r.take(1)?,
                question: r.take::<Option<String>>(2)?.unwrap_or_default(),
                rated_at: r.get(3)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    // The representative, or (its answer erased since the shelf was grouped) the newest.
    let question = match central.into_iter().next() {
        Some(mut r) => r.take::<Option<String>>(0)?,
        None => None,
    }
    .or_else(|| examples.first().map(|e| e.question.clone()))
    .unwrap_or_default();
    let reasons = reasons.into_iter().map(|mut r| Ok((r.take(0)?, r.get(1)?))).collect::<Result<_, StoreError>>()?;
    let golden_example_id = match answer.and_then(|a| a.into_iter().next()) {
        Some(r) => Some(r.get(0)?),
        None => None,
    };
    Ok(GapDetail { question, examples, reasons, golden_example_id })
}

/// The gap `id` names in scope: the group it names, or whose member's own
/// id it is; else a thumbed-down answer not grouped yet whose id it is.
pub(super) async fn find(c: &mut impl Conn, scope: &Scope, id: &str) -> Result<Option<(GapKey, Uuid)>, StoreError> {
    let p = params![&scope.account_id, scope.bot_id.as_ref(), id];
    let in_scope = "g.account_id = $1 AND (CAST($2 AS TEXT) IS NULL OR g.bot_id = $2)";
    let by_group =
        format!("SELECT g.group_id, g.bot_id FROM gap_questions g WHERE {in_scope} AND g.group_id = $3 LIMIT 1");
    if let Some(r) = c.query_opt(&by_group, p).await? {
        return Ok(Some((GapKey::Group(r.get(0)?), r.get(1)?)));
    }
    let by_alias = format!(
        "SELECT g.group_id, g.message_id, g.bot_id FROM gap_questions g WHERE {in_scope} AND g.alias = $3 LIMIT 1"
    );
    let Some(mut r) = c.query_opt(&by_alias, p).await? else { return Ok(None) };
    let key = match r.take::<Option<String>>(0)? {
        Some(group) => GapKey::Group(group),
        None => GapKey::Alone(r.take(1)?),
    };
    Ok(Some((key, r.get(2)?)))
}

/// One page of every thumbed-down answer of the gap `key`, the most
/// recently queued first.
pub(super) async fn members(
    c: &mut impl Conn,
    scope: &Scope,
    key: &GapKey,
    page: PageRequest,
) -> Result<Page<GapExample>, StoreError> {
    let (column, value) = members_of(key);
    let join = group_first(c.dialect());
    let after = page.after.map_or(i64::MAX, |c| c.seq);
    let rows = c
        .query(
            &format!(
                "SELECT m.id, m.conversation_id, {QUESTION_BEFORE}, e.rated, e.seq FROM (
                    SELECT g.seq, g.message_id, MAX(f.submitted_at) AS rated
                    FROM gap_questions g {join} message_feedback f
                      ON f.account_id = g.account_id AND f.message_id = g.message_id
                    WHERE g.account_id = $1 AND g.{column} = $3 AND g.seq < $4
                      AND f.retracted_at IS NULL AND f.feedback_type = 'negative'
                      AND (CAST($2 AS TEXT) IS NULL OR f.bot_id = $2)
                    GROUP BY g.seq, g.message_id ORDER BY g.seq DESC LIMIT $5) e
                 JOIN messages m ON m.account_id = $1 AND m.id = e.message_id
                 ORDER BY e.seq DESC"
            ),
            params![&scope.account_id, scope.bot_id.as_ref(), value, after, page.limit + 1],
        )
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut places = Vec::with_capacity(rows.len());
    for mut r in rows {
        places.push(r.get::<i64>(4)?);
        items.push(GapExample {
            message_id: r.take(0)?,
            conversation_id: r.take(1)?,
            question: r.take::<Option<String>>(2)?.unwrap_or_default(),
            rated_at: r.get(3)?,
        });
    }
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let next_cursor = (items.len() > limit).then(|| {
        items.truncate(limit);
        Cursor { at: 0, seq: places[limit - 1] }.encode()
    });
    Ok(Page { items, next_cursor })
}

/// What changes when a listing of the account's gaps may change: the last
/// feedback change (any account's), the shelves' counts of changes and
/// regroupings, the questions waiting, and the answers written.
pub(super) async fn listing_token(c: &mut impl Conn, account_id: &str) -> Result<String, StoreError> {
    let row = c
        .query_opt(
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM feedback_history),
                    (SELECT CAST(COALESCE(SUM(changed + grouped), 0) AS BIGINT) FROM gap_shelves WHERE account_id = $1),
                    (SELECT COUNT(*) FROM gap_questions WHERE represented_at IS NULL),
                    (SELECT COUNT(*) FROM golden_examples WHERE account_id = $1 AND gap_id IS NOT NULL),
                    (SELECT COALESCE(MAX(seq), 0) FROM golden_examples WHERE account_id = $1 AND gap_id IS NOT NULL)",
            params![account_id],
        )
        .await?
        .ok_or_else(|| StoreError::other("a token query answers one row"))?;
    let parts: Vec<String> = (0..5).map(|i| row.get::<i64>(i).map(|v| v.to_string())).collect::<Result<_, _>>()?;
    Ok(parts.join(":"))
}

/// Writes the answer to a gap as a golden example: the representative
/// question is the prompt, the answer the ideal response. Linked to the
/// group's newest rated answer (its conversation and message) but to no
/// feedback record, so the rule "one golden example per feedback record"
/// stays with reviews. One answer per gap id: a second is a 409.
pub(super) async fn answer(
    c: &mut impl Conn,
    scope: &Scope,
    input: &GapAnswerInput,
    by: &Actor,
    now: Timestamp,
) -> Result<GoldenExample, StoreError> {
    bots::get(c, scope, &input.bot_id).await?;
    let prompt = question_prompt(&input.question);
    let id = Uuid::new();
    let inserted = c
        .query_opt(
            "INSERT INTO golden_examples (id, account_id, bot_id, feedback_id, conversation_id, message_id,
                                          feedback_type, origin, prompt, ideal_response, created_at, gap_id,
                                          created_by, created_by_id)
             VALUES ($1, $2, $3, NULL, $4, $5, 'negative', 'knowledge_gap', $6, $7, $8, $9, $10, $11)
             ON CONFLICT (account_id, gap_id) DO NOTHING RETURNING id",
            params![
                &id,
                &scope.account_id,
                &input.bot_id,
                input.conversation_id.as_str(),
                input.message_id.as_str(),
                prompt,
                input.answer.as_str(),
                now,
                input.gap_id.as_str(),
                &by.name,
                by.reference()
            ],
        )
        .await?;
    if inserted.is_none() {
        return Err(DomainError::conflict("conflict", "this knowledge gap already has an answer").into());
    }
    let after = serde_json::json!({"origin": "knowledge_gap", "bot_id": input.bot_id});
    let entry = AuditEntry::new(&scope.account_id, by, Action::GoldenExampleCreated, &id, None, Some(after), now);
    super::audit::append(c, &entry).await?;
    let row = c
        .query_opt(
            &format!("SELECT {GOLDEN_COLUMNS} FROM golden_examples WHERE id = $1 AND account_id = $2"),
            params![&id, &scope.account_id],
        )
        .await?
        .ok_or(StoreError::NotFound("golden example"))?;
    let example = golden_from(&row)?;
    outbox::emit(c, &scope.account_id, Event::of_golden(EventType::GoldenExampleCreated, &example, None, now));
    Ok(example)
}
