//! Many writes in one transaction.
//!
//! - [`apply_all`]: a batch of one caller's events (`/v1/ingest`, the demo,
//!   the generators), applied in order; runs of messages go in together.
//! - [`write_together`]: single thumbs and votes of concurrent requests,
//!   of any accounts, gathered by PostgreSQL's write lanes ([`Lanes`]).
//!
//! Either way each write is answered exactly as it would be alone, and the
//! rollup changes of the whole batch are added once, before its commit.

use std::{collections::BTreeMap, sync::Arc};

use tokio::sync::oneshot;

use super::{
    Applied, Command, Recorded, Voted, conversations, csat,
    gather::{Gather, Turn},
    messages, outbox, rollups, thumbs, votes,
    writes::{settle, write_counted},
};
use crate::{
    domain::{
        Timestamp,
        access::Scope,
        feedback::{Feedback, FeedbackInput},
        rollup::Rows,
        vote::VoteInput,
    },
    store::{
        StoreError,
        sql::{Conn, Engine},
    },
};

/// Runs one command of a batch; what it changes in the rollups goes to `pending`.
pub(super) async fn apply(
    c: &mut impl Conn,
    scope: &Scope,
    command: Command,
    now: Timestamp,
    pending: &mut Rows,
) -> Result<Applied, StoreError> {
    Ok(match command {
        Command::UpsertConversation(input) => {
            Applied::Conversation(conversations::upsert(c, scope, input, now, pending).await?)
        }
        Command::AppendMessage(input) => Applied::Message(messages::append(c, scope, input, now, pending).await?),
        Command::UpdateMessage(update) => {
            Applied::Message(found(messages::update(c, scope, update, now, pending).await?))
        }
        Command::EndConversation(id) => Applied::Conversation(found(conversations::end(c, scope, &id, now).await?)),
        Command::Vote(input) => Applied::Vote(votes::vote(c, scope, input, now, pending).await?),
        Command::Feedback(input) => Applied::Feedback(thumbs::submit(c, scope, input, now, pending).await?),
        Command::Csat(input) => Applied::Csat(csat::answer(c, scope, input, now, pending).await?),
    })
}

/// An object a write found or updated rather than made.
fn found<T>(value: T) -> Recorded<T> {
    Recorded { value, created: false }
}

/// Runs commands in order. Refused events wrote nothing and become results;
/// any other failure aborts the batch, unless `careful`, where each event runs
/// in a savepoint and fails alone (savepoints are costly inside a large
/// transaction, so this is the fallback, not the rule). Outside the careful
/// mode, consecutive messages are appended together
/// ([`messages::append_run`]).
pub(super) async fn apply_all(
    c: &mut impl Conn,
    scope: &Scope,
    commands: Vec<Command>,
    now: Timestamp,
    careful: bool,
) -> Result<Vec<Result<Applied, StoreError>>, StoreError> {
    let mut results = Vec::with_capacity(commands.len());
    let mut pending = Rows::default();
    let mut commands = commands.into_iter().peekable();
    while let Some(command) = commands.next() {
        if !careful {
            match command {
                Command::AppendMessage(first) => {
                    let mut run = vec![first];
                    while let Some(Command::AppendMessage(next)) =
                        commands.next_if(|next| matches!(next, Command::AppendMessage(_)))
                    {
                        run.push(next);
                    }
                    for outcome in messages::append_run(c, scope, run, now, &mut pending).await? {
                        results.push(settle(outcome.map(Applied::Message))?);
                    }
                }
                command => results.push(settle(apply(c, scope, command, now, &mut pending).await)?),
            }
            continue;
        }
        c.batch("SAVEPOINT event").await?;
        let events = outbox::mark(c);
        let mut own = Rows::default();
        let result = match apply(c, scope, command, now, &mut own).await {
            // What the event held back must fail inside its savepoint too.
            Ok(applied) => c.flush().await.map(|()| applied),
            Err(e) => Err(e),
        };
        if result.is_err() {
            c.batch("ROLLBACK TO SAVEPOINT event").await?;
            outbox::rewind(c, events);
        } else {
            pending.absorb(own);
        }
        c.batch("RELEASE SAVEPOINT event").await?;
        if let Err(StoreError::Unavailable(e)) = &result {
            return Err(StoreError::Unavailable(e.clone()));
        }
        results.push(result);
    }
    rollups::add(c, &scope.account_id, pending);
    Ok(results)
}

