//! `POST /v1/ingest`: batches with per-event results.

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app},
};

both_backends!(
    a_batch_applies_good_events_and_reports_bad_ones,
    re_sending_a_batch_duplicates_nothing,
    a_changed_message_in_a_resent_batch_is_409,
    a_batch_may_update_and_end_what_it_created,
    a_batch_has_at_most_a_thousand_events,
    a_full_batch_of_a_thousand_events_applies,
    concurrent_batches_with_the_same_ids_store_each_once,
    each_stored_message_is_counted_once_on_its_conversation,
    a_long_run_of_messages_is_answered_as_one_by_one,
    more_batches_than_are_applied_at_once_each_get_their_answer,
    events_read_the_same_whatever_their_key_order_spacing_and_escapes,
);

fn results(body: &Value) -> Vec<(bool, u64)> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ok"].as_bool().unwrap(), r["status"].as_u64().unwrap()))
        .collect()
}

/// Each conversation of the inbox's first page with its message count, newest first.
async fn message_counts(app: &TestApp) -> Vec<(String, Value)> {
    let inbox = app.get("/v1/conversations", &app.admin).await;
    inbox.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["message_count"].clone()))
        .collect()
}

async fn a_batch_applies_good_events_and_reports_bad_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let batch = json!({"events": [
        {"type": "conversation", "id": "c1", "bot_id": bot},
        {"type": "message", "conversation_id": "c1", "id": "m1", "role": "user", "content": "hi"},
        {"type": "message", "conversation_id": "missing", "id": "m2", "role": "user", "content": "hi"},
        {"type": "teleport", "id": "x"},
        {"type": "message", "conversation_id": "c1", "id": "bad id", "role": "user", "content": "hi"},
        "not an object",
        {"type": "message", "conversation_id": "c1", "id": "m3", "role": "robot", "content": "hi"},
        {"type": "message", "conversation_id": "c1", "id": "m4", "role": "assistant", "content": "hello"},
    ]});
    let r = app.post("/v1/ingest", &app.admin, batch).await;
    let body = r.assert_status(200).clone();
    assert_eq!(
        results(&body),
        [(true, 201), (true, 201), (false, 404), (false, 400), (false, 400), (false, 400), (false, 400), (true, 201)]
    );
    let items = body["results"].as_array().unwrap();
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["index"], i);
    }
    assert_eq!(items[2]["error"], "not_found");
    assert!(items[3]["message"].as_str().unwrap().contains("events[3].type"), "{}", items[3]);
    assert!(items[4]["message"].as_str().unwrap().contains("events[4].id"), "{}", items[4]);
    assert!(items[6]["message"].as_str().unwrap().contains("role"), "{}", items[6]);
    let transcript = app.get("/v1/conversations/c1", &app.admin).await;
    let ids: Vec<&str> =
        transcript.body["messages"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["m1", "m4"]);
}

async fn re_sending_a_batch_duplicates_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let batch = json!({"events": [
        {"type": "conversation", "id": "c1", "bot_id": bot, "metadata": {"variant": "A"}},
        {"type": "message", "conversation_id": "c1", "id": "m1", "role": "user", "content": "hi"},
        {"type": "message", "conversation_id": "c1", "id": "m2", "role": "assistant", "content": "hello", "request_id": "r1", "status": "pending"},
        {"type": "message_update", "id": "m2", "status": "completed"},
        {"type": "conversation_end", "id": "c1"},
    ]});
    let first = app.post("/v1/ingest", &app.admin, batch.clone()).await;
    assert_eq!(results(first.assert_status(200)), [(true, 201), (true, 201), (true, 201), (true, 200), (true, 200)]);
    let before = app.get("/v1/conversations/c1", &app.admin).await.body;
    let second = app.post("/v1/ingest", &app.admin, batch).await;
    assert_eq!(results(second.assert_status(200)), [(true, 200), (true, 200), (true, 200), (true, 200), (true, 200)]);
    let after = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(after["messages"], before["messages"], "nothing duplicated or changed");
    assert_eq!(after["messages"].as_array().unwrap().len(), 2);
    assert_eq!(after["status"], "ended");
}

