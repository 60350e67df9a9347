use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::actors::payment::ProcessEvents;
use crate::db;
use crate::domain::EmailStatus;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiBytes;
use crate::payments::signature;
use crate::state::AppState;

#[derive(Deserialize)]
struct EventEnvelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookAck {
    pub received: bool,
    /// True when this event id was seen before (a replay): nothing more is done.
    pub duplicate: bool,
}

/// Stripe's webhook: signature checked on the raw body, the event recorded under its id, `200`
/// at once; the payment actor applies it. A bad or stale signature is `400` and changes nothing;
/// a database outage is `503` so Stripe retries.
#[utoipa::path(post, path = "/api/v1/webhooks/stripe", tag = "payments",
    params(("Stripe-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256>")),
    request_body(content = String, content_type = "application/json", description = "A Stripe event"),
    responses((status = 200, body = WebhookAck), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "webhooks.stripe", skip_all, fields(event_id, kind))]
pub async fn stripe(state: web::Data<AppState>, req: HttpRequest, ApiBytes(body): ApiBytes) -> ApiResult<HttpResponse> {
    let header = req.headers().get("Stripe-Signature").and_then(|v| v.to_str().ok());
    signature::verify(header, &body, state.settings.stripe_webhook_secret.expose(), Utc::now().timestamp()).map_err(|e| {
        tracing::warn!(error = %e, "webhook refused");
        ApiError::bad_request("invalid_signature", format!("Webhook signature refused: {e}.")).field("Stripe-Signature")
    })?;
    let payload: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::bad_request("malformed_event", "The event is not valid JSON."))?;
    let envelope: EventEnvelope =
        serde_json::from_value(payload.clone()).map_err(|_| ApiError::bad_request("malformed_event", "The event has no id or type."))?;
    if !envelope.id.starts_with("evt_") || envelope.id.len() > 255 {
        return Err(ApiError::bad_request("malformed_event", "The event id is not a Stripe event id.").field("id"));
    }
    tracing::Span::current().record("event_id", envelope.id.as_str()).record("kind", envelope.kind.as_str());
    if let Some(created) = payload["created"].as_i64() {
        crate::metrics::metrics().webhook_lag_seconds.observe((Utc::now().timestamp() - created).max(0) as f64);
    }
    let mut conn = db::connection(&state.pool).await?;
    let inserted = db::payments::record_event(&mut conn, &envelope.id, &envelope.kind, &payload).await?;
    if inserted {
        state.payment_actor.do_send(ProcessEvents);
    }
    Ok(HttpResponse::Ok().json(WebhookAck { received: true, duplicate: !inserted }))
}

/// SendGrid's signed Event Webhook (when `SENDGRID_WEBHOOK_PUBLIC_KEY` is set): opens, clicks,
/// bounces and drops update `email_campaigns`, matched by the `campaign_id` custom argument.
#[utoipa::path(post, path = "/api/v1/webhooks/sendgrid", tag = "email",
    params(
        ("X-Twilio-Email-Event-Webhook-Signature" = String, Header, description = "base64 ECDSA P-256 signature"),
        ("X-Twilio-Email-Event-Webhook-Timestamp" = String, Header, description = "signed with the body"),
    ),
    request_body(content = String, content_type = "application/json", description = "A batch of SendGrid events"),
    responses((status = 200, body = WebhookAck), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "webhooks.sendgrid", skip_all)]
pub async fn sendgrid(state: web::Data<AppState>, req: HttpRequest, ApiBytes(body): ApiBytes) -> ApiResult<HttpResponse> {
    let key = &state.settings.sendgrid_webhook_public_key;
    if key.is_empty() {
        return Err(ApiError::not_found("route_not_found", "The SendGrid event webhook is not enabled."));
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let signature = header("X-Twilio-Email-Event-Webhook-Signature");
    let timestamp = header("X-Twilio-Email-Event-Webhook-Timestamp");
    // The timestamp is signed with the body; a fresh one keeps an old batch from being replayed.
    let fresh = timestamp.parse::<i64>().is_ok_and(|t| (Utc::now().timestamp() - t).abs() <= 600);
    if !fresh || !crate::email::sendgrid::verify_event_webhook(key, signature, timestamp, &body) {
        return Err(
            ApiError::bad_request("invalid_signature", "Webhook signature refused.").field("X-Twilio-Email-Event-Webhook-Signature")
        );
    }
    let events = crate::email::sendgrid::parse_events(&body)
        .map_err(|_| ApiError::bad_request("malformed_event", "The events are not valid JSON."))?;
    let mut conn = db::connection(&state.pool).await?;
    for e in events {
        let Some(id) = e.campaign_id else { continue };
        let at = e.timestamp.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).unwrap_or_else(Utc::now);
        match e.event.as_str() {
            "open" => {
                db::emails::record_open(&mut conn, id, at).await?;
            }
            "click" => {
                db::emails::record_click(&mut conn, id, at).await?;
            }
            "bounce" | "dropped" => {
                let reason = format!("{}: {}", e.event, e.reason.unwrap_or_default());
                db::emails::mark_final(&mut conn, id, EmailStatus::Failed, &reason).await?;
            }
            _ => {}
        }
    }
    Ok(HttpResponse::Ok().json(WebhookAck { received: true, duplicate: false }))
}
