//! Erasing a person and deleting a conversation (SPEC §16): nothing of
//! theirs is left in any table, nor in the SQLite file's bytes; figures stay
//! exact; the audit log says how much, not whom.

use plaudit::config::Settings;
use plaudit::domain::{
    Timestamp, access::Scope, account::DEFAULT_ACCOUNT_ID, analytics::Filters, analytics::Grouping, rollup::Counting,
};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app, spawn_app_with, test_settings},
    receiver::Receiver,
};

both_backends!(
    a_person_is_erased_without_a_trace,
    erasure_is_for_admins_of_the_account_only,
    a_gap_answer_quoting_her_question_goes_with_her,
    her_questions_leave_the_embedding_queue,
    her_thumbs_on_his_answers_leave_a_kept_listing,
    deleting_a_conversation_takes_all_it_holds,
    a_long_conversation_goes_a_few_hundred_messages_at_a_time,
    a_person_gets_exactly_their_data,
    an_erasure_cut_short_by_a_crash_is_finished_by_repeating_it
);

/// The person erased, and words only they wrote.
const ALICE: &str = "alice-7";
const HER_QUESTION: &str = "Xyzzy plover: can my parrot fly business class?";
const HER_WORDS: [&str; 6] = [
    ALICE,
    "Xyzzy plover",
    "Frobozz-thumb-reason",
    "Frobozz-vote-reason",
    "Frobozz-csat-reason",
    "Frobozz answer for her",
];

async fn ingest(app: &TestApp, events: Value) {
    let r = app.post("/v1/ingest", &app.admin, json!({ "events": events })).await;
    for result in r.assert_status(200)["results"].as_array().unwrap() {
        assert!(result["ok"] == true, "{result}");
    }
}

/// Alice's two conversations, Bob's and Carol's; Alice's thumbs, vote and
/// CSAT answer on Bob's; Bob's thumb on Alice's; golden examples made of
/// her thumbs, of her conversation, and of her question as a knowledge gap.
async fn history(app: &TestApp) -> String {
    let bot = app.bot("Shop").await;
    let settings = format!("/v1/bots/{bot}/settings");
    app.patch(&settings, &app.admin, json!({"auto_approve_positive": true})).await.assert_status(200);
    let conversation = |id: &str, contact: &str, question: &str, answer: &str| {
        vec![
            json!({"type": "conversation", "id": id, "bot_id": bot, "contact_id": contact}),
            json!({"type": "message", "conversation_id": id, "id": format!("{id}-q"), "role": "user", "content": question}),
            json!({"type": "message", "conversation_id": id, "id": format!("{id}-a"), "role": "assistant", "content": answer}),
        ]
    };
    let mut events = Vec::new();
    events.extend(conversation("c-alice-1", ALICE, HER_QUESTION, "Frobozz answer for her"));
    events.extend(conversation("c-alice-2", ALICE, "Xyzzy plover again: and a cat?", "Cats travel in the cabin."));
    events.extend(conversation("c-bob-1", "bob-3", "Where is my parcel?", "It ships tomorrow."));
    events.push(json!({"type": "message", "conversation_id": "c-bob-1", "id": "c-bob-1-a2", "role": "assistant",
                       "content": "Tracking is in your email."}));
    events.extend(conversation("c-carol-1", "carol-9", "Do you ship to Norway?", "Yes, in five days."));
    ingest(app, Value::Array(events)).await;
    let before = |minutes: i64| Timestamp(Timestamp::now().millis() - minutes * 60_000).to_rfc3339();
    ingest(
        app,
        json!([
            // Bob votes first; Alice's later vote sets his conversation's satisfaction.
            {"type": "vote", "conversation_id": "c-bob-1", "direction": "up", "user_id": "bob-3", "created_at": before(30)},
            {"type": "vote", "conversation_id": "c-bob-1", "direction": "down", "user_id": ALICE,
             "reason": "Frobozz-vote-reason", "created_at": before(20)},
            {"type": "vote", "conversation_id": "c-alice-2", "direction": "up", "user_id": ALICE},
            {"type": "csat", "conversation_id": "c-bob-1", "user_id": ALICE, "question_code": "HELPFUL_THUMBS",
             "value": "down", "negative_reason": "Frobozz-csat-reason", "created_at": before(10)},
            {"type": "csat", "conversation_id": "c-alice-1", "user_id": ALICE, "question_code": "HELPFUL_THUMBS", "value": "up"},
            // Hers on Bob's: one auto-approved (a golden example), one pending.
            {"type": "feedback", "message_id": "c-bob-1-a", "user_id": ALICE, "feedback_type": "positive"},
            {"type": "feedback", "message_id": "c-bob-1-a2", "user_id": ALICE, "feedback_type": "negative",
             "reason": "Frobozz-thumb-reason"},
            // Hers on her own answer, reviewed into a golden example below.
            {"type": "feedback", "message_id": "c-alice-1-a", "user_id": ALICE, "feedback_type": "negative",
             "reason": "Frobozz-thumb-reason"},
            // Bob's on her answer (auto-approved: a golden example of her conversation).
            {"type": "feedback", "message_id": "c-alice-1-a", "user_id": "bob-3", "feedback_type": "positive"},
            {"type": "feedback", "message_id": "c-carol-1-a", "user_id": "carol-9", "feedback_type": "negative"},
            {"type": "feedback", "message_id": "c-alice-2-a", "user_id": ALICE, "feedback_type": "negative"},
        ]),
    )
    .await;
    let queue = app.get("/v1/feedback?status=pending&limit=100", &app.admin).await;
    let own = queue.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["message_id"] == "c-alice-1-a" && f["user_id"] == ALICE)
        .expect("her thumb on her answer is pending")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let review = json!({"action": "approve", "corrected_response": "Frobozz answer for her, corrected"});
    app.post(&format!("/v1/feedback/{own}/review"), &app.admin, review).await.assert_status(200);
    // Her question as a knowledge gap, answered.
    let gaps = app.get("/v1/recommendations?limit=100", &app.admin).await;
    let gap = gaps.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["question"].as_str().is_some_and(|q| q.contains("Xyzzy")))
        .unwrap_or_else(|| panic!("her question is a knowledge gap: {gaps:?}", gaps = gaps.body))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = json!({"answer": "Parrots fly in the cabin."});
    app.post(&format!("/v1/recommendations/{gap}/answer"), &app.admin, answer).await.assert_status(201);
    bot
}

