//! Analytics over HTTP (SPEC §9), on a small dataset whose figures are
//! computed by hand in the comments.

use plaudit::domain::analytics::two_proportion_p;
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app},
};

both_backends!(
    the_overview_counts_thumbs_against_the_previous_period,
    days_are_cut_in_the_requested_time_zone,
    every_filter_narrows_the_thumbs,
    csat_and_votes_have_their_figures,
    compare_tests_variants_against_the_baseline,
    reasons_are_grouped_and_ranked,
    reasons_that_mean_the_same_are_one,
    bad_analytics_parameters_are_400,
    language_is_a_dimension_of_every_figure,
);

const PERIOD: &str = "from=2024-06-01&to=2024-06-03";

/// Bots A and B; conversations cA1 (A, variant A, billing 0.9), cA2 (A,
/// variant B, shipping 0.3), cB1 (B, variant A, billing 0.5).
///
/// Thumbs in the period (2024-06-01T10:00Z unless said):
///   cA1: u1 + "Great", u2 − "Too slow!"   cA2: u1 − "too  slow", u2 −
///   cB1: u1 +, u2 − at 23:30Z (the next day in Paris)
/// → up 2, down 4. Before the period (05-30): cA1 u3 +.
async fn seed(app: &TestApp) -> (String, String) {
    let (a, b) = (app.bot("A").await, app.bot("B").await);
    for (id, bot, variant, topic, confidence) in
        [("cA1", &a, "A", "billing", 0.9), ("cA2", &a, "B", "shipping", 0.3), ("cB1", &b, "A", "billing", 0.5)]
    {
        app.put(
            &format!("/v1/conversations/{id}"),
            &app.admin,
            json!({"bot_id": bot, "metadata": {"variant": variant}, "created_at": "2024-05-01T00:00:00Z"}),
        )
        .await
        .assert_status(201);
        app.post(
            &format!("/v1/conversations/{id}/messages"),
            &app.admin,
            json!({"id": format!("{id}-a1"), "role": "assistant", "content": "An answer",
                   "metadata": {"topic": topic, "confidence": confidence}, "created_at": "2024-05-01T00:00:01Z"}),
        )
        .await
        .assert_status(201);
    }
    let thumbs = [
        ("cA1-a1", "u1", "positive", Some("Great"), "2024-06-01T10:00:00Z"),
        ("cA1-a1", "u2", "negative", Some("Too slow!"), "2024-06-01T10:00:00Z"),
        ("cA2-a1", "u1", "negative", Some("too  slow"), "2024-06-01T10:00:00Z"),
        ("cA2-a1", "u2", "negative", None, "2024-06-01T10:00:00Z"),
        ("cB1-a1", "u1", "positive", None, "2024-06-01T10:00:00Z"),
        ("cB1-a1", "u2", "negative", None, "2024-06-01T23:30:00Z"),
        ("cA1-a1", "u3", "positive", None, "2024-05-30T12:00:00Z"),
    ];
    let events: Vec<Value> = thumbs
        .iter()
        .map(|(m, u, t, r, at)| json!({"type": "feedback", "message_id": m, "user_id": u, "feedback_type": t, "reason": r, "created_at": at}))
        .collect();
    let r = app.post("/v1/ingest", &app.admin, json!({ "events": events })).await;
    assert!(r.assert_status(200)["results"].as_array().unwrap().iter().all(|x| x["ok"] == true), "{}", r.body);
    (a, b)
}

async fn overview(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/v1/analytics/overview?{PERIOD}&{query}"), &app.admin).await.assert_status(200).clone()
}

fn thumbs(o: &Value) -> (i64, i64) {
    let f = &o["message_feedback"];
    (f["thumbs_up"]["count"].as_i64().unwrap(), f["thumbs_down"]["count"].as_i64().unwrap())
}

async fn the_overview_counts_thumbs_against_the_previous_period(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    let o = overview(&app, "").await;
    assert_eq!(o["period"], json!({"from": "2024-06-01T00:00:00Z", "to": "2024-06-03T00:00:00Z", "tz": "UTC"}));
    assert_eq!(o["previous_period"], json!({"from": "2024-05-30T00:00:00Z", "to": "2024-06-01T00:00:00Z"}));
    let up = &o["message_feedback"]["thumbs_up"];
    assert_eq!(
        up,
        &json!({"count": 2, "percent": 33.33, "previous_count": 1, "previous_percent": 100.0, "change_percent": 100.0})
    );
    let down = &o["message_feedback"]["thumbs_down"];
    assert_eq!(
        down,
        &json!({"count": 4, "percent": 66.67, "previous_count": 0, "previous_percent": 0.0, "change_percent": null})
    );
    // Retracted thumbs leave the figures.
    app.delete("/v1/messages/cA2-a1/feedback?user_id=u2", &app.admin).await.assert_status(200);
    assert_eq!(thumbs(&overview(&app, "").await), (2, 3));
}

