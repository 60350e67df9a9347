//! The Stripe calls the payment flow makes, through async-stripe (Stripe's generated types and
//! request builders), against a configurable base URL (Stripe's own, or the local stand-in).
//!
//! What the rest of the product reads of Stripe's objects is the few fields below, converted once
//! here from async-stripe's types: a newer Stripe API version changes async-stripe's types, not the
//! payment code.
//!
//! Transient failures (connection errors, timeouts, 429 and 5xx) are retried with back-off under
//! the *caller's* idempotency key, which Stripe guarantees cannot charge twice. async-stripe's own
//! retrying strategies draw a random key per call, so a create-intent retried by the buyer (a new
//! call) could make a second intent: the loop stays here and async-stripe sends each attempt with
//! `RequestStrategy::Idempotent(key)`. When failures persist the caller gets `Unavailable` (the
//! API answers 503).

use std::collections::HashMap;
use std::time::Duration;

use stripe::Client;
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_core::payment_intent::{CreatePaymentIntent, CreatePaymentIntentAutomaticPaymentMethods, RetrievePaymentIntent};
use stripe_core::refund::CreateRefund;

use crate::config::Secret;

/// What Billetterie reads of a PaymentIntent.
#[derive(Debug, Clone)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    pub amount_received: i64,
    /// Lower case, as Stripe spells it (`cad`).
    pub currency: String,
    pub status: String,
    pub client_secret: Option<String>,
    pub metadata: HashMap<String, String>,
    /// The last attempt's message (or code) when it failed.
    pub last_payment_error: Option<String>,
}

/// What Billetterie reads of a Charge (`charge.refunded` events).
#[derive(Debug, Clone)]
pub struct Charge {
    pub id: String,
    pub amount: i64,
    pub amount_refunded: i64,
    pub refunded: bool,
    pub currency: String,
    pub payment_intent: Option<String>,
    pub metadata: HashMap<String, String>,
}

/// What Billetterie reads of a Refund.
#[derive(Debug, Clone)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub status: String,
    pub payment_intent: Option<String>,
}

impl From<stripe_shared::PaymentIntent> for PaymentIntent {
    fn from(pi: stripe_shared::PaymentIntent) -> Self {
        let last_payment_error = pi.last_payment_error.and_then(|e| {
            let code = e.code.map(|c| c.as_str().to_owned());
            e.message.or(code)
        });
        Self {
            id: pi.id.as_str().to_owned(),
            amount: pi.amount,
            amount_received: pi.amount_received,
            currency: pi.currency.to_string(),
            status: pi.status.as_str().to_owned(),
            client_secret: pi.client_secret,
            metadata: pi.metadata,
            last_payment_error,
        }
    }
}

impl From<stripe_shared::Charge> for Charge {
    fn from(c: stripe_shared::Charge) -> Self {
        Self {
            id: c.id.as_str().to_owned(),
            amount: c.amount,
            amount_refunded: c.amount_refunded,
            refunded: c.refunded,
            currency: c.currency.to_string(),
            payment_intent: c.payment_intent.map(|p| p.id().as_str().to_owned()),
            metadata: c.metadata,
        }
    }
}

impl From<stripe_shared::Refund> for Refund {
    fn from(r: stripe_shared::Refund) -> Self {
        Self {
            id: r.id.as_str().to_owned(),
            amount: r.amount,
            status: r.status.unwrap_or_default(),
            payment_intent: r.payment_intent.map(|p| p.id().as_str().to_owned()),
        }
    }
}

