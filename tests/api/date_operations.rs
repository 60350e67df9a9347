//! The organiser's operations on a whole date: a message to everyone booked on it (preview in both
//! languages, each address once, through the dispatcher, counted) and the date's cancellation
//! (sales stop, holds released, paid bookings refunded once, every buyer mailed once), including a
//! cancellation that fails half-way and is finished by the next start's resume.

use std::sync::Arc;

use billetterie::email::dispatch::{EmailService, EmailSettings};
use billetterie::email::outbox::OutboxTransport;
use chrono::Utc;
use serde_json::json;

use crate::admin::login;
use crate::helpers::*;

fn mails(app: &TestApp) -> EmailService {
    let outbox = Arc::new(OutboxTransport::new(app.db.outbox_dir()).unwrap());
    EmailService::new(app.state.pool.clone(), outbox, EmailSettings::from(app.state.settings.as_ref())).unwrap()
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.scalar(sql)
}

fn outbox_containing(app: &TestApp, kind: &str, needle: &str) -> usize {
    std::fs::read_dir(app.db.outbox_dir())
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().contains(&format!("-{kind}-")))
                // Quoted-printable: its soft line breaks may fall inside a phrase.
                .filter(|e| std::fs::read_to_string(e.path()).unwrap_or_default().replace("=\r\n", "").contains(needle))
                .count()
        })
        .unwrap_or(0)
}

