//! People: inviting users and accepting invitations, listing and changing
//! users, and reading the audit log.

use super::{App, AppError};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::{Principal, Role, Scope, hash_secret},
        audit::{Actor, AuditEntry, AuditFilter},
        ids::Uuid,
        page::{Page, PageRequest},
        people::{self, Invitation, InvitationRefusal, NewUser, Password, User},
    },
    store::UserChange,
};

/// A user just invited, with the one-time token of their sign-in link.
#[derive(Debug)]
pub struct Invited {
    pub user: User,
    /// Shown once (in the link); only its hash is kept.
    pub token: String,
}

impl App {
    /// Invites a person (or renews the link of one who has not accepted yet).
    pub async fn invite_user(&self, user: NewUser, by: &Actor) -> Result<Invited, AppError> {
        let token = people::random_token(people::INVITATION_PREFIX);
        let now = Timestamp::now();
        let expires_at = Timestamp(now.0 + people::INVITATION_TTL_SECONDS * 1000);
        let user = self.store.invite_user(user, hash_secret(&token), expires_at, by, now).await?;
        Ok(Invited { user, token })
    }

    /// The invitation a link's token names, if it may still be used.
    pub async fn invitation(&self, token: &str) -> Result<Result<Invitation, InvitationRefusal>, AppError> {
        let Some(invitation) = self.store.invitation(&hash_secret(token)).await? else {
            return Ok(Err(InvitationRefusal::Unknown));
        };
        Ok(invitation.check(Timestamp::now()).map(|()| invitation))
    }

    /// Sets the password of an invitation's user, uses the link up, and
    /// signs them in. Returns the session's cookie value.
    pub async fn accept_invitation(&self, token: &str, password: &str) -> Result<String, AppError> {
        let password = Password::parse("password", password)?;
        let hash = tokio::task::spawn_blocking(move || password.hash())
            .await
            .map_err(|_| DomainError::invalid("password", "could not be hashed"))?;
        let user = self.store.accept_invitation(&hash_secret(token), hash, Timestamp::now()).await?;
        self.sign_in_user(&user).await
    }

    /// The users of the principal's account, newest first.
    pub async fn list_users(&self, scope: &Scope, page: PageRequest) -> Result<Page<User>, AppError> {
        Ok(self.store.list_users(scope, page).await?)
    }

    /// A user of an account, by email, for the command line.
    pub async fn user_by_email(&self, email: &str) -> Result<User, AppError> {
        let email = people::parse_email("email", email)?;
        self.store.user_by_email(&email).await?.map(|(user, _)| user).ok_or(AppError::NotFound("user"))
    }

    /// Changes a user's role, or disables or enables them; each ends their
    /// sessions at once. Nobody changes or disables themselves, so that an
    /// account keeps the admin who is doing it.
    pub async fn change_user(&self, by: &Principal, id: &Uuid, change: UserChange) -> Result<User, AppError> {
        if let UserChange::Role(role) = change {
            Role::parse_user("role", role.as_str())?;
        }
        if by.actor.kind == crate::domain::audit::ActorKind::User && by.actor.id == id.to_string() {
            return Err(DomainError::forbidden("you cannot change your own role or disable yourself").into());
        }
        self.change_any_user(&by.scope(), id, change, &by.actor).await
    }

    /// Changes a user of the scope's account as `by` (the command line acts on anyone).
    pub async fn change_any_user(
        &self,
        scope: &Scope,
        id: &Uuid,
        change: UserChange,
        by: &Actor,
    ) -> Result<User, AppError> {
        Ok(self.store.change_user(scope, id, change, by, Timestamp::now()).await?)
    }

    /// The audit log of the principal's account, newest first.
    pub async fn audit_log(
        &self,
        scope: &Scope,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, AppError> {
        Ok(self.store.audit_log(scope, filter, page).await?)
    }
}
