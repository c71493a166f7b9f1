//! The OpenAPI document describes what the API answers: the answers of the
//! documented routes, over data with every kind of signal, match the schema
//! their operation documents (every required property there, every property
//! declared, every value of its declared type).

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app},
};

both_backends!(the_answers_match_the_documented_schemas);

async fn the_answers_match_the_documented_schemas(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = app.send(Method::GET, "/openapi.json", None, None).await.assert_status(200).clone();
    let admin = &app.admin;
    let bot = app.bot("Support").await;
    app.put("/v1/conversations/c1", admin, json!({"bot_id": bot, "contact_id": "v1", "metadata": {"variant": "A"}}))
        .await
        .assert_status(201);
    app.post("/v1/conversations/c1/messages", admin, json!({"id": "q1", "role": "user", "content": "Where is it?"}))
        .await
        .assert_status(201);
    let answer = json!({"id": "a1", "role": "assistant", "content": "On its way.", "metadata": {"topic": "shipping"}});
    app.post("/v1/conversations/c1/messages", admin, answer).await.assert_status(201);
    let thumb = json!({"message_id": "a1", "feedback_type": "negative", "reason": "Too vague", "user_id": "v1"});
    let feedback = app.post("/v1/feedback", admin, thumb).await.assert_status(201).clone();
    app.post("/v1/conversations/c1/downvote", admin, json!({"user_id": "v1", "reason": "Slow"}))
        .await
        .assert_status(200);
    app.post("/v1/conversations/c1/csat", admin, json!({"question_code": "HELPFUL_THUMBS", "value": "down"}))
        .await
        .assert_status(201);
    let id = feedback["id"].as_str().unwrap().to_owned();
    let review = json!({"action": "approve", "corrected_response": "It arrives on Friday."});
    app.post(&format!("/v1/feedback/{id}/review"), admin, review).await.assert_status(200);
    let token = app.post("/v1/conversations/c1/feedback-token", admin, json!({})).await.assert_status(201).clone();
    assert!(token["token"].is_string());

    let reads = [
        ("/v1/bots", "/v1/bots"),
        (&format!("/v1/bots/{bot}") as &str, "/v1/bots/{id}"),
        (&format!("/v1/bots/{bot}/settings"), "/v1/bots/{id}/settings"),
        (&format!("/v1/bots/{bot}/rating-config"), "/v1/bots/{id}/rating-config"),
        (&format!("/v1/bots/{bot}/csat-copy/fr-CA"), "/v1/bots/{id}/csat-copy/{locale}"),
        ("/v1/keys", "/v1/keys"),
        ("/v1/conversations", "/v1/conversations"),
        ("/v1/conversations/c1", "/v1/conversations/{id}"),
        ("/v1/conversations/c1/votes", "/v1/conversations/{id}/votes"),
        ("/v1/messages/a1/feedback?user_id=v1", "/v1/messages/{id}/feedback"),
        ("/v1/feedback", "/v1/feedback"),
        (&format!("/v1/feedback/{id}"), "/v1/feedback/{id}"),
        ("/v1/golden-examples", "/v1/golden-examples"),
        ("/v1/analytics/overview", "/v1/analytics/overview"),
        ("/v1/analytics/compare?group_by=variant", "/v1/analytics/compare"),
        ("/v1/analytics/reasons", "/v1/analytics/reasons"),
        ("/v1/recommendations", "/v1/recommendations"),
        ("/v1/api/conversation_ratings/configuration", "/v1/api/conversation_ratings/configuration"),
    ];
    for (url, route) in reads {
        let answer = app.get(url, admin).await;
        let body = answer.assert_status(200);
        fits(&doc, &operation_schema(&doc, route, "get", 200), body, url);
    }
    let created = app.post("/v1/keys", admin, json!({"role": "server"})).await;
    fits(&doc, &operation_schema(&doc, "/v1/keys", "post", 201), created.assert_status(201), "POST /v1/keys");
    fits(&doc, &operation_schema(&doc, "/v1/feedback", "post", 201), &feedback, "POST /v1/feedback");
    the_data_reaches_the_nested_schemas(&app).await;
}

