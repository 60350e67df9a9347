//! HTTP: one entry point for every request (counting, latency, injected failures,
//! authentication, idempotency), the route table, and Stripe's error bodies.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures::StreamExt;
use serde_json::{json, Map, Value};

use super::form::{parse_form, Params};
use super::intents::{cancel_intent, confirm_intent, create_intent};
use super::objects::{random_alnum, to_json, PaymentIntent};
use super::refunds::create_refund;
use super::state::{Inner, Origin, Shared, StoredResponse};
use super::API_VERSION;

/// Request bodies above this are refused (Stripe's requests are a few hundred bytes).
pub(super) const MAX_BODY_BYTES: usize = 1 << 20;
pub(super) const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// An answer before it becomes an HTTP response.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) body: Value,
    /// Whether an idempotency key records this answer. Stripe stores a result only once the
    /// endpoint has started executing: not for parameter validation failures or unknown objects.
    pub(super) store: bool,
}

impl Reply {
    pub(super) fn ok(body: Value) -> Self {
        Self { status: StatusCode::OK, body, store: true }
    }

    pub(super) fn error(status: StatusCode, kind: &str, code: Option<&str>, message: impl Into<String>, param: Option<&str>) -> Self {
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
    pub(super) fn invalid(code: Option<&str>, param: Option<&str>, message: impl Into<String>) -> Self {
        Self::error(StatusCode::BAD_REQUEST, "invalid_request_error", code, message, param).not_stored()
    }

    pub(super) fn not_stored(mut self) -> Self {
        self.store = false;
        self
    }

    /// Adds a field next to `type`/`message` (e.g. the PaymentIntent on a card error).
    pub(super) fn with(mut self, key: &str, value: Value) -> Self {
        if let Some(error) = self.body.get_mut("error").and_then(Value::as_object_mut) {
            error.insert(key.into(), value);
        }
        self
    }
}

/// Every request goes through here, so that counting, latency, injected failures, authentication
/// and idempotency apply uniformly, and even unknown routes answer in Stripe's format.
pub(super) async fn serve(req: HttpRequest, payload: web::Payload, shared: web::Data<Shared>) -> HttpResponse {
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

pub(super) async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, Reply> {
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

pub(super) fn answer(shared: &Arc<Shared>, req: &HttpRequest, body: Result<Vec<u8>, Reply>, request_id: &str) -> HttpResponse {
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

pub(super) fn idempotency_key(headers: &HeaderMap, is_post: bool) -> Result<Option<String>, Reply> {
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

pub(super) fn respond(reply: Reply, request_id: &str, idempotency_key: Option<&str>, replay_of: Option<&str>) -> HttpResponse {
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
pub(super) enum Route<'a> {
    CreateIntent,
    GetIntent(&'a str),
    ConfirmIntent(&'a str),
    CancelIntent(&'a str),
    CreateRefund,
    GetRefund(&'a str),
    GetCharge(&'a str),
    GetEvent(&'a str),
}

pub(super) fn route<'a>(method: &str, path: &'a str) -> Option<Route<'a>> {
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

pub(super) fn handle(inner: &mut Inner, route: Route<'_>, params: &Params, origin: &Origin) -> Reply {
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
pub(super) fn no_such(kind: &str, id: &str, status: StatusCode, param: &str) -> Reply {
    let message = format!("No such {kind}: '{id}'");
    Reply::error(status, "invalid_request_error", Some("resource_missing"), message, Some(param)).not_stored()
}

pub(super) fn no_such_intent(id: &str, status: StatusCode, param: &str) -> Reply {
    no_such("payment_intent", id, status, param)
}

/// A request that is valid but not in the object's current state (stored: the endpoint ran).
pub(super) fn unexpected_state(message: String, intent: &PaymentIntent) -> Reply {
    Reply::error(StatusCode::BAD_REQUEST, "invalid_request_error", Some("payment_intent_unexpected_state"), message, None)
        .with("payment_intent", to_json(intent))
}
