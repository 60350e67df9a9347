//! A small Stripe client: the three calls the payment flow makes, in Stripe's wire format
//! (form-encoded requests with bracketed keys, JSON answers, `Idempotency-Key`), against a
//! configurable base URL (Stripe's own, or the local stand-in). Only the fields we use are read, so
//! a newer Stripe API version adding fields changes nothing here.
//!
//! Transient failures (connection errors, timeouts, 429 and 5xx) are retried with back-off under
//! the same idempotency key, which Stripe guarantees cannot charge twice; when they persist the
//! caller gets `Unavailable` (the API answers 503).

use std::collections::HashMap;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::config::Secret;

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_received: i64,
    pub currency: String,
    pub status: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    #[serde(default)]
    pub last_payment_error: Option<serde_json::Value>,
    #[serde(default)]
    pub latest_charge: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Charge {
    pub id: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_refunded: i64,
    #[serde(default)]
    pub refunded: bool,
    pub currency: String,
    #[serde(default)]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub status: String,
    #[serde(default)]
    pub payment_intent: Option<String>,
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

#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base: String,
    secret: Secret,
    max_attempts: u32,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: String,
}

impl StripeClient {
    pub fn new(base: &str, secret: Secret, timeout: Duration, max_attempts: u32) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("billetterie/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a TLS backend is compiled in");
        Self { http, base: base.trim_end_matches('/').to_owned(), secret, max_attempts: max_attempts.max(1) }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        form: &[(String, String)],
        key: Option<&str>,
    ) -> Result<T, StripeError> {
        let url = format!("{}{path}", self.base);
        let mut delay = Duration::from_millis(200);
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            let mut req = self.http.request(method.clone(), &url).bearer_auth(self.secret.expose());
            if let Some(key) = key {
                req = req.header("Idempotency-Key", key);
            }
            if method == reqwest::Method::POST {
                req = req.form(form);
            }
            match req.send().await {
                Ok(res) => {
                    let status = res.status().as_u16();
                    let body = res.bytes().await.map_err(|e| StripeError::Unavailable(e.to_string()));
                    match body {
                        Ok(body) if (200..300).contains(&status) => {
                            return serde_json::from_slice(&body)
                                .map_err(|e| StripeError::Unavailable(format!("unexpected answer from Stripe: {e}")));
                        }
                        Ok(body) if status == 429 || status >= 500 => last = format!("HTTP {status}: {}", String::from_utf8_lossy(&body)),
                        Ok(body) => {
                            let err: Option<ErrorEnvelope> = serde_json::from_slice(&body).ok();
                            return Err(match err {
                                Some(e) => StripeError::Api { status, kind: e.error.kind, code: e.error.code, message: e.error.message },
                                None => StripeError::Api {
                                    status,
                                    kind: "unknown".into(),
                                    code: None,
                                    message: String::from_utf8_lossy(&body).into(),
                                },
                            });
                        }
                        Err(e) => last = e.to_string(),
                    }
                }
                Err(e) => last = e.to_string(),
            }
            tracing::warn!(attempt, path, error = %crate::domain::mask_emails_in(&last), "Stripe request failed");
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
        let mut form = vec![
            ("amount".to_owned(), amount_cents.to_string()),
            ("currency".to_owned(), currency.to_lowercase()),
            ("description".to_owned(), description.to_owned()),
            ("automatic_payment_methods[enabled]".to_owned(), "true".to_owned()),
        ];
        form.extend(metadata.iter().map(|(k, v)| (format!("metadata[{k}]"), v.clone())));
        self.send(reqwest::Method::POST, "/v1/payment_intents", &form, Some(idempotency_key)).await
    }

    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(StripeError::Api {
                status: 400,
                kind: "invalid_request_error".into(),
                code: None,
                message: "bad intent id".into(),
            });
        }
        self.send(reqwest::Method::GET, &format!("/v1/payment_intents/{id}"), &[], None).await
    }

    /// Refunds `amount_cents` (everything left when `None`) of an intent.
    pub async fn create_refund(
        &self,
        payment_intent: &str,
        amount_cents: Option<i64>,
        metadata: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<Refund, StripeError> {
        let mut form = vec![("payment_intent".to_owned(), payment_intent.to_owned())];
        if let Some(a) = amount_cents {
            form.push(("amount".to_owned(), a.to_string()));
        }
        form.extend(metadata.iter().map(|(k, v)| (format!("metadata[{k}]"), v.clone())));
        self.send(reqwest::Method::POST, "/v1/refunds", &form, Some(idempotency_key)).await
    }
}