async fn days_are_cut_in_the_requested_time_zone(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    let daily = |o: &Value| -> Vec<(String, i64, i64, Value)> {
        o["satisfaction"]["daily"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["date"].as_str().unwrap().to_owned(),
                    d["good"].as_i64().unwrap(),
                    d["total"].as_i64().unwrap(),
                    d["rate"].clone(),
                )
            })
            .collect()
    };
    let utc = overview(&app, "").await;
    assert_eq!(daily(&utc), [("2024-06-01".into(), 2, 6, json!(33.33)), ("2024-06-02".into(), 0, 0, Value::Null)]);
    let paris = overview(&app, "tz=Europe/Paris").await;
    assert_eq!(paris["period"]["from"], "2024-05-31T22:00:00Z");
    assert_eq!(daily(&paris), [("2024-06-01".into(), 2, 5, json!(40.0)), ("2024-06-02".into(), 0, 1, json!(0.0))]);
    let csat_days = paris["csat"]["daily"].as_array().unwrap();
    assert_eq!(csat_days.len(), 2);
    assert!(csat_days.iter().all(|d| d["average"].is_null() && d["count"] == 0));
}

async fn every_filter_narrows_the_thumbs(backend: Backend) {
    let app = spawn_app(backend).await;
    let (a, b) = seed(&app).await;
    for (query, expected) in [
        (format!("bot_id={a}"), (1, 3)),
        (format!("bot_id={b}"), (1, 1)),
        ("topic=billing".to_owned(), (2, 2)),
        ("topic=shipping".to_owned(), (0, 2)),
        ("min_confidence=0.5".to_owned(), (2, 2)),
        ("max_confidence=0.4".to_owned(), (0, 2)),
        ("min_confidence=0.6&max_confidence=1".to_owned(), (1, 1)),
        ("variant=B".to_owned(), (0, 2)),
        ("variant=A".to_owned(), (2, 2)),
        ("has_reason=true".to_owned(), (1, 2)),
        ("has_reason=false".to_owned(), (1, 2)),
        (format!("bot_id={a}&variant=A&has_reason=true"), (1, 1)),
    ] {
        assert_eq!(thumbs(&overview(&app, &query).await), expected, "{query}");
    }
    // A key bound to bot B sees only B's figures.
    let bound = app.key("server", Some(&b)).await;
    let o = app.get(&format!("/v1/analytics/overview?{PERIOD}"), &bound).await;
    assert_eq!(thumbs(o.assert_status(200)), (1, 1));
}

async fn csat_and_votes_have_their_figures(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    // cA1: helpful up (5) and experience down (1) → 3; cA2: helpful up → 5. Average 4 over 2.
    for (conversation, code, value) in
        [("cA1", "HELPFUL_THUMBS", "up"), ("cA1", "EXPERIENCE_THUMBS", "down"), ("cA2", "HELPFUL_THUMBS", "up")]
    {
        app.post(
            &format!("/v1/conversations/{conversation}/csat"),
            &app.admin,
            json!({"question_code": code, "value": value, "created_at": "2024-06-01T12:00:00Z"}),
        )
        .await
        .assert_status(201);
    }
    // One before the period: cB1 helpful down → previous average 1.
    app.post(
        "/v1/conversations/cB1/csat",
        &app.admin,
        json!({"question_code": "HELPFUL_THUMBS", "value": "down", "created_at": "2024-05-31T12:00:00Z"}),
    )
    .await
    .assert_status(201);
    app.post("/v1/conversations/cA1/upvote", &app.admin, json!({"value": 50, "created_at": "2024-06-02T10:00:00Z"}))
        .await
        .assert_status(200);
    app.post("/v1/conversations/cB1/downvote", &app.admin, json!({"created_at": "2024-06-02T10:00:00Z"}))
        .await
        .assert_status(200);
    let o = overview(&app, "").await;
    let csat = &o["csat"];
    assert_eq!(csat["average"], 4.0);
    assert_eq!(csat["rated_conversations"], 2);
    assert_eq!(csat["previous_average"], 1.0);
    assert_eq!(csat["daily"][0], json!({"date": "2024-06-01", "average": 4.0, "count": 2}));
    assert_eq!(csat["daily"][1], json!({"date": "2024-06-02", "average": null, "count": 0}));
    assert_eq!(
        csat["by_question"],
        json!([{"question_code": "EXPERIENCE_THUMBS", "average": 1.0, "count": 1},
               {"question_code": "HELPFUL_THUMBS", "average": 5.0, "count": 2}])
    );
    assert_eq!(o["votes"], json!({"upvotes": 1, "downvotes": 1, "average_value": -25.0}));
    // Conversation-level figures follow the filters too.
    let only_b = overview(&app, "variant=B").await;
    assert_eq!(
        (only_b["csat"]["average"].clone(), only_b["csat"]["rated_conversations"].clone()),
        (json!(5.0), json!(1))
    );
    assert_eq!(only_b["votes"]["upvotes"], 0);
    let shipping = overview(&app, "topic=shipping").await;
    assert_eq!(shipping["csat"]["rated_conversations"], 1, "conversations with a shipping answer");
}

