//! A local stand-in for SendGrid's mail send API, for tests and machines that cannot (or must not)
//! reach SendGrid.
//!
//! It serves `POST /v3/mail/send` in SendGrid's wire format: `Authorization: Bearer <key>`, the v3
//! JSON body, `202 Accepted` with an `X-Message-Id` header, and `{"errors":[{"message","field",
//! "help"}]}` bodies with SendGrid's statuses and messages. The body is checked the way SendGrid
//! checks the parts the app sends (personalizations, addresses, from, subject, content and its
//! order, attachments and their bare media type, string custom arguments), so a malformed request
//! fails here rather than in production.
//!
//! The unpleasant parts of a remote API can be forced: scripted answers
//! ([`SendGridStandIn::script`]: 429, 5xx, 400…) and slow answers ([`SendGridStandIn::set_latency`]).

mod validate;

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::header::AUTHORIZATION;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures::StreamExt;
use rand::distr::Alphanumeric;
use rand::Rng;
use serde_json::{json, Value};

/// SendGrid refuses messages above 30 MB.
const MAX_BODY_BYTES: usize = 30 * 1024 * 1024;
/// What SendGrid answers a missing or wrong API key.
const UNAUTHORIZED: &str = "The provided authorization grant is invalid, expired, or revoked";
/// The rate limit announced in 429 answers' headers.
const RATE_LIMIT: u32 = 600;

/// A running stand-in. Cheap to clone; all clones share the same server and state.
#[derive(Clone)]
pub struct SendGridStandIn {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: ServerHandle,
}

impl SendGridStandIn {
    /// Binds 127.0.0.1 on a free port and serves in the background (one worker), accepting
    /// `api_key` as the only valid key.
    ///
    /// Must be called inside an actix System (e.g. `#[actix_web::test]` or `#[actix_web::main]`):
    /// the server is spawned on it.
    pub fn start(api_key: &str) -> io::Result<Self> {
        if actix_rt::System::try_current().is_none() {
            return Err(io::Error::other("SendGridStandIn::start must be called inside an actix System"));
        }
        let shared = Arc::new(Shared {
            api_key: api_key.to_owned(),
            inner: Mutex::new(Inner { script: VecDeque::new(), latency: Duration::ZERO, received: Vec::new() }),
            requests: AtomicUsize::new(0),
        });
        let (addr, handle) = super::server::serve_on_loopback(shared.clone(), |cfg| {
            cfg.default_service(web::to(serve));
        })?;
        Ok(Self { shared, addr, server: handle })
    }

    /// `http://127.0.0.1:PORT`, to use in place of `https://api.sendgrid.com`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next requests (any request, before its key or body is looked at) answer these statuses
    /// in order, then requests are handled normally again. A scripted 2xx means "handle normally";
    /// any other status is answered with SendGrid's body for it, and the mail is not accepted.
    /// Replaces what was left of a previous script.
    pub fn script(&self, statuses: &[u16]) {
        self.shared.lock().script = statuses.iter().copied().collect();
    }

    /// Every request is handled at once but answered only after `d`. A client that times out
    /// meanwhile may have had its mail accepted without knowing it (as with the real SendGrid).
    pub fn set_latency(&self, d: Duration) {
        self.shared.lock().latency = d;
    }

    /// The body of every accepted (202) request, oldest first.
    pub fn received(&self) -> Vec<Value> {
        self.shared.lock().received.clone()
    }

    /// HTTP requests received, whatever their outcome.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Stops the server, letting in-flight requests finish for up to a second.
    pub async fn stop(&self) {
        self.server.stop(true).await;
    }
}

struct Shared {
    api_key: String,
    inner: Mutex<Inner>,
    requests: AtomicUsize,
}

struct Inner {
    script: VecDeque<u16>,
    latency: Duration,
    received: Vec<Value>,
}

impl Shared {
    /// Every mutation is complete before anything that could panic, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// An answer before it becomes an HTTP response.
struct Reply {
    status: StatusCode,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// SendGrid's error body: one entry per problem.
    fn errors(status: StatusCode, errors: Vec<Value>) -> Self {
        Self { status, body: Some(json!({ "errors": errors })), headers: Vec::new() }
    }

    fn error(status: StatusCode, message: &str) -> Self {
        Self::errors(status, vec![error(message, None)])
    }

