//! Payments through the Stripe stand-in: same wire format and signatures as Stripe.

use std::sync::Arc;
use std::time::Duration;

use billetterie::payments::signature;
use billetterie::stand_ins::stripe::Delivery;
use futures::future::join_all;
use serde_json::{json, Value};

use crate::concurrency::assert_all_agree;
use crate::helpers::*;

/// Waits for the booking to reach `status`.
async fn until_status(app: &TestApp, reference: &str, status: &str) -> bool {
    eventually(Duration::from_secs(10), async || app.booking_status(reference) == status).await
}

async fn pay(app: &TestApp, reference: &str, card: &str) -> String {
    let (status, intent) = app.create_intent(reference).await;
    assert_eq!(status, 200, "{intent}");
    let id = intent["payment_intent_id"].as_str().unwrap().to_owned();
    app.stripe.confirm(&id, card).await;
    id
}

/// A webhook post signed with the app's endpoint secret (or another).
async fn post_event(app: &TestApp, event: &Value, secret: &str, at: i64) -> (u16, Value) {
    let body = serde_json::to_vec(event).unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("Stripe-Signature", signature::sign(secret, at, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[actix_web::test]
async fn paying_with_a_test_card_confirms_the_booking_through_the_signed_webhook() {
    let app = spawn_app().await;
    let id = app.city_event_of("halifax");
    let (reference, _) = app.held(id, 2).await;
    let (status, intent) = app.create_intent(&reference).await;
    assert_eq!(status, 200, "{intent}");
    assert_eq!(intent["currency"], "CAD");
    assert_eq!(intent["amount_cents"], 2 * 39_500 + 11_060);
    assert!(intent["client_secret"].as_str().unwrap().contains("_secret_"));
    assert!(intent["publishable_key"].as_str().unwrap().starts_with("pk_test_"));

    app.stripe.confirm(intent["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await;
    assert!(until_status(&app, &reference, "confirmed").await);
    // The actor publishes its seat counts when the batch that wrote the confirmation completes,
    // a moment after the row is visible to other readers.
    let counts = async || {
        let a = app.availability(id).await;
        (a["held"].as_i64(), a["sold"].as_i64()) == (Some(0), Some(2))
    };
    assert!(eventually(Duration::from_secs(5), counts).await, "two seats sold, none held");
    assert_eq!(app.db.scalar("SELECT count(*) FROM payments WHERE status = 'succeeded' AND amount_cents = 90060"), 1);
    // The confirmation is claimed just after the seats are confirmed (the booking can show
    // `confirmed` a moment before): once, however long it takes.
    let claimed = async || app.db.scalar("SELECT count(*) FROM email_campaigns WHERE kind = 'confirmation'") == 1;
    assert!(eventually(Duration::from_secs(5), claimed).await, "the confirmation mail is asked for");
    let (_, view) = app.get_json(&format!("/api/v1/bookings/{reference}?email=marie.tremblay@example.ca")).await;
    assert_eq!(view["status"], "confirmed");

    // Paid already: no second intent.
    let (status, err) = app.create_intent(&reference).await;
    assert_eq!(status, 409);
    assert_eq!((err["error"]["code"].as_str(), err["error"]["status"].as_str()), (Some("not_payable"), Some("confirmed")));
    assert_all_agree(&app, id, 2).await;
}

#[actix_web::test]
async fn concurrent_create_intent_calls_yield_one_intent() {
    let app = Arc::new(spawn_app().await);
    let (reference, _) = app.held(app.city_event_of("toronto"), 1).await;
    let calls = (0..12).map(|_| {
        let app = app.clone();
        let reference = reference.clone();
        async move { app.create_intent(&reference).await }
    });
    let results = join_all(calls).await;
    let mut ids: Vec<&str> = results
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, 200, "{b}");
            b["payment_intent_id"].as_str().unwrap()
        })
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 1, "one intent for one booking");
    assert_eq!(app.stripe.intents().len(), 1);
    assert_eq!(app.db.scalar("SELECT count(*) FROM payments"), 1);
}

#[actix_web::test]
async fn a_declined_card_is_recorded_and_the_hold_is_kept() {
    let app = spawn_app().await;
    let id = app.city_event_of("calgary");
    let (reference, _) = app.held(id, 1).await;
    pay(&app, &reference, "pm_card_chargeDeclinedInsufficientFunds").await;
    let recorded = eventually(Duration::from_secs(10), async || {
        app.db.scalar("SELECT count(*) FROM payments WHERE status = 'requires_payment_method' AND last_error IS NOT NULL") == 1
    })
    .await;
    assert!(recorded);
    assert_eq!(app.booking_status(&reference), "held");
    assert_eq!(app.availability(id).await["held"], 1);
    // The buyer can try another card on the same intent.
    let (_, intent) = app.create_intent(&reference).await;
    app.stripe.confirm(intent["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await;
    assert!(until_status(&app, &reference, "confirmed").await);
    assert_eq!(app.stripe.intents().len(), 1);
}

#[actix_web::test]
async fn bookings_that_cannot_be_paid_get_409_with_their_status() {
    let app = spawn_app().await;
    let id = app.city_event_of("quebec");
    let (cancelled, _) = app.held(id, 1).await;
    app.post_json(&format!("/api/v1/bookings/{cancelled}/cancel"), &json!({"email": "marie.tremblay@example.ca"})).await;
    let (status, err) = app.create_intent(&cancelled).await;
    assert_eq!((status, err["error"]["status"].as_str()), (409, Some("cancelled")));

    let (expired, _) = app.held(id, 1).await;
    app.db.execute(&format!("UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE reference = '{expired}'")).unwrap();
    let (status, err) = app.create_intent(&expired).await;
    assert_eq!((status, err["error"]["code"].as_str(), err["error"]["status"].as_str()), (409, Some("not_payable"), Some("expired")));

    let (status, err) = app.post_json("/api/v1/payments/create-intent", &json!({"reference": cancelled, "email": "x@y.ca"})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (404, Some("booking_not_found")));
    let (status, err) = app.post_json("/api/v1/payments/create-intent", &json!({"reference": cancelled})).await;
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("email")));
    assert!(app.stripe.intents().is_empty(), "nothing was created at Stripe");
}

#[actix_web::test]
async fn webhook_signatures_are_checked_on_the_raw_body_and_refusals_change_nothing() {
    let app = spawn_app().await;
    let secret = app.stripe.config().webhook_secret;
    let event = json!({"id": "evt_test_ignored_1", "object": "event", "type": "customer.created", "data": {"object": {}}});
    let (status, err) = post_event(&app, &event, "whsec_wrong", now()).await;
    assert_eq!((status, err["error"]["code"].as_str()), (400, Some("invalid_signature")), "wrong secret");
    let (status, _) = post_event(&app, &event, &secret, now() - 301).await;
    assert_eq!(status, 400, "stale");
    let (status, _) = post_event(&app, &event, &secret, now() + 301).await;
    assert_eq!(status, 400, "from the future");

    // Tampered: signed for one body, another is sent.
    let signed = signature::sign(&secret, now(), b"{\"id\":\"evt_other\"}");
    let res = app
        .client
        .post(app.url("/api/v1/webhooks/stripe"))
        .header("Stripe-Signature", signed)
        .body(serde_json::to_vec(&event).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let res = app.client.post(app.url("/api/v1/webhooks/stripe")).body(serde_json::to_vec(&event).unwrap()).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 400, "no signature");
    assert_eq!(app.db.scalar("SELECT count(*) FROM stripe_events"), 0, "refused events are not recorded");

    // Several v1 values (secret rotation): any match is enough. An unknown type: 2xx, ignored.
    let body = serde_json::to_vec(&event).unwrap();
    let t = now();
    let good = signature::sign(&secret, t, &body);
    let header = format!("t={t},v1={},{}", "ab".repeat(32), good.split(',').nth(1).unwrap());
    let res = app.client.post(app.url("/api/v1/webhooks/stripe")).header("Stripe-Signature", header).body(body).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let (status, ack) = post_event(&app, &event, &secret, now()).await;
    assert_eq!((status, ack["duplicate"].as_bool()), (200, Some(true)), "a replay is acknowledged and ignored");
    assert_eq!(app.db.scalar("SELECT count(*) FROM stripe_events"), 1);
}

#[actix_web::test]
async fn every_event_delivered_twice_still_counts_once() {
    let app = spawn_app().await;
    app.stripe.set_delivery(Delivery::Twice);
    let id = app.city_event_of("montreal");
    let (reference, _) = app.held(id, 3).await;
    pay(&app, &reference, "pm_card_visa").await;
    assert!(until_status(&app, &reference, "confirmed").await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.db.scalar("SELECT count(*) FROM email_campaigns WHERE kind = 'confirmation'"), 1);
    assert_all_agree(&app, id, 3).await;
    assert_eq!(app.availability(id).await["sold"], 3);
}

#[actix_web::test]
async fn a_refund_seen_before_the_success_never_confirms_the_booking() {
    let app = spawn_app().await;
    app.stripe.set_delivery(Delivery::Hold);
    let id = app.city_event_of("vancouver");
    let (reference, _) = app.held(id, 1).await;
    let intent = pay(&app, &reference, "pm_card_visa").await;
    // Refunded from Stripe's dashboard before any webhook reached us.
    let res = app
        .client
        .post(format!("{}/v1/refunds", app.stripe.base_url()))
        .bearer_auth(app.stripe.config().secret_key)
        .form(&[("payment_intent", intent.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let mut held = app.stripe.held_events();
    held.reverse();
    for e in &held {
        assert_eq!(app.stripe.deliver(e["id"].as_str().unwrap()).await, Some(200));
    }
    let settled =
        eventually(Duration::from_secs(10), async || app.db.scalar("SELECT count(*) FROM stripe_events WHERE processed_at IS NULL") == 0)
            .await;
    assert!(settled);
    assert_eq!(app.booking_status(&reference), "held", "never confirmed; the hold will expire");
    assert_eq!(app.db.scalar("SELECT amount_refunded_cents FROM payments"), app.db.scalar("SELECT amount_cents FROM payments"));
    assert_eq!(app.availability(id).await["sold"], 0);
}

#[actix_web::test]
async fn a_payment_after_the_hold_expired_confirms_while_a_seat_is_left() {
    let app = spawn_app().await;
    let id = app.db.add_city_event(1);
    let app = {
        let db = app.stop().await;
        spawn_app_on(db, |s| s.hold_expiry_tick_ms = 50).await
    };
    let (reference, _) = app.held(id, 1).await;
    let (_, intent) = app.create_intent(&reference).await;
    app.db.execute("UPDATE bookings SET hold_expires_at = now()").unwrap();
    let handle = app.registry.handle(billetterie::domain::CityEventId(id)).unwrap();
    handle.restart(); // picks up the new expiry from the database
    assert!(until_status(&app, &reference, "expired").await);
    app.stripe.confirm(intent["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await;
    assert!(until_status(&app, &reference, "confirmed").await, "the seat was still free");
    assert!(app.stripe.events().iter().all(|e| e["type"] != "charge.refunded"));
    assert_all_agree(&app, id, 1).await;
}

#[actix_web::test]
async fn a_payment_after_the_hold_expired_with_no_seat_left_is_refunded_and_the_buyer_told() {
    let app = spawn_app().await;
    let id = app.db.add_city_event(1);
    let app = {
        let db = app.stop().await;
        spawn_app_on(db, |s| s.hold_expiry_tick_ms = 50).await
    };
    let (late, _) = app.held(id, 1).await;
    let (_, intent) = app.create_intent(&late).await;
    app.db.execute("UPDATE bookings SET hold_expires_at = now()").unwrap();
    app.registry.handle(billetterie::domain::CityEventId(id)).unwrap().restart();
    assert!(until_status(&app, &late, "expired").await);
    // The database says expired as soon as the release commits; the actor frees the seat when it
    // has read the commit's outcome, a moment later.
    assert!(eventually(Duration::from_secs(5), async || app.availability(id).await["available"] == 1).await);
    let (winner, _) = app.held(id, 1).await; // someone else takes the last seat
    app.stripe.confirm(intent["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await;
    let refunded = eventually(Duration::from_secs(10), async || {
        app.db
            .scalar("SELECT count(*) FROM payments WHERE flagged_reason LIKE 'refunded_no_seat%' AND amount_refunded_cents = amount_cents")
            == 1
    })
    .await;
    assert!(refunded);
    assert_eq!(app.booking_status(&late), "expired");
    assert_eq!(app.booking_status(&winner), "held");
    assert_eq!(app.db.scalar("SELECT count(*) FROM email_campaigns WHERE kind = 'refund_notice'"), 1);
    assert_eq!(app.stripe.events().iter().filter(|e| e["type"] == "charge.refunded").count(), 1);
    assert_all_agree(&app, id, 1).await;
}

#[actix_web::test]
async fn stripe_failing_then_answering_gives_one_intent_and_an_outage_is_a_503() {
    let app = spawn_app().await;
    let (reference, _) = app.held(app.city_event_of("toronto"), 1).await;
    app.stripe.fail_next(1, 500);
    let (status, intent) = app.create_intent(&reference).await;
    assert_eq!(status, 200, "retried under the same idempotency key: {intent}");
    assert_eq!(app.stripe.intents().len(), 1);

    let (reference2, _) = app.held(app.city_event_of("toronto"), 1).await;
    app.stripe.fail_next(100, 503);
    let res = app
        .client
        .post(app.url("/api/v1/payments/create-intent"))
        .json(&json!({"reference": reference2, "email": "marie.tremblay@example.ca"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "payment_provider_unavailable");
    assert_eq!(app.stripe.intents().len(), 1, "no intent was created during the outage");
    app.stripe.fail_next(0, 500);
}

#[actix_web::test]
async fn reconciliation_confirms_a_booking_whose_webhook_never_arrived() {
    let app = spawn_app_with(|s| s.reconcile_after_minutes = 0).await;
    app.stripe.set_delivery(Delivery::Hold); // the webhooks are lost
    let id = app.city_event_of("halifax");
    let (reference, _) = app.held(id, 2).await;
    pay(&app, &reference, "pm_card_visa").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.booking_status(&reference), "held");
    let report = app.state.payment_actor.send(billetterie::actors::payment::Reconcile).await.unwrap().unwrap();
    assert_eq!(report.intents_checked, 1);
    assert_eq!(app.booking_status(&reference), "confirmed");
    assert_all_agree(&app, id, 2).await;
    // A second pass finds nothing left to do.
    let report = app.state.payment_actor.send(billetterie::actors::payment::Reconcile).await.unwrap().unwrap();
    assert_eq!(report.intents_checked, 0);
}

#[actix_web::test]
async fn a_refund_releases_the_seats_and_availability_goes_up_once() {
    let app = spawn_app().await;
    let id = app.city_event_of("calgary");
    let (reference, booking_id) = app.held(id, 2).await;
    pay(&app, &reference, "pm_card_visa").await;
    assert!(until_status(&app, &reference, "confirmed").await);
    assert_eq!(app.availability(id).await["available"], 78);

    let mut conn = billetterie::db::connection(&app.state.pool).await.unwrap();
    let booking = billetterie::db::payments::booking(&mut conn, booking_id).await.unwrap().unwrap();
    drop(conn);
    let partial = app.state.payments.refund(&booking, Some(1_000)).await.unwrap();
    assert_eq!(partial.booking_status.as_str(), "confirmed", "a partial refund keeps the seats");
    assert_eq!(app.availability(id).await["available"], 78);
    let full = app.state.payments.refund(&booking, None).await.unwrap();
    assert_eq!(full.booking_status.as_str(), "refunded");
    assert_eq!(full.total_refunded_cents, booking.total_cents);
    assert_eq!(app.availability(id).await["available"], 80);
    // Stripe's charge.refunded webhooks arrive afterwards and change nothing more.
    let done = eventually(Duration::from_secs(10), async || {
        app.db.scalar("SELECT count(*) FROM stripe_events WHERE type = 'charge.refunded' AND processed_at IS NOT NULL") == 2
    })
    .await;
    assert!(done);
    assert_eq!(app.availability(id).await["available"], 80);
    assert!(app.state.payments.refund(&booking, None).await.is_err(), "nothing left to refund");
    assert_all_agree(&app, id, 0).await;
}

#[actix_web::test]
async fn an_amount_that_differs_from_the_booking_is_flagged_not_confirmed() {
    let app = spawn_app().await;
    let (reference, booking_id) = app.held(app.city_event_of("montreal"), 1).await;
    let (_, intent) = app.create_intent(&reference).await;
    // The intent as Stripe would send it (every field of its schema), paid for 1 $ only.
    let mut object = app.stripe.intents().into_iter().find(|i| i["id"] == intent["payment_intent_id"]).expect("the intent");
    object["amount"] = json!(100);
    object["amount_received"] = json!(100);
    object["status"] = json!("succeeded");
    assert_eq!(object["metadata"]["booking_id"], booking_id.to_string());
    let event = json!({
        "id": "evt_mismatch_1", "object": "event", "type": "payment_intent.succeeded", "created": now(),
        "livemode": false, "pending_webhooks": 1, "data": {"object": object}
    });
    let (status, _) = post_event(&app, &event, &app.stripe.config().webhook_secret, now()).await;
    assert_eq!(status, 200);
    let flagged = eventually(Duration::from_secs(10), async || {
        app.db.scalar("SELECT count(*) FROM payments WHERE flagged_reason LIKE 'amount_mismatch%'") == 1
    })
    .await;
    assert!(flagged);
    assert_eq!(app.booking_status(&reference), "held");
}

#[actix_web::test]
async fn a_cancelled_intent_releases_the_hold() {
    let app = spawn_app().await;
    let id = app.city_event_of("quebec");
    let (reference, _) = app.held(id, 2).await;
    let (_, intent) = app.create_intent(&reference).await;
    let res = app
        .client
        .post(format!("{}/v1/payment_intents/{}/cancel", app.stripe.base_url(), intent["payment_intent_id"].as_str().unwrap()))
        .bearer_auth(app.stripe.config().secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(until_status(&app, &reference, "cancelled").await);
    assert_eq!(app.availability(id).await["held"], 0);
}

#[actix_web::test]
async fn a_refund_made_from_the_command_line_reaches_the_running_actor() {
    let app = spawn_app().await;
    let id = app.city_event_of("halifax");
    let (reference, booking_id) = app.held(id, 1).await;
    pay(&app, &reference, "pm_card_visa").await;
    assert!(until_status(&app, &reference, "confirmed").await);
    app.stripe.set_delivery(Delivery::Hold); // only the database path moves the seats here
                                             // What `billetterie refund` builds: no actors, the database arbitrates.
    let offline = billetterie::actors::payment::Payments::new(
        app.state.pool.clone(),
        billetterie::app::stripe_client(&app.state.settings),
        String::new(),
        billetterie::actors::payment::SeatKeeper::Database,
    );
    let mut conn = billetterie::db::connection(&app.state.pool).await.unwrap();
    let booking = billetterie::db::payments::booking(&mut conn, booking_id).await.unwrap().unwrap();
    drop(conn);
    assert_eq!(offline.refund(&booking, None).await.unwrap().booking_status.as_str(), "refunded");
    let noticed = eventually(Duration::from_secs(5), async || app.availability(id).await["available"] == 30).await;
    assert!(noticed, "the actor's drift check reloaded the database's counts");
    assert_all_agree(&app, id, 0).await;
}

#[actix_web::test]
async fn the_offline_demo_flow_books_pays_with_a_test_card_and_confirms() {
    let app = spawn_app().await;
    let id = app.city_event_of("montreal");
    let (reference, _) = app.held(id, 2).await;
    let card = |number: &str| json!({"reference": reference, "email": "marie.tremblay@example.ca", "card_number": number});

    let (status, err) = app.post_json("/api/v1/payments/test-card", &card("1234")).await;
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("card_number")));
    let (status, declined) = app.post_json("/api/v1/payments/test-card", &card("4000 0000 0000 9995")).await;
    assert_eq!(status, 200, "{declined}");
    assert_eq!(declined["status"], "requires_payment_method");
    assert!(declined["decline_message"].as_str().unwrap().contains("insufficient funds"));
    assert_eq!(app.booking_status(&reference), "held");

    let (status, paid) = app.post_json("/api/v1/payments/test-card", &card("4242 4242 4242 4242")).await;
    assert_eq!((status, paid["status"].as_str()), (200, Some("succeeded")), "{paid}");
    assert!(until_status(&app, &reference, "confirmed").await);
    let (_, view) = app.get_json(&format!("/api/v1/bookings/{reference}?email=marie.tremblay@example.ca")).await;
    assert_eq!(view["status"], "confirmed");
    assert_eq!(app.stripe.intents().len(), 1, "the same intent across both attempts");
}

/// Runs the real binary, as an operator would, against this test's database and stand-in.
async fn cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let keys = app.stripe.config();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_billetterie"))
        .args(args)
        .env("APP_ENV", "test")
        .env("DATABASE_URL", &app.db.url)
        .env("STRIPE_SECRET_KEY", &keys.secret_key)
        .env("STRIPE_PUBLISHABLE_KEY", &keys.publishable_key)
        .env("STRIPE_WEBHOOK_SECRET", &keys.webhook_secret)
        .env("STRIPE_API_BASE", app.stripe.base_url())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[actix_web::test]
async fn the_reconcile_and_refund_commands_work_from_the_command_line() {
    let app = spawn_app().await;
    app.stripe.set_delivery(Delivery::Hold); // no webhook reaches the server
    let id = app.city_event_of("halifax");
    let (reference, _) = app.held(id, 1).await;
    pay(&app, &reference, "pm_card_visa").await;

    // By default only intents open for 15 minutes are asked about, and the pass says what it left.
    let (ok, out) = cli(&app, &["payments", "reconcile"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("0 intents checked (open for more than 15 min)"), "{out}");
    assert!(out.contains("Skipped 1 younger intents"), "{out}");
    assert_eq!(app.booking_status(&reference), "held");
    let (ok, out) = cli(&app, &["payments", "reconcile", "--older-than", "0"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("1 intents checked"), "{out}");
    assert!(!out.contains("Skipped"), "{out}");
    let (ok, out) = cli(&app, &["payments", "reconcile", "--older-than", "soon"]).await;
    assert!(!ok && out.contains("--older-than"), "{out}");
    assert_eq!(app.booking_status(&reference), "confirmed");
    assert!(eventually(Duration::from_secs(5), async || app.availability(id).await["sold"] == 1).await, "the actor noticed");

    let (ok, out) = cli(&app, &["refund", &reference, "--amount-cents", "500"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("is confirmed"), "partial: {out}");
    let (ok, out) = cli(&app, &["refund", &reference]).await;
    assert!(ok, "{out}");
    assert!(out.contains("is refunded"), "{out}");
    assert!(eventually(Duration::from_secs(5), async || app.availability(id).await["available"] == 30).await);
    let (ok, out) = cli(&app, &["refund", &reference]).await;
    assert!(!ok, "nothing left to refund: {out}");
    assert_all_agree(&app, id, 0).await;
}
