//! Conversation-level signals: votes (one per voter per window) and CSAT
//! answers, as a key or as the contact of a feedback token.

use super::{App, AppError};
use crate::{
    domain::{
        Timestamp,
        access::Scope,
        csat::{CsatAnswer, CsatInput},
        ids::ClientId,
        page::{Page, PageRequest},
        token::Caller,
        vote::{Vote, VoteInput},
    },
    store::{Recorded, Voted},
};

impl App {
    /// Records a vote, unless the voter voted on the conversation within the
    /// bot's window (acknowledged the same way, with nothing recorded).
    pub async fn vote(&self, caller: &Caller, input: VoteInput, now: Timestamp) -> Result<Voted, AppError> {
        caller.check_conversation(input.conversation_id.as_str())?;
        Ok(self.store.vote(&caller.principal.scope(), input, now).await?)
    }

    /// A conversation's votes, newest first.
    pub async fn votes(
        &self,
        scope: &Scope,
        conversation: &ClientId,
        page: PageRequest,
    ) -> Result<Page<Vote>, AppError> {
        Ok(self.store.list_votes(scope, conversation, page).await?)
    }

    /// Answers one question of the end-of-conversation prompt; answering the
    /// same question again replaces the respondent's answer.
    pub async fn answer_csat(
        &self,
        caller: &Caller,
        input: CsatInput,
        now: Timestamp,
    ) -> Result<Recorded<CsatAnswer>, AppError> {
        caller.check_conversation(input.conversation_id.as_str())?;
        Ok(self.store.answer_csat(&caller.principal.scope(), input, now).await?)
    }
}