async fn a_changed_message_in_a_resent_batch_is_409(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let event = |content: &str| {
        json!({"events": [
            {"type": "conversation", "id": "c1", "bot_id": bot},
            {"type": "message", "conversation_id": "c1", "id": "m1", "role": "user", "content": content},
        ]})
    };
    app.post("/v1/ingest", &app.admin, event("hi")).await.assert_status(200);
    let r = app.post("/v1/ingest", &app.admin, event("changed")).await;
    let body = r.assert_status(200);
    assert_eq!(results(body), [(true, 200), (false, 409)]);
    assert_eq!(body["results"][1]["error"], "conflict");
}

async fn a_batch_may_update_and_end_what_it_created(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let r = app
        .post(
            "/v1/ingest",
            &app.admin,
            json!({"events": [
                {"type": "conversation", "id": "c1", "bot_id": bot},
                {"type": "message", "conversation_id": "c1", "id": "a1", "role": "assistant", "content": "...", "status": "pending"},
                {"type": "message_update", "id": "a1", "status": "failed"},
                {"type": "message_update", "id": "a1", "status": "completed"},
                {"type": "conversation_end", "id": "c1", "extra": 1},
                {"type": "conversation_end", "id": "c1"},
            ]}),
        )
        .await;
    assert_eq!(
        results(r.assert_status(200)),
        [(true, 201), (true, 201), (true, 200), (false, 409), (false, 400), (true, 200)]
    );
    let transcript = app.get("/v1/conversations/c1", &app.admin).await.body;
    assert_eq!(transcript["messages"][0]["status"], "failed");
    assert_eq!(transcript["status"], "ended");
}

async fn a_batch_has_at_most_a_thousand_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let events: Vec<Value> = (0..1001).map(|i| json!({"type": "conversation_end", "id": format!("c{i}")})).collect();
    app.post("/v1/ingest", &app.admin, json!({"events": events})).await.assert_invalid("events");
    app.post("/v1/ingest", &app.admin, json!({"events": "nope"})).await.assert_invalid("events");
    app.post("/v1/ingest", &app.admin, json!({})).await.assert_invalid("events");
    let empty = app.post("/v1/ingest", &app.admin, json!({"events": []})).await;
    assert_eq!(empty.assert_status(200)["results"], json!([]));
}

async fn a_full_batch_of_a_thousand_events_applies(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let mut events = Vec::new();
    for c in 0..100 {
        events.push(json!({"type": "conversation", "id": format!("c{c}"), "bot_id": bot}));
        for m in 0..9 {
            events.push(json!({"type": "message", "conversation_id": format!("c{c}"), "id": format!("c{c}-m{m}"),
                               "role": if m % 2 == 0 { "user" } else { "assistant" }, "content": format!("turn {m}")}));
        }
    }
    let r = app.post("/v1/ingest", &app.admin, json!({ "events": events })).await;
    let body = r.assert_status(200);
    assert_eq!(body["results"].as_array().unwrap().len(), 1000);
    assert!(results(body).iter().all(|&(ok, status)| ok && status == 201));
    let t = app.get("/v1/conversations/c99", &app.admin).await;
    assert_eq!(t.assert_status(200)["messages"].as_array().unwrap().len(), 9);
}

async fn concurrent_batches_with_the_same_ids_store_each_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let batch = json!({"events": [
        {"type": "conversation", "id": "shared", "bot_id": bot},
        {"type": "message", "conversation_id": "shared", "id": "s1", "role": "user", "content": "hi"},
        {"type": "message", "conversation_id": "shared", "id": "s2", "role": "assistant", "content": "hello", "request_id": "sr"},
    ]});
    let sends = (0..20).map(|_| app.post("/v1/ingest", &app.admin, batch.clone()));
    let replies = futures_util::future::join_all(sends).await;
    let mut created = 0;
    for r in &replies {
        for (ok, status) in results(r.assert_status(200)) {
            assert!(ok, "{}", r.body);
            created += usize::from(status == 201);
        }
    }
    assert_eq!(created, 3, "each object is created exactly once");
    let t = app.get("/v1/conversations/shared", &app.admin).await;
    assert_eq!(t.assert_status(200)["messages"].as_array().unwrap().len(), 2);
}

