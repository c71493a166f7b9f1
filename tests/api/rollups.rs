//! The rollups agree with a direct count of the signals, on random data:
//! thumbs given, switched and retracted, votes, CSAT answers changed,
//! conversations moved to another variant or language and answers to
//! another topic.

use plaudit::{
    config::Settings,
    domain::{
        Timestamp,
        access::Scope,
        account::DEFAULT_ACCOUNT_ID,
        analytics::{Filters, GroupBy, Grouping},
        ids::{LocaleFilter, Uuid},
        rollup::Counting,
    },
};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app_with, test_settings},
};

both_backends!(
    rollups_equal_direct_counts_on_random_data,
    the_server_folds_pending_changes_on_its_own,
    figures_stay_exact_through_erasures_and_retention
);

/// Empties the rollups and counts them again with the statements by which
/// the migrations fill them on a database that already holds signals.
async fn recount_as_the_migration_does(app: &TestApp, backend: &Backend) {
    let (migration, blocks) = match backend {
        Backend::Sqlite => (
            include_str!("../../migrations/sqlite/0004_rollups.sql"),
            include_str!("../../migrations/sqlite/0011_rollup_blocks.sql"),
        ),
        Backend::Postgres(_) => (
            include_str!("../../migrations/postgres/0004_rollups.sql"),
            include_str!("../../migrations/postgres/0011_rollup_blocks.sql"),
        ),
    };
    // 0004 counts the 15-minute, hour and day rows; 0011 adds the blocks;
    // 0024 counts the finest rows again per language.
    let fill = &migration[migration.find("INSERT INTO").expect("the migration fills the rollups")..];
    let fill = format!("{fill}\n{blocks}\n{}", languages_recount(backend));
    let sql = format!(
        "DELETE FROM thumb_rollup; DELETE FROM vote_rollup; DELETE FROM csat_rollup;
         DELETE FROM thumb_rollup_pending; DELETE FROM vote_rollup_pending; DELETE FROM csat_rollup_pending; {fill}"
    );
    let filled = on_database(app, backend, &sql, "SELECT COUNT(*) FROM thumb_rollup").await;
    assert!(filled > 0, "the recount filled no rollup rows");
}

/// The part of migration 0024 that counts the finest rollup rows again per
/// language, from the signals, keeping what they no longer hold.
fn languages_recount(backend: &Backend) -> &'static str {
    let migration = match backend {
        Backend::Sqlite => include_str!("../../migrations/sqlite/0024_rollup_languages.sql"),
        Backend::Postgres(_) => include_str!("../../migrations/postgres/0024_rollup_languages.sql"),
    };
    &migration[migration.find("-- Recount.").expect("the migration recounts the finest rows")..]
}

/// A small reproducible generator (xorshift64*), so that a failure can be replayed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// An instant between 2024-05-20 and 2024-06-20, to the millisecond.
    fn instant(&mut self) -> String {
        let start = Timestamp::parse_rfc3339("t", "2024-05-20T00:00:00Z").unwrap().0;
        let ms = start + i64::try_from(self.next() % (31 * 86_400_000)).unwrap();
        Timestamp(ms).to_rfc3339()
    }
}

const VARIANTS: [Option<&str>; 3] = [Some("A"), Some("B"), None];
const TOPICS: [Option<&str>; 3] = [Some("billing"), Some("shipping"), None];
const REASONS: [Option<&str>; 3] = [Some("Too slow"), Some("Wrong answer"), None];
/// Languages, of which `fr` also matches the other two.
const LOCALES: [Option<&str>; 4] = [Some("fr"), Some("fr-CA"), Some("FR-be"), None];

fn metadata(key: &str, value: Option<&str>) -> Value {
    match value {
        Some(v) => json!({ key: v }),
        None => json!({}),
    }
}

/// Sends a batch; refusals the data makes likely (a vote within its window,
/// a thumb on a message of a bot the key cannot see) are fine, others not.
async fn ingest(app: &TestApp, events: Vec<Value>) {
    let r = app.post("/v1/ingest", &app.admin, json!({ "events": events })).await;
    for result in r.assert_status(200)["results"].as_array().unwrap() {
        assert!(result["ok"] == true, "{result}");
    }
}

