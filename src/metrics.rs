//! Prometheus metrics, served as text at `/metrics`. One process-wide set, so the actors, the
//! mail dispatcher and the handlers record without passing a handle around; gauges that describe
//! the present (actor queues, pool) are read when scraped.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use prometheus::{Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_seconds: HistogramVec,
    pub holds: IntCounterVec,
    pub actor_batch_size: Histogram,
    pub actor_commit_seconds: Histogram,
    pub emails: IntCounterVec,
    pub webhook_lag_seconds: Histogram,
    pub rate_limited: IntCounterVec,
    actor_queue_depth: IntGaugeVec,
    actors_ready: IntGauge,
    pool_size: IntGauge,
    pool_available: IntGauge,
}

fn build() -> Metrics {
    let registry = Registry::new_custom(Some("billetterie".into()), None).expect("a valid prefix");
    let counter = |name: &str, help: &str, labels: &[&str]| {
        let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
        registry.register(Box::new(c.clone())).expect("registered once");
        c
    };
    let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
        let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets)).expect("valid metric");
        registry.register(Box::new(h.clone())).expect("registered once");
        h
    };
    let gauge = |name: &str, help: &str| {
        let g = IntGauge::new(name, help).expect("valid metric");
        registry.register(Box::new(g.clone())).expect("registered once");
        g
    };
    let http_seconds = HistogramVec::new(
        HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route")
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
        &["route"],
    )
    .expect("valid metric");
    registry.register(Box::new(http_seconds.clone())).expect("registered once");
    let actor_queue_depth =
        IntGaugeVec::new(Opts::new("actor_queue_depth", "Requests queued or in flight per city event actor"), &["city_event_id"])
            .expect("valid metric");
    registry.register(Box::new(actor_queue_depth.clone())).expect("registered once");
    Metrics {
        http_requests: counter("http_requests_total", "HTTP requests by route pattern, method and status", &["route", "method", "status"]),
        http_seconds,
        holds: counter("holds_total", "Hold requests by outcome (held, sold_out, busy, unavailable, rate_limited, invalid…)", &["outcome"]),
        actor_batch_size: histogram(
            "actor_batch_size",
            "Changes written per city event commit",
            vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0],
        ),
        actor_commit_seconds: histogram(
            "actor_commit_seconds",
            "Duration of a city event batch commit",
            vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0],
        ),
        emails: counter("emails_total", "Mails by outcome (sent, retry, failed, skipped)", &["outcome"]),
        webhook_lag_seconds: histogram(
            "stripe_webhook_lag_seconds",
            "Time from a Stripe event's creation to its receipt",
            vec![0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 3600.0, 86400.0],
        ),
        rate_limited: counter("rate_limited_total", "Requests refused by a rate limit", &["limit"]),
        actor_queue_depth,
        actors_ready: gauge("actors_ready", "City event actors with their state loaded"),
        pool_size: gauge("db_pool_connections", "Connections open in the async pool"),
        pool_available: gauge("db_pool_available", "Idle connections in the async pool"),
        registry,
    }
}

/// What the present-state gauges show, read by the caller at scrape time (the registry and the
/// pool sit above this module).
#[derive(Debug, Default)]
pub struct Gauges {
    pub actor_queue_depths: Vec<(i64, usize)>,
    pub actors_ready: usize,
    pub pool_size: usize,
    pub pool_available: usize,
}

pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(build)
}

impl Metrics {
    /// The text exposition, with the present-state gauges refreshed from `now`.
    pub fn render(&self, now: &Gauges) -> String {
        self.actor_queue_depth.reset();
        for (city_event_id, depth) in &now.actor_queue_depths {
            self.actor_queue_depth.with_label_values(&[&city_event_id.to_string()]).set(*depth as i64);
        }
        self.actors_ready.set(now.actors_ready as i64);
        self.pool_size.set(now.pool_size as i64);
        self.pool_available.set(now.pool_available as i64);
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Counts and times every request by route pattern (never the raw path, so cardinality stays
/// bounded), and returns the request id of its log lines as `X-Request-Id`.
pub async fn track(req: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let request_id = req.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string());
    let mut res = next.call(req).await?;
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let m = metrics();
    m.http_requests.with_label_values(&[route.as_str(), method.as_str(), res.status().as_str()]).inc();
    m.http_seconds.with_label_values(&[route.as_str()]).observe(started.elapsed().as_secs_f64());
    if let Some(value) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}
