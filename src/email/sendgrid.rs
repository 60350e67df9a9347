//! SendGrid: sending through its v3 HTTP API (`POST /v3/mail/send`), and reading what its Event
//! Webhook reports (signature verification, parsing).
//!
//! The transport makes one attempt per call: the dispatcher decides when to retry (with back-off)
//! from the [`TransportError`] kind. Opens and clicks are tracked by the app itself, so SendGrid's
//! own tracking (which rewrites links and adds a pixel) is switched off in every request.

use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use futures::future::BoxFuture;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;
use serde_json::{json, Map, Value};

use crate::email::transport::{EmailTransport, OutgoingEmail, TransportError};

pub const DEFAULT_BASE_URL: &str = "https://api.sendgrid.com";
/// The Event Webhook's headers, for [`verify_event_webhook`].
pub const SIGNATURE_HEADER: &str = "X-Twilio-Email-Event-Webhook-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Twilio-Email-Event-Webhook-Timestamp";

/// Longest error body quoted in a [`TransportError`] when it is not SendGrid's error JSON.
const MAX_QUOTED_BODY: usize = 300;

/// Sends through SendGrid's v3 mail send API.
pub struct SendGridTransport {
    http: reqwest::Client,
    endpoint: String,
    api_key: String,
    timeout: Duration,
}

impl fmt::Debug for SendGridTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendGridTransport").field("endpoint", &self.endpoint).field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl SendGridTransport {
    /// `base_url` is `https://api.sendgrid.com` in production ([`DEFAULT_BASE_URL`], also used
    /// when it is empty) or a stand-in's URL; `timeout` bounds each whole request (connection,
    /// sending, answer).
    pub fn new(base_url: &str, api_key: String, timeout: Duration) -> Self {
        let base = base_url.trim().trim_end_matches('/');
        let base = if base.is_empty() { DEFAULT_BASE_URL } else { base };
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("billetterie/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|e| {
                // Only a TLS back-end that cannot start makes this fail; the default client would
                // fail the same way, but at least the error is logged.
                tracing::error!(error = %e, "could not configure the SendGrid HTTP client; using defaults");
                reqwest::Client::new()
            });
        Self { http, endpoint: format!("{base}/v3/mail/send"), api_key, timeout }
    }

    async fn send_once(&self, email: &OutgoingEmail) -> Result<String, TransportError> {
        let response = self.http.post(&self.endpoint).bearer_auth(&self.api_key).json(&request_body(email)).send().await.map_err(|e| {
            if e.is_timeout() {
                TransportError::Transient(format!("SendGrid did not answer within {:?}", self.timeout))
            } else if e.is_connect() {
                TransportError::Transient(format!("could not connect to SendGrid: {e}"))
            } else {
                TransportError::Transient(format!("request to SendGrid failed: {e}"))
            }
        })?;
        let status = response.status();
        if status.is_success() {
            let id = response.headers().get("x-message-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
            return Ok(id.to_owned());
        }
        // A body that cannot be read (timeout, reset) leaves the status to decide.
        let body = response.text().await.unwrap_or_default();
        let message = format!("SendGrid answered {}: {}", status.as_u16(), error_messages(&body));
        let code = status.as_u16();
        if status.is_client_error() && code != 429 && code != 408 {
            Err(TransportError::Permanent(message))
        } else {
            // 429, 408, 5xx, and anything unexpected (a 3xx not followed…).
            Err(TransportError::Transient(message))
        }
    }
}

impl EmailTransport for SendGridTransport {
    /// `Ok` carries SendGrid's `X-Message-Id` (empty if it sent none).
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<String, TransportError>> {
        Box::pin(self.send_once(email))
    }

    fn name(&self) -> &'static str {
        "sendgrid"
    }
}

