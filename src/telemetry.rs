//! Logs through `tracing`: human-readable by default, JSON with `LOG_FORMAT=json`. `RUST_LOG`
//! filters as usual. Request spans (with a request id) come from `tracing-actix-web`.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,tokio_cron_scheduler=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    // `try_init`: tests and benches may call this more than once in a process.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
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
            span.in_scope(|| {
                if status.as_u16() == 500 {
                    tracing::error!(error = %message, "request failed");
                } else if status.is_server_error() {
                    // 502/503: a dependency is down; the answer says so and when to retry.
                    tracing::warn!(error = %message, "request refused");
                } else {
                    tracing::debug!(error = %message, "request refused");
                }
            });
        }
    }
}