/// Writes random signals through the API; returns the bots.
async fn random_history(app: &TestApp, seed: u64) -> Vec<String> {
    let mut rng = Random(seed);
    let bots = vec![app.bot("A").await, app.bot("B").await];
    let mut conversations = Vec::new();
    let mut messages = Vec::new();
    let mut events = Vec::new();
    for i in 0..30 {
        let id = format!("c{i}");
        events.push(json!({"type": "conversation", "id": id, "bot_id": rng.pick(&bots),
                           "contact_id": rng.pick(&["u1", "u2", "u3", "u4"]),
                           "metadata": metadata("variant", *rng.pick(&VARIANTS)),
                           "locale": rng.pick(&LOCALES), "created_at": "2024-05-01T00:00:00Z"}));
        for j in 0..3 {
            let m = format!("{id}-a{j}");
            let mut meta = metadata("topic", *rng.pick(&TOPICS));
            meta["confidence"] = json!(0.25 * f64::from(u8::try_from(rng.below(5)).unwrap()));
            events.push(json!({"type": "message", "conversation_id": id, "id": m, "role": "assistant",
                               "content": "An answer", "metadata": meta, "created_at": "2024-05-01T00:00:01Z"}));
            messages.push(m);
        }
        conversations.push(id);
    }
    ingest(app, events).await;
    let users = ["u1", "u2", "u3", "u4"];
    for round in 0..8 {
        if round == 4 {
            // Half of the history folded into the rollup rows, the rest left pending.
            assert!(fold(app).await > 0, "the first rounds left changes pending");
        }
        let mut events = Vec::new();
        for _ in 0..50 {
            let event = match rng.below(10) {
                0..=4 => json!({"type": "feedback", "message_id": rng.pick(&messages), "user_id": rng.pick(&users),
                                "feedback_type": rng.pick(&["positive", "negative"]),
                                "reason": rng.pick(&REASONS), "created_at": rng.instant()}),
                5 => json!({"type": "vote", "conversation_id": rng.pick(&conversations),
                            "direction": rng.pick(&["up", "down"]), "user_id": rng.pick(&users),
                            "reason": rng.pick(&REASONS), "created_at": rng.instant()}),
                6 | 7 => {
                    let value = rng.pick(&["up", "down"]);
                    json!({"type": "csat", "conversation_id": rng.pick(&conversations), "user_id": rng.pick(&users),
                           "question_code": rng.pick(&["HELPFUL_THUMBS", "EXPERIENCE_THUMBS"]), "value": value,
                           "negative_reason": if *value == "down" { *rng.pick(&REASONS) } else { None },
                           "created_at": rng.instant()})
                }
                8 => match rng.below(2) {
                    0 => json!({"type": "conversation", "id": rng.pick(&conversations),
                                "metadata": metadata("variant", *rng.pick(&VARIANTS))}),
                    _ => json!({"type": "conversation", "id": rng.pick(&conversations),
                                "locale": rng.pick(&LOCALES[..3])}),
                },
                _ => json!({"type": "message_update", "id": rng.pick(&messages),
                            "metadata": metadata("topic", *rng.pick(&TOPICS))}),
            };
            events.push(event);
        }
        ingest(app, events).await;
        concurrent_singles(app, &mut rng, &messages, &conversations).await;
        for _ in 0..5 {
            let path = format!("/v1/messages/{}/feedback?user_id={}", rng.pick(&messages), rng.pick(&users));
            let status = app.delete(&path, &app.admin).await.status;
            assert!(status == 200 || status == 404, "retracting answered {status}");
        }
    }
    bots
}

/// Thumbs, switches, retractions and votes sent one a request, all at once:
/// on SQLite they share group commits, whose rollup changes are appended together.
async fn concurrent_singles(app: &TestApp, rng: &mut Random, messages: &[String], conversations: &[String]) {
    let users = ["u1", "u2", "u3", "u4", "u5"];
    let mut requests = Vec::new();
    for _ in 0..40 {
        let (message, user) = (rng.pick(messages).clone(), *rng.pick(&users));
        let request = match rng.below(4) {
            0 => (format!("/v1/messages/{message}/feedback?user_id={user}"), None),
            1 => (
                format!("/v1/conversations/{}/{}", rng.pick(conversations), rng.pick(&["upvote", "downvote"])),
                Some(json!({"user_id": user, "reason": rng.pick(&REASONS)})),
            ),
            _ => (
                "/v1/feedback".to_owned(),
                Some(json!({"message_id": message, "user_id": user, "reason": rng.pick(&REASONS),
                            "feedback_type": rng.pick(&["positive", "negative"]), "created_at": rng.instant()})),
            ),
        };
        requests.push(request);
    }
    let answers = futures_util::future::join_all(requests.iter().map(|(path, body)| async move {
        match body {
            Some(body) => app.post(path, &app.admin, body.clone()).await.status,
            None => app.delete(path, &app.admin).await.status,
        }
    }))
    .await;
    for status in answers {
        assert!([200, 201, 202, 404].contains(&status), "a concurrent write answered {status}");
    }
}