/// The JSON of `POST /v3/mail/send` for one mail.
///
/// `custom_args` carry the campaign id and kind (SendGrid copies them into every event).
/// Attachment types are reduced to the bare media type (`text/calendar`): SendGrid refuses
/// parameters there ("The attachment type cannot contain ';', or CRLF characters.").
/// Empty content blocks are left out (SendGrid refuses them); empty names too.
pub fn request_body(email: &OutgoingEmail) -> Value {
    let mut to = Map::new();
    to.insert("email".into(), json!(email.to));
    if let Some(name) = email.to_name.as_deref().filter(|n| !n.trim().is_empty()) {
        to.insert("name".into(), json!(name));
    }
    let mut from = Map::new();
    from.insert("email".into(), json!(email.from));
    if !email.from_name.trim().is_empty() {
        from.insert("name".into(), json!(email.from_name));
    }
    let content: Vec<Value> = [("text/plain", &email.text), ("text/html", &email.html)]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(kind, value)| json!({"type": kind, "value": value}))
        .collect();
    let mut body = json!({
        "personalizations": [{
            "to": [to],
            "custom_args": {"campaign_id": email.campaign_id.to_string(), "kind": email.kind.as_str()},
        }],
        "from": from,
        "subject": email.subject,
        "content": content,
        "headers": {"Content-Language": email.language.as_str()},
        "tracking_settings": {"click_tracking": {"enable": false}, "open_tracking": {"enable": false}},
    });
    if !email.attachments.is_empty() {
        let attachments: Vec<Value> = email
            .attachments
            .iter()
            .map(|a| {
                let media_type = a.content_type.split(';').next().unwrap_or_default().trim();
                let media_type = if media_type.is_empty() { "application/octet-stream" } else { media_type };
                json!({
                    "content": STANDARD.encode(&a.bytes),
                    "type": media_type,
                    "filename": a.filename,
                    "disposition": "attachment",
                })
            })
            .collect();
        body["attachments"] = Value::Array(attachments);
    }
    body
}

