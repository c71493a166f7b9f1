//! The stored groups of knowledge gaps (SPEC §10): each represented
//! question's neighbours on its shelf (its bot and language) and its group,
//! and each shelf's count of changes. The embedding worker links questions
//! and regroups shelves through these; listings only read what they wrote.

use base64::{Engine as _, engine::general_purpose::STANDARD};

use crate::{
    domain::{
        Timestamp,
        gaps::{Assignment, Shelf, ShelfQuestion, ShelfRow, ShelfRows},
    },
    params,
    store::{
        StoreError,
        sql::{Conn, Value, runs_of, typed_value_rows},
    },
};

/// Rows an `UPDATE … FROM (VALUES …)` sets at a time.
const ROWS_AN_UPDATE: usize = 500;

/// The shelves the worker has work on: those with questions represented but
/// not linked yet, and those whose groups are older than their last change;
/// each with its count of changes and the count its groups were made from.
pub(super) async fn with_work(c: &mut impl Conn) -> Result<Vec<(Shelf, i64, i64)>, StoreError> {
    let rows = c
        .query(
            "SELECT s.account_id, s.bot_id, s.locale, s.changed, s.grouped FROM gap_shelves s
             WHERE s.changed <> s.grouped OR EXISTS (
                SELECT 1 FROM gap_questions g WHERE g.vector IS NOT NULL AND g.neighbours IS NULL
                  AND g.account_id = s.account_id AND g.bot_id = s.bot_id AND g.locale = s.locale)
             ORDER BY s.account_id, s.bot_id, s.locale",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((Shelf { account_id: r.get(0)?, bot_id: r.get(1)?, locale: r.get(2)? }, r.get(3)?, r.get(4)?)))
        .collect()
}

/// Whether any question waits to be linked, or any shelf to be regrouped:
/// two reads of small indexes, for an idle worker.
pub(super) async fn any_work(c: &mut impl Conn) -> Result<bool, StoreError> {
    let unlinked = c
        .query_opt("SELECT seq FROM gap_questions WHERE vector IS NOT NULL AND neighbours IS NULL LIMIT 1", &[])
        .await?;
    let behind = c.query_opt("SELECT changed FROM gap_shelves WHERE changed <> grouped LIMIT 1", &[]).await?;
    Ok(unlinked.is_some() || behind.is_some())
}

/// The first `limit` represented questions of `shelf` queued after `after`,
/// in queue order, each with its vector (stored form), neighbours and group;
/// and the shelf's counts.
pub(super) async fn read(c: &mut impl Conn, shelf: &Shelf, after: i64, limit: i64) -> Result<ShelfRows, StoreError> {
    let p = params![&shelf.account_id, &shelf.bot_id, shelf.locale.as_str()];
    let counts = c
        .query_opt(
            "SELECT changed, removed, linked FROM gap_shelves WHERE account_id = $1 AND bot_id = $2 AND locale = $3",
            p,
        )
        .await?;
    let (changed, removed, linked) = match counts {
        Some(r) => (r.get(0)?, r.get(1)?, r.get(2)?),
        None => (0, 0, 0),
    };
    let rows = c
        .query(
            "SELECT seq, message_id, queued_at, vector, neighbours, group_id, central FROM gap_questions
             WHERE account_id = $1 AND bot_id = $2 AND locale = $3 AND vector IS NOT NULL AND seq > $4
             ORDER BY seq LIMIT $5",
            params![&shelf.account_id, &shelf.bot_id, shelf.locale.as_str(), after, limit],
        )
        .await?;
    let mut questions = Vec::with_capacity(rows.len());
    for mut r in rows {
        let vector: String = r.take(3)?;
        let Ok(vector) = STANDARD.decode(vector) else { continue };
        let neighbours = r
            .text_opt(4)?
            .map(|list| list.split(',').filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect());
        questions.push(ShelfRow {
            question: ShelfQuestion {
                seq: r.get(0)?,
                message_id: r.take(1)?,
                first_rated: r.get::<Timestamp>(2)?,
                group_id: r.take(5)?,
                central: r.get::<i64>(6)? != 0,
            },
            vector,
            neighbours,
        });
    }
    Ok(ShelfRows { changed, removed, linked, rows: questions })
}

/// `UPDATE gap_questions SET <set> FROM (VALUES …)` over `rows` (seq first,
/// then one value a column of `types`), for the account's questions that
/// meet `only` (a condition on `gap_questions`, or `TRUE`).
async fn update_each(
    c: &mut impl Conn,
    account_id: &str,
    (set, only): (&str, &str),
    types: &[&str],
    rows: &[Vec<Value>],
) -> Result<(), StoreError> {
    for run in runs_of(rows, ROWS_AN_UPDATE) {
        let values = typed_value_rows(2, types, run.len());
        let sql = format!(
            "UPDATE gap_questions SET {set} FROM (VALUES {values}) AS v
             WHERE gap_questions.account_id = $1 AND gap_questions.seq = v.column1 AND {only}"
        );
        let params: Vec<Value> =
            std::iter::once(Value::from(account_id)).chain(run.iter().flat_map(|r| r.iter().cloned())).collect();
        c.execute(&sql, &params).await?;
    }
    Ok(())
}

/// Stores neighbour lists of `shelf` (`lists`: seq and its neighbours' seqs)
/// and the gap ids of the questions linked for the first time (`aliases`);
/// returns the shelf's new counts of changes and of lists stored.
pub(super) async fn link(
    c: &mut impl Conn,
    shelf: &Shelf,
    lists: &[(i64, Vec<i64>)],
    aliases: &[(i64, String)],
) -> Result<(i64, i64), StoreError> {
    let rows: Vec<Vec<Value>> = lists
        .iter()
        .map(|(seq, near)| {
            let list = near.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
            vec![Value::Int(*seq), Value::Text(list)]
        })
        .collect();
    update_each(c, &shelf.account_id, ("neighbours = v.column2", "TRUE"), &["BIGINT", "TEXT"], &rows).await?;
    let rows: Vec<Vec<Value>> =
        aliases.iter().map(|(seq, alias)| vec![Value::Int(*seq), Value::Text(alias.clone())]).collect();
    // Questions queued since migration 0023 got their id with the queue: only older ones are written.
    let missing = ("alias = v.column2", "gap_questions.alias IS NULL");
    update_each(c, &shelf.account_id, missing, &["BIGINT", "TEXT"], &rows).await?;
    let row = c
        .query_opt(
            "UPDATE gap_shelves SET changed = changed + 1, linked = linked + 1
             WHERE account_id = $1 AND bot_id = $2 AND locale = $3 RETURNING changed, linked",
            params![&shelf.account_id, &shelf.bot_id, shelf.locale.as_str()],
        )
        .await?;
    row.map_or(Ok((0, 0)), |r| Ok((r.get(0)?, r.get(1)?)))
}

/// Stores the places that changed in a regrouping of `shelf`, made from its
/// `changed`-th count of changes.
pub(super) async fn regroup(
    c: &mut impl Conn,
    shelf: &Shelf,
    changed: i64,
    places: &[Assignment],
) -> Result<(), StoreError> {
    let rows: Vec<Vec<Value>> = places
        .iter()
        .map(|a| vec![Value::Int(a.seq), Value::Text(a.group_id.clone()), Value::Int(i64::from(a.central))])
        .collect();
    let set = "group_id = v.column2, central = v.column3";
    update_each(c, &shelf.account_id, (set, "TRUE"), &["BIGINT", "TEXT", "BIGINT"], &rows).await?;
    c.execute(
        "UPDATE gap_shelves SET grouped = $4 WHERE account_id = $1 AND bot_id = $2 AND locale = $3",
        params![&shelf.account_id, &shelf.bot_id, shelf.locale.as_str(), changed],
    )
    .await?;
    Ok(())
}

/// After questions of the account went (an erasure): every shelf of it
/// changed, so its lists are checked and it is regrouped.
pub(super) async fn erased(c: &mut impl Conn, account_id: &str) -> Result<(), StoreError> {
    c.execute(
        "UPDATE gap_shelves SET changed = changed + 1, removed = removed + 1 WHERE account_id = $1",
        params![account_id],
    )
    .await?;
    Ok(())
}

/// After thumbs-down of the account went while their questions stayed (a
/// person's feedback on someone else's conversation was erased): the
/// shelves changed, so that listings kept in memory are read again.
pub(super) async fn recounted(c: &mut impl Conn, account_id: &str) -> Result<(), StoreError> {
    c.execute("UPDATE gap_shelves SET changed = changed + 1 WHERE account_id = $1", params![account_id]).await?;
    Ok(())
}

/// A question just represented takes its language (its conversation's)
/// and so its shelf, which changed.
pub(super) async fn shelve(c: &mut impl Conn, seq: i64) -> Result<(), StoreError> {
    c.execute(
        "UPDATE gap_questions SET locale = COALESCE((
            SELECT LOWER(cv.locale) FROM messages m
            JOIN conversations cv ON cv.account_id = m.account_id AND cv.id = m.conversation_id
            WHERE m.account_id = gap_questions.account_id AND m.id = gap_questions.message_id), '')
         WHERE seq = $1",
        params![seq],
    )
    .await?;
    c.execute(
        "INSERT INTO gap_shelves (account_id, bot_id, locale)
         SELECT account_id, bot_id, locale FROM gap_questions WHERE seq = $1
         ON CONFLICT (account_id, bot_id, locale) DO UPDATE SET changed = gap_shelves.changed + 1",
        params![seq],
    )
    .await?;
    Ok(())
}
