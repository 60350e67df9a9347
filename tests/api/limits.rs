//! Limits and what operators see: per-IP rate limit on booking creation, request ids, metrics,
//! CORS, oversized headers, and logs without personal data.

use std::time::Duration;

use serde_json::json;

use crate::faults::ServerProcess;
use crate::helpers::*;

#[actix_web::test]
async fn booking_creation_is_rate_limited_per_address_with_retry_after() {
    let app = spawn_app_with(|s| s.rate_limit_bookings_per_minute = 3).await;
    let id = app.city_event_of("toronto");
    for _ in 0..3 {
        assert_eq!(app.hold(id, 1).await.0, 201);
    }
    let res = app.client.post(app.url("/api/v1/bookings/create")).json(&booking_body(id, 1)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 429);
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry_after), "one token every 20 s: {retry_after}");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(app.db.scalar("SELECT count(*) FROM bookings"), 3, "a refused request writes nothing");
    // Reads are not limited.
    assert_eq!(app.get_json(&format!("/api/v1/availability/{id}")).await.0, 200);
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    // Metrics are per process and the tests share one: at least this test's refusal.
    assert!(metric(&metrics, "billetterie_rate_limited_total{limit=\"bookings\"}") >= 1.0, "{metrics}");
    assert!(metric(&metrics, "billetterie_holds_total{outcome=\"rate_limited\"}") >= 1.0);
}

#[actix_web::test]
async fn every_answer_has_a_request_id_and_metrics_count_routes_holds_and_batches() {
    let app = spawn_app().await;
    let id = app.city_event_of("toronto");
    let res = app.client.post(app.url("/api/v1/bookings/create")).json(&booking_body(id, 2)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let rid = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(rid.len(), 36, "a UUID: {rid}");
    let other = app.client.get(app.url("/api/v1/nowhere")).send().await.unwrap();
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), rid);
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    for needle in [
        "billetterie_http_requests_total{method=\"POST\",route=\"/api/v1/bookings/create\",status=\"201\"}",
        "billetterie_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}",
        "billetterie_http_request_duration_seconds_bucket{route=\"/api/v1/bookings/create\"",
        "billetterie_holds_total{outcome=\"held\"}",
        "billetterie_actor_batch_size_bucket{le=\"1\"}",
        "billetterie_actor_commit_seconds_count",
        "billetterie_actor_queue_depth{city_event_id=",
        "billetterie_actors_ready",
        "billetterie_db_pool_connections",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    assert!(metric(&text, "billetterie_actor_batch_size_count") >= 1.0);
    assert!(metric(&text, "billetterie_holds_total{outcome=\"held\"}") >= 1.0);
}

#[actix_web::test]
async fn cors_answers_only_the_site_origin() {
    let app = spawn_app_with(|s| s.frontend_url = "https://billetterie.example".into()).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/bookings/create"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ok = preflight("https://billetterie.example").await.unwrap();
    assert_eq!(ok.headers().get("access-control-allow-origin").unwrap(), "https://billetterie.example");
    let evil = preflight("https://evil.example").await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none(), "no CORS grant for another origin");
    let read = app.client.get(app.url("/api/v1/masterclass/cities")).header("Origin", "https://evil.example").send().await.unwrap();
    assert!(read.headers().get("access-control-allow-origin").is_none());
    let read = app.client.get(app.url("/api/v1/masterclass/cities")).header("Origin", "https://billetterie.example").send().await.unwrap();
    assert_eq!(read.headers()["access-control-allow-origin"], "https://billetterie.example");
}

#[actix_web::test]
async fn an_oversized_header_is_refused_without_reaching_a_handler() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/api/v1/masterclass/cities")).header("X-Filler", "a".repeat(64 * 1024)).send().await;
    let res = res.unwrap();
    assert_eq!(res.status().as_u16(), 431);
    assert!(res.headers().contains_key("x-request-id"));
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "headers_too_large");
    let body = json!({"email": "x".repeat(70 * 1024)});
    let (status, err) = app.post_json("/api/v1/bookings/TOR-7KQ2-M9XD/cancel", &body).await;
    assert_eq!((status, err["error"]["code"].as_str()), (413, Some("payload_too_large")));
}