/// A batch adds its messages to each conversation's count once, at its end:
/// a message is counted when it is stored, never when it was there already,
/// was refused, or is an activity message; whatever path it came by.
async fn each_stored_message_is_counted_once_on_its_conversation(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let message = |conversation: &str, id: &str, content: &str| json!({"type": "message", "conversation_id": conversation, "id": id, "role": "user", "content": content});
    let batch = json!({"events": [
        {"type": "conversation", "id": "c1", "bot_id": bot},
        message("c1", "m1", "one"),
        {"type": "conversation", "id": "c2", "bot_id": bot},
        message("c2", "m2", "two"),
        message("c1", "m3", "three"),
        message("c1", "m1", "one"),
        message("c1", "m2", "a different message under a taken id"),
        message("missing", "m5", "nowhere"),
        message("c2", "m4", "four"),
    ]});
    let first = app.post("/v1/ingest", &app.admin, batch.clone()).await;
    assert_eq!(
        results(first.assert_status(200)),
        [
            (true, 201),
            (true, 201),
            (true, 201),
            (true, 201),
            (true, 201),
            (true, 200),
            (false, 409),
            (false, 404),
            (true, 201)
        ]
    );
    let again = app.post("/v1/ingest", &app.admin, batch).await;
    assert!(results(again.assert_status(200)).iter().all(|&(_, status)| status != 201), "{}", again.body);
    app.post("/v1/conversations/c1/messages", &app.admin, json!({"id": "m6", "role": "assistant", "content": "six"}))
        .await
        .assert_status(201);
    app.post("/v1/conversations/c2/upvote", &app.admin, json!({"user_id": "u1"})).await.assert_status(200);
    let counts = message_counts(&app).await;
    assert_eq!(counts, [("c2".to_owned(), json!(2)), ("c1".to_owned(), json!(3))]);
}

