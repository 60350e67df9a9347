//! Webhook delivery as Stripe does it: signed with the endpoint secret at every attempt, at least
//! once, retried with back-off, possibly twice or held back (see `Delivery`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::objects::now_unix;
use super::state::{Outgoing, Shared};
use crate::payments::signature;

pub(super) const WEBHOOK_USER_AGENT: &str = "Stripe/1.0 (+https://stripe.com/docs/webhooks)";
/// Real Stripe retries a failing webhook endpoint with exponential back-off for up to three days;
/// a stand-in serving tests gives up after a minute or so (12 attempts, 0.2 s doubling, capped at 5 s).
pub(super) const WEBHOOK_MAX_ATTEMPTS: u32 = 12;
pub(super) const WEBHOOK_FIRST_RETRY: Duration = Duration::from_millis(200);
pub(super) const WEBHOOK_MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Stripe abandons an attempt (and counts it as failed) when the endpoint is this slow.
pub(super) const WEBHOOK_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

impl Shared {
    pub(super) fn start_deliveries(self: &Arc<Self>, outbox: Vec<Outgoing>) {
        for outgoing in outbox {
            self.runtime.spawn(deliver_with_retries(self.clone(), outgoing));
        }
    }

    /// One signed POST, signed with the current time as Stripe does at each attempt.
    pub(super) async fn attempt_delivery(&self, url: &str, body: &str) -> Result<u16, reqwest::Error> {
        let header = signature::sign(&self.webhook_secret, now_unix(), body.as_bytes());
        let response = self
            .http
            .post(url)
            .header("Stripe-Signature", header)
            .header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body.to_owned())
            .send()
            .await?;
        Ok(response.status().as_u16())
    }
}

/// At-least-once delivery: retried on connection errors and non-2xx answers, with back-off.
pub(super) async fn deliver_with_retries(shared: Arc<Shared>, outgoing: Outgoing) {
    let mut delay = WEBHOOK_FIRST_RETRY;
    for attempt in 1..=WEBHOOK_MAX_ATTEMPTS {
        if shared.stopped.load(Ordering::SeqCst) {
            return;
        }
        match shared.attempt_delivery(&outgoing.url, &outgoing.body).await {
            Ok(status) if (200..300).contains(&status) => return,
            Ok(status) => tracing::debug!(attempt, status, url = %outgoing.url, "stand-in webhook refused"),
            Err(error) => tracing::debug!(attempt, %error, url = %outgoing.url, "stand-in webhook failed"),
        }
        if attempt < WEBHOOK_MAX_ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(WEBHOOK_MAX_BACKOFF);
        }
    }
    tracing::warn!(url = %outgoing.url, "stand-in gave up delivering a webhook");
}
