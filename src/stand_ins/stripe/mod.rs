//! A local stand-in for Stripe, for machines that cannot reach it (development, CI, tests).
//!
//! It serves the subset of Stripe's HTTP API the app uses — PaymentIntents (create, retrieve,
//! confirm, cancel), refunds, and retrieval of charges and events — in Stripe's wire format:
//! form-encoded requests with bracketed keys, `Authorization: Bearer sk_…`, JSON objects and
//! `{"error":{…}}` bodies with Stripe's statuses, and `Idempotency-Key` replays. Every state change
//! creates the event Stripe would create, delivered to a webhook URL signed exactly as Stripe signs
//! (`Stripe-Signature`), asynchronously and at least once.
//!
//! The point is to exercise the app's real client and webhook handler, including the unpleasant
//! parts of a remote payment provider: injected failures ([`StripeStandIn::fail_next`]), slow
//! answers ([`StripeStandIn::set_latency`]), duplicated and withheld webhooks ([`Delivery`]).
//!
//! Payments are decided by Stripe's test payment methods (`pm_card_visa`,
//! `pm_card_chargeDeclinedInsufficientFunds`, `pm_card_authenticationRequired`, …) or test card
//! numbers passed as `payment_method_data[card][number]`.

mod auth;
mod form;
mod intents;
mod objects;
mod refunds;
mod router;
mod state;
#[cfg(test)]
mod tests;
mod webhooks;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::web;
use serde_json::{json, Map, Value};

use form::Params;
use intents::confirm_intent;
use objects::{random_alnum, to_json};
use state::{Inner, Origin, Shared};
use webhooks::{WEBHOOK_ATTEMPT_TIMEOUT, WEBHOOK_USER_AGENT};

/// The API version stamped on events (what a Stripe account pinned to it would send).
pub const API_VERSION: &str = "2025-09-30.clover";

/// Keys and webhook endpoint of the stand-in's (single) account.
#[derive(Clone)]
pub struct StandInConfig {
    pub secret_key: String,
    pub publishable_key: String,
    pub webhook_secret: String,
    pub webhook_url: Option<String>,
}

impl StandInConfig {
    /// Fresh random test-mode keys, shaped like Stripe's, and no webhook endpoint yet.
    pub fn generated() -> Self {
        Self {
            secret_key: format!("sk_test_{}", random_alnum(32)),
            publishable_key: format!("pk_test_{}", random_alnum(32)),
            webhook_secret: format!("whsec_{}", random_alnum(32)),
            webhook_url: None,
        }
    }
}

/// How events reach the webhook endpoint. Stripe guarantees neither exactly-once nor ordering;
/// these modes let tests force the cases the app must survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Each event is delivered (with retries until a 2xx) once.
    Normal,
    /// Each event is delivered by two independent deliveries, as Stripe occasionally does.
    Twice,
    /// Events are kept back until [`StripeStandIn::deliver`] is called for them (lost or late webhooks).
    Hold,
}

/// A running stand-in. Cheap to clone; all clones share the same server and state.
#[derive(Clone)]
pub struct StripeStandIn {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: ServerHandle,
}

impl StripeStandIn {
    /// Binds 127.0.0.1 on a free port and serves in the background (one worker).
    ///
    /// Must be called inside an actix System (e.g. `#[actix_web::test]` or `#[actix_web::main]`):
    /// the server is spawned on it, and webhook deliveries run on the calling runtime.
    pub fn start(config: StandInConfig) -> io::Result<Self> {
        if actix_rt::System::try_current().is_none() {
            return Err(io::Error::other("StripeStandIn::start must be called inside an actix System"));
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        // No connection reuse: webhook receivers in tests come and go, and Stripe itself does not
        // promise to keep connections to endpoints alive.
        let http = reqwest::Client::builder()
            .timeout(WEBHOOK_ATTEMPT_TIMEOUT)
            .pool_max_idle_per_host(0)
            .user_agent(WEBHOOK_USER_AGENT)
            .build()
            .map_err(io::Error::other)?;
        let shared = Arc::new(Shared {
            secret_key: config.secret_key,
            publishable_key: config.publishable_key,
            webhook_secret: config.webhook_secret,
            inner: Mutex::new(Inner::new(config.webhook_url)),
            requests: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
            http,
            runtime,
        });
        let (addr, handle) = super::server::serve_on_loopback(shared.clone(), |cfg| {
            cfg.default_service(web::to(router::serve));
        })?;
        Ok(Self { shared, addr, server: handle })
    }

    /// `http://127.0.0.1:PORT`, to use in place of `https://api.stripe.com`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn config(&self) -> StandInConfig {
        StandInConfig {
            secret_key: self.shared.secret_key.clone(),
            publishable_key: self.shared.publishable_key.clone(),
            webhook_secret: self.shared.webhook_secret.clone(),
            webhook_url: self.shared.lock().webhook_url.clone(),
        }
    }

