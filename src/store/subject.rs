//! Subject access (SPEC §16): what the account holds about one person, found
//! by exact match on their contact id (the conversations whose contact they
//! are) and on their user id (what they gave on other conversations).

use crate::{
    domain::{
        access::Scope,
        erasure::{GivenThumb, SubjectExport},
    },
    params,
    store::{
        StoreError,
        conversations::{CONVERSATION_COLUMNS, conversation_from},
        csat::{CSAT_COLUMNS, csat_from},
        feedback::{FEEDBACK_COLUMNS, feedback_from},
        messages::{MESSAGE_COLUMNS, message_from},
        sql::{Conn, Row},
        transcripts,
        votes::{VOTE_COLUMNS, vote_from},
    },
};

/// Conversations read a page at a time.
const PAGE: i64 = 200;

/// Everything the scope holds about `person`: their conversations whole,
/// and the thumbs (with the answer rated), votes and CSAT answers they gave
/// on conversations whose contact is someone else (or no one).
pub(super) async fn export(c: &mut impl Conn, scope: &Scope, person: &str) -> Result<SubjectExport, StoreError> {
    let account = scope.account_id.as_str();
    let bot = scope.bot_id.as_ref().map(ToString::to_string);
    let mut conversations = Vec::new();
    let mut after: (i64, i64) = (i64::MIN, i64::MIN);
    loop {
        let mut rows = c
            .query(
                &format!(
                    "SELECT {CONVERSATION_COLUMNS}, v.created_at, v.seq FROM conversations v
                     WHERE v.account_id = $1 AND v.contact_id = $2 AND (CAST($3 AS TEXT) IS NULL OR v.bot_id = $3)
                       AND (v.created_at, v.seq) > ($4, $5)
                     ORDER BY v.created_at, v.seq LIMIT $6"
                ),
                params![account, person, bot.as_deref(), after.0, after.1, PAGE],
            )
            .await?;
        let Some(last) = rows.last() else { break };
        let width = last.0.len();
        after = (last.get(width - 2)?, last.get(width - 1)?);
        let page: Vec<_> =
            rows.iter_mut().map(|r| conversation_from(r).map(|v| (v, true))).collect::<Result<_, _>>()?;
        let full = page.len() == usize::try_from(PAGE).unwrap_or(usize::MAX);
        conversations.extend(transcripts::many(c, account, page).await?);
        if !full {
            break;
        }
    }
    // Elsewhere: on a conversation whose contact is not this person. Found
    // by the person (`+ 0` in the order: ordering by the time column, the
    // planners would walk every signal of the account in time order).
    let elsewhere = "NOT EXISTS (SELECT 1 FROM conversations o
                                 WHERE o.account_id = $1 AND o.id = {alias}.conversation_id AND o.contact_id = $2)";
    let by = |alias: &str| {
        format!(
            "{alias}.account_id = $1 AND {alias}.user_id = $2 AND (CAST($3 AS TEXT) IS NULL OR {alias}.bot_id = $3) AND {}",
            elsewhere.replace("{alias}", alias)
        )
    };
    let p = params![account, person, bot.as_deref()];
    let mut thumbs = c
        .query(
            &format!(
                "SELECT {FEEDBACK_COLUMNS}, {MESSAGE_COLUMNS} FROM message_feedback f
                 JOIN messages m ON m.id = f.message_id AND m.account_id = f.account_id
                 WHERE {} ORDER BY f.submitted_at + 0, f.seq",
                by("f")
            ),
            p,
        )
        .await?;
    let feedback_width = FEEDBACK_COLUMNS.split(',').count();
    let thumbs = thumbs
        .iter_mut()
        .map(|r| {
            let answer = message_from(&mut Row(r.0.split_off(feedback_width)))?;
            Ok(GivenThumb { feedback: feedback_from(r)?, answer })
        })
        .collect::<Result<_, StoreError>>()?;
    let votes = c
        .query(&format!("SELECT {VOTE_COLUMNS} FROM votes s WHERE {} ORDER BY s.created_at + 0, s.seq", by("s")), p)
        .await?
        .iter_mut()
        .map(vote_from)
        .collect::<Result<_, _>>()?;
    let csat = c
        .query(
            &format!("SELECT {CSAT_COLUMNS} FROM csat_answers s WHERE {} ORDER BY s.answered_at + 0, s.seq", by("s")),
            p,
        )
        .await?
        .iter_mut()
        .map(csat_from)
        .collect::<Result<_, _>>()?;
    Ok(SubjectExport { contact_id: person.to_owned(), conversations, thumbs, votes, csat })
}