async fn a_person_is_erased_without_a_trace(backend: Backend) {
    // Webhooks receive every event: one delivers, one fails at once (no retries).
    let receiver = Receiver::start();
    let settings = Settings { webhooks_retry_hours: 0.0, ..crate::webhooks::local_webhooks() };
    let app = spawn_app_with(backend.clone(), settings).await;
    let mut hooks = Vec::new();
    for path in ["/ok", "/fail"] {
        let hook = json!({"url": receiver.url("127.0.0.1", path), "events": ["feedback.created", "feedback.updated",
            "feedback.reviewed", "vote.created", "csat.answered", "golden_example.created", "golden_example.deleted",
            "conversation.ended"]});
        hooks.push(crate::webhooks::webhook(&app, &app.admin, hook).await.0);
    }
    history(&app).await;
    let delivered = deliveries(&app, &hooks).await;
    assert!(delivered.contains("succeeded") && delivered.contains("failed"), "{delivered}");
    let golden = app.get("/v1/golden-examples?limit=100", &app.admin).await;
    assert_eq!(golden.assert_status(200)["items"].as_array().unwrap().len(), 4);
    let dump = everything(&app, &backend).await;
    for word in HER_WORDS {
        assert!(dump.contains(word), "the history holds {word:?} before the erasure");
    }
    let bob = app.get("/v1/conversations/c-bob-1", &app.admin).await;
    assert_eq!(bob.assert_status(200)["satisfaction"]["value"], "negative", "her vote and answer came last");

    let erased = app.delete(&format!("/v1/contacts/{ALICE}"), &app.admin).await;
    assert_eq!(
        erased.assert_status(200),
        &json!({"contact_id": ALICE, "erased": {
            "conversations": 2,
            // Four said, and the activity messages of her two votes.
            "messages": 6,
            // On her conversations: hers twice and Bob's; on Bob's: hers twice.
            "feedback": 5,
            "votes": 2,
            "csat": 2,
            // Of her thumbs (auto-approved, reviewed), of Bob's thumb on her answer, of her question.
            "golden_examples": 4
        }})
    );

    let dump = everything(&app, &backend).await;
    for word in HER_WORDS {
        assert!(!dump.contains(word), "{word:?} is still in the database after the erasure");
    }
    // Her deliveries went, whatever their state, and the erasure emitted none about her.
    let after = deliveries(&app, &hooks).await;
    let ids = |text: &str| -> std::collections::BTreeSet<String> {
        let list: Value = serde_json::from_str(text).unwrap();
        list.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect()
    };
    assert!(ids(&after).is_subset(&ids(&delivered)), "no new event: {after}");
    assert!(ids(&after).len() < ids(&delivered).len());
    if matches!(backend, Backend::Sqlite) {
        let path = app.database_url().trim_start_matches("sqlite://").to_owned();
        for file in [path.clone(), format!("{path}-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            for word in HER_WORDS {
                let found = bytes.windows(word.len()).any(|w| w == word.as_bytes());
                assert!(!found, "{word:?} lingers in the bytes of {file}");
            }
        }
    }
    // The others' data stays, and Bob's conversation takes its satisfaction from his own vote again.
    let bob = app.get("/v1/conversations/c-bob-1", &app.admin).await;
    let bob = bob.assert_status(200);
    assert_eq!(bob["satisfaction"]["value"], "positive");
    assert_eq!(bob["messages"].as_array().unwrap().len(), 4, "his messages and his vote's activity");
    app.get("/v1/conversations/c-carol-1", &app.admin).await.assert_status(200);
    app.get("/v1/conversations/c-alice-1", &app.admin).await.assert_error(404, "not_found");
    let inbox = app.get("/v1/conversations?limit=100", &app.admin).await;
    let rows = inbox.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2);
    let bob_row = rows.iter().find(|r| r["id"] == "c-bob-1").unwrap();
    assert_eq!((bob_row["thumbs_up"].as_i64(), bob_row["thumbs_down"].as_i64()), (Some(0), Some(0)));
    figures_equal_direct_counts(&app).await;

    // Repeating it finds nothing; the audit log has both, with counts and not whom.
    let again = app.delete(&format!("/v1/contacts/{ALICE}"), &app.admin).await;
    assert_eq!(
        again.assert_status(200)["erased"],
        json!({"conversations": 0, "messages": 0, "feedback": 0,
                                                          "votes": 0, "csat": 0, "golden_examples": 0})
    );
    let audit = app.get("/v1/audit-log?action=contact.erased", &app.admin).await;
    let entries = audit.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["after"]["conversations"], 2);
    assert!(!audit.body.to_string().contains(ALICE));
}

