//! Embedded migrations, one list per engine, kept in step: the same
//! versions and names in `migrations/sqlite` and `migrations/postgres`.

use super::{
    StoreError,
    sql::{Conn, Dialect, Engine},
};
use crate::params;

/// One schema change.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($dir:literal: $($version:literal $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/", $dir, "/", $name, ".sql")),
        }),*]
    };
}

/// The SQLite migrations, oldest first.
pub const SQLITE: &[Migration] = migrations!("sqlite": 1 "0001_foundation", 2 "0002_feedback", 3 "0003_inbox_indexes", 4 "0004_rollups", 5 "0005_conversation_counts", 6 "0006_knowledge_gaps", 7 "0007_pending_rollups", 8 "0008_check_lists", 9 "0009_feedback_through_messages", 10 "0010_rollup_reads_without_views", 11 "0011_rollup_blocks", 12 "0012_bytewise_keys", 13 "0013_request_ids_only_where_given", 14 "0014_message_keys_lead_with_the_message", 15 "0015_messages_checked_by_statement", 16 "0016_conversations_found_by_id", 17 "0017_people", 18 "0018_conversations_by_contact", 19 "0019_data_lifecycle", 20 "0020_webhooks", 21 "0021_gap_questions", 22 "0022_reason_vectors", 23 "0023_gap_groups", 24 "0024_rollup_languages", 25 "0025_gap_queue");
/// The PostgreSQL migrations, oldest first.
pub const POSTGRES: &[Migration] = migrations!("postgres": 1 "0001_foundation", 2 "0002_feedback", 3 "0003_inbox_indexes", 4 "0004_rollups", 5 "0005_conversation_counts", 6 "0006_knowledge_gaps", 7 "0007_pending_rollups", 8 "0008_check_lists", 9 "0009_feedback_through_messages", 10 "0010_rollup_reads_without_views", 11 "0011_rollup_blocks", 12 "0012_bytewise_keys", 13 "0013_request_ids_only_where_given", 14 "0014_message_keys_lead_with_the_message", 15 "0015_messages_checked_by_statement", 16 "0016_conversations_found_by_id", 17 "0017_people", 18 "0018_conversations_by_contact", 19 "0019_data_lifecycle", 20 "0020_webhooks", 21 "0021_gap_questions", 22 "0022_reason_vectors", 23 "0023_gap_groups", 24 "0024_rollup_languages", 25 "0025_gap_queue");

/// The list for a dialect.
pub fn for_dialect(d: Dialect) -> &'static [Migration] {
    match d {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    }
}

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS plaudit_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/// Applies every pending migration, each in its own transaction. Safe to run
/// from several processes at once: on PostgreSQL an advisory lock serialises
/// them; SQLite has a single writer. Returns the versions applied.
pub async fn run<E: Engine>(engine: &E) -> Result<Vec<i64>, StoreError> {
    run_to(engine, i64::MAX).await
}

/// [`run`], up to version `last` only: a test of a migration first builds
/// the schema it changes, with rows in it.
pub async fn run_to<E: Engine>(engine: &E, last: i64) -> Result<Vec<i64>, StoreError> {
    let mut applied = Vec::new();
    loop {
        let step = engine
            .write(move |c| {
                Box::pin(async move {
                    if c.dialect() == Dialect::Postgres {
                        c.batch("SELECT pg_advisory_xact_lock(7343026)").await?;
                    }
                    c.batch(LEDGER).await?;
                    let done: i64 = c
                        .query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM plaudit_migrations", &[])
                        .await?
                        .first()
                        .map(|r| r.get(0))
                        .transpose()?
                        .unwrap_or(0);
                    let known = for_dialect(c.dialect()).last().map_or(0, |m| m.version);
                    if done > known {
                        // An older build on a newer schema would misread it: refuse, and say how to go back.
                        return Err(StoreError::other(format!(
                            "the database is at schema version {done}, newer than this build knows ({known}): \
                             run the newer Plaudit, or restore the backup taken before the upgrade"
                        )));
                    }
                    let Some(next) = for_dialect(c.dialect()).iter().find(|m| m.version > done && m.version <= last)
                    else {
                        return Ok(None);
                    };
                    // Some migrations rewrite an index of a large table: say
                    // what the start is waiting on.
                    tracing::info!(version = next.version, name = next.name, "applying a schema migration");
                    let started = std::time::Instant::now();
                    c.batch(next.sql).await?;
                    tracing::info!(
                        version = next.version,
                        seconds = started.elapsed().as_secs_f64(),
                        "migration applied"
                    );
                    c.execute(
                        "INSERT INTO plaudit_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                        params![next.version, next.name, crate::domain::Timestamp::now()],
                    )
                    .await?;
                    Ok(Some(next.version))
                })
            })
            .await?;
        match step {
            Some(v) => applied.push(v),
            None => return Ok(applied),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_have_the_same_versions_and_names() {
        let names = |ms: &[Migration]| ms.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(names(SQLITE), names(POSTGRES));
        for (i, m) in SQLITE.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "versions are consecutive");
            assert!(m.name.starts_with(&format!("{:04}_", m.version)));
        }
    }

    #[test]
    fn every_migration_file_is_listed() {
        for (dir, list) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let path = format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
            let mut files: Vec<String> =
                std::fs::read_dir(path).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
            files.sort();
            let listed: Vec<String> = list.iter().map(|m| format!("{}.sql", m.name)).collect();
            assert_eq!(files, listed, "{dir}");
        }
    }
}
