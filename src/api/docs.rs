//! `/docs`: the API reference as one self-contained HTML page, rendered from
//! the OpenAPI document (no script, no font or style from elsewhere: it reads
//! offline).

use std::fmt::Write as _;

use axum::response::Html;
use utoipa::openapi::{OpenApi, RefOr, path::Operation};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn schema_name<T>(r: &RefOr<T>) -> String {
    match r {
        RefOr::Ref(r) => r.ref_location.rsplit('/').next().unwrap_or_default().to_owned(),
        RefOr::T(_) => "inline".to_owned(),
    }
}

fn operation(out: &mut String, method: &str, path: &str, op: &Operation) {
    let _ = write!(
        out,
        "<section><h3><code class=\"m\">{}</code> <code>{}</code></h3>",
        method.to_uppercase(),
        escape(path)
    );
    if let Some(summary) = &op.summary {
        let _ = write!(out, "<p><strong>{}</strong></p>", escape(summary));
    }
    if let Some(description) = &op.description {
        for para in description.split("\n\n") {
            let _ = write!(out, "<p>{}</p>", escape(para));
        }
    }
    if let Some(params) = op.parameters.as_ref().filter(|p| !p.is_empty()) {
        out.push_str("<table><tr><th>parameter</th><th>in</th><th>meaning</th></tr>");
        for p in params {
            let place = serde_json::to_value(&p.parameter_in)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&p.name),
                escape(&place),
                escape(p.description.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</table>");
    }
    if let Some(body) = &op.request_body {
        let names: Vec<String> = body.content.values().filter_map(|c| c.schema.as_ref()).map(schema_name).collect();
        let _ = write!(out, "<p>Body: <code>{}</code></p>", escape(&names.join(", ")));
    }
    out.push_str("<ul>");
    for (status, response) in &op.responses.responses {
        let description = match response {
            RefOr::T(r) => r.description.clone(),
            RefOr::Ref(r) => r.ref_location.clone(),
        };
        let _ = write!(out, "<li><code>{}</code> {}</li>", escape(status), escape(&description));
    }
    out.push_str("</ul></section>");
}

/// Renders the whole reference.
pub fn render(doc: &OpenApi) -> Html<String> {
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Plaudit API</title><style>\
         body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}\
         section{border-top:1px solid #dde;padding:.5rem 0}code{font-family:ui-monospace,monospace}\
         .m{background:#eef;padding:0 .3rem;border-radius:3px}table{border-collapse:collapse}\
         td,th{border:1px solid #dde;padding:.2rem .5rem;text-align:left}</style></head><body>\
         <h1>Plaudit API</h1><p>Send a key as <code>Authorization: Bearer &lt;key&gt;</code> or \
         <code>X-API-Key</code>. Errors answer <code>{\"error\", \"message\"}</code>. The machine-readable \
         document is at <a href=\"/openapi.json\">/openapi.json</a>.</p>",
    );
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("get", &item.get),
            ("put", &item.put),
            ("post", &item.post),
            ("delete", &item.delete),
            ("patch", &item.patch),
        ] {
            if let Some(op) = op {
                operation(&mut out, method, path, op);
            }
        }
    }
    out.push_str("</body></html>");
    Html(out)
}