/// A running server adds pending changes to the rollup rows by itself.
async fn the_server_folds_pending_changes_on_its_own(backend: Backend) {
    let app = spawn_app_with(backend.clone(), Settings { rollup_fold_interval_ms: 100, ..test_settings() }).await;
    let bot = app.bot("A").await;
    let mut events = vec![json!({"type": "conversation", "id": "c", "bot_id": bot})];
    for i in 0..5 {
        events.push(json!({"type": "message", "conversation_id": "c", "id": format!("a{i}"), "role": "assistant",
                           "content": "An answer"}));
        events.push(
            json!({"type": "feedback", "message_id": format!("a{i}"), "user_id": "u", "feedback_type": "negative"}),
        );
    }
    ingest(&app, events).await;
    let mut counts = (0, 0);
    for _ in 0..50 {
        let pending_rows = on_database(&app, &backend, "", "SELECT COUNT(*) FROM thumb_rollup_pending").await;
        counts = (pending_rows, on_database(&app, &backend, "", "SELECT COUNT(*) FROM thumb_rollup").await);
        if counts.0 == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(counts.0, 0, "the server left changes pending");
    assert!(counts.1 > 0, "the changes reached the rollup rows");
    let year: i32 = Timestamp::now().to_rfc3339()[..4].parse().unwrap();
    let period = format!("from={}-01-01&to={}-01-01", year - 1, year + 1);
    let overview = app.get(&format!("/v1/analytics/overview?bot_id={bot}&{period}"), &app.admin).await;
    assert_eq!(overview.assert_status(200)["message_feedback"]["thumbs_down"]["count"], 5, "{}", overview.body);
}

/// Runs `statements`, then `query`, straight on the app's database (not
/// through the store); returns the number `query` selects.
async fn on_database(app: &TestApp, backend: &Backend, statements: &str, query: &str) -> i64 {
    let (statements, query) = (statements.to_owned(), query.to_owned());
    match backend {
        Backend::Sqlite => {
            let path = app.database_url().trim_start_matches("sqlite://").to_owned();
            tokio::task::spawn_blocking(move || {
                let db = rusqlite::Connection::open(path).expect("open the database");
                db.execute_batch(&statements).expect("run the statements");
                db.query_row(&query, [], |r| r.get(0)).expect("query")
            })
            .await
            .unwrap()
        }
        Backend::Postgres(_) => {
            let (client, conn) =
                tokio_postgres::connect(app.database_url(), tokio_postgres::NoTls).await.expect("connect");
            tokio::spawn(conn);
            client.batch_execute(&statements).await.expect("run the statements");
            client.query_one(&query, &[]).await.expect("query").get(0)
        }
    }
}

/// PostgreSQL keeps a deleted row in its table until a vacuum, and a fold
/// reads its pending table whole; so a fold reclaims the rows it deleted,
/// rather than leave them to an autovacuum that may run a minute later, or
/// never (it can be turned off). The table then stays the size of one fold's
/// changes instead of growing with every fold. The test has a database of
/// its own: a vacuum keeps every row that a transaction open elsewhere in
/// its database might still see, such as those of the tests running beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folds_leave_no_dead_pending_rows_behind_on_postgres() {
    let Some(Backend::Postgres(server)) = Backend::postgres() else { return };
    let (admin, conn) = tokio_postgres::connect(&server, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    let name = format!("plaudit_fold_{}", uuid::Uuid::new_v4().simple());
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create a database");
    let (base, query) = server.split_once('?').map_or((server.as_str(), ""), |(b, q)| (b, q));
    let own = format!(
        "{}/{name}{}",
        &base[..base.rfind('/').expect("a database in the URL")],
        if query.is_empty() { String::new() } else { format!("?{query}") }
    );
    let backend = Backend::Postgres(own);
    let app = spawn_app_with(backend.clone(), Settings { rollup_fold_interval_ms: 0, ..test_settings() }).await;
    let pages = "SELECT pg_relation_size('thumb_rollup_pending') / 8192";
    let mut sizes = Vec::new();
    for _ in 0..6 {
        let one_fold = on_database(
            &app,
            &backend,
            "INSERT INTO thumb_rollup_pending
             SELECT 'account', 'bot', 'A', 'topic', 0, 3600000, g, 1, 0 FROM generate_series(1, 5000) g",
            pages,
        )
        .await;
        assert_eq!(fold(&app).await, 5000);
        sizes.push((one_fold, on_database(&app, &backend, "", pages).await));
    }
    let (one_fold, _) = sizes[0];
    assert!(one_fold > 20, "5,000 pending rows fill more than 20 pages: {sizes:?}");
    assert!(sizes.iter().all(|&(during, after)| during <= one_fold + 2 && after <= one_fold), "{sizes:?}");
    let folded =
        on_database(&app, &backend, "", "SELECT COUNT(*) FROM thumb_rollup WHERE account_id = 'account' AND up = 6")
            .await;
    assert_eq!(folded, 5000, "every fold reached the rollups");
    drop(app);
    admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)")).await.expect("drop the database");
}