async fn compare_tests_variants_against_the_baseline(backend: Backend) {
    let app = spawn_app(backend).await;
    let (a, b) = seed(&app).await;
    // Variant A: cA1 (1+, 1−) and cB1 (1+, 1−) → n 4, good 2. Variant B: cA2 → n 2, good 0.
    let r = app.get(&format!("/v1/analytics/compare?{PERIOD}&group_by=variant"), &app.admin).await;
    let c = r.assert_status(200);
    assert_eq!(c["group_by"], "variant");
    assert_eq!(c["baseline"], "A");
    let groups = c["groups"].as_array().unwrap();
    assert_eq!(
        (groups[0]["key"].clone(), groups[0]["n"].clone(), groups[0]["good"].clone(), groups[0]["rate"].clone()),
        (json!("A"), json!(4), json!(2), json!(50.0))
    );
    assert!(groups[0]["p_value"].is_null());
    assert_eq!(
        (groups[1]["key"].clone(), groups[1]["n"].clone(), groups[1]["good"].clone()),
        (json!("B"), json!(2), json!(0))
    );
    let expected = two_proportion_p(0, 2, 2, 4).unwrap();
    assert!((groups[1]["p_value"].as_f64().unwrap() - expected).abs() < 1e-6);
    assert!(groups[0]["ci_low"].as_f64().unwrap() < 50.0 && groups[0]["ci_high"].as_f64().unwrap() > 50.0);
    let on_b = app.get(&format!("/v1/analytics/compare?{PERIOD}&group_by=variant&baseline=B"), &app.admin).await;
    assert!(on_b.assert_status(200)["groups"][1]["p_value"].is_null());
    let bots = app.get(&format!("/v1/analytics/compare?{PERIOD}&group_by=bot"), &app.admin).await.body;
    let keys: Vec<&str> = bots["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(keys, [a.as_str(), b.as_str()]);
    let topics = app.get(&format!("/v1/analytics/compare?{PERIOD}&group_by=topic"), &app.admin).await.body;
    assert_eq!(topics["groups"][0]["key"], "billing");
    app.get(&format!("/v1/analytics/compare?{PERIOD}&group_by=variant&baseline=Z"), &app.admin)
        .await
        .assert_invalid("baseline");
    app.get(&format!("/v1/analytics/compare?{PERIOD}"), &app.admin).await.assert_invalid("group_by");
    app.get(&format!("/v1/analytics/compare?{PERIOD}&group_by=colour"), &app.admin).await.assert_invalid("group_by");
}

async fn reasons_are_grouped_and_ranked(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    let r = app.get(&format!("/v1/analytics/reasons?{PERIOD}&feedback_type=negative"), &app.admin).await;
    let items = r.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["count"], 2);
    assert!(["Too slow!", "too  slow"].contains(&items[0]["reason"].as_str().unwrap()));
    let positive = app.get(&format!("/v1/analytics/reasons?{PERIOD}&feedback_type=positive"), &app.admin).await.body;
    assert_eq!(positive["items"], json!([{"reason": "Great", "count": 1}]));
    let by_default = app.get(&format!("/v1/analytics/reasons?{PERIOD}"), &app.admin).await.body;
    assert_eq!(by_default["items"][0]["count"], 2, "negative by default");
}

