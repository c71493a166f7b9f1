//! Retention (SPEC §16): conversations that outlived their bot's
//! `retention_days` are erased, by the background job (one instance at a
//! time: a lease) or by `plaudit purge`, and past periods keep their figures.

use std::time::Duration;

use plaudit::{
    config::Settings,
    domain::{
        Timestamp,
        access::Scope,
        account::DEFAULT_ACCOUNT_ID,
        analytics::{Filters, Grouping, OverviewFacts},
        audit::Actor,
        ids::Uuid,
        rollup::Counting,
    },
};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app, spawn_app_with, test_settings},
};

both_backends!(
    a_purge_erases_the_expired_and_keeps_past_figures,
    the_retention_job_runs_on_its_own,
    one_holder_has_a_lease_at_a_time
);

const OLD: &str = "2024-01-10T12:00:00Z";

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339("t", s).unwrap()
}

/// Conversation `id` started at `started`, with a question, an answer, a
/// thumb on it and a vote, each at `signals`.
fn conversation(bot: &str, id: &str, started: &str, signals: Option<&str>) -> Vec<Value> {
    let mut events = vec![
        json!({"type": "conversation", "id": id, "bot_id": bot, "contact_id": format!("{id}-person"), "created_at": started}),
        json!({"type": "message", "conversation_id": id, "id": format!("{id}-q"), "role": "user",
               "content": "How do I reset it?", "created_at": started}),
        json!({"type": "message", "conversation_id": id, "id": format!("{id}-a"), "role": "assistant",
               "content": "Hold the button.", "created_at": started}),
    ];
    let mut thumb =
        json!({"type": "feedback", "message_id": format!("{id}-a"), "user_id": "u1", "feedback_type": "negative"});
    let mut vote = json!({"type": "vote", "conversation_id": id, "direction": "up", "user_id": "u2"});
    if let Some(t) = signals {
        thumb["created_at"] = json!(t);
        vote["created_at"] = json!(t);
    }
    events.push(thumb);
    events.push(vote);
    events
}

async fn ingest(app: &TestApp, events: Vec<Value>) {
    let r = app.post("/v1/ingest", &app.admin, json!({ "events": events })).await;
    for result in r.assert_status(200)["results"].as_array().unwrap() {
        assert!(result["ok"] == true, "{result}");
    }
}

/// The overview's facts over `[from, to)`, from the rollups or counted directly.
async fn facts(app: &TestApp, from: Timestamp, to: Timestamp, counting: Counting) -> OverviewFacts {
    let scope = Scope::account(DEFAULT_ACCOUNT_ID);
    let previous = Timestamp(from.millis() - (to.millis() - from.millis()));
    let all = Filters::default();
    let f = app.store.overview_facts(&scope, &all, previous, from, to, Grouping::BUCKETS, counting).await.unwrap();
    f.normalized()
}