/// Thumb buckets the whole random history fills, at least: the comparison
/// means something only if there was plenty to count.
const PLENTY: usize = 40;

/// Folds the pending rollup changes; returns how many there were.
async fn fold(app: &TestApp) -> u64 {
    app.store.fold_rollups().await.expect("fold the pending rollup changes")
}

async fn rollups_equal_direct_counts_on_random_data(backend: Backend) {
    // The test folds, not a timer: figures are checked with changes folded
    // and pending, then all folded.
    let app = spawn_app_with(backend.clone(), Settings { rollup_fold_interval_ms: 0, ..test_settings() }).await;
    let bots = random_history(&app, 0x5eed_1234_abcd_0001).await;
    check_rollups(&app, &bots, PLENTY).await;
    assert!(fold(&app).await > 0, "the last rounds left changes pending");
    check_rollups(&app, &bots, PLENTY).await;
    assert_eq!(fold(&app).await, 0, "a fold leaves nothing pending");
    check_inbox_counts(&app, 30).await;
    recount_as_the_migration_does(&app, &backend).await;
    check_rollups(&app, &bots, PLENTY).await;
}

/// Erasing a person (their conversations, and what they gave on others')
/// and deleting a conversation leave every figure equal to a direct count
/// of what remains, folded or pending; a purge keeps the purged periods'
/// figures and leaves later ones equal to a direct count.
async fn figures_stay_exact_through_erasures_and_retention(backend: Backend) {
    let app = spawn_app_with(backend.clone(), Settings { rollup_fold_interval_ms: 0, ..test_settings() }).await;
    let bots = random_history(&app, 0x5eed_1234_abcd_0002).await;
    let erased = app.delete("/v1/contacts/u2", &app.admin).await;
    let erased = erased.assert_status(200)["erased"].clone();
    assert!(erased["conversations"].as_i64().unwrap() > 0 && erased["feedback"].as_i64().unwrap() > 0, "{erased}");
    let inbox = app.get("/v1/conversations?limit=100&contact_id=u1", &app.admin).await;
    let theirs = inbox.assert_status(200)["items"].as_array().unwrap().clone();
    let gone = theirs.first().expect("u1 has conversations")["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1/conversations/{gone}"), &app.admin).await.assert_status(200);
    let left = 30 - usize::try_from(erased["conversations"].as_i64().unwrap()).unwrap() - 1;
    check_rollups(&app, &bots, PLENTY / 2).await;
    check_inbox_counts(&app, left).await;
    fold(&app).await;
    check_rollups(&app, &bots, PLENTY / 2).await;
    recount_as_the_migration_does(&app, &backend).await;
    check_rollups(&app, &bots, PLENTY / 2).await;

    // Retention: conversations quiet since before the cut go; the figures stay.
    let at = |s: &str| Timestamp::parse_rfc3339("t", s).unwrap();
    let (start, cut, end) = (at("2024-05-01T00:00:00Z"), at("2024-06-18T00:00:00Z"), at("2024-07-01T00:00:00Z"));
    let scope = Scope::account(DEFAULT_ACCOUNT_ID);
    let all = Filters::default();
    let overview =
        |from, to, counting| app.store.overview_facts(&scope, &all, from, from, to, Grouping::BUCKETS, counting);
    let before_cut = overview(start, cut, Counting::Rollups).await.unwrap().normalized();
    let mut purged = 0;
    for bot in &bots {
        let bot = Uuid::parse("bot_id", bot).unwrap();
        let cli = plaudit::domain::audit::Actor::cli();
        let done = app.store.purge(&scope, &bot, cut, false, &cli, Timestamp::now(), &|_| {}).await.unwrap();
        purged += done.conversations;
    }
    assert!(purged > 0 && usize::try_from(purged).unwrap() < left, "{purged} of {left} conversations purged");
    assert_eq!(overview(start, cut, Counting::Rollups).await.unwrap().normalized(), before_cut);
    assert_ne!(overview(start, cut, Counting::Direct).await.unwrap().normalized(), before_cut, "records went");
    // Counting the finest rows again per language (migration 0024) keeps
    // what the purge took under no language: the variant's figures stay.
    let on_a = Filters { variant: Some("A".into()), ..Filters::default() };
    let variant_a = || app.store.overview_facts(&scope, &on_a, start, start, cut, Grouping::BUCKETS, Counting::Rollups);
    let a_before = variant_a().await.unwrap().normalized();
    assert!(!a_before.thumbs.is_empty());
    on_database(&app, &backend, languages_recount(&backend), "SELECT COUNT(*) FROM thumb_rollup").await;
    assert_eq!(variant_a().await.unwrap().normalized(), a_before);
    assert_eq!(overview(start, cut, Counting::Rollups).await.unwrap().normalized(), before_cut);
    let after = |counting| overview(cut, end, counting);
    assert_eq!(
        after(Counting::Rollups).await.unwrap().normalized(),
        after(Counting::Direct).await.unwrap().normalized()
    );
    check_inbox_counts(&app, left - usize::try_from(purged).unwrap()).await;
}