/// SendGrid's `{"errors":[{"message","field"}]}` as `message (field); message…`, or the start of
/// whatever else the body was.
fn error_messages(body: &str) -> String {
    let parsed: Option<Vec<String>> = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        let errors = v.get("errors")?.as_array()?;
        Some(
            errors
                .iter()
                .filter_map(|e| {
                    let message = e.get("message")?.as_str()?;
                    Some(match e.get("field").and_then(Value::as_str) {
                        Some(field) if !field.is_empty() => format!("{message} ({field})"),
                        _ => message.to_owned(),
                    })
                })
                .collect(),
        )
    });
    match parsed {
        Some(messages) if !messages.is_empty() => messages.join("; "),
        _ if body.trim().is_empty() => "no details".to_owned(),
        _ => body.chars().take(MAX_QUOTED_BODY).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Event Webhook

/// Whether an Event Webhook request is SendGrid's: an ECDSA P-256 / SHA-256 signature over the
/// timestamp header's bytes followed by the raw body.
///
/// - `public_key`: the verification key from SendGrid's settings, base64 of the DER
///   SubjectPublicKeyInfo (a PEM block is accepted too);
/// - `signature_b64`: the [`SIGNATURE_HEADER`], base64 of a DER ECDSA signature;
/// - `timestamp`: the [`TIMESTAMP_HEADER`], exactly as received;
/// - `body`: the request body exactly as received (before any JSON parsing).
///
/// Anything malformed is `false`. This does not judge the timestamp's age: refusing stale
/// requests (replays) is the caller's choice.
pub fn verify_event_webhook(public_key: &str, signature_b64: &str, timestamp: &str, body: &[u8]) -> bool {
    let Some(key) = parse_public_key(public_key) else {
        return false;
    };
    let Ok(signature) = STANDARD.decode(signature_b64.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::from_der(&signature) else {
        return false;
    };
    let mut signed = Vec::with_capacity(timestamp.len() + body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.extend_from_slice(body);
    key.verify(&signed, &signature).is_ok()
}

fn parse_public_key(public_key: &str) -> Option<VerifyingKey> {
    let base64: String = public_key
        .lines()
        .filter(|line| !line.trim_start().starts_with("-----"))
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD.decode(base64).ok()?;
    VerifyingKey::from_public_key_der(&der).ok()
}

/// One event of an Event Webhook batch, reduced to what the app uses. Fields SendGrid did not send
/// (or sent with an unusable value) are `None`; other fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendGridEvent {
    /// `processed`, `delivered`, `open`, `click`, `bounce`, `dropped`, `deferred`, `spamreport`,
    /// `unsubscribe`, `group_unsubscribe`, `group_resubscribe`… (empty if missing).
    pub event: String,
    /// The `campaign_id` custom argument (SendGrid puts custom arguments at the top level of each
    /// event, as strings; a number is accepted too).
    pub campaign_id: Option<i64>,
    pub email: Option<String>,
    /// Unix seconds.
    pub timestamp: Option<i64>,
    /// The link clicked (`click` events).
    pub url: Option<String>,
    /// Why (`bounce`, `dropped`: `reason`; `deferred`: its `response`, when there is no `reason`).
    pub reason: Option<String>,
}

/// Parses an Event Webhook body (a JSON array of event objects). Only a body that is not an array
/// of objects is an error: odd field values give `None` rather than losing the whole batch.
pub fn parse_events(body: &[u8]) -> Result<Vec<SendGridEvent>, serde_json::Error> {
    let objects: Vec<Map<String, Value>> = serde_json::from_slice(body)?;
    Ok(objects.iter().map(event_from).collect())
}

fn event_from(object: &Map<String, Value>) -> SendGridEvent {
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    let integer = |key: &str| match object.get(key)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    SendGridEvent {
        event: text("event").unwrap_or_default(),
        campaign_id: integer("campaign_id"),
        email: text("email"),
        timestamp: integer("timestamp"),
        url: text("url"),
        reason: text("reason").or_else(|| text("response")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer as _;
    use p256::ecdsa::SigningKey;
    use p256::pkcs8::EncodePublicKey as _;

    fn sample() -> OutgoingEmail {
        OutgoingEmail::sample()
    }

    #[test]
    fn the_request_body_is_sendgrids_v3_json() {
        let body = request_body(&sample());
        assert_eq!(
            body,
            json!({
                "personalizations": [{
                    "to": [{"email": "zoe@example.ca", "name": "Zoé Tremblay"}],
                    "custom_args": {"campaign_id": "42", "kind": "j_minus_1"},
                }],
                "from": {"email": "billets@example.org", "name": "Équipe ACT"},
                "subject": "C'est demain !",
                "content": [{"type": "text/plain", "value": "À demain !"}, {"type": "text/html", "value": "<p>À demain !</p>"}],
                "headers": {"Content-Language": "fr"},
                "attachments": [{
                    "content": STANDARD.encode(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
                    "type": "text/calendar",
                    "filename": "masterclass.ics",
                    "disposition": "attachment",
                }],
                "tracking_settings": {"click_tracking": {"enable": false}, "open_tracking": {"enable": false}},
            })
        );
        let bare = request_body(&OutgoingEmail { to_name: None, attachments: vec![], text: String::new(), ..sample() });
        assert_eq!(bare["personalizations"][0]["to"], json!([{"email": "zoe@example.ca"}]));
        assert!(bare.get("attachments").is_none());
        assert_eq!(bare["content"], json!([{"type": "text/html", "value": "<p>À demain !</p>"}]));
    }

    #[test]
    fn error_bodies_are_summarized() {
        let body = concat!(
            r#"{"errors":[{"message":"The to email does not contain a valid address.","field":"personalizations.0.to.0.email","#,
            r#""help":"http://sendgrid.com/docs"},{"message":"too many requests","field":null}]}"#
        );
        assert_eq!(
            error_messages(body),
            "The to email does not contain a valid address. (personalizations.0.to.0.email); too many requests"
        );
        assert_eq!(error_messages(""), "no details");
        assert_eq!(error_messages("<html>Bad gateway</html>"), "<html>Bad gateway</html>");
    }

    fn new_key() -> SigningKey {
        loop {
            // A random scalar is valid unless zero or ≥ the group order (probability ~2⁻³²).
            if let Ok(key) = SigningKey::from_slice(&rand::random::<[u8; 32]>()) {
                return key;
            }
        }
    }

    fn public_key_b64(key: &SigningKey) -> String {
        STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes())
    }

    fn sign(key: &SigningKey, timestamp: &str, body: &[u8]) -> String {
        let mut signed = timestamp.as_bytes().to_vec();
        signed.extend_from_slice(body);
        let signature: Signature = key.sign(&signed);
        STANDARD.encode(signature.to_der().as_bytes())
    }

    #[test]
    fn verifies_signatures_made_with_the_matching_key() {
        let key = new_key();
        let public_key = public_key_b64(&key);
        let body = br#"[{"email":"zoe@example.ca","event":"delivered","campaign_id":"42","timestamp":1764000000}]"#;
        let timestamp = "1764000003";
        let signature = sign(&key, timestamp, body);
        assert!(verify_event_webhook(&public_key, &signature, timestamp, body));
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{public_key}\n-----END PUBLIC KEY-----\n");
        assert!(verify_event_webhook(&pem, &signature, timestamp, body), "PEM accepted too");

        assert!(!verify_event_webhook(&public_key, &signature, timestamp, &body[1..]), "wrong body");
        assert!(!verify_event_webhook(&public_key, &signature, "1764000004", body), "wrong timestamp");
        assert!(!verify_event_webhook(&public_key_b64(&new_key()), &signature, timestamp, body), "wrong key");
        assert!(!verify_event_webhook(&public_key, "not base64!", timestamp, body), "garbage signature");
        assert!(!verify_event_webhook(&public_key, &STANDARD.encode(b"not DER"), timestamp, body), "not a DER signature");
        assert!(!verify_event_webhook("garbage", &signature, timestamp, body), "garbage key");
        assert!(!verify_event_webhook(&STANDARD.encode(b"not DER"), &signature, timestamp, body), "not a DER key");
        assert!(!verify_event_webhook(&public_key, "", timestamp, body));
        assert!(!verify_event_webhook("", &signature, timestamp, body));
        // The raw 64-byte r‖s form is not what SendGrid sends: refused.
        let mut signed = timestamp.as_bytes().to_vec();
        signed.extend_from_slice(body);
        let raw: Signature = key.sign(&signed);
        assert!(!verify_event_webhook(&public_key, &STANDARD.encode(raw.to_bytes()), timestamp, body));
    }

    /// The test vector SendGrid's own libraries check against.
    #[test]
    fn verifies_sendgrids_published_example() {
        let public_key =
            "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
        let signature = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=";
        let body = br#"{"category":"example_payload","event":"test_event","message_id":"message_id"}"#;
        assert!(verify_event_webhook(public_key, signature, "1588788367", body));
        assert!(!verify_event_webhook(public_key, signature, "1588788368", body));

        // A real batch as SendGrid posts it: note the CRLF that ends the body, which is signed.
        let public_key =
            "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
        let signature = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=";
        let body = concat!(
            r#"[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address","#,
            r#""sg_event_id":"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA","#,
            r#""sg_message_id":"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0","#,
            r#""smtp-id":"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]"#,
            "\r\n"
        );
        assert!(verify_event_webhook(public_key, signature, "1600112502", body.as_bytes()));
        assert!(!verify_event_webhook(public_key, signature, "1600112502", body.trim_end().as_bytes()), "the CRLF is signed");
        let events = parse_events(body.as_bytes()).unwrap();
        assert_eq!(events[0].event, "dropped");
        assert_eq!(events[0].reason.as_deref(), Some("Bounced Address"));
    }

    #[test]
    fn parses_a_sendgrid_batch() {
        let body = br#"[
          {"email":"zoe@example.ca","timestamp":1764000000,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"processed",
           "category":["billetterie"],"sg_event_id":"rbtnWrG1DVDGGGFHFyun0A","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
           "campaign_id":"42","kind":"confirmation"},
          {"email":"zoe@example.ca","timestamp":1764000005,"event":"delivered","ip":"168.1.1.1","response":"250 OK",
           "sg_event_id":"sZROwMGMagFgnOEmSdvhig","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","campaign_id":"42","kind":"confirmation"},
          {"email":"zoe@example.ca","timestamp":1764000100,"event":"open","sg_machine_open":false,"useragent":"Mozilla/4.0","ip":"255.255.255.255",
           "campaign_id":"42"},
          {"email":"zoe@example.ca","timestamp":1764000200,"event":"click","url":"https://billetterie.example/fr/montreal?utm=mail","url_offset":{"index":0,"type":"html"},
           "campaign_id":"42"},
          {"email":"nobody@example.com","timestamp":1764000006,"event":"bounce","bounce_classification":"Invalid Address","type":"bounce",
           "reason":"550 5.1.1 The email account that you tried to reach does not exist.","status":"5.1.1","campaign_id":"43"},
          {"email":"slow@example.net","timestamp":1764000007,"event":"deferred","response":"400 try again later","attempt":"5","campaign_id":44},
          {"email":"old@example.com","timestamp":"1764000008","event":"dropped","reason":"Bounced Address","status":"5.0.0"},
          {"email":"x@example.com","timestamp":1764000009.5,"event":"spamreport","campaign_id":"not a number"}
        ]"#;
        let events = parse_events(body).unwrap();
        assert_eq!(events.len(), 8);
        assert_eq!(
            events[0],
            SendGridEvent {
                event: "processed".into(),
                campaign_id: Some(42),
                email: Some("zoe@example.ca".into()),
                timestamp: Some(1764000000),
                url: None,
                reason: None,
            }
        );
        assert_eq!(events[1].event, "delivered");
        assert_eq!(events[1].reason.as_deref(), Some("250 OK"));
        assert_eq!(events[2].event, "open");
        assert_eq!(events[3].url.as_deref(), Some("https://billetterie.example/fr/montreal?utm=mail"));
        assert_eq!(events[4].campaign_id, Some(43));
        assert_eq!(events[4].reason.as_deref(), Some("550 5.1.1 The email account that you tried to reach does not exist."));
        assert_eq!(
            (events[5].event.as_str(), events[5].campaign_id, events[5].reason.as_deref()),
            ("deferred", Some(44), Some("400 try again later"))
        );
        assert_eq!((events[6].campaign_id, events[6].timestamp), (None, Some(1764000008)));
        assert_eq!((events[7].event.as_str(), events[7].campaign_id, events[7].timestamp), ("spamreport", None, Some(1764000009)));

        assert_eq!(parse_events(b"[]").unwrap(), vec![]);
        assert!(parse_events(b"{\"event\":\"open\"}").is_err(), "not an array");
        assert!(parse_events(b"[1, 2]").is_err(), "not objects");
        assert!(parse_events(b"[{").is_err());
    }
}