    fn into_response(self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        for (name, value) in self.headers {
            builder.insert_header((name, value));
        }
        match self.body {
            Some(body) => builder.content_type("application/json").body(body.to_string()),
            None => builder.finish(),
        }
    }
}

/// One entry of SendGrid's `errors` list.
fn error(message: &str, field: Option<&str>) -> Value {
    json!({"message": message, "field": field, "help": null})
}

async fn serve(req: HttpRequest, payload: web::Payload, shared: web::Data<Shared>) -> HttpResponse {
    let shared = shared.into_inner();
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let body = read_body(payload).await;
    let (scripted, latency) = {
        let mut inner = shared.lock();
        (inner.script.pop_front(), inner.latency)
    };
    let reply = answer(&shared, &req, body, scripted);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    reply.into_response()
}

async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, Reply> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Reply::error(StatusCode::BAD_REQUEST, &format!("Could not read the request body: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(Reply::error(StatusCode::PAYLOAD_TOO_LARGE, "The message size must not exceed 30 MB."));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn answer(shared: &Shared, req: &HttpRequest, body: Result<Vec<u8>, Reply>, scripted: Option<u16>) -> Reply {
    if let Some(status) = scripted.filter(|s| !(200..300).contains(s)) {
        return scripted_reply(status);
    }
    let key = req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if key.map(str::trim) != Some(shared.api_key.as_str()) || shared.api_key.is_empty() {
        return Reply::error(StatusCode::UNAUTHORIZED, UNAUTHORIZED);
    }
    if req.path() != "/v3/mail/send" {
        return Reply::error(StatusCode::NOT_FOUND, "not found");
    }
    if req.method() != Method::POST {
        return Reply::error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    let body = match body {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let Ok(message) = serde_json::from_slice::<Value>(&body) else {
        return Reply::error(StatusCode::BAD_REQUEST, "Bad Request");
    };
    let problems = validate::validate(&message);
    if !problems.is_empty() {
        return Reply::errors(StatusCode::BAD_REQUEST, problems);
    }
    shared.lock().received.push(message);
    Reply { status: StatusCode::ACCEPTED, body: None, headers: vec![("X-Message-Id", message_id())] }
}

/// What SendGrid answers with these statuses.
fn scripted_reply(status: u16) -> Reply {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match code.as_u16() {
        400 => Reply::errors(
            code,
            vec![json!({"message": "The to email does not contain a valid address.", "field": "personalizations.0.to.0.email"})],
        ),
        401 => Reply::error(code, UNAUTHORIZED),
        403 => Reply::error(code, "access forbidden"),
        413 => Reply::error(code, "The message size must not exceed 30 MB."),
        429 => {
            let mut reply = Reply::errors(code, vec![json!({"field": null, "message": "too many requests"})]);
            let reset = chrono::Utc::now().timestamp() + 60;
            reply.headers = vec![
                ("X-RateLimit-Limit", RATE_LIMIT.to_string()),
                ("X-RateLimit-Remaining", "0".to_owned()),
                ("X-RateLimit-Reset", reset.to_string()),
            ];
            reply
        }
        500 => Reply::error(code, "An internal server error occurred. Please try again later."),
        502 => Reply::error(code, "Bad Gateway"),
        503 => Reply::error(code, "Service Unavailable. Please try again later."),
        504 => Reply::error(code, "Gateway Timeout"),
        _ => Reply::error(code, code.canonical_reason().unwrap_or("error")),
    }
}

/// Shaped like SendGrid's: 22 URL-safe characters.
fn message_id() -> String {
    rand::rng().sample_iter(Alphanumeric).take(22).map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EmailKind, Language};
    use crate::email::sendgrid::{request_body, SendGridTransport};
    use crate::email::transport::{Attachment, EmailTransport, OutgoingEmail, TransportError};

    const KEY: &str = "SG.test-key.stand-in";

    fn sample() -> OutgoingEmail {
        OutgoingEmail {
            campaign_id: 7,
            kind: EmailKind::Confirmation,
            language: Language::En,
            to: "sam@example.com".into(),
            to_name: Some("Sam Lee".into()),
            from: "tickets@example.org".into(),
            from_name: "ACT Masterclass".into(),
            subject: "You're booked".into(),
            html: "<p>See you in Vancouver.</p>".into(),
            text: "See you in Vancouver.".into(),
            attachments: vec![Attachment {
                filename: "masterclass.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
                bytes: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
            }],
        }
    }

    fn transport(stand_in: &SendGridStandIn, key: &str) -> SendGridTransport {
        SendGridTransport::new(&stand_in.base_url(), key.to_owned(), Duration::from_secs(5))
    }

    #[actix_web::test]
    async fn accepts_a_well_formed_mail() {
        let stand_in = SendGridStandIn::start(KEY).unwrap();
        let transport = transport(&stand_in, KEY);
        assert_eq!(transport.name(), "sendgrid");
        let email = sample();
        let id = transport.send(&email).await.unwrap();
        assert_eq!(id.len(), 22);
        assert_eq!(stand_in.received(), vec![request_body(&email)]);
        assert_eq!(stand_in.received()[0]["personalizations"][0]["custom_args"], json!({"campaign_id": "7", "kind": "confirmation"}));
        assert_eq!(stand_in.requests(), 1);
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn scripted_answers_map_to_transient_or_permanent() {
        let stand_in = SendGridStandIn::start(KEY).unwrap();
        let transport = transport(&stand_in, KEY);
        stand_in.script(&[429, 202, 400, 503, 500, 413]);
        match transport.send(&sample()).await {
            Err(TransportError::Transient(m)) => assert!(m.contains("429") && m.contains("too many requests"), "{m}"),
            other => panic!("429: {other:?}"),
        }
        assert!(transport.send(&sample()).await.is_ok(), "a scripted 202 is handled normally");
        match transport.send(&sample()).await {
            Err(TransportError::Permanent(m)) => {
                assert!(m.contains("The to email does not contain a valid address. (personalizations.0.to.0.email)"), "{m}")
            }
            other => panic!("400: {other:?}"),
        }
        assert!(matches!(transport.send(&sample()).await, Err(TransportError::Transient(m)) if m.contains("503")));
        assert!(matches!(transport.send(&sample()).await, Err(TransportError::Transient(m)) if m.contains("500")));
        assert!(matches!(transport.send(&sample()).await, Err(TransportError::Permanent(m)) if m.contains("413")));
        assert!(transport.send(&sample()).await.is_ok(), "after the script, 202");
        assert_eq!(stand_in.requests(), 7);
        assert_eq!(stand_in.received().len(), 2, "only accepted requests are kept");
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn a_wrong_key_is_permanent() {
        let stand_in = SendGridStandIn::start(KEY).unwrap();
        match transport(&stand_in, "SG.wrong").send(&sample()).await {
            Err(TransportError::Permanent(m)) => assert!(m.contains("401") && m.contains(UNAUTHORIZED), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(stand_in.received().is_empty());
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn a_slow_answer_is_a_transient_timeout() {
        let stand_in = SendGridStandIn::start(KEY).unwrap();
        stand_in.set_latency(Duration::from_millis(1500));
        let transport = SendGridTransport::new(&stand_in.base_url(), KEY.to_owned(), Duration::from_millis(200));
        match transport.send(&sample()).await {
            Err(TransportError::Transient(m)) => assert!(m.contains("did not answer"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Accepted all the same: the case the dispatcher's retry must live with.
        assert_eq!(stand_in.received().len(), 1);
        stand_in.set_latency(Duration::ZERO);
        assert!(transport.send(&sample()).await.is_ok());
        stand_in.stop().await;
    }

    #[actix_web::test]
    async fn no_server_is_transient() {
        let stand_in = SendGridStandIn::start(KEY).unwrap();
        let transport = transport(&stand_in, KEY);
        stand_in.stop().await;
        assert!(matches!(transport.send(&sample()).await, Err(TransportError::Transient(_))));
    }

    #[actix_web::test]
    async fn checks_the_body_like_sendgrid() {
        let stand_in = SendGridStandIn::start(KEY).unwrap();
        let http = reqwest::Client::new();
        let url = format!("{}/v3/mail/send", stand_in.base_url());
        let post = |body: Value| http.post(&url).bearer_auth(KEY).json(&body).send();

        let response = post(json!({})).await.unwrap();
        assert_eq!(response.status(), 400);
        let errors: Value = response.json().await.unwrap();
        let fields: Vec<&str> = errors["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["personalizations", "from", "subject", "content"]);

        let mut body = request_body(&sample());
        body["attachments"][0]["type"] = json!("text/calendar; method=PUBLISH");
        body["personalizations"][0]["to"][0]["email"] = json!("not an address");
        body["personalizations"][0]["custom_args"]["campaign_id"] = json!(7);
        body["content"] = json!([{"type": "text/html", "value": "<p>x</p>"}, {"type": "text/plain", "value": "x"}]);
        let errors: Value = post(body).await.unwrap().json().await.unwrap();
        let fields: Vec<&str> = errors["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(
            fields,
            ["personalizations.0.to.0.email", "personalizations.0.custom_args.campaign_id", "content", "attachments.0.type"]
        );
        assert_eq!(errors["errors"][3]["message"], "The attachment type cannot contain ';', or CRLF characters.");

        let response = http.post(&url).body("{").bearer_auth(KEY).send().await.unwrap();
        assert_eq!(response.status(), 400);

        let response = http.post(&url).json(&request_body(&sample())).send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"errors": [{"message": UNAUTHORIZED, "field": null, "help": null}]}));

        let response = http.get(format!("{}/v3/other", stand_in.base_url())).bearer_auth(KEY).send().await.unwrap();
        assert_eq!(response.status(), 404);

        let response = post(request_body(&sample())).await.unwrap();
        assert_eq!(response.status(), 202);
        assert_eq!(response.headers()["x-message-id"].len(), 22);
        assert_eq!(stand_in.received().len(), 1);
        assert_eq!(stand_in.requests(), 6);
        stand_in.stop().await;
    }
}
