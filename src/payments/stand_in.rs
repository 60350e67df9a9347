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

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::dev::ServerHandle;
use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures::StreamExt;
use rand::distr::Alphanumeric;
use rand::Rng;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::payments::signature;

/// The API version stamped on events (what a Stripe account pinned to it would send).
pub const API_VERSION: &str = "2025-09-30.clover";

const WEBHOOK_USER_AGENT: &str = "Stripe/1.0 (+https://stripe.com/docs/webhooks)";
/// Real Stripe retries a failing webhook endpoint with exponential back-off for up to three days;
/// a stand-in serving tests gives up after a minute or so (12 attempts, 0.2 s doubling, capped at 5 s).
const WEBHOOK_MAX_ATTEMPTS: u32 = 12;
const WEBHOOK_FIRST_RETRY: Duration = Duration::from_millis(200);
const WEBHOOK_MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Stripe abandons an attempt (and counts it as failed) when the endpoint is this slow.
const WEBHOOK_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Request bodies above this are refused (Stripe's requests are a few hundred bytes).
const MAX_BODY_BYTES: usize = 1 << 20;
/// Stripe's limits, enforced so the app finds out here rather than in production.
const MAX_AMOUNT: i64 = 99_999_999;
const MAX_METADATA_KEYS: usize = 50;
const MAX_METADATA_KEY_CHARS: usize = 40;
const MAX_METADATA_VALUE_CHARS: usize = 500;
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

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
        let (addr, handle) = crate::local_server::serve_on_loopback(shared.clone(), |cfg| {
            cfg.default_service(web::to(serve));
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

// ---------------------------------------------------------------------------------------------
// State

/// Shared by the handle and the server's worker.
struct Shared {
    secret_key: String,
    publishable_key: String,
    webhook_secret: String,
    /// One lock for all API state, held for the whole (synchronous) handling of a request: this is
    /// what makes concurrent requests with the same idempotency key produce a single object.
    inner: Mutex<Inner>,
    requests: AtomicUsize,
    stopped: AtomicBool,
    http: reqwest::Client,
    /// The runtime that started the stand-in: deliveries outlive the request that caused them.
    runtime: tokio::runtime::Handle,
}

struct Inner {
    webhook_url: Option<String>,
    delivery: Delivery,
    failures_left: u32,
    failure_status: u16,
    latency: Duration,
    intents: Vec<PaymentIntent>,
    intent_index: HashMap<String, usize>,
    charges: HashMap<String, Charge>,
    refunds: HashMap<String, Refund>,
    events: Vec<StoredEvent>,
    event_index: HashMap<String, usize>,
    held: Vec<String>,
    idempotent: HashMap<String, StoredResponse>,
    /// Deliveries decided while the lock is held, started once it is released.
    outbox: Vec<Outgoing>,
}

struct StoredEvent {
    event: Value,
    /// Serialized once, so that every attempt sends the same bytes (only the signature changes).
    body: String,
}

struct StoredResponse {
    /// Method, path and parsed parameters: Stripe compares parameters, not bytes.
    fingerprint: Value,
    status: StatusCode,
    body: Value,
    request_id: String,
}

struct Outgoing {
    url: String,
    body: String,
}

/// What caused an event, shown in its `request` field.
#[derive(Default)]
struct Origin {
    request_id: Option<String>,
    idempotency_key: Option<String>,
}

impl Shared {
    /// The state stays consistent even if a thread panicked while holding the lock (every
    /// mutation is completed before anything that could fail), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn start_deliveries(self: &Arc<Self>, outbox: Vec<Outgoing>) {
        for outgoing in outbox {
            self.runtime.spawn(deliver_with_retries(self.clone(), outgoing));
        }
    }

    /// One signed POST, signed with the current time as Stripe does at each attempt.
    async fn attempt_delivery(&self, url: &str, body: &str) -> Result<u16, reqwest::Error> {
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

    /// Ok, or the 401 Stripe answers. Bearer is what the libraries send; Basic (key as user name)
    /// is what `curl -u sk_…:` sends.
    fn authenticate(&self, headers: &HeaderMap) -> Result<(), Reply> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(Reply::error(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                None,
                "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth \
                 (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
                None,
            ));
        };
        let key = value.to_str().ok().and_then(api_key_from_authorization).unwrap_or_default();
        if key == self.secret_key {
            return Ok(());
        }
        let message = if key == self.publishable_key {
            "This API call cannot be made with a publishable API key. Please use a secret API key.".to_owned()
        } else {
            format!("Invalid API Key provided: {}", redact_key(&key))
        };
        Err(Reply::error(StatusCode::UNAUTHORIZED, "invalid_request_error", Some("api_key_invalid"), message, None))
    }
}

impl Inner {
    fn new(webhook_url: Option<String>) -> Self {
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

    fn event(&self, id: &str) -> Option<&StoredEvent> {
        self.event_index.get(id).and_then(|&i| self.events.get(i))
    }

    fn intent_mut(&mut self, id: &str) -> Option<&mut PaymentIntent> {
        let index = *self.intent_index.get(id)?;
        self.intents.get_mut(index)
    }

    /// Records an event with a snapshot of `object` and schedules (or holds) its delivery.
    fn emit(&mut self, kind: &str, object: Value, origin: &Origin) {
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

/// At-least-once delivery: retried on connection errors and non-2xx answers, with back-off.
async fn deliver_with_retries(shared: Arc<Shared>, outgoing: Outgoing) {
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

// ---------------------------------------------------------------------------------------------
// Stripe objects

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum IntentStatus {
    RequiresPaymentMethod,
    RequiresAction,
    Succeeded,
    Canceled,
}

impl IntentStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::RequiresPaymentMethod => "requires_payment_method",
            Self::RequiresAction => "requires_action",
            Self::Succeeded => "succeeded",
            Self::Canceled => "canceled",
        }
    }
}

#[derive(Clone, Serialize)]
struct PaymentIntent {
    id: String,
    object: &'static str,
    amount: i64,
    amount_capturable: i64,
    amount_received: i64,
    automatic_payment_methods: Option<Value>,
    canceled_at: Option<i64>,
    cancellation_reason: Option<String>,
    capture_method: String,
    client_secret: String,
    confirmation_method: &'static str,
    created: i64,
    currency: String,
    description: Option<String>,
    last_payment_error: Option<Value>,
    latest_charge: Option<String>,
    livemode: bool,
    metadata: Map<String, Value>,
    next_action: Option<Value>,
    payment_method: Option<String>,
    payment_method_types: Vec<String>,
    receipt_email: Option<String>,
    status: IntentStatus,
}

#[derive(Clone, Serialize)]
struct Charge {
    id: String,
    object: &'static str,
    amount: i64,
    amount_captured: i64,
    amount_refunded: i64,
    captured: bool,
    created: i64,
    currency: String,
    description: Option<String>,
    livemode: bool,
    metadata: Map<String, Value>,
    paid: bool,
    payment_intent: String,
    payment_method: String,
    receipt_email: Option<String>,
    refunded: bool,
    status: &'static str,
}

#[derive(Clone, Serialize)]
struct Refund {
    id: String,
    object: &'static str,
    amount: i64,
    charge: String,
    created: i64,
    currency: String,
    metadata: Map<String, Value>,
    payment_intent: String,
    reason: Option<String>,
    status: &'static str,
}

fn to_json<T: Serialize>(value: &T) -> Value {
    // Plain structs with string keys: serialization cannot fail.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// What a test payment method does when confirmed, per Stripe's testing documentation.
#[derive(Clone, Copy)]
enum CardBehaviour {
    Succeeds,
    Declines { decline_code: &'static str, message: &'static str },
    RequiresAuthentication,
}

const GENERIC_DECLINE: CardBehaviour = CardBehaviour::Declines { decline_code: "generic_decline", message: "Your card was declined." };
const INSUFFICIENT_FUNDS: CardBehaviour =
    CardBehaviour::Declines { decline_code: "insufficient_funds", message: "Your card has insufficient funds." };

fn test_payment_method(id: &str) -> Option<CardBehaviour> {
    Some(match id {
        "pm_card_visa" | "pm_card_mastercard" | "pm_card_amex" | "pm_card_visa_debit" => CardBehaviour::Succeeds,
        "pm_card_chargeDeclined" | "pm_card_visa_chargeDeclined" => GENERIC_DECLINE,
        "pm_card_chargeDeclinedInsufficientFunds" | "pm_card_visa_chargeDeclinedInsufficientFunds" => INSUFFICIENT_FUNDS,
        "pm_card_authenticationRequired" | "pm_card_threeDSecure2Required" => CardBehaviour::RequiresAuthentication,
        _ => return None,
    })
}

fn test_card_number(number: &str) -> Option<CardBehaviour> {
    Some(match number {
        "4242424242424242" | "5555555555554444" | "4000056655665556" => CardBehaviour::Succeeds,
        "4000000000000002" => GENERIC_DECLINE,
        "4000000000009995" => INSUFFICIENT_FUNDS,
        "4000002500003155" | "4000002760003184" => CardBehaviour::RequiresAuthentication,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// An answer before it becomes an HTTP response.
struct Reply {
    status: StatusCode,
    body: Value,
    /// Whether an idempotency key records this answer. Stripe stores a result only once the
    /// endpoint has started executing: not for parameter validation failures or unknown objects.
    store: bool,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Self { status: StatusCode::OK, body, store: true }
    }

    fn error(status: StatusCode, kind: &str, code: Option<&str>, message: impl Into<String>, param: Option<&str>) -> Self {
        let mut error = Map::new();
        error.insert("type".into(), json!(kind));
        if let Some(code) = code {
            error.insert("code".into(), json!(code));
            error.insert("doc_url".into(), json!(format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-"))));
        }
        error.insert("message".into(), json!(message.into()));
        if let Some(param) = param {
            error.insert("param".into(), json!(param));
        }
        Self { status, body: json!({ "error": error }), store: true }
    }

    /// A 400 for a bad parameter (never stored under an idempotency key).
    fn invalid(code: Option<&str>, param: Option<&str>, message: impl Into<String>) -> Self {
        Self::error(StatusCode::BAD_REQUEST, "invalid_request_error", code, message, param).not_stored()
    }

    fn not_stored(mut self) -> Self {
        self.store = false;
        self
    }

    /// Adds a field next to `type`/`message` (e.g. the PaymentIntent on a card error).
    fn with(mut self, key: &str, value: Value) -> Self {
        if let Some(error) = self.body.get_mut("error").and_then(Value::as_object_mut) {
            error.insert(key.into(), value);
        }
        self
    }
}

/// Every request goes through here, so that counting, latency, injected failures, authentication
/// and idempotency apply uniformly, and even unknown routes answer in Stripe's format.
async fn serve(req: HttpRequest, payload: web::Payload, shared: web::Data<Shared>) -> HttpResponse {
    let shared = shared.into_inner();
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let request_id = format!("req_{}", random_alnum(14));
    let body = read_body(payload).await;
    let latency = shared.lock().latency;
    let response = answer(&shared, &req, body, &request_id);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, Reply> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Reply::invalid(None, None, format!("Could not read the request body: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(Reply::invalid(None, None, "The request body is too large."));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn answer(shared: &Arc<Shared>, req: &HttpRequest, body: Result<Vec<u8>, Reply>, request_id: &str) -> HttpResponse {
    let injected = {
        let mut inner = shared.lock();
        if inner.failures_left > 0 {
            inner.failures_left -= 1;
            Some(inner.failure_status)
        } else {
            None
        }
    };
    if let Some(status) = injected {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = "An unknown error occurred (failure injected by the Stripe stand-in).";
        return respond(Reply::error(status, "api_error", None, message, None), request_id, None, None);
    }
    if let Err(reply) = shared.authenticate(req.headers()) {
        return respond(reply, request_id, None, None);
    }
    let method = req.method().as_str();
    let Some(route) = route(method, req.path()) else {
        let message = format!(
            "Unrecognized request URL ({method}: {}). The Stripe stand-in serves only payment_intents, refunds, charges and events.",
            req.path()
        );
        return respond(Reply::error(StatusCode::NOT_FOUND, "invalid_request_error", None, message, None), request_id, None, None);
    };
    let is_post = method == "POST";
    let idempotency_key = match idempotency_key(req.headers(), is_post) {
        Ok(key) => key,
        Err(reply) => return respond(reply, request_id, None, None),
    };
    let key = idempotency_key.as_deref();
    // Only POST bodies carry parameters; GET query strings (`expand[]`) are ignored.
    let params = match body {
        Ok(body) if is_post => match parse_form(&body) {
            Ok(params) => params,
            Err(reply) => return respond(reply, request_id, key, None),
        },
        Ok(_) => Map::new(),
        Err(reply) => return respond(reply, request_id, key, None),
    };
    let origin = Origin { request_id: Some(request_id.to_owned()), idempotency_key: idempotency_key.clone() };

    let mut inner = shared.lock();
    let (reply, replay_of) = match key {
        None => (handle(&mut inner, route, &params, &origin), None),
        Some(key) => {
            let fingerprint = json!({"method": method, "path": req.path(), "params": params});
            match inner.idempotent.get(key) {
                Some(stored) if stored.fingerprint == fingerprint => {
                    let reply = Reply { status: stored.status, body: stored.body.clone(), store: false };
                    (reply, Some(stored.request_id.clone()))
                }
                Some(_) => {
                    let message = format!(
                        "Keys for idempotent requests can only be used with the same parameters they were first used with. \
                         Try using a key other than '{key}' if you meant to execute a different request."
                    );
                    (Reply::error(StatusCode::BAD_REQUEST, "idempotency_error", None, message, None).not_stored(), None)
                }
                None => {
                    let reply = handle(&mut inner, route, &params, &origin);
                    if reply.store {
                        let stored = StoredResponse {
                            fingerprint,
                            status: reply.status,
                            body: reply.body.clone(),
                            request_id: request_id.to_owned(),
                        };
                        inner.idempotent.insert(key.to_owned(), stored);
                    }
                    (reply, None)
                }
            }
        }
    };
    let outbox = std::mem::take(&mut inner.outbox);
    drop(inner);
    shared.start_deliveries(outbox);
    respond(reply, request_id, key, replay_of.as_deref())
}

fn idempotency_key(headers: &HeaderMap, is_post: bool) -> Result<Option<String>, Reply> {
    // Stripe ignores keys on GET (reads are idempotent anyway).
    let Some(value) = headers.get("Idempotency-Key").filter(|_| is_post) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if !key.is_empty() && key.chars().count() <= MAX_IDEMPOTENCY_KEY_CHARS => Ok(Some(key.to_owned())),
        _ => Err(Reply::invalid(
            None,
            None,
            format!("Invalid Idempotency-Key: it must be a non-empty printable string of at most {MAX_IDEMPOTENCY_KEY_CHARS} characters."),
        )),
    }
}

fn respond(reply: Reply, request_id: &str, idempotency_key: Option<&str>, replay_of: Option<&str>) -> HttpResponse {
    let mut response = HttpResponse::build(reply.status);
    response.content_type("application/json").insert_header(("Request-Id", request_id)).insert_header(("Stripe-Version", API_VERSION));
    if let Some(key) = idempotency_key {
        response.insert_header(("Idempotency-Key", key));
    }
    if let Some(original) = replay_of {
        response.insert_header(("Idempotent-Replayed", "true")).insert_header(("Original-Request", original));
    }
    response.body(reply.body.to_string())
}

#[derive(Clone, Copy)]
enum Route<'a> {
    CreateIntent,
    GetIntent(&'a str),
    ConfirmIntent(&'a str),
    CancelIntent(&'a str),
    CreateRefund,
    GetRefund(&'a str),
    GetCharge(&'a str),
    GetEvent(&'a str),
}

fn route<'a>(method: &str, path: &'a str) -> Option<Route<'a>> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    Some(match (method, segments.as_slice()) {
        ("POST", ["", "v1", "payment_intents"]) => Route::CreateIntent,
        ("GET", ["", "v1", "payment_intents", id]) => Route::GetIntent(id),
        ("POST", ["", "v1", "payment_intents", id, "confirm"]) => Route::ConfirmIntent(id),
        ("POST", ["", "v1", "payment_intents", id, "cancel"]) => Route::CancelIntent(id),
        ("POST", ["", "v1", "refunds"]) => Route::CreateRefund,
        ("GET", ["", "v1", "refunds", id]) => Route::GetRefund(id),
        ("GET", ["", "v1", "charges", id]) => Route::GetCharge(id),
        ("GET", ["", "v1", "events", id]) => Route::GetEvent(id),
        _ => return None,
    })
}

fn handle(inner: &mut Inner, route: Route<'_>, params: &Params, origin: &Origin) -> Reply {
    match route {
        Route::CreateIntent => create_intent(inner, params, origin),
        Route::GetIntent(id) => match inner.intent_index.get(id).and_then(|&i| inner.intents.get(i)) {
            Some(intent) => Reply::ok(to_json(intent)),
            None => no_such_intent(id, StatusCode::NOT_FOUND, "intent"),
        },
        Route::ConfirmIntent(id) => confirm_intent(inner, id, params, origin),
        Route::CancelIntent(id) => cancel_intent(inner, id, params, origin),
        Route::CreateRefund => create_refund(inner, params, origin),
        Route::GetRefund(id) => match inner.refunds.get(id) {
            Some(refund) => Reply::ok(to_json(refund)),
            None => no_such("refund", id, StatusCode::NOT_FOUND, "id"),
        },
        Route::GetCharge(id) => match inner.charges.get(id) {
            Some(charge) => Reply::ok(to_json(charge)),
            None => no_such("charge", id, StatusCode::NOT_FOUND, "id"),
        },
        Route::GetEvent(id) => match inner.event(id) {
            Some(event) => Reply::ok(event.event.clone()),
            None => no_such("event", id, StatusCode::NOT_FOUND, "id"),
        },
    }
}

/// Stripe answers 404 for an unknown object in the path, 400 for one named by a parameter.
fn no_such(kind: &str, id: &str, status: StatusCode, param: &str) -> Reply {
    let message = format!("No such {kind}: '{id}'");
    Reply::error(status, "invalid_request_error", Some("resource_missing"), message, Some(param)).not_stored()
}

fn no_such_intent(id: &str, status: StatusCode, param: &str) -> Reply {
    no_such("payment_intent", id, status, param)
}

/// A request that is valid but not in the object's current state (stored: the endpoint ran).
fn unexpected_state(message: String, intent: &PaymentIntent) -> Reply {
    Reply::error(StatusCode::BAD_REQUEST, "invalid_request_error", Some("payment_intent_unexpected_state"), message, None)
        .with("payment_intent", to_json(intent))
}

// ---------------------------------------------------------------------------------------------
// Endpoints

fn create_intent(inner: &mut Inner, params: &Params, origin: &Origin) -> Reply {
    let known = [
        "amount",
        "currency",
        "metadata",
        "description",
        "receipt_email",
        "automatic_payment_methods",
        "payment_method_types",
        "capture_method",
        "statement_descriptor_suffix",
        "expand",
    ];
    let parsed = (|| {
        check_known(params, &known)?;
        let amount = int_param(params, "amount")?.ok_or_else(|| missing("amount"))?;
        if amount < 1 {
            return Err(Reply::invalid(
                Some("parameter_invalid_integer"),
                Some("amount"),
                "This value must be greater than or equal to 1.",
            ));
        }
        if amount > MAX_AMOUNT {
            return Err(Reply::invalid(Some("amount_too_large"), Some("amount"), format!("Amount must be no more than {MAX_AMOUNT}.")));
        }
        let currency = str_param(params, &["currency"])?.ok_or_else(|| missing("currency"))?.to_ascii_lowercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(Reply::invalid(None, Some("currency"), format!("Invalid currency: {currency}.")));
        }
        let receipt_email = str_param(params, &["receipt_email"])?.map(str::to_owned);
        if let Some(email) = &receipt_email {
            if !email.contains('@') {
                return Err(Reply::invalid(Some("email_invalid"), Some("receipt_email"), format!("Invalid email address: {email}")));
            }
        }
        let automatic = bool_param(params, &["automatic_payment_methods", "enabled"])?;
        if automatic == Some(true) && params.contains_key("payment_method_types") {
            return Err(Reply::invalid(
                Some("parameters_exclusive"),
                Some("payment_method_types"),
                "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
            ));
        }
        let capture_method = str_param(params, &["capture_method"])?.unwrap_or("automatic");
        if !matches!(capture_method, "automatic" | "automatic_async") {
            return Err(Reply::invalid(
                None,
                Some("capture_method"),
                "The Stripe stand-in only supports capture_method=automatic (or automatic_async).",
            ));
        }
        Ok(PaymentIntent {
            id: String::new(),
            object: "payment_intent",
            amount,
            amount_capturable: 0,
            amount_received: 0,
            automatic_payment_methods: automatic.map(|enabled| json!({"enabled": enabled, "allow_redirects": "always"})),
            canceled_at: None,
            cancellation_reason: None,
            capture_method: capture_method.to_owned(),
            client_secret: String::new(),
            confirmation_method: "automatic",
            created: now_unix(),
            currency,
            description: str_param(params, &["description"])?.map(str::to_owned),
            last_payment_error: None,
            latest_charge: None,
            livemode: false,
            metadata: metadata_param(params)?,
            next_action: None,
            payment_method: None,
            payment_method_types: vec!["card".to_owned()],
            receipt_email,
            status: IntentStatus::RequiresPaymentMethod,
        })
    })();
    let mut intent = match parsed {
        Ok(intent) => intent,
        Err(reply) => return reply,
    };
    intent.id = new_id("pi");
    intent.client_secret = format!("{}_secret_{}", intent.id, random_alnum(25));
    let json = to_json(&intent);
    inner.intent_index.insert(intent.id.clone(), inner.intents.len());
    inner.intents.push(intent);
    inner.emit("payment_intent.created", json.clone(), origin);
    Reply::ok(json)
}

fn confirm_intent(inner: &mut Inner, id: &str, params: &Params, origin: &Origin) -> Reply {
    let known = ["payment_method", "payment_method_data", "return_url", "receipt_email", "off_session", "use_stripe_sdk", "expand"];
    let requested = (|| {
        check_known(params, &known)?;
        let receipt_email = str_param(params, &["receipt_email"])?.map(str::to_owned);
        if let Some(pm) = str_param(params, &["payment_method"])? {
            let behaviour =
                test_payment_method(pm).ok_or_else(|| no_such("PaymentMethod", pm, StatusCode::BAD_REQUEST, "payment_method"))?;
            return Ok((Some((pm.to_owned(), behaviour)), receipt_email));
        }
        if let Some(number) = str_param(params, &["payment_method_data", "card", "number"])? {
            let number: String = number.chars().filter(|c| !c.is_whitespace()).collect();
            let behaviour = test_card_number(&number).ok_or_else(|| {
                Reply::invalid(
                    Some("incorrect_number"),
                    Some("payment_method_data[card][number]"),
                    "The Stripe stand-in only knows Stripe's test card numbers (4242424242424242, 4000000000000002, \
                     4000000000009995, 4000002500003155, …).",
                )
            })?;
            return Ok((Some((new_id("pm"), behaviour)), receipt_email));
        }
        Ok((None, receipt_email))
    })();
    let (payment_method, receipt_email) = match requested {
        Ok(requested) => requested,
        Err(reply) => return reply,
    };
    let Some(intent) = inner.intent_mut(id) else {
        return no_such_intent(id, StatusCode::NOT_FOUND, "intent");
    };
    match intent.status {
        IntentStatus::Succeeded => {
            let message = "You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.";
            return unexpected_state(message.to_owned(), intent);
        }
        IntentStatus::Canceled => {
            let message = "You cannot confirm this PaymentIntent because it has a status of canceled. Only a PaymentIntent with one of \
                           the following statuses may be confirmed: requires_confirmation, requires_payment_method, requires_action.";
            return unexpected_state(message.to_owned(), intent);
        }
        IntentStatus::RequiresPaymentMethod | IntentStatus::RequiresAction => {}
    }
    // Confirming again without a payment method while authentication is pending stands for the
    // customer completing 3D Secure.
    let (payment_method, behaviour) = match (payment_method, intent.status, intent.payment_method.clone()) {
        (Some(requested), _, _) => requested,
        (None, IntentStatus::RequiresAction, Some(pending)) => (pending, CardBehaviour::Succeeds),
        (None, _, _) => {
            let message = "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent \
                           with a payment method, pass `payment_method`.";
            return unexpected_state(message.to_owned(), intent);
        }
    };
    if receipt_email.is_some() {
        intent.receipt_email = receipt_email;
    }
    match behaviour {
        CardBehaviour::Succeeds => {
            let charge = Charge {
                id: new_id("ch"),
                object: "charge",
                amount: intent.amount,
                amount_captured: intent.amount,
                amount_refunded: 0,
                captured: true,
                created: now_unix(),
                currency: intent.currency.clone(),
                description: intent.description.clone(),
                livemode: false,
                metadata: intent.metadata.clone(),
                paid: true,
                payment_intent: intent.id.clone(),
                payment_method: payment_method.clone(),
                receipt_email: intent.receipt_email.clone(),
                refunded: false,
                status: "succeeded",
            };
            intent.status = IntentStatus::Succeeded;
            intent.amount_received = intent.amount;
            intent.payment_method = Some(payment_method);
            intent.latest_charge = Some(charge.id.clone());
            intent.last_payment_error = None;
            intent.next_action = None;
            let intent_json = to_json(intent);
            let charge_json = to_json(&charge);
            inner.charges.insert(charge.id.clone(), charge);
            inner.emit("charge.succeeded", charge_json, origin);
            inner.emit("payment_intent.succeeded", intent_json.clone(), origin);
            Reply::ok(intent_json)
        }
        CardBehaviour::Declines { decline_code, message } => {
            // As Stripe does, the failed method moves to `last_payment_error` and the intent waits
            // for another one.
            let card_error = json!({
                "type": "card_error",
                "code": "card_declined",
                "decline_code": decline_code,
                "message": message,
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                "payment_method": {"id": payment_method, "object": "payment_method", "type": "card"},
            });
            intent.status = IntentStatus::RequiresPaymentMethod;
            intent.payment_method = None;
            intent.next_action = None;
            intent.last_payment_error = Some(card_error);
            let intent_json = to_json(intent);
            inner.emit("payment_intent.payment_failed", intent_json.clone(), origin);
            Reply::error(StatusCode::PAYMENT_REQUIRED, "card_error", Some("card_declined"), message, None)
                .with("decline_code", json!(decline_code))
                .with("payment_intent", intent_json)
        }
        CardBehaviour::RequiresAuthentication => {
            intent.status = IntentStatus::RequiresAction;
            intent.payment_method = Some(payment_method);
            intent.last_payment_error = None;
            intent.next_action = Some(json!({
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {
                    "type": "three_d_secure_redirect",
                    "stripe_js": format!("https://hooks.stripe.com/redirect/authenticate/src_{}", random_alnum(24)),
                    "source": format!("src_{}", random_alnum(24)),
                },
            }));
            // Stripe sends `payment_intent.requires_action` here; the brief for this stand-in is
            // to stay silent, which is also what a client must cope with (events are optional).
            Reply::ok(to_json(intent))
        }
    }
}

fn cancel_intent(inner: &mut Inner, id: &str, params: &Params, origin: &Origin) -> Reply {
    let reason = match check_known(params, &["cancellation_reason", "expand"])
        .and_then(|()| enum_param(params, "cancellation_reason", &["duplicate", "fraudulent", "requested_by_customer", "abandoned"]))
    {
        Ok(reason) => reason,
        Err(reply) => return reply,
    };
    let Some(intent) = inner.intent_mut(id) else {
        return no_such_intent(id, StatusCode::NOT_FOUND, "intent");
    };
    if matches!(intent.status, IntentStatus::Succeeded | IntentStatus::Canceled) {
        let message = format!(
            "You cannot cancel this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following \
             statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.",
            intent.status.as_str()
        );
        return unexpected_state(message, intent);
    }
    intent.status = IntentStatus::Canceled;
    intent.canceled_at = Some(now_unix());
    intent.cancellation_reason = reason;
    intent.next_action = None;
    let json = to_json(intent);
    inner.emit("payment_intent.canceled", json.clone(), origin);
    Reply::ok(json)
}

fn create_refund(inner: &mut Inner, params: &Params, origin: &Origin) -> Reply {
    let known = ["payment_intent", "charge", "amount", "reason", "metadata", "expand"];
    let parsed = (|| {
        check_known(params, &known)?;
        let intent = str_param(params, &["payment_intent"])?;
        let charge = str_param(params, &["charge"])?;
        let amount = int_param(params, "amount")?;
        if amount.is_some_and(|a| a < 1) {
            return Err(Reply::invalid(Some("parameter_invalid_integer"), Some("amount"), "Invalid positive integer"));
        }
        let reason = enum_param(params, "reason", &["duplicate", "fraudulent", "requested_by_customer"])?;
        let metadata = metadata_param(params)?;
        Ok((intent, charge, amount, reason, metadata))
    })();
    let (intent_id, charge_id, amount, reason, metadata) = match parsed {
        Ok(parsed) => parsed,
        Err(reply) => return reply,
    };
    // Find the charge to refund: the intent's successful charge, or the one named.
    let charge_id = match (intent_id, charge_id) {
        (None, None) => {
            return Reply::invalid(
                Some("parameter_missing"),
                None,
                "One of the following params should be provided for this request: payment_intent or charge.",
            )
        }
        (Some(intent_id), named) => {
            let Some(intent) = inner.intent_index.get(intent_id).and_then(|&i| inner.intents.get(i)) else {
                return no_such_intent(intent_id, StatusCode::BAD_REQUEST, "payment_intent");
            };
            let latest = match (&intent.latest_charge, intent.status) {
                (Some(latest), IntentStatus::Succeeded) => latest.clone(),
                _ => {
                    let message = format!("This PaymentIntent ({intent_id}) does not have a successful charge to refund.");
                    return Reply::error(StatusCode::BAD_REQUEST, "invalid_request_error", Some("charge_not_refundable"), message, None);
                }
            };
            if let Some(named) = named.filter(|named| *named != latest) {
                let message = format!("The charge {named} does not belong to the PaymentIntent {intent_id}.");
                return Reply::invalid(None, Some("charge"), message);
            }
            latest
        }
        (None, Some(named)) => named.to_owned(),
    };
    let Some(charge) = inner.charges.get_mut(&charge_id) else {
        return no_such("charge", &charge_id, StatusCode::BAD_REQUEST, "charge");
    };
    let remaining = charge.amount - charge.amount_refunded;
    if remaining <= 0 {
        let message = format!("Charge {} has already been refunded.", charge.id);
        return Reply::error(StatusCode::BAD_REQUEST, "invalid_request_error", Some("charge_already_refunded"), message, None);
    }
    let amount = amount.unwrap_or(remaining);
    if amount > remaining {
        let message = format!(
            "Refund amount ({}) is greater than unrefunded amount on charge ({}).",
            format_money(amount, &charge.currency),
            format_money(remaining, &charge.currency)
        );
        return Reply::error(StatusCode::BAD_REQUEST, "invalid_request_error", Some("amount_too_large"), message, Some("amount"));
    }
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded == charge.amount;
    let refund = Refund {
        id: new_id("re"),
        object: "refund",
        amount,
        charge: charge.id.clone(),
        created: now_unix(),
        currency: charge.currency.clone(),
        metadata,
        payment_intent: charge.payment_intent.clone(),
        reason,
        status: "succeeded",
    };
    let charge_json = to_json(charge);
    let refund_json = to_json(&refund);
    inner.refunds.insert(refund.id.clone(), refund);
    inner.emit("charge.refunded", charge_json, origin);
    Reply::ok(refund_json)
}

fn format_money(cents: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", cents / 100, cents % 100)
}

// ---------------------------------------------------------------------------------------------
// Form parameters in Stripe's bracket notation

/// Parameters as a tree: `metadata[a]=1&expand[]=x` → `{"metadata":{"a":"1"},"expand":["x"]}`.
/// Leaves are strings, as on the wire; each endpoint converts what it reads.
type Params = Map<String, Value>;

fn malformed(message: impl Into<String>) -> Reply {
    Reply::invalid(None, None, message)
}

fn parse_form(body: &[u8]) -> Result<Params, Reply> {
    let text = std::str::from_utf8(body).map_err(|_| malformed("Invalid request body: it is not valid UTF-8."))?;
    let pairs = web::Query::<Vec<(String, String)>>::from_query(text)
        .map_err(|e| malformed(format!("Invalid request body: it is not application/x-www-form-urlencoded ({e}).")))?
        .into_inner();
    let mut params = Map::new();
    for (key, value) in pairs {
        let path = parse_key(&key).ok_or_else(|| malformed(format!("Invalid parameter name: '{key}'.")))?;
        insert_param(&mut params, &path, value).map_err(|()| malformed(format!("Conflicting values for parameter '{key}'.")))?;
    }
    Ok(params)
}

/// `a[b][c]` → `["a","b","c"]`; `a[]` → `["a",""]` (array push, allowed only last).
fn parse_key(key: &str) -> Option<Vec<&str>> {
    let (name, mut rest) = key.find('[').map_or((key, ""), |i| key.split_at(i));
    if name.is_empty() || name.contains(']') {
        return None;
    }
    let mut path = vec![name];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        let segment = &inner[..close];
        if segment.contains('[') || (segment.is_empty() && close + 1 != inner.len()) {
            return None;
        }
        path.push(segment);
        rest = &inner[close + 1..];
    }
    Some(path)
}

fn insert_param(map: &mut Map<String, Value>, path: &[&str], value: String) -> Result<(), ()> {
    let (first, rest) = path.split_first().ok_or(())?;
    match rest {
        [] => match map.get(*first) {
            Some(Value::Object(_) | Value::Array(_)) => Err(()),
            _ => {
                map.insert((*first).to_owned(), Value::String(value));
                Ok(())
            }
        },
        [""] => match map.entry((*first).to_owned()).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(items) => {
                items.push(Value::String(value));
                Ok(())
            }
            _ => Err(()),
        },
        _ => match map.entry((*first).to_owned()).or_insert_with(|| Value::Object(Map::new())) {
            Value::Object(inner) => insert_param(inner, rest, value),
            _ => Err(()),
        },
    }
}

/// Stripe rejects unknown parameters, which catches typos in the client early.
fn check_known(params: &Params, known: &[&str]) -> Result<(), Reply> {
    match params.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(Reply::invalid(Some("parameter_unknown"), Some(unknown), format!("Received unknown parameter: {unknown}"))),
        None => Ok(()),
    }
}

fn missing(param: &str) -> Reply {
    Reply::invalid(Some("parameter_missing"), Some(param), format!("Missing required param: {param}."))
}

fn display_name(path: &[&str]) -> String {
    let mut name = path.first().copied().unwrap_or_default().to_owned();
    for segment in path.iter().skip(1) {
        name.push_str(&format!("[{segment}]"));
    }
    name
}

/// A string leaf at `path`, if present; an object or array there is a client bug, reported.
fn str_param<'a>(params: &'a Params, path: &[&str]) -> Result<Option<&'a str>, Reply> {
    let mut map = params;
    for (depth, segment) in path.iter().enumerate() {
        match map.get(*segment) {
            None => return Ok(None),
            Some(Value::String(s)) if depth + 1 == path.len() => return Ok(Some(s)),
            Some(Value::Object(inner)) if depth + 1 < path.len() => map = inner,
            Some(_) => {
                let name = display_name(&path[..=depth]);
                return Err(Reply::invalid(None, Some(&name), format!("Invalid value for {name}.")));
            }
        }
    }
    Ok(None)
}

fn int_param(params: &Params, name: &str) -> Result<Option<i64>, Reply> {
    let Some(raw) = str_param(params, &[name])? else {
        return Ok(None);
    };
    raw.trim()
        .parse::<i64>()
        .map(Some)
        .map_err(|_| Reply::invalid(Some("parameter_invalid_integer"), Some(name), format!("Invalid integer: {raw}")))
}

fn bool_param(params: &Params, path: &[&str]) -> Result<Option<bool>, Reply> {
    match str_param(params, path)? {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(Reply::invalid(None, Some(&display_name(path)), format!("Invalid boolean: {other}"))),
    }
}

fn enum_param(params: &Params, name: &str, allowed: &[&str]) -> Result<Option<String>, Reply> {
    match str_param(params, &[name])? {
        None | Some("") => Ok(None),
        Some(value) if allowed.contains(&value) => Ok(Some(value.to_owned())),
        Some(_) => Err(Reply::invalid(None, Some(name), format!("Invalid {name}: must be one of {}", allowed.join(", ")))),
    }
}

/// `metadata[k]=v` pairs within Stripe's limits; `metadata=` (empty) means none, and an empty
/// value unsets its key, as in Stripe.
fn metadata_param(params: &Params) -> Result<Map<String, Value>, Reply> {
    let entries = match params.get("metadata") {
        None => return Ok(Map::new()),
        Some(Value::String(s)) if s.is_empty() => return Ok(Map::new()),
        Some(Value::Object(entries)) => entries,
        Some(_) => return Err(Reply::invalid(None, Some("metadata"), "Invalid metadata: it must be a set of key-value pairs.")),
    };
    let mut metadata = Map::new();
    for (key, value) in entries {
        let param = format!("metadata[{key}]");
        let Value::String(value) = value else {
            return Err(Reply::invalid(None, Some(&param), "Metadata values must be strings; nested metadata is not allowed."));
        };
        if key.chars().count() > MAX_METADATA_KEY_CHARS {
            let message = format!("Metadata keys can have up to {MAX_METADATA_KEY_CHARS} characters.");
            return Err(Reply::invalid(None, Some(&param), message));
        }
        if value.chars().count() > MAX_METADATA_VALUE_CHARS {
            let message = format!("Metadata values can have up to {MAX_METADATA_VALUE_CHARS} characters.");
            return Err(Reply::invalid(None, Some(&param), message));
        }
        if !value.is_empty() {
            metadata.insert(key.clone(), Value::String(value.clone()));
        }
    }
    if metadata.len() > MAX_METADATA_KEYS {
        return Err(Reply::invalid(None, Some("metadata"), format!("Metadata can have up to {MAX_METADATA_KEYS} keys.")));
    }
    Ok(metadata)
}

// ---------------------------------------------------------------------------------------------
// Small helpers

fn random_alnum(len: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// Stripe-shaped identifiers: a type prefix and 24 random alphanumerics.
fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_alnum(24))
}

fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn api_key_from_authorization(value: &str) -> Option<String> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(credentials.to_owned())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = String::from_utf8(base64_decode(credentials)?).ok()?;
        Some(decoded.split_once(':').map_or(decoded.as_str(), |(user, _)| user).to_owned())
    } else {
        None
    }
}