async fn reasons_that_mean_the_same_are_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    let reasons = [
        "Didn't understand my question",
        "didn't understand my question!",
        "It misunderstood my question",
        "Too slow",
        "Very slow",
        "Slow response",
        "The price it gave was wrong",
    ];
    for (i, reason) in reasons.iter().enumerate() {
        let answer = crate::gaps::asked(&app, &bot, &format!("r{i}"), "Can you help?", &crate::gaps::ago(10)).await;
        let body = json!({"message_id": answer, "feedback_type": "negative", "user_id": "u1", "reason": reason});
        app.post("/v1/feedback", &app.admin, body).await.assert_status(201);
    }
    let literal = app.get("/v1/analytics/reasons?group_by=text", &app.admin).await;
    assert_eq!(literal.assert_status(200)["items"].as_array().unwrap().len(), 6, "{}", literal.body);
    // By meaning (the default), once the worker has embedded the reasons.
    let mut items = Vec::new();
    for _ in 0..600 {
        let r = app.get("/v1/analytics/reasons", &app.admin).await;
        items = r.assert_status(200)["items"].as_array().unwrap().clone();
        if items.len() <= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let shown: Vec<(&str, i64)> =
        items.iter().map(|r| (r["reason"].as_str().unwrap(), r["count"].as_i64().unwrap())).collect();
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert_eq!(shown[0], ("Didn't understand my question", 3), "the misunderstandings are one, shown as most given");
    assert_eq!(shown[1].1, 3, "slowness is one: {shown:?}");
    assert!(shown.contains(&("The price it gave was wrong", 1)), "{shown:?}");
    let same = app.get("/v1/analytics/reasons?group_by=meaning", &app.admin).await;
    assert_eq!(same.assert_status(200)["items"].as_array().unwrap().len(), 3);
    app.get("/v1/analytics/reasons?group_by=words", &app.admin).await.assert_invalid("group_by");
}

async fn bad_analytics_parameters_are_400(backend: Backend) {
    let app = spawn_app(backend).await;
    for (query, field) in [
        ("tz=Mars/Olympus", "tz"),
        ("from=2024-06-03&to=2024-06-01", "from"),
        ("from=yesterday", "from"),
        ("min_confidence=2", "min_confidence"),
        ("min_confidence=high", "min_confidence"),
        ("has_reason=maybe", "has_reason"),
        ("bot_id=nope", "bot_id"),
        ("from=1990-01-01&to=2024-01-01", "to"),
        ("locale=fr_CA", "locale"),
    ] {
        app.get(&format!("/v1/analytics/overview?{query}"), &app.admin).await.assert_invalid(field);
    }
    let public = app.key("public", None).await;
    app.get("/v1/analytics/overview", &public).await.assert_error(403, "forbidden");
    let empty = app.get("/v1/analytics/overview", &app.admin).await;
    let body = empty.assert_status(200);
    assert_eq!(body["satisfaction"]["daily"].as_array().unwrap().len(), 30, "the last 30 days by default");
    assert!(body["message_feedback"]["thumbs_up"]["percent"].is_null(), "no NaN: null over zero");
}

/// Languages set after the thumbs came (the figures move with them): cA1
/// `en`, cA2 `fr-CA`, cB1 `FR`. `fr` matches `fr-CA` and any case.
async fn language_is_a_dimension_of_every_figure(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    for (id, locale) in [("cA1", "en"), ("cA2", "fr-CA"), ("cB1", "FR")] {
        app.put(&format!("/v1/conversations/{id}"), &app.admin, json!({"locale": locale})).await.assert_status(200);
    }
    // cA1: 1+ 1−; cA2: 2−; cB1: 1+ 1− (the second the next day in Paris).
    for (query, expected) in [
        ("locale=fr", (1, 3)),
        ("locale=fr-ca", (0, 2)),
        ("locale=EN", (1, 1)),
        ("locale=de", (0, 0)),
        ("locale=fr&variant=A", (1, 1)),
        ("locale=fr&has_reason=true", (0, 1)),
    ] {
        assert_eq!(thumbs(&overview(&app, query).await), expected, "{query}");
    }
    // A bound inside a quarter hour counts from the signals themselves.
    let after_ten = app.get("/v1/analytics/overview?from=2024-06-01T10:00:01Z&to=2024-06-03&locale=fr", &app.admin);
    assert_eq!(thumbs(after_ten.await.assert_status(200)), (0, 1));
    let c = app.get(&format!("/v1/analytics/compare?{PERIOD}&group_by=locale"), &app.admin).await;
    let c = c.assert_status(200);
    let groups: Vec<(Value, Value, Value)> =
        c["groups"].as_array().unwrap().iter().map(|g| (g["key"].clone(), g["n"].clone(), g["good"].clone())).collect();
    assert_eq!(
        groups,
        [(json!("en"), json!(2), json!(1)), (json!("fr"), json!(2), json!(1)), (json!("fr-ca"), json!(2), json!(0))]
    );
    let reasons = app.get(&format!("/v1/analytics/reasons?{PERIOD}&locale=fr-CA&group_by=text"), &app.admin).await;
    let items = reasons.assert_status(200)["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!(items[0]["count"], 1);
}
