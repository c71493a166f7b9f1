//! Knowledge gaps: the thumbed-down answers with the question before each,
//! the answers already written, and writing one (a golden example).

use super::{
    bots,
    gap_questions::vector_of,
    golden::{GOLDEN_COLUMNS, golden_from},
    messages::QUESTION_BEFORE,
    outbox,
};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::Scope,
        audit::{Action, Actor, AuditEntry},
        gaps::{GapAnswer, GapAnswerInput, GapFacts, RatedQuestion},
        golden::{GoldenExample, Turn, question_prompt},
        ids::{LocaleFilter, Uuid},
        webhook::{Event, EventType},
    },
    params,
    store::{StoreError, sql::Conn},
};

/// The most answered gaps read to mark groups as answered: far more than a
/// team writes, and a bound all the same.
const MAX_ANSWERS: i64 = 1_000;

/// The most recent current, non-retracted thumbs-down of `[previous_from,
/// to)` (at most `limit`; those before `from` marked previous), each with
/// the user message before the rated answer (the same question the review
/// queue shows), its conversation's language, its question's vector once
/// represented and its reason; and the answers written for gaps.
pub(super) async fn facts(
    c: &mut impl Conn,
    scope: &Scope,
    bot: Option<&Uuid>,
    (previous_from, from, to): (Timestamp, Timestamp, Timestamp),
    locale: Option<&LocaleFilter>,
    limit: i64,
) -> Result<GapFacts, StoreError> {
    if let Some(b) = bot {
        bots::get(c, scope, b).await?;
    }
    let rows = c
        .query(
            &format!(
                "SELECT m.id, m.conversation_id, f.bot_id, f.submitted_at, {QUESTION_BEFORE},
                LOWER(cv.locale), g.represented_at, g.vector, f.reason
             FROM message_feedback f
             JOIN messages m ON m.account_id = f.account_id AND m.id = f.message_id
             JOIN conversations cv ON cv.account_id = m.account_id AND cv.id = m.conversation_id
             LEFT JOIN gap_questions g ON g.account_id = f.account_id AND g.message_id = f.message_id
             WHERE f.account_id = $1 AND f.retracted_at IS NULL AND f.feedback_type = 'negative'
               AND (CAST($2 AS TEXT) IS NULL OR f.bot_id = $2)
               AND (CAST($3 AS TEXT) IS NULL OR f.bot_id = $3)
               AND f.submitted_at >= $4 AND f.submitted_at < $5
               AND (CAST($7 AS TEXT) IS NULL OR LOWER(cv.locale) = $7 OR LOWER(cv.locale) LIKE $8)
             ORDER BY f.submitted_at DESC, f.seq DESC LIMIT $6"
            ),
            params![
                &scope.account_id,
                scope.bot_id.as_ref(),
                bot,
                previous_from,
                to,
                limit,
                locale.map(LocaleFilter::exact),
                locale.map(LocaleFilter::narrower)
            ],
        )
        .await?;
    let mut questions = Vec::with_capacity(rows.len());
    for r in &rows {
        // An answer with no user message before it has no question to group.
        let Some(question) = r.get::<Option<String>>(4)? else { continue };
        questions.push(RatedQuestion {
            message_id: r.get(0)?,
            conversation_id: r.get(1)?,
            bot_id: r.get(2)?,
            question,
            rated_at: r.get(3)?,
            locale: r.get(5)?,
            pending: r.get::<Option<Timestamp>>(6)?.is_none(),
            vector: vector_of(r.get::<Option<String>>(7)?.as_deref()),
            reason: r.get(8)?,
            previous: r.get::<Timestamp>(3)? < from,
        });
    }
    let rows = c
        .query(
            "SELECT gap_id, bot_id, prompt, id FROM golden_examples
             WHERE account_id = $1 AND gap_id IS NOT NULL
               AND (CAST($2 AS TEXT) IS NULL OR bot_id = $2)
               AND (CAST($3 AS TEXT) IS NULL OR bot_id = $3)
             ORDER BY created_at DESC, seq DESC LIMIT $4",
            params![&scope.account_id, scope.bot_id.as_ref(), bot, MAX_ANSWERS],
        )
        .await?;
    let answers = rows
        .iter()
        .map(|r| {
            let prompt: String = r.get(2)?;
            let turns: Vec<Turn> = serde_json::from_str(&prompt).unwrap_or_default();
            let question = turns.iter().rev().find(|t| t.role == "user").map(|t| t.content.clone()).unwrap_or_default();
            Ok(GapAnswer { gap_id: r.get(0)?, bot_id: r.get(1)?, question, golden_example_id: r.get(3)? })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(GapFacts { questions, answers })
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
