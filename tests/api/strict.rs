//! Strict filters: documented routes refuse query parameters they do not
//! take, naming them; the inbox and the export match a contact exactly.

use reqwest::Method;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, spawn_app},
};

both_backends!(unknown_query_parameters_are_refused_by_name, a_contact_is_matched_exactly);

async fn unknown_query_parameters_are_refused_by_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.post("/v1/bots", &app.admin, json!({"name": "Shop"})).await.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.conversation_with_answer(&app.admin, &bot, "c1").await;
    for (method, path, name) in [
        (Method::GET, "/v1/conversations?contact=visitor-1".to_owned(), "contact"),
        (Method::GET, "/v1/conversations?limit=5&lang=fr".to_owned(), "lang"),
        (Method::GET, "/v1/exports/conversations?cursor=x".to_owned(), "cursor"),
        (Method::GET, "/v1/conversations/c1?expand=all".to_owned(), "expand"),
        (Method::GET, "/v1/analytics/overview?timezone=UTC".to_owned(), "timezone"),
        (Method::GET, "/v1/feedback?stauts=pending".to_owned(), "stauts"),
        (Method::GET, format!("/v1/api/conversation_ratings/configuration?bot_id={bot}&x=1"), "x"),
    ] {
        let r = app.send(method.clone(), &path, Some(&app.admin), None).await;
        assert_eq!(r.status, 400, "{method} {path}: {}", r.body);
        assert_eq!(r.body["error"], "invalid_request", "{path}");
        assert_eq!(r.body["field"], name, "{path}: {}", r.body);
    }
    // A route that takes no query at all refuses any, before it acts.
    let thumb = json!({"message_id": "c1-a1", "feedback_type": "positive", "user_id": "u"});
    let r = app.send(Method::POST, "/v1/feedback?debug=1", Some(&app.admin), Some(thumb.clone())).await;
    assert_eq!((r.status, r.body["field"].as_str()), (400, Some("debug")), "{}", r.body);
    assert_eq!(app.get("/v1/feedback", &app.admin).await.assert_status(200)["items"].as_array().unwrap().len(), 0);
    let compat = format!("/api/v1/m2m/sites/{bot}/chat/feedback?x=1");
    let r = app.send(
        Method::POST,
        &compat,
        Some(&app.admin),
        Some(json!({"session_id": "c1", "request_id": "c1-req1", "feedback": "good"})),
    );
    assert_eq!(r.await.status, 400);
    // What the route takes still passes; pages and files ignore what they do not use.
    app.get("/v1/conversations?limit=5&feedback=unknown&q=c1", &app.admin).await.assert_status(200);
    for page in ["/login?next=/inbox", "/widget.js?v=3", "/healthz?probe=1"] {
        let r = app.client.get(format!("{}{page}", app.address)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{page}");
    }
}

async fn a_contact_is_matched_exactly(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.post("/v1/bots", &app.admin, json!({"name": "Shop"})).await.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (id, contact) in [("c1", "visitor-1"), ("c10", "visitor-10"), ("c100", "visitor-100"), ("c2", "visitor-1")] {
        app.put(&format!("/v1/conversations/{id}"), &app.admin, json!({"bot_id": bot, "contact_id": contact}))
            .await
            .assert_status(201);
    }
    let ids = |body: &serde_json::Value| {
        let mut ids: Vec<String> =
            body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
        ids.sort();
        ids
    };
    let exact = app.get("/v1/conversations?contact_id=visitor-1", &app.admin).await;
    assert_eq!(ids(exact.assert_status(200)), ["c1", "c2"]);
    let substring = app.get("/v1/conversations?q=visitor-1", &app.admin).await;
    assert_eq!(ids(substring.assert_status(200)).len(), 4, "q is a substring search");
    let none = app.get("/v1/conversations?contact_id=visitor", &app.admin).await;
    assert!(ids(none.assert_status(200)).is_empty());
    let export = app.client.get(format!("{}/v1/exports/conversations?contact_id=visitor-1", app.address));
    let text = export.bearer_auth(&app.admin).send().await.unwrap().text().await.unwrap();
    let mut exported: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_owned())
        .collect();
    exported.sort();
    assert_eq!(exported, ["c1", "c2"]);
}
