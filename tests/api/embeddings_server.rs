//! An OpenAI-compatible embeddings server on the built-in model: a real
//! process for the tests of `embeddings_url` (the test binary runs itself
//! again as this server), and `cargo run --release --example
//! embeddings-server` to try the setting by hand.
//!
//! `POST /v1/embeddings` takes `{"model", "input"}` (a text or a list of
//! texts) and answers `{"object": "list", "data": [{"object": "embedding",
//! "index", "embedding"}], "model"}`. With a key, requests must bear it.

use std::{io::Write, sync::Arc};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    routing::post,
};
use plaudit::embedding::local::MiniLm;
use serde_json::{Value, json};

struct Server {
    model: MiniLm,
    key: Option<String>,
}

async fn embeddings(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let refuse = |status: StatusCode, message: &str| (status, Json(json!({"error": {"message": message}})));
    if let Some(key) = &server.key {
        let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if bearer != Some(format!("Bearer {key}").as_str()) {
            return Err(refuse(StatusCode::UNAUTHORIZED, "invalid api key"));
        }
    }
    let texts: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => return Err(refuse(StatusCode::BAD_REQUEST, "input must be a text or a list of texts")),
    };
    let server = Arc::clone(&server);
    let vectors = tokio::task::spawn_blocking(move || server.model.embed_now(&texts))
        .await
        .map_err(|_| refuse(StatusCode::INTERNAL_SERVER_ERROR, "the model failed"))?
        .map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))?;
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(index, embedding)| json!({"object": "embedding", "index": index, "embedding": embedding}))
        .collect();
    Ok(Json(json!({"object": "list", "data": data, "model": body["model"]})))
}

/// Serves on `address` until the process ends; prints `listening on
/// <address>` once ready.
pub async fn serve(address: &str, key: Option<String>) -> anyhow::Result<()> {
    let server = Arc::new(Server { model: MiniLm::load()?, key });
    let app = Router::new().route("/v1/embeddings", post(embeddings)).with_state(server);
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}