/// The counts kept on each conversation (shown by the inbox) equal those of
/// its transcript.
async fn check_inbox_counts(app: &TestApp, conversations: usize) {
    let page = app.get("/v1/conversations?limit=100", &app.admin).await;
    let items = page.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), conversations);
    for row in items {
        let id = row["id"].as_str().unwrap();
        let t = app.get(&format!("/v1/conversations/{id}"), &app.admin).await.assert_status(200).clone();
        let messages = t["messages"].as_array().unwrap();
        let said = messages.iter().filter(|m| m["role"] != "activity").count();
        let thumbs = |k: &str| messages.iter().map(|m| m["feedback"][k].as_i64().unwrap_or(0)).sum::<i64>();
        assert_eq!(row["message_count"], json!(said), "{id}");
        assert_eq!(
            (row["thumbs_up"].as_i64(), row["thumbs_down"].as_i64()),
            (Some(thumbs("up")), Some(thumbs("down"))),
            "{id}"
        );
    }
}

/// Every figure the rollups answer equals the direct count, under a range of
/// filters and scopes.
async fn check_rollups(app: &TestApp, bots: &[String], plenty: usize) {
    let at = |s: &str| Timestamp::parse_rfc3339("t", s).unwrap();
    // Ten whole days; and eleven weeks between two odd quarter hours, whose
    // totals read a block of 64 days, blocks of 8, days, hours and buckets.
    let periods = [
        (at("2024-05-22T00:00:00Z"), at("2024-06-01T00:00:00Z"), at("2024-06-11T00:00:00Z")),
        (at("2024-02-01T00:00:00Z"), at("2024-04-20T10:15:00Z"), at("2024-07-05T07:45:00Z")),
    ];
    for (previous_from, from, to) in periods {
        check_period(app, bots, previous_from, from, to, plenty).await;
    }
}

