//! The buyer's own cancellation (`POST /api/v1/bookings/{reference}/cancel` and the button on the
//! "my booking" page): refunds inside the window, once, with one refund mail.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{json, Value};

use crate::admin::login;
use crate::helpers::*;

async fn until_status(app: &TestApp, reference: &str, status: &str) -> bool {
    eventually(Duration::from_secs(10), async || app.booking_status(reference) == status).await
}

pub(crate) fn key(app: &TestApp, reference: &str) -> String {
    billetterie::domain::tokens::booking_key(app.state.settings.secret_key.expose(), reference)
}

/// A booking of `quantity` seats, paid and confirmed.
pub(crate) async fn paid(app: &TestApp, city: &str, quantity: i64) -> (String, i64) {
    let id = app.city_event_of(city);
    let (reference, _) = app.held(id, quantity).await;
    let (status, intent) = app.create_intent(&reference).await;
    assert_eq!(status, 200, "{intent}");
    app.stripe.confirm(intent["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await;
    assert!(until_status(app, &reference, "confirmed").await);
    (reference, id)
}

fn seats_sold(app: &TestApp, id: i64) -> i64 {
    app.db.scalar(&format!("SELECT seats_sold::bigint FROM city_events WHERE id = {id}"))
}

pub(crate) fn refund_mails(app: &TestApp, reference: &str) -> i64 {
    app.db.scalar(&format!(
        "SELECT count(*) FROM email_campaigns e JOIN bookings b ON b.id = e.booking_id WHERE b.reference = '{reference}' AND e.kind = 'refund_notice'"
    ))
}

fn refunded_cents(app: &TestApp, reference: &str) -> i64 {
    app.db.scalar(&format!(
        "SELECT coalesce(sum(p.amount_refunded_cents), 0)::bigint FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE b.reference = '{reference}'"
    ))
}

/// Refunds made at the Stripe stand-in (each emits one `charge.refunded`).
fn stripe_refunds(app: &TestApp) -> usize {
    app.stripe.events().iter().filter(|e| e["type"] == "charge.refunded").count()
}

async fn cancel(app: &TestApp, reference: &str, body: Value) -> (u16, Value) {
    app.post_json(&format!("/api/v1/bookings/{reference}/cancel"), &body).await
}

/// Moves the city event's day to `days` from now, so the refund window is open or closed.
pub(crate) fn starts_in_days(app: &TestApp, id: i64, days: i64) {
    app.db
        .execute(&format!(
            "UPDATE city_events SET starts_at = now() + interval '{days} days', ends_at = now() + interval '{days} days 8 hours' WHERE id = {id}"
        ))
        .unwrap();
}

#[actix_web::test]
async fn a_paid_booking_cancelled_in_the_window_is_refunded_once_with_one_mail() {
    let app = spawn_app().await;
    let (reference, id) = paid(&app, "halifax", 2).await;
    let sold = seats_sold(&app, id);
    assert_eq!(refund_mails(&app, &reference), 0);

    let (status, body) = cancel(&app, &reference, json!({"token": key(&app, &reference)})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "refunded");
    assert_eq!(app.booking_status(&reference), "refunded");
    assert!(eventually(Duration::from_secs(10), async || seats_sold(&app, id) == sold - 2).await, "the seats come back");
    let total: i64 = app.db.scalar(&format!("SELECT total_cents::bigint FROM bookings WHERE reference = '{reference}'"));
    assert_eq!(refunded_cents(&app, &reference), total);

    // Again: the same answer, nothing more refunded or mailed.
    let (status, body) = cancel(&app, &reference, json!({"token": key(&app, &reference)})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("refunded")), "{body}");
    assert_eq!(refunded_cents(&app, &reference), total);
    assert_eq!(seats_sold(&app, id), sold - 2);
    assert_eq!(refund_mails(&app, &reference), 1);
    let sent = format!(
        "SELECT count(*) FROM email_campaigns e JOIN bookings b ON b.id = e.booking_id WHERE b.reference = '{reference}' AND e.kind = 'refund_notice' AND e.status = 'sent'"
    );
    assert!(eventually(Duration::from_secs(15), async || app.db.scalar(&sent) == 1).await, "the refund mail is sent");
}

#[actix_web::test]
async fn ten_concurrent_cancellations_refund_once() {
    let app = spawn_app().await;
    let (reference, id) = paid(&app, "quebec", 1).await;
    let sold = seats_sold(&app, id);
    let token = key(&app, &reference);
    let answers = join_all((0..10).map(|_| cancel(&app, &reference, json!({"token": token})))).await;
    for (status, body) in &answers {
        assert_eq!((*status, body["status"].as_str()), (200, Some("refunded")), "{body}");
    }
    let total: i64 = app.db.scalar(&format!("SELECT total_cents::bigint FROM bookings WHERE reference = '{reference}'"));
    assert_eq!(refunded_cents(&app, &reference), total, "refunded once, in full");
    assert_eq!(stripe_refunds(&app), 1, "one refund at Stripe");
    assert_eq!(seats_sold(&app, id), sold - 1);
    assert_eq!(refund_mails(&app, &reference), 1);
}

#[actix_web::test]
async fn outside_the_window_the_answer_is_409_refund_window_closed_and_nothing_changes() {
    let app = spawn_app().await;
    let (reference, id) = paid(&app, "halifax", 1).await;
    starts_in_days(&app, id, 29);
    let sold = seats_sold(&app, id);
    let (status, body) = cancel(&app, &reference, json!({"token": key(&app, &reference)})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("refund_window_closed")), "{body}");
    assert_eq!(app.booking_status(&reference), "confirmed");
    assert_eq!((refunded_cents(&app, &reference), seats_sold(&app, id), refund_mails(&app, &reference)), (0, sold, 0));
    assert_eq!(stripe_refunds(&app), 0);

    // 31 days ahead: open again.
    starts_in_days(&app, id, 31);
    let (status, body) = cancel(&app, &reference, json!({"token": key(&app, &reference)})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("refunded")), "{body}");
}