/// Consecutive messages are stored together in multi-row inserts; every
/// answer must still be the one the message would get on its own, in order,
/// across the inserts' chunk boundaries.
async fn a_long_run_of_messages_is_answered_as_one_by_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let other = app.bot("Sales").await;
    app.post(
        "/v1/ingest",
        &app.admin,
        json!({"events": [
            {"type": "conversation", "id": "c1", "bot_id": bot},
            {"type": "conversation", "id": "theirs", "bot_id": other},
            {"type": "message", "conversation_id": "c1", "id": "old", "role": "user", "content": "stored before"},
            {"type": "message", "conversation_id": "c1", "id": "old-a", "role": "assistant", "content": "yes", "request_id": "r-old"},
        ]}),
    )
    .await
    .assert_status(200);
    // A key bound to `bot` sees neither the other bot's conversation nor an unknown one.
    let key = app.key("server", Some(&bot)).await;
    let message = |conversation: &str, id: &str, content: &str| json!({"type": "message", "conversation_id": conversation, "id": id, "role": "user", "content": content});
    let answer = |id: &str, request: &str| json!({"type": "message", "conversation_id": "c1", "id": id, "role": "assistant", "content": "an answer", "request_id": request});
    let mut events = vec![json!({"type": "conversation", "id": "c2", "bot_id": bot})];
    let mut expected = vec![(true, 201)];
    for i in 0..300 {
        let (event, outcome) = match i {
            // A replay of a stored message, and one under its id with other content.
            10 => (message("c1", "old", "stored before"), (true, 200)),
            11 => (message("c1", "old", "something else"), (false, 409)),
            // Another bot's conversation and an unknown one.
            40 => (message("theirs", "t1", "not mine"), (false, 404)),
            41 => (message("nowhere", "n1", "lost"), (false, 404)),
            // A request id stored before, and one taken earlier in the run.
            127 => (answer("a1", "r-old"), (false, 409)),
            128 => (answer("a2", "r-new"), (true, 201)),
            129 => (answer("a3", "r-new"), (false, 409)),
            // An id taken earlier in the run: the same message, then another.
            160 => (message("c2", "m-5", "message 5"), (true, 200)),
            161 => (message("c2", "m-6", "not message 6"), (false, 409)),
            i => {
                (message(if i % 3 == 0 { "c1" } else { "c2" }, &format!("m-{i}"), &format!("message {i}")), (true, 201))
            }
        };
        events.push(event);
        expected.push(outcome);
    }
    let reply = app.post("/v1/ingest", &key, json!({"events": events.clone()})).await;
    let body = reply.assert_status(200).clone();
    assert_eq!(results(&body), expected);
    let items = body["results"].as_array().unwrap();
    assert_eq!(items[128]["error"], "conflict", "{}", items[128]);
    assert!(items[130]["message"].as_str().unwrap().contains("r-new"), "{}", items[130]);
    assert!(items[162]["message"].as_str().unwrap().contains("m-6"), "{}", items[162]);
    // What was stored, in order, with its counts on each conversation.
    let stored = |id: &str| {
        let id = id.to_owned();
        let app = &app;
        async move {
            let transcript = app.get(&format!("/v1/conversations/{id}"), &app.admin).await;
            let body = transcript.assert_status(200).clone();
            let ids: Vec<String> =
                body["messages"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
            ids
        }
    };
    let mut c1 = vec!["old".to_owned(), "old-a".to_owned()];
    let mut c2 = Vec::new();
    for (i, outcome) in expected.iter().enumerate().skip(1) {
        let event = &events[i];
        if *outcome == (true, 201) {
            let id = event["id"].as_str().unwrap().to_owned();
            if event["conversation_id"] == "c1" { c1.push(id) } else { c2.push(id) }
        }
    }
    assert_eq!(c1.len() + c2.len(), 2 + 300 - 8);
    let (mut got1, mut got2) = (stored("c1").await, stored("c2").await);
    // Same creation time within the batch: compare as sets of ids, then counts.
    got1.sort();
    got2.sort();
    c1.sort();
    c2.sort();
    assert_eq!(got1, c1);
    assert_eq!(got2, c2);
    let counts = message_counts(&app).await;
    assert!(counts.contains(&("c1".to_owned(), json!(c1.len()))), "{counts:?}");
    assert!(counts.contains(&("c2".to_owned(), json!(c2.len()))), "{counts:?}");
    // Sent again, nothing is created and every stored message is a replay.
    let again = app.post("/v1/ingest", &key, json!({"events": events})).await;
    let again = results(again.assert_status(200));
    for (i, (first, second)) in expected.iter().zip(&again).enumerate() {
        let want = if *first == (true, 201) { (true, 200) } else { *first };
        assert_eq!(*second, want, "event {i}");
    }
}

/// Batches beyond those applied at once wait their turn, body read, and each
/// still gets its own answer.
async fn more_batches_than_are_applied_at_once_each_get_their_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let n = 3 * plaudit::api::ingest::IN_FLIGHT;
    let sends = (0..n).map(|i| {
        let batch = json!({"events": [
            {"type": "conversation", "id": format!("queued-{i}"), "bot_id": bot},
            {"type": "message", "conversation_id": format!("queued-{i}"), "id": format!("q{i}"), "role": "user", "content": "hi"},
        ]});
        app.post("/v1/ingest", &app.admin, batch)
    });
    let replies = futures_util::future::join_all(sends).await;
    for r in &replies {
        assert_eq!(results(r.assert_status(200)), [(true, 201), (true, 201)], "{}", r.body);
    }
    for i in [0, n - 1] {
        let t = app.get(&format!("/v1/conversations/queued-{i}"), &app.admin).await;
        assert_eq!(t.assert_status(200)["messages"].as_array().unwrap().len(), 1);
    }
}

