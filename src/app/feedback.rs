//! Thumbs on answers and their review: submitting and retracting a thumb
//! (as a key, or as the contact of a feedback token), the review queue, and
//! approving or dismissing.

use super::{App, AppError};
use crate::{
    domain::{
        Timestamp,
        access::{Principal, Scope},
        feedback::{Feedback, FeedbackDetail, FeedbackFilter, FeedbackInput, FeedbackItem, ReviewRequest},
        ids::{ClientId, Uuid},
        page::{Page, PageRequest},
        token::Caller,
    },
    store::Recorded,
};

impl App {
    /// Records a thumb on a completed assistant answer: new, unchanged, a new
    /// reason, or switched, as the feedback lifecycle decides. Through a
    /// feedback token, only on an answer of the token's conversation.
    pub async fn submit_feedback(
        &self,
        caller: &Caller,
        input: FeedbackInput,
        now: Timestamp,
    ) -> Result<Recorded<Feedback>, AppError> {
        self.check_message(caller, &input.message_id).await?;
        Ok(self.store.submit_feedback(&caller.principal.scope(), input, now).await?)
    }

    /// The caller's current thumb on a message (`user_id` on behalf of a
    /// user, for server keys), or `None`.
    pub async fn user_feedback(
        &self,
        caller: &Caller,
        message: &ClientId,
        user_id: Option<&str>,
    ) -> Result<Option<Feedback>, AppError> {
        self.check_message(caller, message).await?;
        let rater = caller.rater(user_id, false)?;
        Ok(self.store.user_feedback(&caller.principal.scope(), message, &rater.user_id).await?)
    }

    /// The user takes the thumb back: it leaves the counts and stays in the history.
    pub async fn retract_feedback(
        &self,
        caller: &Caller,
        message: &ClientId,
        user_id: Option<&str>,
    ) -> Result<Feedback, AppError> {
        self.check_message(caller, message).await?;
        let rater = caller.rater(user_id, false)?;
        Ok(self.store.retract_feedback(&caller.principal.scope(), message, &rater, Timestamp::now()).await?)
    }

    /// A token may only touch messages of its own conversation. Unknown
    /// messages are left for the store to answer 404.
    async fn check_message(&self, caller: &Caller, message: &ClientId) -> Result<(), AppError> {
        if caller.token.is_some()
            && let Some(found) = self.store.message(&caller.principal.scope(), message).await?
        {
            caller.check_conversation(&found.message.conversation_id)?;
        }
        Ok(())
    }

    /// The review queue: feedback with the exchange it rates, newest first.
    pub async fn review_queue(
        &self,
        scope: &Scope,
        filter: &FeedbackFilter,
        page: PageRequest,
    ) -> Result<Page<FeedbackItem>, AppError> {
        Ok(self.store.list_feedback(scope, filter, page).await?)
    }

    /// One feedback record with its full history.
    pub async fn feedback_detail(&self, scope: &Scope, id: &Uuid) -> Result<FeedbackDetail, AppError> {
        Ok(self.store.feedback_detail(scope, id).await?)
    }

    /// Approves or dismisses feedback, in the reviewer's name. Approving
    /// makes a golden example; dismissing withdraws it.
    pub async fn review(&self, reviewer: &Principal, id: &Uuid, review: ReviewRequest) -> Result<Feedback, AppError> {
        let scope = reviewer.scope();
        Ok(self.store.review_feedback(&scope, id, review, &reviewer.actor, Timestamp::now()).await?)
    }
}