/// The answers checked hold what the nested schemas describe (flattened
/// conversations, badges with records, votes, CSAT answers, turns), so that
/// those were checked too.
async fn the_data_reaches_the_nested_schemas(app: &TestApp) {
    let transcript = app.get("/v1/conversations/c1", &app.admin).await;
    let messages = transcript.body["messages"].as_array().unwrap();
    assert!(messages.iter().any(|m| m["feedback"]["records"].as_array().is_some_and(|r| !r.is_empty())));
    assert!(!transcript.body["votes"].as_array().unwrap().is_empty());
    assert!(!transcript.body["csat"].as_array().unwrap().is_empty());
    let golden = app.get("/v1/golden-examples", &app.admin).await;
    assert!(golden.body["items"][0]["messages"].as_array().is_some_and(|m| !m.is_empty()), "{}", golden.body);
}

/// The schema of an operation's answer with `status`.
fn operation_schema(doc: &Value, path: &str, method: &str, status: u16) -> Value {
    let operation = &doc["paths"][path][method];
    let content = &operation["responses"][status.to_string()]["content"];
    let schema = content["application/json"]["schema"].clone();
    assert!(schema.is_object(), "{method} {path} documents no JSON answer with {status}: {operation}");
    schema
}

/// Asserts that `value`, the answer of `at`, fits `schema`.
#[track_caller]
fn fits(doc: &Value, schema: &Value, value: &Value, at: &str) {
    if let Err(why) = check(doc, schema, value, at) {
        panic!("{why}");
    }
}

/// Checks `value` against `schema` (resolving references into `doc`),
/// naming `at` in what it finds wrong.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema)?;
    if let Some(parts) = schema["oneOf"].as_array() {
        return match parts.iter().any(|part| check(doc, part, value, at).is_ok()) {
            true => Ok(()),
            false => Err(format!("{at}: {value} fits none of {}", Value::Array(parts.clone()))),
        };
    }
    if schema.get("allOf").is_some() || schema.get("properties").is_some() {
        return check_object(doc, &schema, value, at);
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {}", Value::Array(allowed.clone())));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    let typed = types.iter().any(|t| match *t {
        "null" => value.is_null(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        _ => false,
    });
    if !typed {
        return Err(format!("{at}: {value} is not of type {types:?}"));
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, item) in values.iter().enumerate() {
            check(doc, items, item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// An object against its properties, those of all its `allOf` parts taken
/// together (a flattened struct): the required ones present, none undeclared.
fn check_object(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let object = value.as_object().ok_or_else(|| format!("{at}: {value} is not an object"))?;
    let mut properties = Map::new();
    let mut required = Vec::new();
    collect(doc, schema, &mut properties, &mut required)?;
    if let Some(missing) = required.iter().find(|name| !object.contains_key(*name)) {
        return Err(format!("{at}: {value} lacks the required {missing}"));
    }
    for (name, field) in object {
        let declared = properties.get(name).ok_or_else(|| format!("{at}: {name} is not in the schema"))?;
        check(doc, declared, field, &format!("{at}.{name}"))?;
    }
    Ok(())
}

fn collect(
    doc: &Value,
    schema: &Value,
    properties: &mut Map<String, Value>,
    required: &mut Vec<String>,
) -> Result<(), String> {
    let schema = resolve(doc, schema)?;
    for part in schema["allOf"].as_array().into_iter().flatten() {
        collect(doc, part, properties, required)?;
    }
    if let Some(own) = schema["properties"].as_object() {
        properties.extend(own.clone());
    }
    required.extend(schema["required"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(str::to_owned)));
    Ok(())
}

/// A schema with its `$ref` followed.
fn resolve(doc: &Value, schema: &Value) -> Result<Value, String> {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            let target = &doc["components"]["schemas"][name];
            if !target.is_object() {
                return Err(format!("no schema {name}"));
            }
            resolve(doc, target)
        }
        None => Ok(schema.clone()),
    }
}