/// The webhooks' deliveries, once none is pending, as a JSON list.
async fn deliveries(app: &TestApp, hooks: &[String]) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mut all = Vec::new();
        for hook in hooks {
            let r = app.get(&format!("/v1/webhooks/{hook}/deliveries?limit=500"), &app.admin).await;
            all.extend(r.assert_status(200)["items"].as_array().unwrap().iter().cloned());
        }
        if all.iter().all(|d| d["status"] != "pending") {
            return Value::Array(all).to_string();
        }
        assert!(std::time::Instant::now() < deadline, "deliveries stay pending");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Every overview figure the rollups answer equals the direct count of what remains.
async fn figures_equal_direct_counts(app: &TestApp) {
    let now = Timestamp::now().millis();
    let day = 86_400_000;
    let (from, to) = (Timestamp(now / day * day - day), Timestamp(now / day * day + day));
    let previous = Timestamp(from.millis() - 2 * day);
    let scope = Scope::account(DEFAULT_ACCOUNT_ID);
    let all = Filters::default();
    let count = |counting| app.store.overview_facts(&scope, &all, previous, from, to, Grouping::BUCKETS, counting);
    let rolled = count(Counting::Rollups).await.unwrap().normalized();
    let direct = count(Counting::Direct).await.unwrap().normalized();
    assert_eq!(rolled, direct);
    assert!(!direct.thumbs.is_empty(), "Carol's thumb is still counted");
}

