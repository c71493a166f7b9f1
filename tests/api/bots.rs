//! Bots: create, read, list.

use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, spawn_app},
};

both_backends!(an_admin_creates_and_reads_a_bot, bots_are_listed_newest_first_in_pages, an_unknown_bot_is_404);

async fn an_admin_creates_and_reads_a_bot(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.post("/v1/bots", &app.admin, json!({"name": "  Support assistant "})).await;
    let bot = created.assert_status(201).clone();
    assert_eq!(bot["name"], "Support assistant");
    assert!(uuid::Uuid::parse_str(bot["id"].as_str().unwrap()).is_ok());
    assert!(bot["created_at"].as_str().unwrap().ends_with('Z'));
    let read = app.get(&format!("/v1/bots/{}", bot["id"].as_str().unwrap()), &app.admin).await;
    assert_eq!(read.assert_status(200), &bot);
}

async fn bots_are_listed_newest_first_in_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.bot(&format!("bot {i}")).await);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut path = "/v1/bots?limit=2".to_owned();
    loop {
        let page = app.get(&path, &app.admin).await;
        let body = page.assert_status(200);
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|b| b["id"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/bots?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

async fn an_unknown_bot_is_404(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get(&format!("/v1/bots/{}", uuid::Uuid::new_v4()), &app.admin).await.assert_error(404, "not_found");
    app.get("/v1/bots/not-a-uuid", &app.admin).await.assert_error(404, "not_found");
}
