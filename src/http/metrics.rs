//! `/metrics`: request counts and latencies per route in the Prometheus text
//! format, recorded with the `metrics` crate into a
//! `metrics-exporter-prometheus` recorder of this application's own (not the
//! process-wide one, so that two applications in one process, as in the
//! tests, count apart).

use std::{
    sync::{Arc, Weak},
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics::{Label, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::app::DeliveryFigures;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

const UP: &str = "plaudit_up";
const REQUESTS: &str = "plaudit_http_requests_total";
const DURATION: &str = "plaudit_http_request_duration_seconds";

/// How often latencies recorded since the last scrape are folded into their
/// buckets: the recorder keeps each sample until then.
const UPKEEP: Duration = Duration::from_secs(5);

/// What `/metrics` reports.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Metrics {
    /// A recorder with the series described, `plaudit_up` set, and (inside a
    /// runtime) a task that folds latencies every few seconds for as long as
    /// the metrics live.
    pub fn new() -> Arc<Self> {
        let recorder =
            PrometheusBuilder::new().set_buckets(&BUCKETS).expect("the buckets are not empty").build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe_gauge!(UP, "Whether the process is up.");
            describe_counter!(REQUESTS, "Requests answered, by method, route and status.");
            describe_histogram!(DURATION, "Time to answer, by method, route and status.");
            gauge!(UP).set(1.0);
        });
        let metrics = Arc::new(Self { recorder, handle });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(upkeep(Arc::downgrade(&metrics)));
        }
        metrics
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = [
            Label::new("method", method.to_owned()),
            Label::new("route", route.to_owned()),
            Label::new("status", status.to_string()),
        ];
        metrics::with_local_recorder(&self.recorder, || {
            counter!(REQUESTS, labels.iter()).increment(1);
            histogram!(DURATION, labels.iter()).record(seconds);
        });
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

async fn upkeep(metrics: Weak<Metrics>) {
    let mut tick = tokio::time::interval(UPKEEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(metrics) = metrics.upgrade() else { return };
        metrics.handle.run_upkeep();
    }
}

/// Times every request; the route is the matched pattern (never the raw
/// path, so ids do not explode the series), or `unmatched`.
pub async fn record(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    metrics.observe(method.as_str(), route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// The answer of `GET /metrics`, with the webhook deliveries' figures
/// when the store could tell them.
pub fn exposition(metrics: &Metrics, deliveries: Option<DeliveryFigures>) -> Response {
    let mut text = metrics.render();
    if let Some(d) = deliveries {
        text.push_str(&delivery_lines(&d));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The webhook deliveries in the Prometheus text format.
fn delivery_lines(d: &DeliveryFigures) -> String {
    format!(
        "# HELP plaudit_webhook_deliveries_total Delivery attempts since the process started, by outcome \
         (succeeded; retried: failed, tried again later; failed: given up).\n\
         # TYPE plaudit_webhook_deliveries_total counter\n\
         plaudit_webhook_deliveries_total{{outcome=\"succeeded\"}} {}\n\
         plaudit_webhook_deliveries_total{{outcome=\"retried\"}} {}\n\
         plaudit_webhook_deliveries_total{{outcome=\"failed\"}} {}\n\
         # HELP plaudit_webhook_deliveries_pending Deliveries waiting to be sent.\n\
         # TYPE plaudit_webhook_deliveries_pending gauge\n\
         plaudit_webhook_deliveries_pending {}\n\
         # HELP plaudit_webhook_oldest_pending_seconds Age of the oldest delivery waiting to be sent.\n\
         # TYPE plaudit_webhook_oldest_pending_seconds gauge\n\
         plaudit_webhook_oldest_pending_seconds {}\n",
        d.succeeded, d.retried, d.failed, d.pending, d.oldest_pending_seconds
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_and_buckets() {
        let m = Metrics::new();
        m.observe("GET", "/v1/bots", 200, 0.003);
        m.observe("GET", "/v1/bots", 200, 0.2);
        let text = m.render();
        assert!(
            text.contains("plaudit_http_requests_total{method=\"GET\",route=\"/v1/bots\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("# HELP plaudit_http_requests_total Requests answered"), "{text}");
        assert!(text.contains("# TYPE plaudit_http_request_duration_seconds histogram"), "{text}");
        let bucket =
            |le: &str| format!("{DURATION}_bucket{{method=\"GET\",route=\"/v1/bots\",status=\"200\",le=\"{le}\"}}");
        assert!(text.contains(&format!("{} 0", bucket("0.001"))), "{text}");
        assert!(text.contains(&format!("{} 1", bucket("0.005"))), "{text}");
        assert!(text.contains(&format!("{} 2", bucket("0.25"))), "{text}");
        assert!(text.contains(&format!("{} 2", bucket("5"))), "{text}");
        assert!(text.contains(&format!("{} 2", bucket("+Inf"))), "{text}");
        assert_eq!(text.matches(&format!("{DURATION}_bucket{{")).count(), BUCKETS.len() + 1, "{text}");
        assert!(text.contains("plaudit_up 1"), "{text}");
        let figures = DeliveryFigures { succeeded: 3, retried: 2, failed: 1, pending: 4, oldest_pending_seconds: 1.5 };
        let lines = delivery_lines(&figures);
        assert!(lines.contains("plaudit_webhook_deliveries_total{outcome=\"retried\"} 2\n"), "{lines}");
        assert!(lines.contains("plaudit_webhook_deliveries_pending 4\n"), "{lines}");
        assert!(lines.contains("plaudit_webhook_oldest_pending_seconds 1.5\n"), "{lines}");
    }

    #[test]
    fn two_recorders_count_apart() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.observe("GET", "/v1/bots", 200, 0.01);
        assert!(a.render().contains("status=\"200\"} 1"));
        assert!(!b.render().contains("/v1/bots"));
    }
}
