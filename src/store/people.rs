//! People: users, their invitations, dashboard sessions and the sign-in
//! throttle's failures. Every change a person or key makes here is audited
//! in its own transaction; changing a user's role or disabling them deletes
//! their sessions in that same transaction.

use super::{accounts, audit};
use crate::{
    domain::{
        DomainError, Timestamp,
        access::{Role, Scope},
        audit::{Action, Actor, AuditEntry},
        ids::Uuid,
        page::{Cursor, Page, PageRequest},
        people::{Invitation, NewUser, User},
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Row},
    },
};

const USER_COLUMNS: &str =
    "u.id, u.account_id, u.email, u.name, u.role, u.password_hash IS NOT NULL, u.created_at, u.disabled_at, u.seq";

fn user_from(row: &Row) -> Result<User, StoreError> {
    let role: String = row.get(4)?;
    Ok(User {
        id: row.get(0)?,
        account_id: row.get(1)?,
        email: row.get(2)?,
        name: row.get(3)?,
        role: Role::parse_user("role", &role).map_err(StoreError::other)?,
        has_password: row.get(5)?,
        created_at: row.get(6)?,
        disabled_at: row.get(7)?,
    })
}

/// A user of the scope's account.
pub(super) async fn get(c: &mut impl Conn, scope: &Scope, id: &Uuid) -> Result<User, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.account_id = $2"),
            params![id, &scope.account_id],
        )
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    user_from(&row)
}

/// The user with this (lower-cased) email in any account, with their password hash.
pub(super) async fn by_email(c: &mut impl Conn, email: &str) -> Result<Option<(User, Option<String>)>, StoreError> {
    let row = c
        .query_opt(&format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"), params![email])
        .await?;
    row.map(|r| Ok((user_from(&r)?, r.get(9)?))).transpose()
}

/// A user by id in any account: for sessions, never for a listing.
pub(super) async fn by_id(c: &mut impl Conn, id: &Uuid) -> Result<Option<User>, StoreError> {
    let row = c.query_opt(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"), params![id]).await?;
    row.as_ref().map(user_from).transpose()
}

/// The users of the scope's account, newest first.
pub(super) async fn list(c: &mut impl Conn, scope: &Scope, page: PageRequest) -> Result<Page<User>, StoreError> {
    let (at, seq) = page.start();
    let rows = c
        .query(
            &format!(
                "SELECT {USER_COLUMNS} FROM users u
                 WHERE u.account_id = $1 AND (u.created_at < $2 OR (u.created_at = $2 AND u.seq < $3))
                 ORDER BY u.created_at DESC, u.seq DESC LIMIT $4"
            ),
            params![&scope.account_id, at, seq, page.limit + 1],
        )
        .await?;
    let rows = rows
        .iter()
        .map(|r| Ok((user_from(r)?, Cursor { at: r.get(6)?, seq: r.get(8)? })))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

fn email_taken() -> StoreError {
    StoreError::Rule(DomainError::Conflict {
        code: "email_taken",
        message: "a user with this email already exists".into(),
    })
}

/// Makes the user of an invitation and its one-time link (only the hash of
/// its token is kept). Inviting again a person who has not accepted yet
/// replaces their link (and their role and name); anyone else with the
/// email is a conflict.
pub(super) async fn invite(
    c: &mut impl Conn,
    new: &NewUser,
    token_hash: &str,
    expires_at: Timestamp,
    by: &Actor,
    now: Timestamp,
) -> Result<User, StoreError> {
    accounts::get(c, &new.account_id).await?;
    let scope = Scope::account(new.account_id.clone());
    let id = match by_email(c, &new.email).await? {
        Some((user, None)) if user.account_id == new.account_id && user.active() => {
            c.execute("DELETE FROM invitations WHERE user_id = $1", params![&user.id]).await?;
            c.execute(
                "UPDATE users SET name = $2, role = $3, updated_at = $4 WHERE id = $1",
                params![&user.id, &new.name, new.role.as_str(), now],
            )
            .await?;
            user.id
        }
        Some(_) => return Err(email_taken()),
        None => {
            let id = Uuid::new();
            c.execute(
                "INSERT INTO users (id, account_id, email, name, role, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
                params![&id, &new.account_id, &new.email, &new.name, new.role.as_str(), now],
            )
            .await?;
            id
        }
    };
    c.execute(
        "INSERT INTO invitations (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        params![token_hash, &id, now, expires_at],
    )
    .await?;
    let after = serde_json::json!({"email": new.email, "name": new.name, "role": new.role});
    audit::append(c, &AuditEntry::new(&new.account_id, by, Action::UserInvited, &id, None, Some(after), now)).await?;
    get(c, &scope, &id).await
}

/// A person who signed in through single sign-on for the first time and
/// joins as a viewer (no password).
pub(super) async fn join(c: &mut impl Conn, new: &NewUser, now: Timestamp) -> Result<User, StoreError> {
    accounts::get(c, &new.account_id).await?;
    if by_email(c, &new.email).await?.is_some() {
        return Err(email_taken());
    }
    let id = Uuid::new();
    c.execute(
        "INSERT INTO users (id, account_id, email, name, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        params![&id, &new.account_id, &new.email, &new.name, new.role.as_str(), now],
    )
    .await?;
    let by = Actor::user(&id, &new.name);
    let after = serde_json::json!({"email": new.email, "role": new.role, "through": "single_sign_on"});
    audit::append(c, &AuditEntry::new(&new.account_id, &by, Action::UserJoined, &id, None, Some(after), now)).await?;
    get(c, &Scope::account(new.account_id.clone()), &id).await
}

/// The invitation a link's token hash names.
pub(super) async fn invitation(c: &mut impl Conn, token_hash: &str) -> Result<Option<Invitation>, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT {USER_COLUMNS}, i.expires_at, i.used_at FROM invitations i JOIN users u ON u.id = i.user_id
                 WHERE i.token_hash = $1"
            ),
            params![token_hash],
        )
        .await?;
    row.map(|r| Ok(Invitation { user: user_from(&r)?, expires_at: r.get(9)?, used_at: r.get(10)? })).transpose()
}