/// A knowledge-gap answer whose prompt is verbatim her question goes with
/// her, even when it was written from someone else's conversation.
async fn a_gap_answer_quoting_her_question_goes_with_her(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Shop").await;
    let mut events = Vec::new();
    for (id, contact, minutes) in [("c-hers", ALICE, 20), ("c-his", "bob-3", 10)] {
        let at = Timestamp(Timestamp::now().millis() - minutes * 60_000).to_rfc3339();
        events.extend([
            json!({"type": "conversation", "id": id, "bot_id": bot, "contact_id": contact, "created_at": at}),
            json!({"type": "message", "conversation_id": id, "id": format!("{id}-q"), "role": "user",
                   "content": HER_QUESTION, "created_at": at}),
            json!({"type": "message", "conversation_id": id, "id": format!("{id}-a"), "role": "assistant",
                   "content": "No.", "created_at": at}),
            json!({"type": "feedback", "message_id": format!("{id}-a"), "user_id": contact,
                   "feedback_type": "negative", "created_at": at}),
        ]);
    }
    ingest(&app, Value::Array(events)).await;
    crate::gaps::represented(&app).await;
    let gaps = app.get("/v1/recommendations", &app.admin).await;
    let gap = gaps.assert_status(200)["items"][0].clone();
    assert_eq!(gap["count"], 2, "{gap}");
    let answer = json!({"answer": "Parrots fly in the cabin."});
    let made =
        app.post(&format!("/v1/recommendations/{}/answer", gap["id"].as_str().unwrap()), &app.admin, answer).await;
    assert_eq!(made.assert_status(201)["conversation_id"], "c-his", "written from his, the newest");

    let erased = app.delete(&format!("/v1/contacts/{ALICE}"), &app.admin).await;
    assert_eq!(erased.assert_status(200)["erased"]["golden_examples"], 1);
    let golden = app.get("/v1/golden-examples", &app.admin).await;
    assert!(golden.assert_status(200)["items"].as_array().unwrap().is_empty(), "{}", golden.body);
    app.get("/v1/conversations/c-his", &app.admin).await.assert_status(200);
}

/// Her questions' place in the embedding worker's queue goes with her (the
/// same statement deletes their vectors once represented): both where a
/// thumbs-down queues them and where they wait to be represented.
async fn her_questions_leave_the_embedding_queue(backend: Backend) {
    let settings = Settings { embeddings_poll_ms: 0, ..test_settings() };
    let app = spawn_app_with(backend, settings).await;
    let bot = app.bot("Shop").await;
    let mut events = Vec::new();
    for (id, contact) in [("c-hers", ALICE), ("c-his", "bob-3"), ("c-hers-2", ALICE)] {
        events.extend([
            json!({"type": "conversation", "id": id, "bot_id": bot, "contact_id": contact}),
            json!({"type": "message", "conversation_id": id, "id": format!("{id}-q"), "role": "user",
                   "content": HER_QUESTION}),
            json!({"type": "message", "conversation_id": id, "id": format!("{id}-a"), "role": "assistant",
                   "content": "No."}),
            json!({"type": "feedback", "message_id": format!("{id}-a"), "user_id": contact,
                   "feedback_type": "negative"}),
        ]);
    }
    let queued = |q: &[plaudit::domain::gaps::PendingQuestion]| {
        let mut ids: Vec<String> = q.iter().map(|p| p.message_id.clone()).collect();
        ids.sort();
        ids
    };
    // Two questions moved to wait for the model; the third still queued.
    ingest(&app, Value::Array(events[..8].to_vec())).await;
    assert_eq!(app.store.drain_gap_queue().await.unwrap(), 2);
    ingest(&app, Value::Array(events[8..].to_vec())).await;
    assert_eq!(queued(&app.store.pending_gap_questions(100).await.unwrap()), ["c-hers-a", "c-his-a"]);
    app.delete(&format!("/v1/contacts/{ALICE}"), &app.admin).await.assert_status(200);
    assert_eq!(app.store.drain_gap_queue().await.unwrap(), 0, "her queued question went with her");
    assert_eq!(queued(&app.store.pending_gap_questions(100).await.unwrap()), ["c-his-a"]);
}