#[actix_web::test]
async fn a_message_reaches_every_address_booked_on_the_date_once_in_its_language() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let date = app.city_event_of("montreal");
    // Two paid bookings; the second buyer is an attendee of the first: one mail for her.
    let mut first = booking_body(date, 2);
    first["attendees"] = json!([{"first_name": "Luc", "last_name": "Roy", "email": "luc@example.ca"},
                                {"first_name": "Anne", "last_name": "Cote", "email": "Anne@Example.ca"}]);
    app.booked_and_paid(&first).await;
    let mut second = booking_body(date, 1);
    second["buyer"]["email"] = json!("anne@example.ca");
    second["language"] = json!("en");
    let (s, created) = app.post_json("/api/v1/bookings/create", &second).await;
    assert_eq!(s, 201, "{created}");
    let reference = created["reference"].as_str().unwrap().to_owned();
    let (_, intent) = app.post_json("/api/v1/payments/create-intent", &json!({"reference": reference, "email": "anne@example.ca"})).await;
    app.stripe.confirm(intent["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await;
    assert!(eventually(std::time::Duration::from_secs(10), async || app.booking_status(&reference) == "confirmed").await);
    app.hold(date, 1).await; // held, not paid: not written to

    let message = json!({"subject_fr": "Changement de salle", "subject_en": "New room",
        "body_fr": "Rendez-vous salle 517.\n\nAccueil au cinquieme etage.", "body_en": "See you in room 517.\n\nDoors on the fifth floor."});
    let before = count(&app, "SELECT count(*) FROM email_campaigns");
    let (s, preview) = org.post(&app, &format!("/api/v1/admin/city-events/{date}/broadcasts/preview"), message.clone()).await;
    assert_eq!(s, 200, "{preview}");
    // marie (buyer of the first), luc, anne: three addresses.
    assert_eq!(preview["recipients"], 3, "{preview}");
    assert!(preview["fr"]["subject"].as_str().unwrap().starts_with("Changement de salle — Montréal"), "{preview}");
    assert!(preview["en"]["text"].as_str().unwrap().contains("See you in room 517."), "{preview}");
    assert_eq!(count(&app, "SELECT count(*) FROM email_campaigns"), before, "a preview sends nothing");

    // Bad input: the field, nothing written.
    let mut bad = message.clone();
    bad["subject_en"] = json!("  ");
    let (s, err) = org.post(&app, &format!("/api/v1/admin/city-events/{date}/broadcasts"), bad).await;
    assert_eq!((s, err["error"]["field"].as_str()), (422, Some("subject_en")), "{err}");
    assert_eq!(count(&app, "SELECT count(*) FROM broadcasts"), 0);

    let (s, sent) = org.post(&app, &format!("/api/v1/admin/city-events/{date}/broadcasts"), message.clone()).await;
    assert_eq!((s, sent["recipients"].as_i64()), (201, Some(3)), "{sent}");
    mails(&app).run_due(Utc::now()).await.unwrap();
    assert!(
        eventually(std::time::Duration::from_secs(10), async || count(
            &app,
            "SELECT count(*) FROM email_campaigns WHERE kind = 'broadcast' AND status = 'sent'"
        ) == 3)
        .await,
        "three broadcast mails sent"
    );
    assert_eq!(count(&app, "SELECT count(DISTINCT recipient_email) FROM email_campaigns WHERE kind = 'broadcast'"), 3);
    assert_eq!(outbox_containing(&app, "broadcast", "salle 517"), 2, "the French bookings' addresses read French");
    assert_eq!(outbox_containing(&app, "broadcast", "room 517"), 1, "anne booked for herself in English: that is her language");

    // A second message is a second mail to each.
    let (s, _) = org.post(&app, &format!("/api/v1/admin/city-events/{date}/broadcasts"), message).await;
    assert_eq!(s, 201);
    let (_, list) = org.get(&app, &format!("/api/v1/admin/city-events/{date}/broadcasts")).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(count(&app, "SELECT count(*) FROM email_campaigns WHERE kind = 'broadcast'"), 6);
}

#[actix_web::test]
async fn cancelling_a_date_stops_sales_releases_holds_refunds_once_and_mails_each_buyer_once() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let date = app.db.add_city_event(20);
    app.registry.ensure_actor(billetterie::domain::CityEventId(date)).await.unwrap();
    let paid = [app.booked_and_paid(&booking_body(date, 2)).await, app.booked_and_paid(&booking_body(date, 1)).await];
    let (held, _) = app.held(date, 1).await;
    app.db
        .execute(&format!(
            "INSERT INTO waitlist_entries (city_event_id, first_name, last_name, email, language, status)
             VALUES ({date}, 'Jo', 'Waits', 'jo@example.ca', 'en', 'waiting')"
        ))
        .unwrap();

    // Stripe fails: sales stop, the hold is released, the paid bookings wait; the job is unfinished.
    app.stripe.fail_next(1000, 500);
    let reasons = json!({"reason_fr": "Tempête de neige majeure.", "reason_en": "Major snowstorm."});
    let (s, job) = org.post(&app, &format!("/api/v1/admin/city-events/{date}/cancel"), reasons.clone()).await;
    assert_eq!(s, 200, "{job}");
    assert!(job["finished_at"].is_null() && job["last_error"].is_string(), "{job}");
    assert_eq!((job["progress"]["released"].as_i64(), job["progress"]["remaining"].as_i64()), (Some(1), Some(2)), "{job}");
    assert_eq!(app.booking_status(&held), "cancelled");
    assert_eq!(app.hold(date, 1).await.0, 409, "sales stopped");
    for r in &paid {
        assert_eq!(app.booking_status(r), "confirmed");
    }

    // The next start resumes it (here: the same function the server calls at start).
    app.stripe.fail_next(0, 500);
    billetterie::admin::date_operations::resume_cancellations(app.state.clone()).await;
    let (_, job) = org.get(&app, &format!("/api/v1/admin/city-events/{date}/cancellation")).await;
    assert!(job["finished_at"].is_string(), "{job}");
    assert_eq!((job["progress"]["refunded"].as_i64(), job["progress"]["remaining"].as_i64()), (Some(2), Some(0)), "{job}");
    for r in &paid {
        assert_eq!(app.booking_status(r), "refunded");
    }

    // Run again: nothing refunded or claimed twice.
    let refunded = count(
        &app,
        &format!(
            "SELECT sum(p.amount_refunded_cents) FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE b.city_event_id = {date}"
        ),
    );
    let paid_total = count(&app, &format!("SELECT sum(total_cents) FROM bookings WHERE city_event_id = {date} AND status = 'refunded'"));
    assert_eq!(refunded, paid_total);
    let (s, _) = org.post(&app, &format!("/api/v1/admin/city-events/{date}/cancel"), reasons).await;
    assert_eq!(s, 200);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT sum(p.amount_refunded_cents) FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE b.city_event_id = {date}"
            )
        ),
        refunded
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM email_campaigns WHERE kind = 'date_cancelled'"),
        4,
        "one per booking and per person waiting"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM audit_log WHERE action = 'city_event.cancel'"), 1);

    // Each buyer reads the cancellation, with the reason; the refund notice is not sent on top.
    // The dispatcher was nudged; a pass of our own covers a nudge that came before the claims.
    mails(&app).run_due(Utc::now()).await.unwrap();
    assert!(
        eventually(std::time::Duration::from_secs(10), async || count(
            &app,
            "SELECT count(*) FROM email_campaigns WHERE kind = 'date_cancelled' AND status = 'sent'"
        ) == 4)
        .await,
        "four cancellation mails sent"
    );
    assert_eq!(outbox_containing(&app, "date_cancelled", "neige"), 3, "the buyers, in French");
    assert_eq!(outbox_containing(&app, "date_cancelled", "You were on the waiting list"), 1, "the person waiting, in English");
    assert_eq!(count(&app, "SELECT count(*) FROM email_campaigns WHERE kind = 'refund_notice' AND status = 'sent'"), 0);
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) FROM city_events WHERE id = {date} AND status = 'cancelled' AND seats_held = 0 AND seats_sold = 0")
        ),
        1
    );
}
