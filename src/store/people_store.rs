//! [`PeopleStore`]: users, invitations, sessions, the sign-in throttle and
//! the audit log, as the [`SqlStore`] keeps them (SQL in `people.rs` and
//! `audit.rs`).

use super::{
    SqlStore, StoreError, audit,
    people::{self, SessionOwner, SessionRow, UserChange},
    sql::Engine,
};
use crate::domain::{
    Timestamp,
    access::Scope,
    audit::{Actor, AuditEntry, AuditFilter},
    ids::Uuid,
    page::{Page, PageRequest},
    people::{Invitation, NewUser, User},
};

/// What the store keeps about people and their changes.
#[async_trait::async_trait]
pub trait PeopleStore: Send + Sync {
    /// Makes (or, for a person who has not accepted yet, renews) a user and
    /// their invitation, whose token's hash is `token_hash`.
    async fn invite_user(
        &self,
        user: NewUser,
        token_hash: String,
        expires_at: Timestamp,
        by: &Actor,
        now: Timestamp,
    ) -> Result<User, StoreError>;
    /// A person who joins through single sign-on.
    async fn join_user(&self, user: NewUser, now: Timestamp) -> Result<User, StoreError>;
    async fn invitation(&self, token_hash: &str) -> Result<Option<Invitation>, StoreError>;
    /// Sets the password and uses the invitation up, once.
    async fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: String,
        now: Timestamp,
    ) -> Result<User, StoreError>;
    /// The user with this email in any account, with their password hash.
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>, StoreError>;
    async fn user_by_id(&self, id: &Uuid) -> Result<Option<User>, StoreError>;
    async fn get_user(&self, scope: &Scope, id: &Uuid) -> Result<User, StoreError>;
    async fn list_users(&self, scope: &Scope, page: PageRequest) -> Result<Page<User>, StoreError>;
    /// Changes a user's role or state, or signs them out everywhere; their
    /// sessions end in the same transaction.
    async fn change_user(
        &self,
        scope: &Scope,
        id: &Uuid,
        change: UserChange,
        by: &Actor,
        now: Timestamp,
    ) -> Result<User, StoreError>;

    async fn start_session(
        &self,
        token_hash: String,
        account_id: String,
        owner: SessionOwner,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<SessionRow>, StoreError>;
    async fn end_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Each subject's failed sign-ins since `since`, oldest first.
    async fn sign_in_failures(&self, subjects: &[String], since: Timestamp) -> Result<Vec<Vec<Timestamp>>, StoreError>;
    async fn record_sign_in_failure(
        &self,
        subjects: &[String],
        forget_before: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    async fn clear_sign_in_failures(&self, subject: &str) -> Result<(), StoreError>;

    /// Appends an entry on its own (for changes with no row of their own).
    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError>;
    async fn audit_log(
        &self,
        scope: &Scope,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError>;
}

#[async_trait::async_trait]
impl<E: Engine> PeopleStore for SqlStore<E> {
    async fn invite_user(
        &self,
        user: NewUser,
        token_hash: String,
        expires_at: Timestamp,
        by: &Actor,
        now: Timestamp,
    ) -> Result<User, StoreError> {
        let by = by.clone();
        self.write(move |c| Box::pin(async move { people::invite(c, &user, &token_hash, expires_at, &by, now).await }))
            .await
    }

    async fn join_user(&self, user: NewUser, now: Timestamp) -> Result<User, StoreError> {
        self.write(move |c| Box::pin(async move { people::join(c, &user, now).await })).await
    }

    async fn invitation(&self, token_hash: &str) -> Result<Option<Invitation>, StoreError> {
        let hash = token_hash.to_owned();
        self.engine.read(move |c| Box::pin(async move { people::invitation(c, &hash).await })).await
    }

    async fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: String,
        now: Timestamp,
    ) -> Result<User, StoreError> {
        let hash = token_hash.to_owned();
        self.write(move |c| Box::pin(async move { people::accept(c, &hash, &password_hash, now).await })).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>, StoreError> {
        let email = email.to_owned();
        self.engine.read(move |c| Box::pin(async move { people::by_email(c, &email).await })).await
    }

    async fn user_by_id(&self, id: &Uuid) -> Result<Option<User>, StoreError> {
        let id = id.clone();
        self.engine.read(move |c| Box::pin(async move { people::by_id(c, &id).await })).await
    }

    async fn get_user(&self, scope: &Scope, id: &Uuid) -> Result<User, StoreError> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine.read(move |c| Box::pin(async move { people::get(c, &scope, &id).await })).await
    }

    async fn list_users(&self, scope: &Scope, page: PageRequest) -> Result<Page<User>, StoreError> {
        let scope = scope.clone();
        self.engine.read(move |c| Box::pin(async move { people::list(c, &scope, page).await })).await
    }

    async fn change_user(
        &self,
        scope: &Scope,
        id: &Uuid,
        change: UserChange,
        by: &Actor,
        now: Timestamp,
    ) -> Result<User, StoreError> {
        let (scope, id, by) = (scope.clone(), id.clone(), by.clone());
        self.write(move |c| Box::pin(async move { people::change(c, &scope, &id, change, &by, now).await })).await
    }

    async fn start_session(
        &self,
        token_hash: String,
        account_id: String,
        owner: SessionOwner,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(move |c| {
            Box::pin(async move { people::start_session(c, &token_hash, &account_id, &owner, expires_at, now).await })
        })
        .await
    }

    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<SessionRow>, StoreError> {
        let hash = token_hash.to_owned();
        self.engine.read(move |c| Box::pin(async move { people::session(c, &hash, now).await })).await
    }

    async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let hash = token_hash.to_owned();
        self.write(move |c| Box::pin(async move { people::end_session(c, &hash).await })).await
    }

    async fn sign_in_failures(&self, subjects: &[String], since: Timestamp) -> Result<Vec<Vec<Timestamp>>, StoreError> {
        let subjects = subjects.to_vec();
        self.engine.read(move |c| Box::pin(async move { people::failures(c, &subjects, since).await })).await
    }

    async fn record_sign_in_failure(
        &self,
        subjects: &[String],
        forget_before: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let subjects = subjects.to_vec();
        self.write(move |c| Box::pin(async move { people::record_failure(c, &subjects, forget_before, now).await }))
            .await
    }

    async fn clear_sign_in_failures(&self, subject: &str) -> Result<(), StoreError> {
        let subject = subject.to_owned();
        self.write(move |c| Box::pin(async move { people::clear_failures(c, &subject).await })).await
    }

    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.write(move |c| Box::pin(async move { audit::append(c, &entry).await })).await
    }

    async fn audit_log(
        &self,
        scope: &Scope,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        let (scope, filter) = (scope.clone(), filter.clone());
        self.engine.read(move |c| Box::pin(async move { audit::list(c, &scope, &filter, page).await })).await
    }
}
