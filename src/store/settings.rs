//! Per-bot settings (review and votes), the rating configuration, prompt
//! copy per locale, and the instance's secrets.

use super::{audit, bots};
use crate::{
    domain::{
        Timestamp,
        access::Scope,
        audit::{self as log, Action, Actor, AuditEntry},
        csat::{PromptCopy, RatingConfig, RatingConfigPatch, ResolvedCopy, locale_chain},
        feedback::{BotSettings, BotSettingsPatch},
        ids::Uuid,
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Row},
    },
};

/// The columns of a `bot_settings s` row, read by [`settings_from`].
pub(super) const SETTINGS_COLUMNS: &str = "s.auto_approve_positive, s.auto_approve_negative, \
     s.require_reason_positive, s.require_reason_negative, s.vote_window_seconds, s.conv_rating_active, \
     s.conv_rating_popup_active, s.conv_rating_question_codes, s.retention_days";

/// Reads [`SETTINGS_COLUMNS`] from a row, starting at column `first`.
pub(super) fn settings_from(row: &Row, first: usize) -> Result<(BotSettings, RatingConfig), StoreError> {
    let codes: String = row.get(first + 7)?;
    Ok((
        BotSettings {
            auto_approve_positive: row.get(first)?,
            auto_approve_negative: row.get(first + 1)?,
            require_reason_positive: row.get(first + 2)?,
            require_reason_negative: row.get(first + 3)?,
            vote_window_seconds: row.get(first + 4)?,
            retention_days: row.get(first + 8)?,
        },
        RatingConfig {
            conv_rating_active: row.get(first + 5)?,
            conv_rating_popup_active: row.get(first + 6)?,
            conv_rating_question_codes: RatingConfig::codes_from_db(&codes),
        },
    ))
}

/// The settings and rating configuration of a bot, read without a scope
/// check (callers have already found the bot through one).
pub(super) async fn settings_of(c: &mut impl Conn, bot: &Uuid) -> Result<(BotSettings, RatingConfig), StoreError> {
    let row = c
        .query_opt(&format!("SELECT {SETTINGS_COLUMNS} FROM bot_settings s WHERE s.bot_id = $1"), params![bot])
        .await?
        .ok_or(StoreError::NotFound("bot"))?;
    settings_from(&row, 0)
}