/// Her thumbs-down on answers in other people's conversations leave the
/// knowledge gaps at once, even from a listing the server kept in memory:
/// his conversation stays, and only the thumbs of others count.
async fn her_thumbs_on_his_answers_leave_a_kept_listing(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Shop").await;
    let mut events = Vec::new();
    for (id, contact, question, (thumbed_by, reason), minutes) in [
        ("c-his", "bob-3", "Where is my order?", (ALICE, "Frobozz-thumb-reason"), 20),
        ("c-hers", "carol-5", "where's my order??", ("carol-5", "Too vague"), 10),
    ] {
        let at = Timestamp(Timestamp::now().millis() - minutes * 60_000).to_rfc3339();
        events.extend([
            json!({"type": "conversation", "id": id, "bot_id": bot, "contact_id": contact, "created_at": at}),
            json!({"type": "message", "conversation_id": id, "id": format!("{id}-q"), "role": "user",
                   "content": question, "created_at": at}),
            json!({"type": "message", "conversation_id": id, "id": format!("{id}-a"), "role": "assistant",
                   "content": "Soon.", "created_at": at}),
            json!({"type": "feedback", "message_id": format!("{id}-a"), "user_id": thumbed_by,
                   "feedback_type": "negative", "reason": reason, "created_at": at}),
        ]);
    }
    ingest(&app, Value::Array(events)).await;
    crate::gaps::represented(&app).await;
    let listing = || async {
        let gaps = app.get("/v1/recommendations", &app.admin).await;
        gaps.assert_status(200)["items"].as_array().unwrap().clone()
    };
    let before = listing().await;
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["count"], 2, "{before:?}");
    assert_eq!(listing().await, before, "kept, and served again");

    app.delete(&format!("/v1/contacts/{ALICE}"), &app.admin).await.assert_status(200);
    let after = listing().await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["count"], 1, "{after:?}");
    let shown = after[0].to_string();
    assert!(!shown.contains("c-his") && !shown.contains("Frobozz"), "{shown}");
    app.get("/v1/conversations/c-his", &app.admin).await.assert_status(200);
}

async fn erasure_is_for_admins_of_the_account_only(backend: Backend) {
    let app = spawn_app(backend).await;
    history(&app).await;
    let server = app.key("server", None).await;
    app.delete(&format!("/v1/contacts/{ALICE}"), &server).await.assert_error(403, "forbidden");
    app.get(&format!("/v1/contacts/{ALICE}/export"), &server).await.assert_error(403, "forbidden");
    app.delete("/v1/conversations/c-bob-1", &server).await.assert_error(403, "forbidden");
    // Another account's admin erases nothing here, and learns nothing.
    let (_, other) = app.other_account(true).await;
    let r = app.delete(&format!("/v1/contacts/{ALICE}"), &other).await;
    assert_eq!(r.assert_status(200)["erased"]["conversations"], 0);
    app.delete("/v1/conversations/c-bob-1", &other).await.assert_error(404, "not_found");
    let export = app.get(&format!("/v1/contacts/{ALICE}/export"), &other).await;
    assert_eq!(export.assert_status(200)["conversations"], json!([]));
    app.get("/v1/conversations/c-alice-1", &app.admin).await.assert_status(200);
    app.get("/v1/conversations/c-bob-1", &app.admin).await.assert_status(200);
}

async fn deleting_a_conversation_takes_all_it_holds(backend: Backend) {
    let app = spawn_app(backend).await;
    history(&app).await;
    let r = app.delete("/v1/conversations/c-bob-1", &app.admin).await;
    assert_eq!(
        r.assert_status(200),
        &json!({"id": "c-bob-1", "erased": {"conversations": 1, "messages": 5, "feedback": 2, "votes": 2,
                                             "csat": 1, "golden_examples": 1}})
    );
    app.get("/v1/conversations/c-bob-1", &app.admin).await.assert_error(404, "not_found");
    app.delete("/v1/conversations/c-bob-1", &app.admin).await.assert_error(404, "not_found");
    app.get("/v1/conversations/c-alice-1", &app.admin).await.assert_status(200);
    figures_equal_direct_counts(&app).await;
    let audit = app.get("/v1/audit-log?action=conversation.deleted", &app.admin).await;
    let entries = audit.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1);
    assert!(!audit.body.to_string().contains("c-bob-1"));
}