async fn check_period(
    app: &TestApp,
    bots: &[String],
    previous_from: Timestamp,
    from: Timestamp,
    to: Timestamp,
    plenty: usize,
) {
    let bot = |i: usize| Some(Uuid::parse("bot_id", &bots[i]).unwrap());
    let locale = |tag: &str| Some(LocaleFilter::parse("locale", tag).unwrap());
    let filters = [
        Filters::default(),
        Filters { bot_id: bot(0), ..Filters::default() },
        Filters { variant: Some("A".into()), ..Filters::default() },
        Filters { topic: Some("billing".into()), ..Filters::default() },
        Filters { has_reason: Some(true), ..Filters::default() },
        Filters { has_reason: Some(false), bot_id: bot(1), ..Filters::default() },
        Filters { bot_id: bot(1), variant: Some("B".into()), topic: Some("shipping".into()), ..Filters::default() },
        Filters { locale: locale("fr"), ..Filters::default() },
        Filters { locale: locale("FR-ca"), variant: Some("A".into()), ..Filters::default() },
        Filters { locale: locale("fr-be"), topic: Some("billing".into()), ..Filters::default() },
        Filters { locale: locale("de"), ..Filters::default() },
    ];
    let scopes = [Scope::account(DEFAULT_ACCOUNT_ID), Scope { bot_id: bot(0), ..Scope::account(DEFAULT_ACCOUNT_ID) }];
    let mut thumbs_seen = 0;
    for scope in &scopes {
        for f in &filters {
            // Buckets; days of UTC (read from the daily rows); days of a zone
            // two hours ahead (read from the hourly rows).
            let groupings = [
                Grouping::BUCKETS,
                Grouping { size: 86_400_000, offset: 0 },
                Grouping { size: 86_400_000, offset: 7_200_000 },
            ];
            for grouping in groupings {
                let count = |counting| app.store.overview_facts(scope, f, previous_from, from, to, grouping, counting);
                let rolled = count(Counting::Rollups).await.unwrap().normalized();
                let direct = count(Counting::Direct).await.unwrap().normalized();
                assert_eq!(rolled, direct, "overview under {f:?} in {scope:?} by {grouping:?}");
                thumbs_seen += direct.thumbs.len();
            }
            for group_by in [GroupBy::Bot, GroupBy::Variant, GroupBy::Topic, GroupBy::Locale] {
                let groups = |counting| app.store.compare_groups(scope, f, from, to, group_by, counting);
                let mut rolled = groups(Counting::Rollups).await.unwrap();
                let mut direct = groups(Counting::Direct).await.unwrap();
                rolled.sort();
                direct.sort();
                assert_eq!(rolled, direct, "{group_by:?} groups under {f:?} in {scope:?}");
            }
        }
    }
    // The comparison means something only if there was plenty to count.
    let everything = app
        .store
        .overview_facts(&scopes[0], &Filters::default(), previous_from, from, to, Grouping::BUCKETS, Counting::Direct)
        .await
        .unwrap();
    assert!(everything.thumbs.len() > plenty, "{} thumb buckets", everything.thumbs.len());
    assert!(
        everything.ratings.len() >= 5 && everything.votes.upvotes + everything.votes.downvotes > 5,
        "{everything:?}"
    );
    assert!(thumbs_seen > 100);
    // Languages: `fr` holds `fr-CA` and `FR-be`, and each is counted.
    let everyone = &scopes[0];
    let thumbs_in = |tag: &'static str| async move {
        let f = Filters { locale: locale(tag), ..Filters::default() };
        let o = app.store.overview_facts(everyone, &f, previous_from, from, to, Grouping::BUCKETS, Counting::Rollups);
        o.await.unwrap().thumbs.iter().map(|b| b.up + b.down).sum::<i64>()
    };
    let (all_french, canadian, belgian) = (thumbs_in("fr").await, thumbs_in("fr-ca").await, thumbs_in("fr-BE").await);
    assert!(canadian > 0 && belgian > 0 && all_french > canadian + belgian, "{all_french} {canadian} {belgian}");
    let all = Filters::default();
    let by_language = app.store.compare_groups(everyone, &all, from, to, GroupBy::Locale, Counting::Rollups);
    let keys: Vec<Option<String>> = by_language.await.unwrap().into_iter().map(|(k, _, _)| k).collect();
    for key in [Some("fr".to_owned()), Some("fr-ca".to_owned()), Some("fr-be".to_owned()), None] {
        assert!(keys.contains(&key), "{key:?} in {keys:?}");
    }
}
