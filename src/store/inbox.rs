//! The inbox: conversations newest first, filtered, with their counts.

use super::conversations::{CONVERSATION_COLUMNS, conversation_from};
use crate::{
    domain::{
        access::Scope,
        analytics::{InboxFilter, SatisfactionFilter, ThumbsFilter},
        conversation::ConversationRow,
        page::{Cursor, Page, PageRequest},
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Value, locale_matches},
    },
};

/// Conversations newest first, filtered, each with its counts (kept on the row).
///
/// Only the filters given become conditions, so that the planner sees plain
/// equalities: a satisfaction filter reads the (satisfaction, created_at)
/// index from the cursor on, instead of walking every newer conversation.
pub(super) async fn page(
    c: &mut impl Conn,
    scope: &Scope,
    filter: &InboxFilter,
    page: PageRequest,
) -> Result<Page<ConversationRow>, StoreError> {
    let (at, seq) = page.start();
    let mut params: Vec<Value> = params![
        &scope.account_id,
        filter.from.map_or(i64::MIN, |t| t.0),
        // The cursor's time is also an upper bound of the index range, so
        // that a deep page seeks instead of walking past every row before it.
        filter.to.map_or(i64::MAX, |t| t.0).min(at.saturating_add(1)),
        at,
        seq,
        page.limit + 1
    ]
    .to_vec();
    let mut bind = |value: Value| {
        params.push(value);
        format!("${}", params.len())
    };
    let mut conditions = String::new();
    let bots: Vec<&crate::domain::ids::Uuid> = scope.bot_id.iter().chain(filter.bot_id.iter()).collect();
    for bot in &bots {
        conditions += &format!(" AND v.bot_id = {}", bind(bot.as_str().into()));
    }
    match filter.feedback {
        None => {}
        Some(SatisfactionFilter::Unknown) => conditions += " AND v.satisfaction IS NULL",
        Some(f) => conditions += &format!(" AND v.satisfaction = {}", bind(f.satisfaction().into())),
    }
    match filter.thumbs {
        None => {}
        Some(ThumbsFilter::Up) => conditions += " AND v.thumbs_up > 0",
        Some(ThumbsFilter::Down) => conditions += " AND v.thumbs_down > 0",
    }
    if let Some(locale) = &filter.locale {
        let (exact, narrower) = (bind(locale.exact().into()), bind(locale.narrower().into()));
        conditions += &format!(" AND {}", locale_matches("LOWER(v.locale)", &exact, &narrower));
    }
    if let Some(contact) = &filter.contact_id {
        conditions += &format!(" AND v.contact_id = {}", bind(contact.as_str().into()));
    }
    if let Some(pattern) = filter.like_pattern() {
        let p = bind(pattern.into());
        conditions += &format!(
            " AND (LOWER(v.id) LIKE {p} ESCAPE '\\'
                   OR LOWER(COALESCE(v.contact_id, '')) LIKE {p} ESCAPE '\\'
                   OR EXISTS (SELECT 1 FROM messages m
                               WHERE m.account_id = v.account_id AND m.conversation_id = v.id
                                 AND LOWER(m.content) LIKE {p} ESCAPE '\\'))"
        );
    }
    let index = match (filter.feedback.is_some(), bots.is_empty()) {
        (true, true) => c.dialect().use_index("conversations_by_satisfaction"),
        (true, false) => c.dialect().use_index("conversations_by_bot_satisfaction"),
        (false, _) => String::new(),
    };
    let mut rows = c
        .query(
            &format!(
                "SELECT {columns}, v.message_count, v.thumbs_up, v.thumbs_down
                 FROM conversations v{index}
                 WHERE v.account_id = $1{conditions}
                   AND v.created_at >= $2 AND v.created_at < $3
                   AND (v.created_at < $4 OR (v.created_at = $4 AND v.seq < $5))
                 ORDER BY v.created_at DESC, v.seq DESC LIMIT $6",
                columns = CONVERSATION_COLUMNS
            ),
            &params,
        )
        .await?;
    let rows = rows
        .iter_mut()
        .map(|r| {
            let row = ConversationRow {
                conversation: conversation_from(r)?,
                message_count: r.get(12)?,
                thumbs_up: r.get(13)?,
                thumbs_down: r.get(14)?,
            };
            Ok((row, Cursor { at: r.get(6)?, seq: r.get(9)? }))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}
