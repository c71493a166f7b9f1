//! Transcripts: conversations with their messages in order, the answers'
//! thumbs, the votes and the CSAT answers, read a few statements for many
//! conversations at once (an export reads a page at a time).

use std::collections::{HashMap, HashSet};

use super::{
    conversations, csat,
    feedback::{feedback_from, feedback_of_messages},
    id_lists::{reads_by_ids, rows_of_sets},
    messages::{MESSAGE_COLUMNS, message_from},
    votes,
};
use crate::{
    domain::{
        access::Scope,
        conversation::{Conversation, Message, MessageRole},
        feedback::FeedbackType,
        ids::ClientId,
        transcript::{FeedbackBadges, Transcript, TranscriptMessage},
    },
    store::{StoreError, sql::Conn},
};

/// One conversation's transcript.
pub(super) async fn one(c: &mut impl Conn, scope: &Scope, id: &ClientId) -> Result<Transcript, StoreError> {
    let conversation = conversations::get(c, scope, id.as_str()).await?;
    let mut all = many(c, &scope.account_id, vec![(conversation, true)]).await?;
    all.pop().ok_or(StoreError::NotFound("conversation"))
}

/// The transcripts of some conversations, in the same order, with one query
/// per table for each [`MAX_LIMIT`](crate::domain::page::MAX_LIMIT) of them
/// (exports read a page at a time). Each conversation comes with whether it
/// may have thumbs (an inbox row's counts say, as of its listing), and only
/// what may exist is looked up: the thumbs of those that may have some, the
/// votes and CSAT answers of those whose satisfaction a signal set (half of
/// them at L, whose every conversation has thumbs). The messages, votes and
/// CSAT answers are read at once, then the answers' thumbs: two round trips
/// on PostgreSQL.
pub(super) async fn many(
    c: &mut impl Conn,
    account_id: &str,
    conversations: Vec<(Conversation, bool)>,
) -> Result<Vec<Transcript>, StoreError> {
    if conversations.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = conversations.iter().map(|(c, _)| c.id.clone()).collect();
    let rated: HashSet<&str> =
        conversations.iter().filter(|(_, thumbed)| *thumbed).map(|(c, _)| c.id.as_str()).collect();
    let signalled: Vec<String> =
        conversations.iter().filter(|(c, _)| c.satisfaction.has_signal()).map(|(c, _)| c.id.clone()).collect();
    // In the order of the key on (account, conversation, time), so that no
    // sort is needed; each conversation's messages still come in time order.
    let message_reads = reads_by_ids(account_id, &ids, &[], |list, _| {
        format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.account_id = $1 AND m.conversation_id IN ({list})
             ORDER BY m.conversation_id, m.created_at, m.seq"
        )
    });
    let (vote_reads, csat_reads) = (votes::votes_of(account_id, &signalled), csat::csat_of(account_id, &signalled));
    let [mut rows, mut vote_rows, mut csat_rows] = rows_of_sets(c, [&message_reads, &vote_reads, &csat_reads]).await?;
    let stored: Vec<Message> = rows.iter_mut().map(message_from).collect::<Result<_, _>>()?;
    // Only answers can be rated: their records, through the key on messages.
    let answers: Vec<String> = stored
        .iter()
        .filter(|m| m.role == MessageRole::Assistant && rated.contains(m.conversation_id.as_str()))
        .map(|m| m.id.clone())
        .collect();
    let mut badges: HashMap<String, FeedbackBadges> = HashMap::new();
    let [mut records] = rows_of_sets(c, [&feedback_of_messages(account_id, &answers)]).await?;
    for f in records.iter_mut().map(feedback_from) {
        let f = f?;
        let b = badges.entry(f.message_id.clone()).or_default();
        match f.feedback_type {
            FeedbackType::Positive => b.up += 1,
            FeedbackType::Negative => b.down += 1,
        }
        b.records.push(f);
    }
    // Each row goes to its conversation's place in the answer, found by id
    // without a copy of it.
    let place: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    fn slots<T>(n: usize) -> Vec<Vec<T>> {
        (0..n).map(|_| Vec::new()).collect()
    }
    let (mut messages, mut votes, mut csat) = (slots(ids.len()), slots(ids.len()), slots(ids.len()));
    for message in stored {
        let Some(&i) = place.get(message.conversation_id.as_str()) else { continue };
        let feedback = (message.role == MessageRole::Assistant).then(|| badges.remove(&message.id).unwrap_or_default());
        messages[i].push(TranscriptMessage { message, feedback });
    }
    for v in vote_rows.iter_mut().map(votes::vote_from) {
        let v = v?;
        if let Some(&i) = place.get(v.conversation_id.as_str()) {
            votes[i].push(v);
        }
    }
    for a in csat_rows.iter_mut().map(csat::csat_from) {
        let a = a?;
        if let Some(&i) = place.get(a.conversation_id.as_str()) {
            csat[i].push(a);
        }
    }
    Ok(conversations
        .into_iter()
        .zip(messages.into_iter().zip(votes).zip(csat))
        .map(|((conversation, _), ((messages, votes), csat))| Transcript { messages, votes, csat, conversation })
        .collect())
}