    /// Where events created from now on are delivered (and where [`Self::deliver`] sends).
    pub fn set_webhook_url(&self, url: &str) {
        self.shared.lock().webhook_url = Some(url.to_owned());
    }

    /// Applies to events created from now on; events already held stay held until delivered.
    pub fn set_delivery(&self, mode: Delivery) {
        self.shared.lock().delivery = mode;
    }

    /// Events kept back by [`Delivery::Hold`] and not yet delivered, oldest first.
    pub fn held_events(&self) -> Vec<Value> {
        let inner = self.shared.lock();
        inner.held.iter().filter_map(|id| inner.event(id)).map(|e| e.event.clone()).collect()
    }

    /// Delivers one event (held or not) now, with a fresh signature, in a single attempt without
    /// retry. Returns the endpoint's HTTP status, or `None` for an unknown event, no webhook URL,
    /// or a connection failure. A held event stops being held.
    pub async fn deliver(&self, event_id: &str) -> Option<u16> {
        let (url, body) = {
            let mut inner = self.shared.lock();
            let url = inner.webhook_url.clone()?;
            let body = inner.event(event_id)?.body.clone();
            inner.held.retain(|id| id != event_id);
            (url, body)
        };
        self.shared.attempt_delivery(&url, &body).await.ok()
    }

    /// The next `n` API requests fail with `status` and a Stripe `api_error` body, before any
    /// processing: nothing changes and no idempotent result is stored, so a retry under the same
    /// `Idempotency-Key` is processed normally.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut inner = self.shared.lock();
        inner.failures_left = n;
        inner.failure_status = status;
    }

    /// Every API request is processed at once but answered only after `d`. A client that times out
    /// meanwhile has had its request carried out without knowing it — the case idempotency keys
    /// exist for.
    pub fn set_latency(&self, d: Duration) {
        self.shared.lock().latency = d;
    }

    /// HTTP requests received, whatever their outcome (injected failures, 401s and 404s included).
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Every PaymentIntent, oldest first, as the API would return it.
    pub fn intents(&self) -> Vec<Value> {
        self.shared.lock().intents.iter().map(to_json).collect()
    }

    /// Every event created, oldest first, whether delivered, held or not deliverable.
    pub fn events(&self) -> Vec<Value> {
        self.shared.lock().events.iter().map(|e| e.event.clone()).collect()
    }

    /// What `POST /v1/payment_intents/{id}/confirm` with `payment_method` would answer (the
    /// PaymentIntent, or an `{"error":…}` body), without going through HTTP: this is the customer
    /// paying in the browser. Not counted in [`Self::requests`]; unaffected by failures and latency.
    pub async fn confirm(&self, payment_intent_id: &str, payment_method: &str) -> Value {
        let mut params = Map::new();
        params.insert("payment_method".into(), Value::String(payment_method.to_owned()));
        let (reply, outbox) = {
            let mut inner = self.shared.lock();
            let reply = confirm_intent(&mut inner, payment_intent_id, &params, &Origin::default());
            (reply, std::mem::take(&mut inner.outbox))
        };
        self.shared.start_deliveries(outbox);
        reply.body
    }

    /// Confirms with a test card number, as the demo's labelled test-card form does (what
    /// Stripe.js would do with the Payment Element): the same path as
    /// `payment_method_data[card][number]` on the confirm endpoint.
    pub async fn confirm_card(&self, payment_intent_id: &str, card_number: &str) -> (u16, Value) {
        let params: Params = serde_json::from_value(json!({"payment_method_data": {"card": {"number": card_number}}})).unwrap_or_default();
        let (reply, outbox) = {
            let mut inner = self.shared.lock();
            let reply = confirm_intent(&mut inner, payment_intent_id, &params, &Origin::default());
            (reply, std::mem::take(&mut inner.outbox))
        };
        self.shared.start_deliveries(outbox);
        (reply.status.as_u16(), reply.body)
    }

    /// Stops the server (letting in-flight requests finish for up to a second) and abandons
    /// pending webhook retries.
    pub async fn stop(&self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.server.stop(true).await;
    }
}

/// The stand-in takes test cards as Stripe.js would; the product knows only the trait.
impl crate::state::TestCards for StripeStandIn {
    fn confirm_card<'a>(
        &'a self,
        payment_intent_id: &'a str,
        card_number: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = (u16, serde_json::Value)> + Send + 'a>> {
        Box::pin(StripeStandIn::confirm_card(self, payment_intent_id, card_number))
    }
}
