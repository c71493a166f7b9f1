//! Logging conversations and messages, one at a time or in batches, and
//! reading them back: the inbox and transcripts.

use super::{App, AppError};
use crate::{
    domain::{
        Timestamp,
        access::Scope,
        analytics::InboxFilter,
        conversation::{
            Conversation, ConversationInput, ConversationRow, Message, MessageInContext, MessageInput, MessageUpdate,
        },
        ids::ClientId,
        page::{Page, PageRequest},
        transcript::Transcript,
    },
    store::{Applied, Command, Recorded},
};

impl App {
    /// Creates a conversation, or updates its contact, locale and metadata.
    pub async fn log_conversation(
        &self,
        scope: &Scope,
        input: ConversationInput,
        now: Timestamp,
    ) -> Result<Recorded<Conversation>, AppError> {
        Ok(self.store.upsert_conversation(scope, input, now).await?)
    }

    /// Appends a message; the same message sent again is found, not appended.
    pub async fn append_message(
        &self,
        scope: &Scope,
        input: MessageInput,
        now: Timestamp,
    ) -> Result<Recorded<Message>, AppError> {
        Ok(self.store.append_message(scope, input, now).await?)
    }

    pub async fn update_message(&self, scope: &Scope, update: MessageUpdate) -> Result<Message, AppError> {
        Ok(self.store.update_message(scope, update, Timestamp::now()).await?)
    }

    /// Marks a conversation ended; ending it again changes nothing.
    pub async fn end_conversation(&self, scope: &Scope, id: &ClientId) -> Result<Conversation, AppError> {
        Ok(self.store.end_conversation(scope, id, Timestamp::now()).await?)
    }

    /// Applies a batch of writes in order, each on its own; all that succeed
    /// are committed together before this returns.
    pub async fn apply(
        &self,
        scope: &Scope,
        commands: Vec<Command>,
        now: Timestamp,
    ) -> Result<Vec<Result<Applied, AppError>>, AppError> {
        let results = self.store.apply(scope, commands, now).await?;
        Ok(results.into_iter().map(|r| r.map_err(AppError::from)).collect())
    }

    /// The assistant message that answered chat request `request_id`, in scope.
    pub async fn message_by_request_id(
        &self,
        scope: &Scope,
        request_id: &str,
    ) -> Result<Option<MessageInContext>, AppError> {
        Ok(self.store.message_by_request_id(scope, request_id).await?)
    }

    pub async fn conversation(&self, scope: &Scope, id: &ClientId) -> Result<Conversation, AppError> {
        Ok(self.store.conversation(scope, id).await?)
    }

    /// A conversation with its messages, votes, CSAT answers and satisfaction.
    pub async fn transcript(&self, scope: &Scope, id: &ClientId) -> Result<Transcript, AppError> {
        Ok(self.store.transcript(scope, id).await?)
    }

    /// Conversations newest first, filtered, with their counts.
    pub async fn inbox(
        &self,
        scope: &Scope,
        filter: &InboxFilter,
        page: PageRequest,
    ) -> Result<Page<ConversationRow>, AppError> {
        Ok(self.store.inbox(scope, filter, page).await?)
    }
}