/// A thumb of a batch of single writes: its scope, what it says, and when it came.
pub(super) type Thumb = (Scope, FeedbackInput, Timestamp);
/// A vote of a batch of single writes.
pub(super) type Voting = (Scope, VoteInput, Timestamp);

/// Writes single thumbs and votes of any accounts as one batch, in one
/// transaction, account by account: the thumbs with
/// [`thumbs::submit_many`], the votes with [`votes::vote_many`] (which also
/// locks the conversations whose counts the thumbs change, so that a batch
/// takes its conversations' locks together, in key order), and the rollup
/// rows once; then passes its `turn` on to the next batch before
/// committing. Each answer is what the write would be answered alone, in the
/// order given. If the transaction fails as a whole, nothing of it is
/// stored, and each write is made again on its own, so that a failure stays
/// with the write it belongs to.
pub(super) async fn write_together<E: Engine>(
    engine: &E,
    thumbs: Vec<Thumb>,
    votes: Vec<Voting>,
    turn: Turn,
) -> (Vec<Result<Recorded<Feedback>, StoreError>>, Vec<Result<Voted, StoreError>>) {
    let again = (thumbs.clone(), votes.clone());
    let together = engine
        .write(move |c| {
            Box::pin(async move {
                let (mut thumb_answers, mut vote_answers) = (slots(thumbs.len()), slots(votes.len()));
                for (account_id, part) in by_account(thumbs, votes) {
                    let mut pending = Rows::default();
                    let (places, thumbs): (Vec<usize>, Vec<Thumb>) = part.thumbs.into_iter().unzip();
                    let answers = thumbs::submit_many(c, &account_id, thumbs, &mut pending).await?;
                    for (i, answer) in places.into_iter().zip(answers) {
                        thumb_answers[i] = Some(answer);
                    }
                    let (places, votes): (Vec<usize>, Vec<Voting>) = part.votes.into_iter().unzip();
                    if !votes.is_empty() {
                        let counted: Vec<String> = pending.conversations.keys().cloned().collect();
                        let answers = votes::vote_many(c, &account_id, votes, counted, &mut pending).await?;
                        for (i, answer) in places.into_iter().zip(answers) {
                            vote_answers[i] = Some(answer);
                        }
                    }
                    rollups::add(c, &account_id, pending);
                }
                turn.pass();
                Ok((filled(thumb_answers), filled(vote_answers)))
            })
        })
        .await;
    match together {
        Ok(answers) => answers,
        Err(e) => {
            let (thumbs, votes) = again;
            tracing::info!(error = %e, writes = thumbs.len() + votes.len(), "a batch failed as a whole; making each write on its own");
            let thumbs = thumbs.into_iter().map(|(scope, input, now)| {
                let account = scope.account_id.clone();
                write_counted(engine, account, move |c, pending| {
                    Box::pin(async move { thumbs::submit(c, &scope, input, now, pending).await })
                })
            });
            let votes = votes.into_iter().map(|(scope, input, now)| {
                let account = scope.account_id.clone();
                write_counted(engine, account, move |c, pending| {
                    Box::pin(async move { votes::vote(c, &scope, input, now, pending).await })
                })
            });
            futures_util::future::join(futures_util::future::join_all(thumbs), futures_util::future::join_all(votes))
                .await
        }
    }
}