/// More messages than one transaction erases: the first go a few hundred a
/// transaction, figures right after each; the rest and the conversation last.
async fn a_long_conversation_goes_a_few_hundred_messages_at_a_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Shop").await;
    ingest(&app, json!([{"type": "conversation", "id": "long", "bot_id": bot, "contact_id": "talker"}])).await;
    let mut events = Vec::new();
    for i in 0..450 {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        events.push(json!({"type": "message", "conversation_id": "long", "id": format!("m{i}"), "role": role,
                           "content": format!("Line {i}")}));
    }
    for i in (1..450).step_by(4) {
        let kind = if i % 8 == 1 { "positive" } else { "negative" };
        events.push(json!({"type": "feedback", "message_id": format!("m{i}"), "user_id": format!("u{}", i % 5),
                           "feedback_type": kind}));
    }
    events.push(json!({"type": "vote", "conversation_id": "long", "direction": "down", "user_id": "talker"}));
    ingest(&app, Value::Array(events)).await;
    // Someone else's conversation, rated by the talker, stays with its figures.
    ingest(
        &app,
        json!([
            {"type": "conversation", "id": "short", "bot_id": bot},
            {"type": "message", "conversation_id": "short", "id": "s-a", "role": "assistant", "content": "Hi"},
            {"type": "feedback", "message_id": "s-a", "user_id": "other", "feedback_type": "positive"},
        ]),
    )
    .await;
    let r = app.delete("/v1/conversations/long", &app.admin).await;
    assert_eq!(
        r.assert_status(200)["erased"],
        json!({"conversations": 1, "messages": 451, "feedback": 113, "votes": 1, "csat": 0, "golden_examples": 0})
    );
    figures_equal_direct_counts(&app).await;
    let inbox = app.get("/v1/conversations", &app.admin).await;
    assert_eq!(inbox.assert_status(200)["items"].as_array().unwrap().len(), 1);
}