/// Standard base64 with optional padding (only for HTTP Basic, so no dependency for it).
fn base64_decode(input: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let input = input.trim_end_matches('=').as_bytes();
    if input.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    for chunk in input.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// Like Stripe's error messages: the prefix and the last four characters only.
fn redact_key(key: &str) -> String {
    let prefix_len = key.match_indices('_').nth(1).map_or(0, |(i, _)| i + 1);
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= prefix_len + 4 {
        return format!("{}****", &key[..prefix_len.min(key.len())]);
    }
    let last4: String = chars[chars.len() - 4..].iter().collect();
    format!("{}****{last4}", &key[..prefix_len])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::signature::verify;

    /// A client speaking Stripe's wire format to the stand-in.
    struct Api {
        base: String,
        key: String,
        http: reqwest::Client,
    }

    impl Api {
        fn new(stand_in: &StripeStandIn) -> Self {
            Self { base: stand_in.base_url(), key: stand_in.config().secret_key, http: reqwest::Client::new() }
        }

        async fn post_full(&self, path: &str, form: &[(&str, &str)], key: Option<&str>) -> (u16, reqwest::header::HeaderMap, Value) {
            let mut req = self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.key).form(form);
            if let Some(key) = key {
                req = req.header("Idempotency-Key", key);
            }
            let res = req.send().await.expect("stand-in reachable");
            let (status, headers) = (res.status().as_u16(), res.headers().clone());
            (status, headers, res.json().await.expect("JSON body"))
        }

        async fn post(&self, path: &str, form: &[(&str, &str)], key: Option<&str>) -> (u16, Value) {
            let (status, _, body) = self.post_full(path, form, key).await;
            (status, body)
        }

        async fn get(&self, path: &str) -> (u16, Value) {
            let res = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.key).send().await.expect("reachable");
            (res.status().as_u16(), res.json().await.expect("JSON body"))
        }

        async fn create(&self, amount: &str) -> Value {
            let form = [("amount", amount), ("currency", "cad"), ("metadata[booking_id]", "b-1")];
            let (status, body) = self.post("/v1/payment_intents", &form, None).await;
            assert_eq!(status, 200, "{body}");
            body
        }

        async fn confirm(&self, id: &str, payment_method: &str) -> (u16, Value) {
            self.post(&format!("/v1/payment_intents/{id}/confirm"), &[("payment_method", payment_method)], None).await
        }
    }

    fn start() -> (StripeStandIn, Api) {
        let stand_in = StripeStandIn::start(StandInConfig::generated()).expect("stand-in starts");
        let api = Api::new(&stand_in);
        (stand_in, api)
    }

    fn id(v: &Value) -> String {
        v["id"].as_str().expect("an id").to_owned()
    }

    fn event_types(stand_in: &StripeStandIn) -> Vec<String> {
        stand_in.events().iter().map(|e| e["type"].as_str().unwrap_or_default().to_owned()).collect()
    }

    /// Waits (up to 5 s) for a condition that asynchronous deliveries will make true.
    async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
        for _ in 0..250 {
            if condition() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("timed out waiting for {what}");
    }

    struct Received {
        signature: Option<String>,
        content_type: Option<String>,
        user_agent: Option<String>,
        body: Vec<u8>,
    }

    /// A webhook endpoint that records what it receives and answers 500 to its first `fail_first` requests.
    struct Receiver {
        url: String,
        received: Arc<Mutex<Vec<Received>>>,
        server: ServerHandle,
    }

    impl Receiver {
        fn start(fail_first: usize) -> Self {
            let received: Arc<Mutex<Vec<Received>>> = Arc::default();
            let seen = Arc::new(AtomicUsize::new(0));
            let log = received.clone();
            let server = actix_web::HttpServer::new(move || {
                let log = log.clone();
                let seen = seen.clone();
                actix_web::App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                    let log = log.clone();
                    let seen = seen.clone();
                    async move {
                        if seen.fetch_add(1, Ordering::SeqCst) < fail_first {
                            return HttpResponse::InternalServerError().finish();
                        }
                        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
                        log.lock().unwrap().push(Received {
                            signature: header("Stripe-Signature"),
                            content_type: header("Content-Type"),
                            user_agent: header("User-Agent"),
                            body: body.to_vec(),
                        });
                        HttpResponse::Ok().finish()
                    }
                }))
            })
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
            let url = format!("http://{}/webhooks/stripe", server.addrs()[0]);
            let server = server.run();
            let handle = server.handle();
            actix_rt::spawn(server);
            Self { url, received, server: handle }
        }

        fn count(&self) -> usize {
            self.received.lock().unwrap().len()
        }

        /// Event ids received, each checked for a valid signature and Stripe's headers.
        fn verified_ids(&self, secret: &str) -> Vec<String> {
            let now = now_unix();
            self.received
                .lock()
                .unwrap()
                .iter()
                .map(|r| {
                    verify(r.signature.as_deref(), &r.body, secret, now, 300).expect("valid Stripe-Signature");
                    assert_eq!(r.content_type.as_deref(), Some("application/json; charset=utf-8"));
                    assert_eq!(r.user_agent.as_deref(), Some(WEBHOOK_USER_AGENT));
                    let event: Value = serde_json::from_slice(&r.body).expect("JSON event");
                    assert_eq!(event["object"], "event");
                    id(&event)
                })
                .collect()
        }
    }

    #[actix_web::test]
    async fn create_has_stripes_shape_and_idempotent_replay() {
        let (stand_in, api) = start();
        let form =
            [("amount", "12500"), ("currency", "CAD"), ("metadata[booking_id]", "b-42"), ("automatic_payment_methods[enabled]", "true")];
        let (status, headers, first) = api.post_full("/v1/payment_intents", &form, Some("key-1")).await;
        assert_eq!(status, 200, "{first}");
        assert!(headers.get("Idempotent-Replayed").is_none());
        let pi = id(&first);
        assert!(pi.starts_with("pi_") && pi.len() == 27, "{pi}");
        assert_eq!(first["object"], "payment_intent");
        assert_eq!(first["amount"], 12500);
        assert_eq!(first["currency"], "cad");
        assert_eq!(first["status"], "requires_payment_method");
        assert_eq!(first["metadata"], json!({"booking_id": "b-42"}));
        assert!(first["client_secret"].as_str().unwrap().starts_with(&format!("{pi}_secret_")));
        assert_eq!(first["latest_charge"], Value::Null);
        assert_eq!(first["automatic_payment_methods"]["enabled"], true);

        let (status, headers, again) = api.post_full("/v1/payment_intents", &form, Some("key-1")).await;
        assert_eq!(status, 200);
        assert_eq!(headers.get("Idempotent-Replayed").and_then(|v| v.to_str().ok()), Some("true"));
        assert_eq!(again, first, "the replay is the first answer");

        let other = [("amount", "999"), ("currency", "cad")];
        let (status, body) = api.post("/v1/payment_intents", &other, Some("key-1")).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["type"], "idempotency_error");
        assert_eq!(stand_in.intents().len(), 1);
        assert_eq!(api.get(&format!("/v1/payment_intents/{pi}")).await, (200, first));
        assert_eq!(event_types(&stand_in), ["payment_intent.created"]);
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn concurrent_creates_with_one_key_make_one_intent() {
        let (stand_in, api) = start();
        let form = [("amount", "5000"), ("currency", "cad")];
        let answers = futures::future::join_all((0..20).map(|_| api.post("/v1/payment_intents", &form, Some("same-key")))).await;
        assert!(answers.iter().all(|(status, _)| *status == 200));
        let ids: std::collections::HashSet<String> = answers.iter().map(|(_, body)| id(body)).collect();
        assert_eq!(ids.len(), 1);
        assert_eq!(stand_in.intents().len(), 1);
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn bad_requests_get_stripe_errors_and_are_not_stored() {
        let (stand_in, api) = start();
        let (status, body) = api.post("/v1/payment_intents", &[("currency", "cad")], Some("k")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str(), body["error"]["param"].as_str()),
            (400, Some("parameter_missing"), Some("amount"))
        );
        let (status, body) = api.post("/v1/payment_intents", &[("amount", "12.5"), ("currency", "cad")], Some("k")).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("parameter_invalid_integer")), "a validation error is not stored");
        let (status, body) = api.post("/v1/payment_intents", &[("amount", "0"), ("currency", "cad")], None).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("parameter_invalid_integer")));
        let (status, body) = api.post("/v1/payment_intents", &[("amount", "100"), ("currency", "cad"), ("colour", "red")], None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str(), body["error"]["param"].as_str()),
            (400, Some("parameter_unknown"), Some("colour"))
        );
        for raw in [&b"amount=100&currency=cad&metadata[a=1"[..], b"amount=1&amount[x]=2&currency=cad", b"amount=100&currency=\xff\xfe"] {
            let res = api
                .http
                .post(format!("{}/v1/payment_intents", api.base))
                .bearer_auth(&api.key)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(raw.to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 400);
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
        }
        let (status, body) = api.get("/v1/payment_intents/pi_nope").await;
        assert_eq!(status, 404);
        assert_eq!(
            body["error"],
            json!({"type": "invalid_request_error", "code": "resource_missing", "param": "intent",
            "message": "No such payment_intent: 'pi_nope'", "doc_url": "https://stripe.com/docs/error-codes/resource-missing"})
        );
        let (status, body) = api.get("/v1/customers").await;
        assert_eq!((status, body["error"]["type"].as_str()), (404, Some("invalid_request_error")));
        // The key was never consumed: a valid request with it creates an intent.
        let (status, _) = api.post("/v1/payment_intents", &[("amount", "100"), ("currency", "cad")], Some("k")).await;
        assert_eq!(status, 200);
        assert_eq!(stand_in.intents().len(), 1);
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn confirm_succeeds_declines_or_asks_for_authentication() {
        let (stand_in, api) = start();
        let pi = api.create("12500").await;
        let (status, paid) = api.confirm(&id(&pi), "pm_card_visa").await;
        assert_eq!(status, 200, "{paid}");
        assert_eq!(paid["status"], "succeeded");
        assert_eq!(paid["amount_received"], 12500);
        assert_eq!(paid["payment_method"], "pm_card_visa");
        let charge_id = paid["latest_charge"].as_str().unwrap().to_owned();
        let (status, charge) = api.get(&format!("/v1/charges/{charge_id}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            (charge["amount"].as_i64(), charge["paid"].as_bool(), charge["refunded"].as_bool()),
            (Some(12500), Some(true), Some(false))
        );
        assert_eq!(charge["metadata"], json!({"booking_id": "b-1"}));
        assert_eq!(charge["payment_intent"], pi["id"]);
        assert_eq!(event_types(&stand_in), ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]);
        assert_eq!(stand_in.events()[2]["data"]["object"], paid);
        let (status, body) = api.confirm(&id(&pi), "pm_card_visa").await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("payment_intent_unexpected_state")));
        let (status, body) = api.post(&format!("/v1/payment_intents/{}/cancel", id(&pi)), &[], None).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("payment_intent_unexpected_state")));

        // Declined, then paid with another card.
        let pi = api.create("3000").await;
        let (status, body) = api.confirm(&id(&pi), "pm_card_chargeDeclinedInsufficientFunds").await;
        assert_eq!(status, 402);
        let error = &body["error"];
        assert_eq!(
            (error["type"].as_str(), error["code"].as_str(), error["decline_code"].as_str()),
            (Some("card_error"), Some("card_declined"), Some("insufficient_funds"))
        );
        assert_eq!(error["payment_intent"]["status"], "requires_payment_method");
        assert_eq!(error["payment_intent"]["last_payment_error"]["decline_code"], "insufficient_funds");
        assert_eq!(stand_in.events().last().unwrap()["type"], "payment_intent.payment_failed");
        let declined_by_number = stand_in.confirm(&id(&pi), "pm_card_visa_chargeDeclinedInsufficientFunds").await;
        assert_eq!(declined_by_number["error"]["decline_code"], "insufficient_funds");
        let (status, paid) = api
            .post(
                &format!("/v1/payment_intents/{}/confirm", id(&pi)),
                &[("payment_method_data[type]", "card"), ("payment_method_data[card][number]", "4242 4242 4242 4242")],
                None,
            )
            .await;
        assert_eq!((status, paid["status"].as_str(), paid["last_payment_error"].is_null()), (200, Some("succeeded"), true));

        // 3D Secure: requires_action, no event; confirming again stands for completing it.
        let pi = api.create("4000").await;
        let events_before = stand_in.events().len();
        let (status, body) = api.confirm(&id(&pi), "pm_card_authenticationRequired").await;
        assert_eq!(
            (status, body["status"].as_str(), body["next_action"]["type"].as_str()),
            (200, Some("requires_action"), Some("use_stripe_sdk"))
        );
        assert_eq!(stand_in.events().len(), events_before);
        let (status, body) = api.post(&format!("/v1/payment_intents/{}/confirm", id(&pi)), &[], None).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("succeeded")));

        // Raw test card numbers.
        let pi = api.create("4000").await;
        let (status, body) = api
            .post(&format!("/v1/payment_intents/{}/confirm", id(&pi)), &[("payment_method_data[card][number]", "4000000000009995")], None)
            .await;
        assert_eq!((status, body["error"]["decline_code"].as_str()), (402, Some("insufficient_funds")));
        let (status, body) = api
            .post(&format!("/v1/payment_intents/{}/confirm", id(&pi)), &[("payment_method_data[card][number]", "4000002500003155")], None)
            .await;
        assert_eq!((status, body["status"].as_str()), (200, Some("requires_action")));
        let (status, body) = api.confirm(&id(&pi), "pm_card_bogus").await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("resource_missing")));
        let (status, _) = api.confirm("pi_missing", "pm_card_visa").await;
        assert_eq!(status, 404);
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn cancel() {
        let (stand_in, api) = start();
        let pi = api.create("2000").await;
        let (status, body) =
            api.post(&format!("/v1/payment_intents/{}/cancel", id(&pi)), &[("cancellation_reason", "abandoned")], None).await;
        assert_eq!((status, body["status"].as_str(), body["cancellation_reason"].as_str()), (200, Some("canceled"), Some("abandoned")));
        assert!(body["canceled_at"].as_i64().is_some());
        assert_eq!(stand_in.events().last().unwrap()["type"], "payment_intent.canceled");
        let (status, body) = api.confirm(&id(&pi), "pm_card_visa").await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("payment_intent_unexpected_state")));
        let (status, _) = api.post(&format!("/v1/payment_intents/{}/cancel", id(&pi)), &[], None).await;
        assert_eq!(status, 400);
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn refunds_full_partial_and_too_large() {
        let (stand_in, api) = start();
        let unpaid = api.create("1000").await;
        let (status, body) = api.post("/v1/refunds", &[("payment_intent", &id(&unpaid))], None).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("charge_not_refundable")));

        // Full refund by default.
        let pi = api.create("10000").await;
        api.confirm(&id(&pi), "pm_card_visa").await;
        let (status, refund) =
            api.post("/v1/refunds", &[("payment_intent", &id(&pi)), ("reason", "requested_by_customer")], Some("r-1")).await;
        assert_eq!(status, 200, "{refund}");
        assert_eq!(
            (refund["object"].as_str(), refund["amount"].as_i64(), refund["status"].as_str()),
            (Some("refund"), Some(10000), Some("succeeded"))
        );
        assert_eq!(refund["payment_intent"], pi["id"]);
        assert_eq!(api.get(&format!("/v1/refunds/{}", id(&refund))).await, (200, refund.clone()));
        let refunded = stand_in.events().last().unwrap().clone();
        assert_eq!(refunded["type"], "charge.refunded");
        assert_eq!(
            (refunded["data"]["object"]["amount_refunded"].as_i64(), refunded["data"]["object"]["refunded"].as_bool()),
            (Some(10000), Some(true))
        );
        let (status, again) =
            api.post("/v1/refunds", &[("payment_intent", &id(&pi)), ("reason", "requested_by_customer")], Some("r-1")).await;
        assert_eq!((status, again), (200, refund), "replayed, not refunded twice");
        let (status, body) = api.post("/v1/refunds", &[("payment_intent", &id(&pi))], None).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("charge_already_refunded")));

        // Partial refunds, then one too large.
        let pi = api.create("10000").await;
        api.confirm(&id(&pi), "pm_card_visa").await;
        let (status, refund) =
            api.post("/v1/refunds", &[("payment_intent", &id(&pi)), ("amount", "3000"), ("metadata[seat]", "A1")], None).await;
        assert_eq!((status, refund["amount"].as_i64(), refund["metadata"]["seat"].as_str()), (200, Some(3000), Some("A1")));
        let charge = stand_in.events().last().unwrap()["data"]["object"].clone();
        assert_eq!((charge["amount_refunded"].as_i64(), charge["refunded"].as_bool()), (Some(3000), Some(false)));
        let (status, body) = api.post("/v1/refunds", &[("payment_intent", &id(&pi)), ("amount", "7001")], None).await;
        assert_eq!(
            (status, body["error"]["type"].as_str(), body["error"]["code"].as_str()),
            (400, Some("invalid_request_error"), Some("amount_too_large"))
        );
        let (status, refund) = api.post("/v1/refunds", &[("charge", pi_charge(&stand_in, &id(&pi)).as_str())], None).await;
        assert_eq!((status, refund["amount"].as_i64()), (200, Some(7000)), "the rest, by charge");
        let (status, body) = api.post("/v1/refunds", &[("payment_intent", "pi_nope")], None).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("resource_missing")));
        stand_in.stop().await;
    }

    fn pi_charge(stand_in: &StripeStandIn, pi: &str) -> String {
        let intents = stand_in.intents();
        let intent = intents.iter().find(|i| i["id"] == pi).unwrap();
        intent["latest_charge"].as_str().unwrap().to_owned()
    }

    #[actix_web::test]
    async fn authentication() {
        let (stand_in, api) = start();
        let url = format!("{}/v1/payment_intents", api.base);
        let form = [("amount", "100"), ("currency", "cad")];
        let res = api.http.post(&url).form(&form).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 401);
        let body: Value = res.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains("did not provide an API key"));
        let res = api.http.post(&url).bearer_auth("sk_test_wrongwrongwrong1234").form(&form).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 401);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["message"], "Invalid API Key provided: sk_test_****1234");
        let res = api.http.post(&url).basic_auth(&api.key, Some("")).form(&form).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "HTTP Basic with the key as user name");
        assert_eq!(stand_in.intents().len(), 1);
        assert_eq!(stand_in.requests(), 3);
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn injected_failures_change_nothing_and_are_not_stored() {
        let (stand_in, api) = start();
        stand_in.fail_next(2, 503);
        let form = [("amount", "100"), ("currency", "cad")];
        for _ in 0..2 {
            let (status, body) = api.post("/v1/payment_intents", &form, Some("retry-me")).await;
            assert_eq!((status, body["error"]["type"].as_str()), (503, Some("api_error")));
        }
        assert!(stand_in.intents().is_empty());
        let (status, headers, _) = api.post_full("/v1/payment_intents", &form, Some("retry-me")).await;
        assert_eq!(status, 200);
        assert!(headers.get("Idempotent-Replayed").is_none(), "processed, not replayed");
        assert_eq!(stand_in.intents().len(), 1);
        assert_eq!(stand_in.requests(), 3);
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn latency_makes_clients_time_out_after_the_work_is_done() {
        let (stand_in, api) = start();
        stand_in.set_latency(Duration::from_millis(500));
        let impatient = reqwest::Client::builder().timeout(Duration::from_millis(100)).build().unwrap();
        let form = [("amount", "100"), ("currency", "cad")];
        let err = impatient
            .post(format!("{}/v1/payment_intents", api.base))
            .bearer_auth(&api.key)
            .header("Idempotency-Key", "slow")
            .form(&form)
            .send()
            .await
            .expect_err("times out");
        assert!(err.is_timeout());
        assert_eq!(stand_in.intents().len(), 1, "the request was carried out");
        stand_in.set_latency(Duration::ZERO);
        let (status, headers, body) = api.post_full("/v1/payment_intents", &form, Some("slow")).await;
        assert_eq!(status, 200);
        assert_eq!(headers.get("Idempotent-Replayed").and_then(|v| v.to_str().ok()), Some("true"));
        assert_eq!(body["id"], stand_in.intents()[0]["id"]);
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn webhooks_are_signed_and_retried_until_accepted() {
        let (stand_in, api) = start();
        let receiver = Receiver::start(1);
        stand_in.set_webhook_url(&receiver.url);
        let pi = api.create("12500").await;
        api.confirm(&id(&pi), "pm_card_visa").await;
        // Three events; whichever arrived first was refused once and retried.
        eventually("three accepted deliveries", || receiver.count() == 3).await;
        let mut delivered = receiver.verified_ids(&stand_in.config().webhook_secret);
        delivered.sort();
        let mut created: Vec<String> = stand_in.events().iter().map(id).collect();
        created.sort();
        assert_eq!(delivered, created);
        let event = &stand_in.events()[2];
        assert_eq!((event["api_version"].as_str(), event["livemode"].as_bool()), (Some(API_VERSION), Some(false)));
        assert_eq!(event["data"]["object"]["status"], "succeeded");
        assert_eq!(api.get(&format!("/v1/events/{}", id(event))).await, (200, event.clone()));
        receiver.server.stop(false).await;
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn twice_delivers_every_event_twice() {
        let (stand_in, api) = start();
        let receiver = Receiver::start(0);
        stand_in.set_webhook_url(&receiver.url);
        stand_in.set_delivery(Delivery::Twice);
        let pi = api.create("100").await;
        api.confirm(&id(&pi), "pm_card_visa").await;
        eventually("six deliveries", || receiver.count() == 6).await;
        let delivered = receiver.verified_ids(&stand_in.config().webhook_secret);
        for event in stand_in.events() {
            assert_eq!(delivered.iter().filter(|d| **d == id(&event)).count(), 2);
        }
        receiver.server.stop(false).await;
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn hold_keeps_events_until_delivered() {
        let (stand_in, api) = start();
        let receiver = Receiver::start(0);
        stand_in.set_webhook_url(&receiver.url);
        stand_in.set_delivery(Delivery::Hold);
        let pi = api.create("100").await;
        stand_in.confirm(&id(&pi), "pm_card_visa").await;
        let held = stand_in.held_events();
        let kinds: Vec<&str> = held.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.count(), 0);
        let succeeded = id(&held[2]);
        assert_eq!(stand_in.deliver(&succeeded).await, Some(200));
        assert_eq!(receiver.verified_ids(&stand_in.config().webhook_secret), [succeeded]);
        assert_eq!(stand_in.held_events().len(), 2);
        assert_eq!(stand_in.deliver("evt_unknown").await, None);
        stand_in.set_delivery(Delivery::Normal);
        assert_eq!(stand_in.held_events().len(), 2, "still held after the mode changes");
        receiver.server.stop(false).await;
        stand_in.stop().await;
    }

    #[test]
    fn form_keys_and_basic_auth() {
        assert_eq!(parse_key("metadata[booking_id]"), Some(vec!["metadata", "booking_id"]));
        assert_eq!(parse_key("expand[]"), Some(vec!["expand", ""]));
        for bad in ["", "[a]", "a[b", "a]b", "a[][b]", "a[b]c"] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
        assert_eq!(base64_decode("c2tfdGVzdF94eXo6").as_deref(), Some(&b"sk_test_xyz:"[..]));
        assert_eq!(api_key_from_authorization("Basic c2tfdGVzdF94eXo6").as_deref(), Some("sk_test_xyz"));
        assert_eq!(base64_decode("a"), None);
        assert_eq!(redact_key("sk_test_abcdefgh"), "sk_test_****efgh");
        assert_eq!(redact_key("x"), "****");
    }

    #[actix_web::test]
    async fn start_needs_no_fixed_port_and_stops() {
        let (a, _) = start();
        let (b, _) = start();
        assert_ne!(a.base_url(), b.base_url());
        assert!(a.config().secret_key.starts_with("sk_test_") && a.config().webhook_secret.starts_with("whsec_"));
        a.stop().await;
        b.stop().await;
    }
}