async fn a_purge_erases_the_expired_and_keeps_past_figures(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Shop").await;
    let mut events = conversation(&bot, "old", OLD, Some("2024-01-10T12:05:00Z"));
    // Started long ago, but rated today: still alive.
    events.extend(conversation(&bot, "revived", OLD, None));
    events.extend(conversation(&bot, "new", &Timestamp::now().to_rfc3339(), None));
    // Longer than a transaction erases at once.
    events.push(json!({"type": "conversation", "id": "old-long", "bot_id": bot, "created_at": OLD}));
    for i in 0..300 {
        events.push(json!({"type": "message", "conversation_id": "old-long", "id": format!("long-{i}"),
                           "role": "user", "content": "Still there?", "created_at": OLD}));
    }
    ingest(&app, events).await;
    let (january, february) = (at("2024-01-01T00:00:00Z"), at("2024-02-01T00:00:00Z"));
    let past = facts(&app, january, february, Counting::Rollups).await;
    assert_eq!(past, facts(&app, january, february, Counting::Direct).await);
    assert_eq!(past.thumbs.len(), 1, "January has the old conversation's thumb: {past:?}");

    let scope = Scope::account(DEFAULT_ACCOUNT_ID);
    let bot_id = Uuid::parse("bot_id", &bot).unwrap();
    let cut = Timestamp(Timestamp::now().millis() - 30 * 86_400_000);
    let (now, cli) = (Timestamp::now(), Actor::cli());
    let dry = app.store.purge(&scope, &bot_id, cut, true, &cli, now, &|_| {}).await.unwrap();
    assert_eq!((dry.conversations, dry.messages), (2, 302), "a dry run counts");
    app.get("/v1/conversations/old", &app.admin).await.assert_status(200);

    let seen = std::sync::Mutex::new(Vec::new());
    let erased = app
        .store
        .purge(&scope, &bot_id, cut, false, &cli, now, &|e| seen.lock().unwrap().push(e.conversations))
        .await
        .unwrap();
    assert_eq!((erased.conversations, erased.messages, erased.feedback, erased.votes), (2, 303, 1, 1));
    assert_eq!(seen.into_inner().unwrap(), [2], "progress after the batch");
    app.get("/v1/conversations/old", &app.admin).await.assert_error(404, "not_found");
    app.get("/v1/conversations/old-long", &app.admin).await.assert_error(404, "not_found");
    app.get("/v1/conversations/revived", &app.admin).await.assert_status(200);
    app.get("/v1/conversations/new", &app.admin).await.assert_status(200);

    // January's figures stay as they were, though its records are gone;
    // later periods equal what remains.
    assert_eq!(facts(&app, january, february, Counting::Rollups).await, past);
    assert!(facts(&app, january, february, Counting::Direct).await.thumbs.is_empty());
    let day = 86_400_000;
    let today = Timestamp::now().millis() / day * day;
    let (from, to) = (Timestamp(today - day), Timestamp(today + day));
    assert_eq!(facts(&app, from, to, Counting::Rollups).await, facts(&app, from, to, Counting::Direct).await);
    let again = app.store.purge(&scope, &bot_id, cut, false, &cli, now, &|_| {}).await.unwrap();
    assert_eq!(again.conversations, 0);
    let audit = app.get("/v1/audit-log?action=conversations.purged", &app.admin).await;
    let entries = audit.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "a purge that erased nothing is not recorded");
    assert_eq!(entries[0]["after"]["conversations"], 2);
}

async fn the_retention_job_runs_on_its_own(backend: Backend) {
    let settings = Settings { retention_interval_seconds: 1, ..test_settings() };
    let app = spawn_app_with(backend, settings).await;
    let bot = app.bot("Shop").await;
    let kept = app.bot("Archive").await;
    let mut events = conversation(&bot, "old", OLD, Some("2024-01-10T12:05:00Z"));
    events.extend(conversation(&kept, "archived", OLD, Some("2024-01-10T12:05:00Z")));
    ingest(&app, events).await;
    let r = app.patch(&format!("/v1/bots/{bot}/settings"), &app.admin, json!({"retention_days": 30})).await;
    r.assert_status(200);
    let mut gone = false;
    for _ in 0..100 {
        if app.get("/v1/conversations/old", &app.admin).await.status == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the job erased the expired conversation");
    app.get("/v1/conversations/archived", &app.admin).await.assert_status(200);
}

async fn one_holder_has_a_lease_at_a_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let (now, minute) = (Timestamp::now(), 60_000);
    let until = Timestamp(now.millis() + minute);
    assert!(app.store.take_lease("job", "a", now, until).await.unwrap());
    assert!(!app.store.take_lease("job", "b", now, until).await.unwrap(), "a holds it");
    assert!(app.store.take_lease("job", "a", now, until).await.unwrap(), "a renews it");
    assert!(app.store.take_lease("other", "b", now, until).await.unwrap(), "leases are per job");
    let later = Timestamp(until.millis() + 1);
    assert!(app.store.take_lease("job", "b", later, Timestamp(later.millis() + minute)).await.unwrap(), "expired");
    assert!(!app.store.take_lease("job", "a", later, Timestamp(later.millis() + minute)).await.unwrap());
    app.store.release_lease("job", "b").await.unwrap();
    assert!(app.store.take_lease("job", "a", later, Timestamp(later.millis() + minute)).await.unwrap(), "released");
}