/// Sets the password of an invitation's user and uses the invitation up,
/// if it still may be used at `now` (checked again inside the transaction,
/// so a link works once even when two tabs race).
pub(super) async fn accept(
    c: &mut impl Conn,
    token_hash: &str,
    password_hash: &str,
    now: Timestamp,
) -> Result<User, StoreError> {
    let invitation = invitation(c, token_hash).await?.ok_or(StoreError::NotFound("invitation"))?;
    invitation.check(now).map_err(|refusal| {
        StoreError::Rule(DomainError::Conflict { code: "invitation_unusable", message: refusal.message().into() })
    })?;
    let user = invitation.user;
    c.execute("UPDATE invitations SET used_at = $2 WHERE token_hash = $1", params![token_hash, now]).await?;
    c.execute(
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
        params![&user.id, password_hash, now],
    )
    .await?;
    let by = Actor::user(&user.id, &user.name);
    let after = serde_json::json!({"password_set": true});
    audit::append(c, &AuditEntry::new(&user.account_id, &by, Action::UserJoined, &user.id, None, Some(after), now))
        .await?;
    get(c, &Scope::account(user.account_id.clone()), &user.id).await
}

/// What an admin changes about a user.
#[derive(Debug, Clone, Copy)]
pub enum UserChange {
    Role(Role),
    Disabled(bool),
    SignOutEverywhere,
}