/// [`write_together`] for commands, answered in their order; other commands
/// than thumbs and votes are not written this way, and are answered so.
pub(super) async fn write_commands_together<E: Engine>(
    engine: &E,
    writes: Vec<(Scope, Command, Timestamp)>,
) -> Vec<Result<Applied, StoreError>> {
    enum Place {
        Thumb(usize),
        Vote(usize),
        Neither,
    }
    let (mut thumbs, mut votes, mut places) = (Vec::new(), Vec::new(), Vec::new());
    for (scope, command, now) in writes {
        places.push(match command {
            Command::Feedback(input) => {
                thumbs.push((scope, input, now));
                Place::Thumb(thumbs.len() - 1)
            }
            Command::Vote(input) => {
                votes.push((scope, input, now));
                Place::Vote(votes.len() - 1)
            }
            _ => Place::Neither,
        });
    }
    let turn = Turn::alone();
    let (thumbs, votes) = write_together(engine, thumbs, votes, turn).await;
    let (mut thumbs, mut votes) =
        (thumbs.into_iter().map(Some).collect::<Vec<_>>(), votes.into_iter().map(Some).collect::<Vec<_>>());
    places
        .into_iter()
        .map(|place| match place {
            Place::Thumb(i) => thumbs[i].take().expect("answered once").map(Applied::Feedback),
            Place::Vote(i) => votes[i].take().expect("answered once").map(Applied::Vote),
            Place::Neither => Err(StoreError::other("only thumbs and votes are written together")),
        })
        .collect()
}

/// One account's part of a batch of single writes: its thumbs and its votes,
/// each with its place among the batch's thumbs or votes.
#[derive(Default)]
struct AccountPart {
    thumbs: Vec<(usize, Thumb)>,
    votes: Vec<(usize, Voting)>,
}

fn by_account(thumbs: Vec<Thumb>, votes: Vec<Voting>) -> BTreeMap<String, AccountPart> {
    let mut parts: BTreeMap<String, AccountPart> = BTreeMap::new();
    for (i, thumb) in thumbs.into_iter().enumerate() {
        parts.entry(thumb.0.account_id.clone()).or_default().thumbs.push((i, thumb));
    }
    for (i, vote) in votes.into_iter().enumerate() {
        parts.entry(vote.0.account_id.clone()).or_default().votes.push((i, vote));
    }
    parts
}

fn slots<T>(n: usize) -> Vec<Option<T>> {
    (0..n).map(|_| None).collect()
}

fn filled<T>(answers: Vec<Option<T>>) -> Vec<T> {
    answers.into_iter().map(|a| a.expect("every write of a batch is answered")).collect()
}

/// A single thumb or vote queued for a lane, with where its answer goes.
pub(super) enum Single {
    Thumb(Thumb, oneshot::Sender<Result<Recorded<Feedback>, StoreError>>),
    Vote(Voting, oneshot::Sender<Result<Voted, StoreError>>),
}

/// Where an engine with write lanes ([`Engine::write_lanes`]) gathers the
/// single thumbs and votes of concurrent requests into batches.
pub(super) type Lanes = Gather<Single>;

/// How many writes a batch takes at most (how many batches are written at
/// once is the engine's [`Engine::write_lanes`]).
const BATCH: usize = 64;

/// The lanes of `engine`, if it has any.
pub(super) fn lanes<E: Engine>(engine: &Arc<E>) -> Option<Arc<Lanes>> {
    let lanes = engine.write_lanes();
    (lanes > 0).then(|| {
        let engine = Arc::clone(engine);
        Gather::new(lanes, BATCH, move |batch: Vec<Single>, turn| {
            let engine = Arc::clone(&engine);
            Box::pin(async move {
                let (mut thumbs, mut thumb_replies, mut votes, mut vote_replies) = (vec![], vec![], vec![], vec![]);
                for single in batch {
                    match single {
                        Single::Thumb(thumb, reply) => {
                            thumbs.push(thumb);
                            thumb_replies.push(reply);
                        }
                        Single::Vote(vote, reply) => {
                            votes.push(vote);
                            vote_replies.push(reply);
                        }
                    }
                }
                let (thumbs, votes) = write_together(&*engine, thumbs, votes, turn).await;
                // A submitter that went away no longer needs its answer.
                for (reply, answer) in thumb_replies.into_iter().zip(thumbs) {
                    let _ = reply.send(answer);
                }
                for (reply, answer) in vote_replies.into_iter().zip(votes) {
                    let _ = reply.send(answer);
                }
            })
        })
    })
}

/// Queues a write for the lanes and waits for its answer, which comes after
/// its batch's commit.
pub(super) async fn in_lane<T>(
    lanes: &Arc<Lanes>,
    single: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Single,
) -> Result<T, StoreError> {
    let (tx, rx) = oneshot::channel();
    lanes.submit(single(tx));
    rx.await.map_err(|_| StoreError::unavailable("the write's batch stopped before answering; retry"))?
}