#[actix_web::test]
async fn a_wrong_token_or_only_the_email_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let (reference, id) = paid(&app, "halifax", 1).await;
    let sold = seats_sold(&app, id);
    let (status, wrong) = cancel(&app, &reference, json!({"token": key(&app, "HAL-AAAA-AAAA")})).await;
    let (unknown_status, unknown) = cancel(&app, "HAL-AAAA-AAAA", json!({"token": key(&app, &reference)})).await;
    assert_eq!((status, unknown_status), (404, 404));
    assert_eq!(wrong, unknown, "a wrong token tells nothing about the reference");
    let (status, body) = cancel(&app, &reference, json!({"email": "marie.tremblay@example.ca"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("token_required")), "{body}");
    assert_eq!(app.booking_status(&reference), "confirmed");
    assert_eq!((refunded_cents(&app, &reference), seats_sold(&app, id), refund_mails(&app, &reference)), (0, sold, 0));
}

#[actix_web::test]
async fn a_held_booking_cancelled_with_its_token_releases_the_hold() {
    let app = spawn_app().await;
    let id = app.city_event_of("halifax");
    let (reference, _) = app.held(id, 2).await;
    let (status, body) = cancel(&app, &reference, json!({"token": key(&app, &reference)})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("cancelled")), "{body}");
    let (status, body) = cancel(&app, &reference, json!({"token": key(&app, &reference)})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("not_cancellable")), "{body}");
}

#[actix_web::test]
async fn the_organisers_refund_sends_the_refund_mail_once() {
    let app = spawn_app().await;
    let (reference, _) = paid(&app, "halifax", 1).await;
    let org = login(&app).await;
    let (status, body) = org.post(&app, &format!("/api/v1/admin/bookings/{reference}/refund"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(until_status(&app, &reference, "refunded").await);
    assert_eq!(refund_mails(&app, &reference), 1);
    // The buyer asking afterwards changes nothing.
    let (status, _) = cancel(&app, &reference, json!({"token": key(&app, &reference)})).await;
    assert_eq!(status, 200);
    assert_eq!(refund_mails(&app, &reference), 1);
    assert_eq!(stripe_refunds(&app), 1);
}

#[actix_web::test]
async fn the_booking_page_has_the_cancel_button_in_the_window_and_explains_outside_it() {
    let app = spawn_app().await;
    let (reference, id) = paid(&app, "halifax", 1).await;
    let k = key(&app, &reference);
    let page = async |lang: &str| {
        app.client.get(app.url(&format!("/{lang}/confirmation/{reference}?k={k}"))).send().await.unwrap().text().await.unwrap()
    };
    let fr = page("fr").await;
    assert!(fr.contains("id=\"cancel-booking\"") && fr.contains("Annuler et me faire rembourser"), "{fr}");
    assert!(fr.contains(&format!("/fr/confirmation/{reference}/cancel?k")) && fr.contains("name=\"csrf_token\""));
    let en = page("en").await;
    assert!(en.contains("Cancel and get a refund") && !en.contains("refund-window-closed"), "{en}");

    starts_in_days(&app, id, 10);
    let support = app.state.facts.get().organiser.support_email.clone();
    let fr = page("fr").await;
    assert!(!fr.contains("id=\"cancel-booking\"") && fr.contains("refund-window-closed"), "{fr}");
    assert!(fr.contains("ne peut plus être annulée en ligne") && fr.contains(&format!("mailto:{support}")), "{fr}");
    let en = page("en").await;
    assert!(en.contains("can no longer be cancelled online") && en.contains(&format!("mailto:{support}")), "{en}");
}