/// Changes a user; every change ends the user's sessions at once.
pub(super) async fn change(
    c: &mut impl Conn,
    scope: &Scope,
    id: &Uuid,
    change: UserChange,
    by: &Actor,
    now: Timestamp,
) -> Result<User, StoreError> {
    let user = get(c, scope, id).await?;
    let (action, before, after) = match change {
        UserChange::Role(role) => {
            c.execute("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1", params![id, role.as_str(), now])
                .await?;
            (Action::UserRoleChanged, serde_json::json!({"role": user.role}), serde_json::json!({"role": role}))
        }
        UserChange::Disabled(disabled) => {
            c.execute(
                "UPDATE users SET disabled_at = CASE WHEN $2 = 1 THEN COALESCE(disabled_at, $3) END, updated_at = $3
                 WHERE id = $1",
                params![id, disabled, now],
            )
            .await?;
            let action = if disabled { Action::UserDisabled } else { Action::UserEnabled };
            (action, serde_json::json!({"disabled": !user.active()}), serde_json::json!({"disabled": disabled}))
        }
        UserChange::SignOutEverywhere => {
            (Action::UserSignedOutEverywhere, serde_json::Value::Null, serde_json::Value::Null)
        }
    };
    c.execute("DELETE FROM sessions WHERE user_id = $1", params![id]).await?;
    let (before, after) = (Some(before).filter(|v| !v.is_null()), Some(after).filter(|v| !v.is_null()));
    audit::append(c, &AuditEntry::new(&scope.account_id, by, action, id, before, after, now)).await?;
    get(c, scope, id).await
}

/// Who a session belongs to.
#[derive(Debug, Clone)]
pub enum SessionOwner {
    User(Uuid),
    Key(Uuid),
}

/// A session row.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub account_id: String,
    pub owner: SessionOwner,
    pub expires_at: Timestamp,
}

/// Starts a session (and drops the expired ones of anyone).
pub(super) async fn start_session(
    c: &mut impl Conn,
    token_hash: &str,
    account_id: &str,
    owner: &SessionOwner,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute("DELETE FROM sessions WHERE expires_at <= $1", params![now]).await?;
    let (user, key) = match owner {
        SessionOwner::User(id) => (Some(id), None),
        SessionOwner::Key(id) => (None, Some(id)),
    };
    c.execute(
        "INSERT INTO sessions (token_hash, account_id, user_id, key_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![token_hash, account_id, user, key, now, expires_at],
    )
    .await
    .map(drop)
}

/// The session of a cookie's hash, if it exists and has not expired.
pub(super) async fn session(
    c: &mut impl Conn,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<SessionRow>, StoreError> {
    let row = c
        .query_opt(
            "SELECT account_id, user_id, key_id, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
            params![token_hash, now],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let (user, key): (Option<Uuid>, Option<Uuid>) = (row.get(1)?, row.get(2)?);
    let owner = match (user, key) {
        (Some(u), _) => SessionOwner::User(u),
        (None, Some(k)) => SessionOwner::Key(k),
        (None, None) => return Ok(None),
    };
    Ok(Some(SessionRow { account_id: row.get(0)?, owner, expires_at: row.get(3)? }))
}

/// Ends one session.
pub(super) async fn end_session(c: &mut impl Conn, token_hash: &str) -> Result<(), StoreError> {
    c.execute("DELETE FROM sessions WHERE token_hash = $1", params![token_hash]).await.map(drop)
}

/// The recent failures of each subject, oldest first.
pub(super) async fn failures(
    c: &mut impl Conn,
    subjects: &[String],
    since: Timestamp,
) -> Result<Vec<Vec<Timestamp>>, StoreError> {
    let mut all = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let rows = c
            .query(
                "SELECT at FROM sign_in_failures WHERE subject = $1 AND at >= $2 ORDER BY at",
                params![subject, since],
            )
            .await?;
        all.push(rows.iter().map(|r| r.get(0)).collect::<Result<_, _>>()?);
    }
    Ok(all)
}

/// Records a failed sign-in for each subject (and forgets failures too old to matter).
pub(super) async fn record_failure(
    c: &mut impl Conn,
    subjects: &[String],
    forget_before: Timestamp,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute("DELETE FROM sign_in_failures WHERE at < $1", params![forget_before]).await?;
    for subject in subjects {
        c.execute("INSERT INTO sign_in_failures (subject, at) VALUES ($1, $2)", params![subject, now]).await?;
    }
    Ok(())
}

/// Forgets a subject's failures (after a successful sign-in).
pub(super) async fn clear_failures(c: &mut impl Conn, subject: &str) -> Result<(), StoreError> {
    c.execute("DELETE FROM sign_in_failures WHERE subject = $1", params![subject]).await.map(drop)
}