async fn a_person_gets_exactly_their_data(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Shop").await;
    let mut events = Vec::new();
    for (id, contact, question) in
        [("v1", "visitor-1", "First visitor asks"), ("v10", "visitor-10", "Tenth visitor's private question")]
    {
        events.push(json!({"type": "conversation", "id": id, "bot_id": bot, "contact_id": contact}));
        events.push(json!({"type": "message", "conversation_id": id, "id": format!("{id}-q"), "role": "user",
                           "content": question}));
        events.push(json!({"type": "message", "conversation_id": id, "id": format!("{id}-a"), "role": "assistant",
                           "content": format!("An answer in {id}")}));
    }
    events.push(json!({"type": "feedback", "message_id": "v10-a", "user_id": "visitor-1", "feedback_type": "negative",
                       "reason": "Not what I asked"}));
    events.push(json!({"type": "vote", "conversation_id": "v10", "direction": "down", "user_id": "visitor-1"}));
    events.push(json!({"type": "csat", "conversation_id": "v10", "user_id": "visitor-1",
                       "question_code": "HELPFUL_THUMBS", "value": "down"}));
    events.push(json!({"type": "feedback", "message_id": "v1-a", "user_id": "visitor-1", "feedback_type": "positive"}));
    events
        .push(json!({"type": "feedback", "message_id": "v10-a", "user_id": "visitor-10", "feedback_type": "positive"}));
    ingest(&app, Value::Array(events)).await;

    let r = app.get("/v1/contacts/visitor-1/export", &app.admin).await;
    let export = r.assert_status(200);
    assert_eq!(export["contact_id"], "visitor-1");
    let conversations = export["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1, "visitor-10 is not visitor-1");
    assert_eq!(conversations[0]["id"], "v1");
    assert_eq!(conversations[0]["messages"].as_array().unwrap().len(), 2, "the answers too");
    let thumbs = export["thumbs"].as_array().unwrap();
    assert_eq!(thumbs.len(), 1, "her thumb on her own answer is in her conversation");
    assert_eq!(
        (&thumbs[0]["reason"], &thumbs[0]["answer"]["content"]),
        (&json!("Not what I asked"), &json!("An answer in v10"))
    );
    assert_eq!(export["votes"].as_array().unwrap().len(), 1);
    assert_eq!(export["csat"].as_array().unwrap().len(), 1);
    let text = export.to_string();
    assert!(!text.contains("Tenth visitor's private question"), "never another person's messages");
    assert!(!text.contains("\"user_id\":\"visitor-10\""), "nor what another person gave");

    let nobody = app.get("/v1/contacts/visitor-2/export", &app.admin).await;
    assert_eq!(
        nobody.assert_status(200),
        &json!({"contact_id": "visitor-2", "conversations": [], "thumbs": [], "votes": [], "csat": []})
    );
    app.get("/v1/contacts/visitor-1/export?format=csv", &app.admin).await.assert_invalid("format");
}

/// The server is killed (`kill -9`) in the middle of erasing a person with a
/// thousand conversations: what is left is consistent (every figure equals a
/// direct count), and the same call on a new server erases the rest.
async fn an_erasure_cut_short_by_a_crash_is_finished_by_repeating_it(backend: Backend) {
    use crate::cli::{Server, plaudit, stdout_line};

    let db = crate::helpers::TestDatabase::new(&backend).await;
    let key = stdout_line(&plaudit(&db, &["keys", "create", "--role", "admin"]));
    let client = reqwest::Client::new();
    let server = Server::start(&db);
    server.wait_ready(&client).await;
    let call = |method: reqwest::Method, base: &str, path: &str| {
        client.request(method, format!("{base}{path}")).bearer_auth(&key).timeout(std::time::Duration::from_secs(60))
    };
    let bot =
        call(reqwest::Method::POST, &server.base, "/v1/bots").json(&json!({"name": "Shop"})).send().await.unwrap();
    let bot = bot.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let mut events = vec![
        json!({"type": "conversation", "id": "other", "bot_id": bot, "contact_id": "someone"}),
        json!({"type": "message", "conversation_id": "other", "id": "other-a", "role": "assistant", "content": "Hi"}),
        json!({"type": "feedback", "message_id": "other-a", "user_id": "leaver", "feedback_type": "negative"}),
        json!({"type": "vote", "conversation_id": "other", "direction": "down", "user_id": "leaver"}),
    ];
    for i in 0..1000 {
        let id = format!("gone-{i}");
        events.push(json!({"type": "conversation", "id": id, "bot_id": bot, "contact_id": "leaver"}));
        events.push(json!({"type": "message", "conversation_id": id, "id": format!("{id}-a"), "role": "assistant",
                           "content": "Leaver's answer"}));
        events.push(json!({"type": "feedback", "message_id": format!("{id}-a"), "user_id": "leaver",
                           "feedback_type": if i % 2 == 0 { "positive" } else { "negative" }}));
    }
    for batch in events.chunks(1000) {
        let r = call(reqwest::Method::POST, &server.base, "/v1/ingest").json(&json!({"events": batch})).send().await;
        assert_eq!(r.unwrap().status(), 200);
    }
    let count = |base: String| {
        let request = call(reqwest::Method::GET, &base, "/v1/conversations?contact_id=leaver&limit=500");
        async move { request.send().await.unwrap().json::<Value>().await.unwrap()["items"].as_array().unwrap().len() }
    };
    assert_eq!(count(server.base.clone()).await, 500);

    // Erase, and kill the server once some conversations are gone.
    let erasing = call(reqwest::Method::DELETE, &server.base, "/v1/contacts/leaver").send();
    let erasing = tokio::spawn(erasing);
    let store = db.open_store().await;
    let scope = plaudit::domain::access::Scope::account(DEFAULT_ACCOUNT_ID);
    let left = |store: std::sync::Arc<dyn plaudit::store::Store>| async move {
        let filter =
            plaudit::domain::analytics::InboxFilter { contact_id: Some("leaver".into()), ..Default::default() };
        let page = plaudit::domain::page::PageRequest::parse(Some(500), None).unwrap();
        store.inbox(&Scope::account(DEFAULT_ACCOUNT_ID), &filter, page).await.unwrap().items.len()
    };
    let mut server = server;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if left(store.clone()).await < 500 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the erasure never began");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert!(erasing.await.unwrap().is_err(), "the erasure was cut short: no answer");
    // What is left is consistent: figures equal direct counts.
    let day = 86_400_000;
    let today = Timestamp::now().millis() / day * day;
    let (from, to) = (Timestamp(today - day), Timestamp(today + day));
    let all = Filters::default();
    let facts = |counting| store.overview_facts(&scope, &all, from, from, to, Grouping::BUCKETS, counting);
    assert_eq!(
        facts(Counting::Rollups).await.unwrap().normalized(),
        facts(Counting::Direct).await.unwrap().normalized()
    );

    // The same call on a new server finishes it.
    let server = Server::start(&db);
    server.wait_ready(&client).await;
    let again = call(reqwest::Method::DELETE, &server.base, "/v1/contacts/leaver").send().await.unwrap();
    assert_eq!(again.status(), 200);
    let erased = again.json::<Value>().await.unwrap()["erased"].clone();
    assert!(erased["conversations"].as_i64().unwrap() > 0, "the rest was erased: {erased}");
    assert_eq!(count(server.base.clone()).await, 0);
    let other = call(reqwest::Method::GET, &server.base, "/v1/conversations/other").send().await.unwrap();
    let other = other.json::<Value>().await.unwrap();
    assert_eq!(other["messages"].as_array().unwrap().len(), 1, "their vote's activity message went too");
    assert_eq!(other["satisfaction"]["value"], "unknown");
    assert_eq!(
        facts(Counting::Rollups).await.unwrap().normalized(),
        facts(Counting::Direct).await.unwrap().normalized()
    );
}

/// Every row of every table of the test's database, as text.
async fn everything(app: &TestApp, backend: &Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let path = app.database_url().trim_start_matches("sqlite://").to_owned();
            tokio::task::spawn_blocking(move || {
                let db = rusqlite::Connection::open(path).expect("open the database");
                let mut tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").unwrap();
                let names: Vec<String> = tables.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
                let mut all = String::new();
                for name in names {
                    let mut rows = db.prepare(&format!("SELECT * FROM \"{name}\"")).unwrap();
                    let width = rows.column_count();
                    let mut cursor = rows.query([]).unwrap();
                    while let Some(row) = cursor.next().unwrap() {
                        for i in 0..width {
                            use rusqlite::types::ValueRef;
                            match row.get_ref(i).unwrap() {
                                ValueRef::Text(t) | ValueRef::Blob(t) => all.push_str(&String::from_utf8_lossy(t)),
                                ValueRef::Integer(n) => all.push_str(&n.to_string()),
                                ValueRef::Real(r) => all.push_str(&r.to_string()),
                                ValueRef::Null => {}
                            }
                            all.push('|');
                        }
                        all.push('\n');
                    }
                }
                all
            })
            .await
            .unwrap()
        }
        Backend::Postgres(_) => {
            let (client, conn) =
                tokio_postgres::connect(app.database_url(), tokio_postgres::NoTls).await.expect("connect");
            tokio::spawn(conn);
            let tables = client
                .query(
                    "SELECT table_name::text FROM information_schema.tables
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                    &[],
                )
                .await
                .unwrap();
            let mut all = String::new();
            for t in tables {
                let name: String = t.get(0);
                let rows = client.query(&format!("SELECT CAST(t AS TEXT) FROM \"{name}\" t"), &[]).await.unwrap();
                for r in rows {
                    all.push_str(&r.get::<_, String>(0));
                    all.push('\n');
                }
            }
            assert!(all.contains("c-carol-1"), "the dump reads the test's tables");
            all
        }
    }
}