async fn save(
    c: &mut impl Conn,
    bot: &Uuid,
    s: &BotSettings,
    r: &RatingConfig,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE bot_settings SET auto_approve_positive = $2, auto_approve_negative = $3, require_reason_positive = $4,
            require_reason_negative = $5, vote_window_seconds = $6, conv_rating_active = $7,
            conv_rating_popup_active = $8, conv_rating_question_codes = $9, updated_at = $10, retention_days = $11
         WHERE bot_id = $1",
        params![
            bot,
            s.auto_approve_positive,
            s.auto_approve_negative,
            s.require_reason_positive,
            s.require_reason_negative,
            s.vote_window_seconds,
            r.conv_rating_active,
            r.conv_rating_popup_active,
            r.codes_json(),
            now,
            s.retention_days
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn bot_settings(c: &mut impl Conn, scope: &Scope, bot: &Uuid) -> Result<BotSettings, StoreError> {
    bots::get(c, scope, bot).await?;
    Ok(settings_of(c, bot).await?.0)
}

pub(super) async fn update_bot_settings(
    c: &mut impl Conn,
    scope: &Scope,
    bot: &Uuid,
    patch: &BotSettingsPatch,
    by: &Actor,
    now: Timestamp,
) -> Result<BotSettings, StoreError> {
    bots::get(c, scope, bot).await?;
    let (settings, rating) = settings_of(c, bot).await?;
    let before = log::values(&settings);
    let next = patch.apply_to(settings)?;
    save(c, bot, &next, &rating, now).await?;
    record_change(c, scope, bot, Action::SettingsUpdated, before, log::values(&next), by, now).await?;
    Ok(next)
}

pub(super) async fn rating_config(c: &mut impl Conn, scope: &Scope, bot: &Uuid) -> Result<RatingConfig, StoreError> {
    bots::get(c, scope, bot).await?;
    Ok(settings_of(c, bot).await?.1)
}

pub(super) async fn update_rating_config(
    c: &mut impl Conn,
    scope: &Scope,
    bot: &Uuid,
    patch: &RatingConfigPatch,
    by: &Actor,
    now: Timestamp,
) -> Result<RatingConfig, StoreError> {
    bots::get(c, scope, bot).await?;
    let (settings, rating) = settings_of(c, bot).await?;
    let next = patch.apply_to(&rating)?;
    save(c, bot, &settings, &next, now).await?;
    record_change(c, scope, bot, Action::RatingConfigUpdated, log::values(&rating), log::values(&next), by, now)
        .await?;
    Ok(next)
}

/// Audits a change of a bot's configuration, if anything changed.
#[allow(clippy::too_many_arguments)]
async fn record_change(
    c: &mut impl Conn,
    scope: &Scope,
    bot: &Uuid,
    action: Action,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    by: &Actor,
    now: Timestamp,
) -> Result<(), StoreError> {
    if before == after {
        return Ok(());
    }
    audit::append(c, &AuditEntry::new(&scope.account_id, by, action, bot, before, after, now)).await
}

pub(super) async fn prompt_copy(
    c: &mut impl Conn,
    scope: &Scope,
    bot: &Uuid,
    locale: &str,
) -> Result<ResolvedCopy, StoreError> {
    bots::get(c, scope, bot).await?;
    for candidate in locale_chain(locale) {
        let row = c
            .query_opt(
                "SELECT title, negative_reason, negative_placeholder, negative_button, after_submission
                 FROM prompt_copy WHERE bot_id = $1 AND locale = $2",
                params![bot, candidate.as_str()],
            )
            .await?;
        if let Some(r) = row {
            return Ok(ResolvedCopy {
                locale: locale.to_owned(),
                resolved_locale: candidate,
                copy: PromptCopy {
                    title: r.get(0)?,
                    negative_reason: r.get(1)?,
                    negative_placeholder: r.get(2)?,
                    negative_button: r.get(3)?,
                    after_submission: r.get(4)?,
                },
            });
        }
    }
    Ok(ResolvedCopy { locale: locale.to_owned(), resolved_locale: "default".into(), copy: PromptCopy::builtin() })
}

pub(super) async fn put_prompt_copy(
    c: &mut impl Conn,
    scope: &Scope,
    bot: &Uuid,
    locale: &str,
    copy: &PromptCopy,
    by: &Actor,
    now: Timestamp,
) -> Result<ResolvedCopy, StoreError> {
    bots::get(c, scope, bot).await?;
    let key = locale.to_ascii_lowercase();
    let before = prompt_copy(c, scope, bot, &key).await?;
    let before = (before.resolved_locale == key).then_some(before.copy);
    let value = |copy: Option<&PromptCopy>| copy.map(|copy| serde_json::json!({"locale": key, "copy": copy}));
    let (before_value, after_value) = (value(before.as_ref()), value(Some(copy)));
    record_change(c, scope, bot, Action::PromptCopyUpdated, before_value, after_value, by, now).await?;
    c.execute(
        "INSERT INTO prompt_copy (account_id, bot_id, locale, title, negative_reason, negative_placeholder,
                                  negative_button, after_submission, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (bot_id, locale) DO UPDATE SET title = excluded.title, negative_reason = excluded.negative_reason,
            negative_placeholder = excluded.negative_placeholder, negative_button = excluded.negative_button,
            after_submission = excluded.after_submission, updated_at = excluded.updated_at",
        params![
            &scope.account_id,
            bot,
            key.as_str(),
            copy.title.as_str(),
            copy.negative_reason.as_str(),
            copy.negative_placeholder.as_str(),
            copy.negative_button.as_str(),
            copy.after_submission.as_str(),
            now
        ],
    )
    .await?;
    Ok(ResolvedCopy { locale: locale.to_owned(), resolved_locale: key, copy: copy.clone() })
}

/// The locales a bot has copy saved for, in order.
pub(super) async fn prompt_copy_locales(
    c: &mut impl Conn,
    scope: &Scope,
    bot: &Uuid,
) -> Result<Vec<String>, StoreError> {
    bots::get(c, scope, bot).await?;
    let rows = c.query("SELECT locale FROM prompt_copy WHERE bot_id = $1 ORDER BY locale", params![bot]).await?;
    rows.iter().map(|r| r.get(0)).collect()
}

/// A named secret as it is now.
pub(super) async fn read_instance_secret(c: &mut impl Conn, name: &str) -> Result<Option<String>, StoreError> {
    let row = c.query_opt("SELECT value FROM instance_secrets WHERE name = $1", params![name]).await?;
    row.map(|r| r.get(0)).transpose()
}

/// Replaces a named secret (or makes it).
pub(super) async fn replace_instance_secret(c: &mut impl Conn, name: &str, value: &str) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )
    .await
    .map(drop)
}

/// A named secret, made from `candidate` the first time and shared afterwards.
pub(super) async fn instance_secret(c: &mut impl Conn, name: &str, candidate: &str) -> Result<String, StoreError> {
    c.execute(
        "INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        params![name, candidate],
    )
    .await?;
    let row = c
        .query_opt("SELECT value FROM instance_secrets WHERE name = $1", params![name])
        .await?
        .ok_or(StoreError::other("an instance secret vanished"))?;
    row.get(0)
}