#[actix_web::test]
async fn logs_carry_request_ids_and_no_personal_data() {
    let db = TestDb::new();
    let id = db.add_city_event(10);
    let server = ServerProcess::start(
        &db.url,
        &db.outbox_dir(),
        &[("RUST_LOG", "debug,actix_server=warn,h2=warn,hyper=warn,reqwest=warn,tokio_cron_scheduler=warn,diesel=warn".to_string())],
    )
    .await;
    let (status, created, _) = server.post("/api/v1/bookings/create", &booking_body(id, 1)).await;
    assert_eq!(status, 201);
    let reference = created["reference"].as_str().unwrap();
    let (status, _) = server.get(&format!("/api/v1/bookings/{reference}?email=marie.tremblay%40example.ca")).await;
    assert_eq!(status, 200);
    // A refused read is logged (debug) with its target: the address in it is masked.
    let (status, _) = server.get(&format!("/api/v1/bookings/{reference}?email=marie.tremblay%40example.org")).await;
    assert_eq!(status, 404);
    // serde quotes a wrong value back in its message: still masked in the log.
    let (status, _, _) = server.post("/api/v1/bookings/create", &json!({"city_event_id": "marie.tremblay@example.ca"})).await;
    assert_eq!(status, 422);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.kill9().await;
    assert!(log.contains("m***@example.org"), "the refused read is logged, masked:\n{log}");
    for secret in ["marie.tremblay", "Tremblay", "514 555", "5145550199"] {
        assert!(!log.contains(secret), "{secret} leaked into the log:\n{log}");
    }
    let request_lines: Vec<&str> = log.lines().filter(|l| l.contains("\"http.route\"")).collect();
    assert!(!request_lines.is_empty());
    assert!(request_lines.iter().all(|l| l.contains("\"request_id\"")), "every request's log line names its request");
}

/// The value of the first sample whose name and labels are `series`.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

/// Slowloris: a client that sends its request head a byte at a time, never finishing it, is
/// answered `408` (or simply disconnected) once `HTTP_CLIENT_REQUEST_TIMEOUT_MS` has passed since
/// it connected, however steadily it keeps sending; it does not hold the connection open.
#[actix_web::test]
async fn a_slow_client_is_cut_off_after_the_request_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(|s| {
        s.http_client_request_timeout_ms = 600;
        s.http_client_disconnect_timeout_ms = 200;
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let started = std::time::Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    // 200 bytes at one every 50 ms would take 10 s: far longer than the timeout.
    let head = format!("GET /api/v1/masterclass/cities HTTP/1.1\r\nHost: {address}\r\nX-Slow: {}", "a".repeat(200));
    let sender = tokio::spawn(async move {
        for byte in head.bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(8), reader.read_to_end(&mut answer)).await;
    let elapsed = started.elapsed();
    sender.abort();
    assert!(read.is_ok(), "the server kept the slow connection open for 8 s");
    let answer = String::from_utf8_lossy(&answer);
    println!("slow client: cut off after {elapsed:?}, answer {:?}", answer.lines().next().unwrap_or("(none)"));
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(elapsed >= Duration::from_millis(500), "cut off before the timeout: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "cut off only after {elapsed:?} (timeout 600 ms)");
}

/// `/metrics` is business data: with a token configured, only Prometheus' bearer token reads
/// it; a missing or wrong token gets 401 and nothing of the metrics.
#[actix_web::test]
async fn metrics_need_their_bearer_token_when_one_is_configured() {
    let app = spawn_app_with(|s| s.metrics_token = billetterie::config::Secret::new("prom-7Hq2LxV9sK4mN8pR3tW6yZ1b")).await;
    for auth in [None, Some("Bearer wrong-token"), Some("prom-7Hq2LxV9sK4mN8pR3tW6yZ1b"), Some("Basic cHJvbTpwcm9t")] {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 401, "{auth:?}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        assert!(!res.text().await.unwrap().contains("billetterie_"), "{auth:?}: nothing of the metrics");
    }
    let res = app.client.get(app.url("/metrics")).header("authorization", "Bearer prom-7Hq2LxV9sK4mN8pR3tW6yZ1b").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("billetterie_"));
}