/// Reads a Stripe object (an event's `data.object`) with async-stripe's own types, so what the
/// webhook accepts is exactly what Stripe's generated schema allows.
pub fn parse_object<T: miniserde::Deserialize>(object: &serde_json::Value) -> Result<T, String> {
    miniserde::json::from_str(&object.to_string()).map_err(|_| "does not match Stripe's schema".to_owned())
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StripeError {
    /// Stripe could not be reached or kept failing; retrying later may work.
    #[error("Stripe is unavailable: {0}")]
    Unavailable(String),
    /// Stripe refused the request (4xx): retrying the same request will not help.
    #[error("Stripe refused the request ({status} {kind}): {message}")]
    Api { status: u16, kind: String, code: Option<String>, message: String },
}

impl StripeError {
    fn invalid(message: &str) -> Self {
        StripeError::Api { status: 400, kind: "invalid_request_error".into(), code: None, message: message.into() }
    }
}

/// One attempt's failure: retried, or the final answer.
fn classify(e: stripe::StripeError) -> Result<StripeError, String> {
    match e {
        stripe::StripeError::Stripe(err, status) if status != 429 && status < 500 => Ok(StripeError::Api {
            status,
            kind: err.type_.as_str().to_owned(),
            code: err.code.map(|c| c.as_str().to_owned()),
            message: err.message.unwrap_or_default(),
        }),
        stripe::StripeError::Stripe(err, status) => Err(format!("HTTP {status}: {}", err.message.unwrap_or_default())),
        stripe::StripeError::ConfigError(e) => Ok(StripeError::Unavailable(format!("Stripe client configuration: {e}"))),
        // A body that is not Stripe's (a proxy's 502 page, a cut answer), a refused connection, a
        // timeout: all worth another attempt under the same key.
        other => Err(other.to_string()),
    }
}

#[derive(Clone)]
pub struct StripeClient {
    client: Client,
    max_attempts: u32,
}

impl StripeClient {
    pub fn new(base: &str, secret: Secret, timeout: Duration, max_attempts: u32) -> Self {
        // async-stripe joins `v1/...` to the base, which must end with a slash.
        let base = format!("{}/", base.trim_end_matches('/'));
        let builder = stripe::ClientBuilder::new(secret.expose()).url(base).timeout(timeout).app_info(
            "billetterie",
            Some(env!("CARGO_PKG_VERSION").to_owned()),
            None,
        );
        // The base URL and the key come from validated settings; a bad one is a start-up error.
        let client = builder.build().expect("STRIPE_API_BASE and STRIPE_SECRET_KEY make a valid Stripe client");
        Self { client, max_attempts: max_attempts.max(1) }
    }

    async fn send<R>(&self, request: &R, key: Option<&str>, what: &str) -> Result<R::Output, StripeError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let strategy = match key {
            Some(key) => RequestStrategy::Idempotent(IdempotencyKey::new(key).map_err(|e| StripeError::invalid(&e.to_string()))?),
            None => RequestStrategy::Once,
        };
        let mut delay = Duration::from_millis(200);
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            match request.customize().request_strategy(strategy.clone()).send(&self.client).await {
                Ok(out) => return Ok(out),
                Err(e) => match classify(e) {
                    Ok(final_answer) => return Err(final_answer),
                    Err(transient) => last = transient,
                },
            }
            tracing::warn!(attempt, call = what, error = %crate::domain::mask_emails_in(&last), "Stripe request failed");
            if attempt < self.max_attempts {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
        Err(StripeError::Unavailable(last))
    }

    /// Creates an intent; with the same `idempotency_key` Stripe returns the first one again.
    pub async fn create_payment_intent(
        &self,
        amount_cents: i64,
        currency: &str,
        description: &str,
        metadata: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        let currency = currency.to_lowercase().parse::<stripe_types::Currency>().map_err(|_| StripeError::invalid("unknown currency"))?;
        let request = CreatePaymentIntent::new(amount_cents, currency)
            .description(description)
            .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods::new(true))
            .metadata(metadata.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect::<HashMap<_, _>>());
        Ok(self.send(&request, Some(idempotency_key), "create_payment_intent").await?.into())
    }

    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        // The id goes into the path: only Stripe's alphabet.
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(StripeError::invalid("bad intent id"));
        }
        let request = RetrievePaymentIntent::new(stripe_shared::PaymentIntentId::from(id.to_owned()));
        Ok(self.send(&request, None, "retrieve_payment_intent").await?.into())
    }

    /// Refunds `amount_cents` (everything left when `None`) of an intent.
    pub async fn create_refund(
        &self,
        payment_intent: &str,
        amount_cents: Option<i64>,
        metadata: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<Refund, StripeError> {
        let mut request = CreateRefund::new()
            .payment_intent(payment_intent)
            .metadata(metadata.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect::<HashMap<_, _>>());
        if let Some(amount) = amount_cents {
            request = request.amount(amount);
        }
        Ok(self.send(&request, Some(idempotency_key), "create_refund").await?.into())
    }
}