async fn events_read_the_same_whatever_their_key_order_spacing_and_escapes(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    // Written by hand: keys in any order, the type last, whitespace around
    // events and inside them, and keys spelled with escapes.
    let body = format!(
        r#"{{ "events" : [
            {{ "bot_id": "{bot}", "id": "c1", "type": "conversation" }} ,
            {{"id": "m1", "role": "user", "conversation_id": "c1", "content": "hi \"there\"",
              "metadata": {{"topic": "billing", "nested": {{"a": [1, 2.5, null]}}}}, "type": "message"}},
            {{"type": "mess\u0061ge", "conversation\u005fid": "c1", "id": "m2", "role": "assistant", "content": "hello"}},
            {{"type": "message", "conversation_id": 7, "id": "m3", "role": "user", "content": "x"}},
            {{"type": "message", "id": "m4", "role": "user", "content": "x"}},
            {{"type": "message", "conversation_id": "c1", "id": "m5", "role": "user", "content": "x", "colour": "red"}},
            {{"type": 5, "id": "c1"}},
            {{"id": "c1"}},
            {{"type": "vote", "conversation_id": "c1", "direction": "sideways"}},
            {{"direction": "down", "type": "vote", "conversation_id": "c1", "user_id": "u1"}},
            {{"type": "csat", "question_code": "csat", "value": 5}},
            {{"type": "conversation_end", "id": 3}},
            [],
            {{"type": "message", "conversation_id": "c1", "id": "m6", "role": "user", "content": "x", "conversation_id": "c2"}},
            {{"type": "message", "type": "message", "conversation_id": "c1", "id": "m7", "role": "user", "content": "x"}},
            {{"type": "message", "conversation_id": "c1", "id": "m8", "role": "user", "content": "x", "id": "m9"}}
        ] }}"#
    );
    let r = app.raw(reqwest::Method::POST, "/v1/ingest", &app.admin, Some("application/json"), body.into_bytes()).await;
    let body = r.assert_status(200).clone();
    let items = body["results"].as_array().unwrap();
    let outcomes: Vec<(bool, u64)> = results(&body);
    assert_eq!(
        outcomes,
        [
            (true, 201),
            (true, 201),
            (true, 201),
            (false, 400),
            (false, 400),
            (false, 400),
            (false, 400),
            (false, 400),
            (false, 400),
            (true, 200),
            (false, 400),
            (false, 400),
            (false, 400),
            (false, 400),
            (false, 400),
            (false, 400),
        ],
        "{body}"
    );
    let says = |i: usize, words: &[&str]| {
        let message = items[i]["message"].as_str().unwrap();
        for w in words {
            assert!(message.contains(w), "event {i}: {message} lacks {w}");
        }
    };
    says(3, &["events[3].conversation_id", "must be a string"]);
    says(4, &["events[4].conversation_id", "is required"]);
    says(5, &["events[5].colour", "unknown field"]);
    says(6, &["events[6].type", "must be a string"]);
    says(7, &["events[7].type", "is required"]);
    says(8, &["events[8].direction", "up or down"]);
    says(10, &["events[10].conversation_id", "is required"]);
    says(11, &["events[11].id", "must be a string"]);
    says(12, &["events[12]", "JSON object"]);
    says(13, &["events[13].conversation_id", "duplicate field"]);
    says(14, &["events[14].type", "duplicate field"]);
    says(15, &["events[15].id", "duplicate field"]);
    let transcript = app.get("/v1/conversations/c1", &app.admin).await.body;
    let messages: Vec<&Value> =
        transcript["messages"].as_array().unwrap().iter().filter(|m| m["role"] != "activity").collect();
    assert_eq!(messages.len(), 2, "{transcript}");
    assert_eq!(messages[0]["content"], "hi \"there\"");
    assert_eq!(messages[0]["metadata"], json!({"topic": "billing", "nested": {"a": [1, 2.5, null]}}));
    assert_eq!(messages[1]["id"], "m2");
    assert_eq!(transcript["satisfaction"]["value"], "negative", "the vote with its keys first counted");
    assert_eq!(transcript["votes"][0]["user_id"], "u1");
}
