//! Logs through `tracing`: human-readable by default, JSON with `LOG_FORMAT=json`. `RUST_LOG`
//! filters as usual. Request spans (with a request id) come from `tracing-actix-web`. With
//! `SENTRY_DSN`, error events and panics also go to Sentry (warnings and info lines travel with
//! them as breadcrumbs), without personal data.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{AppEnv, LogFormat, Settings};

pub fn init(format: LogFormat) {
    init_with_sentry(format, false)
}

/// The log subscriber, with Sentry's layer when `sentry` is on (after `init_sentry`).
pub fn init_with_sentry(format: LogFormat, sentry: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,tokio_cron_scheduler=warn"));
    let fmt = tracing_subscriber::fmt::layer().with_target(false);
    let fmt = match format {
        LogFormat::Json => fmt.json().flatten_event(true).with_current_span(true).boxed(),
        LogFormat::Pretty => fmt.compact().boxed(),
    };
    let sentry = sentry.then(sentry_layer);
    // `try_init`: tests and benches may call this more than once in a process.
    let _ = tracing_subscriber::registry().with(fmt.with_filter(filter)).with(sentry).try_init();
}

/// Error events become Sentry events; warnings and info lines, breadcrumbs; debug is dropped.
/// Only what the logs already hold is sent, and the logs hold no personal data (`PrivateRootSpan`).
pub fn sentry_layer<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    sentry::integrations::tracing::layer()
}

/// Sentry's client options: no personal data (`send_default_pii: false`: no client IP, cookies
/// or request bodies), the environment and release named, no performance traces.
pub fn sentry_options(dsn: sentry::types::Dsn, environment: AppEnv) -> sentry::ClientOptions {
    let environment = match environment {
        AppEnv::Development => "development",
        AppEnv::Test => "test",
        AppEnv::Production => "production",
    };
    sentry::ClientOptions {
        dsn: Some(dsn),
        release: sentry::release_name!(),
        environment: Some(environment.into()),
        send_default_pii: false,
        traces_sample_rate: 0.0,
        ..Default::default()
    }
}

/// Starts Sentry when `SENTRY_DSN` is set (panics are reported from then on); keep the guard
/// alive until exit, as it flushes the queued events when dropped. A malformed DSN is an error.
pub fn init_sentry(settings: &Settings) -> anyhow::Result<Option<sentry::ClientInitGuard>> {
    let dsn = settings.sentry_dsn.expose().trim();
    if dsn.is_empty() {
        return Ok(None);
    }
    let dsn: sentry::types::Dsn = dsn.parse().map_err(|e| anyhow::anyhow!("SENTRY_DSN is not a valid Sentry DSN: {e}"))?;
    Ok(Some(sentry::init(sentry_options(dsn, settings.app_env))))
}

/// The request span of every log line: tracing-actix-web's fields (request id, route, method,
/// status) with the target's personal query values masked (`?email=` on booking reads) and no
/// client IP, so logs carry no personal data.
pub struct PrivateRootSpan;

impl tracing_actix_web::RootSpanBuilder for PrivateRootSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let request_id = request.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string()).unwrap_or_default();
        let route = request.match_pattern().unwrap_or_else(|| "default".to_owned());
        let target = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %crate::domain::email::mask_query(target),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let (status, error) = match outcome {
            Ok(res) => (res.status(), res.response().error().map(|e| e.as_response_error())),
            Err(e) => (e.as_response_error().status_code(), Some(e.as_response_error())),
        };
        span.record("http.status_code", status.as_u16());
        span.record("otel.status_code", if status.is_server_error() { "ERROR" } else { "OK" });
        if let Some(e) = error {
            // Messages may quote what the client sent (serde echoes values): mask addresses.
            let message = crate::domain::mask_emails_in(&e.to_string());
            span.record("exception.message", tracing::field::display(&message));
            // Logged once already, with its causes, where it became the answer
            // (`http::error::ApiError::log`, the page errors): here only the span's fields and a
            // debug line, so one failure is one `error` line (and one Sentry event).
            span.in_scope(|| tracing::debug!(error = %message, "request answered with an error"));
        }
    }
}

#[cfg(test)]
mod sentry_tests {
    use std::io::{Read, Write};
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// A Sentry stand-in: answers every request `200` and passes on what it received.
    fn fake_sentry() -> (u16, mpsc::Receiver<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut received = Vec::new();
                let mut buf = [0u8; 16 * 1024];
                // Read the head, then as many body bytes as Content-Length says.
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    received.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&received);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if received.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
                let _ = tx.send(String::from_utf8_lossy(&received).into_owned());
            }
        });
        (port, rx)
    }

    #[test]
    fn an_error_event_reaches_sentry_without_personal_data() {
        let (port, received) = fake_sentry();
        let dsn: sentry::types::Dsn = format!("http://public@127.0.0.1:{port}/42").parse().unwrap();
        // `apply_defaults`, as `sentry::init` does: it installs the HTTP transport.
        let client = Arc::new(sentry::Client::from(sentry::apply_defaults(sentry_options(dsn, AppEnv::Test))));
        let hub = Arc::new(sentry::Hub::new(Some(client.clone()), Arc::new(sentry::Scope::default())));
        sentry::Hub::run(hub, || {
            let subscriber = tracing_subscriber::registry().with(sentry_layer());
            tracing::subscriber::with_default(subscriber, || {
                tracing::info!("a breadcrumb before the error");
                tracing::error!(error = "commit timed out", "hold commit failed");
            });
        });
        assert!(client.flush(Some(Duration::from_secs(10))), "the event was not delivered");
        let request = received.recv_timeout(Duration::from_secs(10)).expect("the fake Sentry received nothing");
        assert!(request.starts_with("POST /api/42/envelope/"), "{request}");
        assert!(request.contains("hold commit failed"), "{request}");
        assert!(request.contains("a breadcrumb before the error"), "{request}");
        assert!(request.contains("\"environment\":\"test\""), "{request}");
        // send_default_pii is off: no client address is attached.
        assert!(!request.contains("ip_address"), "{request}");
    }
}
