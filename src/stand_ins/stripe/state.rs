//! The stand-in's in-memory account: every object, event and stored idempotent answer, behind
//! one lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use super::objects::{new_id, now_unix, Charge, PaymentIntent, Refund};
use super::{Delivery, API_VERSION};

/// Shared by the handle and the server's worker.
pub(super) struct Shared {
    pub(super) secret_key: String,
    pub(super) publishable_key: String,
    pub(super) webhook_secret: String,
    /// One lock for all API state, held for the whole (synchronous) handling of a request: this is
    /// what makes concurrent requests with the same idempotency key produce a single object.
    pub(super) inner: Mutex<Inner>,
    pub(super) requests: AtomicUsize,
    pub(super) stopped: AtomicBool,
    pub(super) http: reqwest::Client,
    /// The runtime that started the stand-in: deliveries outlive the request that caused them.
    pub(super) runtime: tokio::runtime::Handle,
}

pub(super) struct Inner {
    pub(super) webhook_url: Option<String>,
    pub(super) delivery: Delivery,
    pub(super) failures_left: u32,
    pub(super) failure_status: u16,
    pub(super) latency: Duration,
    pub(super) intents: Vec<PaymentIntent>,
    pub(super) intent_index: HashMap<String, usize>,
    pub(super) charges: HashMap<String, Charge>,
    pub(super) refunds: HashMap<String, Refund>,
    pub(super) events: Vec<StoredEvent>,
    pub(super) event_index: HashMap<String, usize>,
    pub(super) held: Vec<String>,
    pub(super) idempotent: HashMap<String, StoredResponse>,
    /// Deliveries decided while the lock is held, started once it is released.
    pub(super) outbox: Vec<Outgoing>,
}

pub(super) struct StoredEvent {
    pub(super) event: Value,
    /// Serialized once, so that every attempt sends the same bytes (only the signature changes).
    pub(super) body: String,
}

pub(super) struct StoredResponse {
    /// Method, path and parsed parameters: Stripe compares parameters, not bytes.
    pub(super) fingerprint: Value,
    pub(super) status: StatusCode,
    pub(super) body: Value,
    pub(super) request_id: String,
}

pub(super) struct Outgoing {
    pub(super) url: String,
    pub(super) body: String,
}

/// What caused an event, shown in its `request` field.
#[derive(Default)]
pub(super) struct Origin {
    pub(super) request_id: Option<String>,
    pub(super) idempotency_key: Option<String>,
}

impl Shared {
    /// The state stays consistent even if a thread panicked while holding the lock (every
    /// mutation is completed before anything that could fail), so poisoning is ignored.
    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    pub(super) fn new(webhook_url: Option<String>) -> Self {
        Self {
            webhook_url,
            delivery: Delivery::Normal,
            failures_left: 0,
            failure_status: 500,
            latency: Duration::ZERO,
            intents: Vec::new(),
            intent_index: HashMap::new(),
            charges: HashMap::new(),
            refunds: HashMap::new(),
            events: Vec::new(),
            event_index: HashMap::new(),
            held: Vec::new(),
            idempotent: HashMap::new(),
            outbox: Vec::new(),
        }
    }

    pub(super) fn event(&self, id: &str) -> Option<&StoredEvent> {
        self.event_index.get(id).and_then(|&i| self.events.get(i))
    }

    pub(super) fn intent_mut(&mut self, id: &str) -> Option<&mut PaymentIntent> {
        let index = *self.intent_index.get(id)?;
        self.intents.get_mut(index)
    }

    /// Records an event with a snapshot of `object` and schedules (or holds) its delivery.
    pub(super) fn emit(&mut self, kind: &str, object: Value, origin: &Origin) {
        let id = new_id("evt");
        let event = json!({
            "id": id,
            "object": "event",
            "api_version": API_VERSION,
            "created": now_unix(),
            "livemode": false,
            "pending_webhooks": 1,
            "request": {"id": origin.request_id, "idempotency_key": origin.idempotency_key},
            "type": kind,
            "data": {"object": object},
        });
        let body = event.to_string();
        match (self.delivery, &self.webhook_url) {
            (Delivery::Hold, _) => self.held.push(id.clone()),
            (Delivery::Normal, Some(url)) => self.outbox.push(Outgoing { url: url.clone(), body: body.clone() }),
            (Delivery::Twice, Some(url)) => {
                self.outbox.push(Outgoing { url: url.clone(), body: body.clone() });
                self.outbox.push(Outgoing { url: url.clone(), body: body.clone() });
            }
            // No endpoint configured: the event exists (see `events()`), nobody is told.
            (_, None) => {}
        }
        self.event_index.insert(id, self.events.len());
        self.events.push(StoredEvent { event, body });
    }
}
