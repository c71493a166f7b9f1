//! `/metrics`: request counts and latencies per route in the Prometheus text
//! format. A small recorder of our own: a counter and a histogram per
//! (method, route, status), which is all the service needs to expose.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// What `/metrics` reports.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut series) = self.series.lock() else { return };
        let s = series.entry((method.to_owned(), route.to_owned(), status)).or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP plaudit_up Whether the process is up.\n# TYPE plaudit_up gauge\nplaudit_up 1\n\
             # HELP plaudit_http_requests_total Requests answered, by method, route and status.\n\
             # TYPE plaudit_http_requests_total counter\n",
        );
        let Ok(series) = self.series.lock() else { return out };
        for ((method, route, status), s) in series.iter() {
            let _ = writeln!(
                out,
                "plaudit_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        out.push_str(
            "# HELP plaudit_http_request_duration_seconds Time to answer, by method, route and status.\n\
             # TYPE plaudit_http_request_duration_seconds histogram\n",
        );
        for ((method, route, status), s) in series.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(out, "plaudit_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "plaudit_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "plaudit_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "plaudit_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        out
    }
}

/// Times every request; the route is the matched pattern (never the raw
/// path, so ids do not explode the series), or `unmatched`.
pub async fn record(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics.observe(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// The answer of `GET /metrics`.
pub fn exposition(metrics: &Metrics) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics.render()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_and_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/v1/bots", 200, 0.003);
        m.observe("GET", "/v1/bots", 200, 0.2);
        let text = m.render();
        assert!(text.contains("plaudit_http_requests_total{method=\"GET\",route=\"/v1/bots\",status=\"200\"} 2"));
        assert!(text.contains("route=\"/v1/bots\",status=\"200\",le=\"0.005\"} 1"));
        assert!(text.contains("route=\"/v1/bots\",status=\"200\",le=\"0.25\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(text.contains("plaudit_up 1"));
    }
}
