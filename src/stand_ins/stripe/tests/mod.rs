//! The stand-in spoken to over HTTP, as a Stripe client would.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::auth::{api_key_from_authorization, base64_decode, redact_key};
use super::form::parse_key;
use super::objects::now_unix;
use super::webhooks::WEBHOOK_USER_AGENT;
use super::{Delivery, StandInConfig, StripeStandIn, API_VERSION};
use crate::payments::signature::verify;

mod schema;

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
                verify(r.signature.as_deref(), &r.body, secret, now).expect("valid Stripe-Signature");
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
    let form = [("amount", "12500"), ("currency", "CAD"), ("metadata[booking_id]", "b-42"), ("automatic_payment_methods[enabled]", "true")];
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
    assert_eq!((status, body["error"]["code"].as_str(), body["error"]["param"].as_str()), (400, Some("parameter_missing"), Some("amount")));
    let (status, body) = api.post("/v1/payment_intents", &[("amount", "12.5"), ("currency", "cad")], Some("k")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("parameter_invalid_integer")), "a validation error is not stored");
    let (status, body) = api.post("/v1/payment_intents", &[("amount", "0"), ("currency", "cad")], None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("parameter_invalid_integer")));
    let (status, body) = api.post("/v1/payment_intents", &[("amount", "100"), ("currency", "cad"), ("colour", "red")], None).await;
    assert_eq!((status, body["error"]["code"].as_str(), body["error"]["param"].as_str()), (400, Some("parameter_unknown"), Some("colour")));
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
    assert_eq!((charge["amount"].as_i64(), charge["paid"].as_bool(), charge["refunded"].as_bool()), (Some(12500), Some(true), Some(false)));
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
    let (status, body) = api.post(&format!("/v1/payment_intents/{}/cancel", id(&pi)), &[("cancellation_reason", "abandoned")], None).await;
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
    let (status, refund) = api.post("/v1/refunds", &[("payment_intent", &id(&pi)), ("reason", "requested_by_customer")], Some("r-1")).await;
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
    let (status, again) = api.post("/v1/refunds", &[("payment_intent", &id(&pi)), ("reason", "requested_by_customer")], Some("r-1")).await;
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
