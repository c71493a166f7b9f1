//! Health, readiness, the OpenAPI document and request ids.

use reqwest::Method;

use crate::{
    both_backends,
    helpers::{Backend, spawn_app},
};

both_backends!(
    health_and_readiness_answer_without_a_key,
    every_answer_carries_a_request_id,
    metrics_count_requests_by_route
);

async fn health_and_readiness_answer_without_a_key(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.send(Method::GET, "/healthz", None, None).await.assert_status(200)["status"], "ok");
    assert_eq!(app.send(Method::GET, "/readyz", None, None).await.assert_status(200)["status"], "ok");
}

async fn every_answer_carries_a_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.get("/v1/bots", &app.admin).await;
    assert!(r.headers.contains_key("x-request-id"));
    let sent =
        app.client.get(format!("{}/healthz", app.address)).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(sent.headers()["x-request-id"], "trace-me-42");
}

async fn metrics_count_requests_by_route(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.bot("Support").await;
    app.get(&format!("/v1/bots/{bot}"), &app.admin).await.assert_status(200);
    app.get(&format!("/v1/bots/{}", uuid::Uuid::new_v4()), &app.admin).await.assert_status(404);
    let r = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = r.text().await.unwrap();
    assert!(
        text.contains(r#"plaudit_http_requests_total{method="GET",route="/v1/bots/{id}",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"plaudit_http_requests_total{method="GET",route="/v1/bots/{id}",status="404"} 1"#));
    assert!(text.contains(r#"plaudit_http_requests_total{method="POST",route="/v1/bots",status="201"} 1"#));
    assert!(text.contains("plaudit_http_request_duration_seconds_bucket"));
    assert!(!text.contains(&bot), "routes are patterns, never raw ids");
}

#[tokio::test]
async fn the_docs_page_reads_offline() {
    let app = spawn_app(Backend::Sqlite).await;
    let r = app.client.get(format!("{}/docs", app.address)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = r.text().await.unwrap();
    for route in [
        "/v1/feedback",
        "/v1/conversations/{id}/upvote",
        "/v1/analytics/overview",
        "/api/v1/m2m/sites/{site_id}/chat/feedback",
    ] {
        assert!(page.contains(route), "{route}");
    }
    assert!(!page.contains("<script"), "no script");
    assert!(!page.contains("http://") && !page.contains("https://"), "nothing fetched from elsewhere");
}

#[tokio::test]
async fn the_openapi_document_covers_every_route_with_its_errors() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = app.send(Method::GET, "/openapi.json", None, None).await;
    let doc = doc.assert_status(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let expected = [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/v1/bots", "get"),
        ("/v1/bots", "post"),
        ("/v1/bots/{id}", "get"),
        ("/v1/keys", "get"),
        ("/v1/keys", "post"),
        ("/v1/keys/{id}", "delete"),
        ("/v1/conversations/{id}", "put"),
        ("/v1/conversations/{id}", "get"),
        ("/v1/conversations/{id}", "delete"),
        ("/v1/contacts/{contact_id}", "delete"),
        ("/v1/contacts/{contact_id}/export", "get"),
        ("/v1/conversations/{id}/messages", "post"),
        ("/v1/conversations/{id}/end", "post"),
        ("/v1/messages/{id}", "patch"),
        ("/v1/ingest", "post"),
        ("/v1/bots/{id}/settings", "get"),
        ("/v1/bots/{id}/settings", "patch"),
        ("/v1/bots/{id}/rating-config", "get"),
        ("/v1/bots/{id}/rating-config", "patch"),
        ("/v1/bots/{id}/csat-copy/{locale}", "get"),
        ("/v1/bots/{id}/csat-copy/{locale}", "put"),
        ("/v1/conversations/{id}/upvote", "post"),
        ("/v1/conversations/{id}/downvote", "post"),
        ("/v1/conversations/{id}/votes", "get"),
        ("/v1/conversations/{id}/csat", "post"),
        ("/v1/conversations/{id}/feedback-token", "post"),
        ("/v1/messages/{id}/feedback", "get"),
        ("/v1/messages/{id}/feedback", "delete"),
        ("/v1/feedback", "get"),
        ("/v1/feedback", "post"),
        ("/v1/feedback/{id}", "get"),
        ("/v1/feedback/{id}/review", "post"),
        ("/v1/golden-examples", "get"),
        ("/v1/golden-examples/export", "get"),
        ("/v1/golden-examples/{id}", "delete"),
        ("/v1/api/conversation_ratings/configuration", "get"),
        ("/v1/api/conversation_ratings/configuration", "patch"),
        ("/api/v1/m2m/sites/{site_id}/chat/feedback", "post"),
        ("/v1/conversations", "get"),
        ("/v1/analytics/overview", "get"),
        ("/v1/analytics/compare", "get"),
        ("/v1/analytics/reasons", "get"),
        ("/v1/exports/conversations", "get"),
        ("/v1/recommendations", "get"),
        ("/v1/recommendations/{id}/members", "get"),
        ("/v1/recommendations/{id}/answer", "post"),
        ("/v1/audit-log", "get"),
        ("/v1/webhooks", "get"),
        ("/v1/webhooks", "post"),
        ("/v1/webhooks/{id}", "get"),
        ("/v1/webhooks/{id}", "patch"),
        ("/v1/webhooks/{id}", "delete"),
        ("/v1/webhooks/{id}/rotate-secret", "post"),
        ("/v1/webhooks/{id}/test", "post"),
        ("/v1/webhooks/{id}/deliveries", "get"),
        ("/v1/webhooks/{id}/deliveries/{delivery_id}/retry", "post"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, expected.len(), "every documented operation is expected: {:?}", paths.keys());
    for (path, method) in expected {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} has a success answer");
        if path.starts_with("/v1/") {
            for status in ["400", "401", "403", "404", "413", "429", "500", "503"] {
                assert!(responses.contains_key(status), "{method} {path} documents {status}");
            }
        }
    }
    for schema in [
        "ErrorBody",
        "Bot",
        "Conversation",
        "Message",
        "Transcript",
        "IngestResponse",
        "Feedback",
        "VoteAck",
        "RatingConfig",
        "CsatAnswer",
        "GoldenExample",
        "RequestFeedbackOk",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
}
