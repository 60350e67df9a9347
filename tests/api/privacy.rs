//! Personal data: a buyer reads all of it, or erases it; past events are anonymised after the
//! retention period (scheduled pass, and `billetterie privacy purge`).

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

async fn confirmed(app: &TestApp, city: &str) -> String {
    let id = app.city_event_of(city);
    let mut body = booking_body(id, 2);
    body["attendees"] = json!([{"first_name": "Luc", "last_name": "Roy", "email": "luc@example.ca"}]);
    app.booked_and_paid(&body).await
}

fn personal_fields_left(app: &TestApp, reference: &str) -> i64 {
    app.db.scalar(&format!(
        "SELECT (SELECT count(*) FROM bookings WHERE reference = '{reference}' AND (buyer_email LIKE '%example.ca' OR buyer_last_name = 'Tremblay' OR buyer_phone = '+15145550199' OR billing_address IS NOT NULL))
              + (SELECT count(*) FROM attendees a JOIN bookings b ON b.id = a.booking_id WHERE b.reference = '{reference}' AND (a.email IS NOT NULL OR a.last_name IS NOT NULL OR a.licence_number IS NOT NULL))
              + (SELECT count(*) FROM email_campaigns e JOIN bookings b ON b.id = e.booking_id WHERE b.reference = '{reference}' AND e.recipient_email LIKE '%example.ca')
              + (SELECT count(*) FROM stripe_events WHERE payload::text LIKE '%marie.tremblay%')"
    ))
}

#[actix_web::test]
async fn a_buyer_reads_all_their_personal_data_then_erases_it_and_the_accounts_stay() {
    let app = spawn_app().await;
    let reference = confirmed(&app, "montreal").await;
    assert!(
        eventually(Duration::from_secs(10), async || app.db.scalar("SELECT count(*) FROM email_campaigns WHERE status = 'sent'") == 1)
            .await
    );
    let path = format!("/api/v1/bookings/{reference}/personal-data?email=marie.tremblay@example.ca");
    let (status, data) = app.get_json(&path).await;
    assert_eq!(status, 200, "{data}");
    assert_eq!(data["buyer"]["email"], "marie.tremblay@example.ca");
    assert_eq!(data["buyer"]["phone"], "+15145550199");
    assert_eq!(data["attendees"][0]["email"], "luc@example.ca");
    assert_eq!(data["emails"][0]["kind"], "confirmation");
    assert_eq!(data["payments"][0]["status"], "succeeded");
    assert!(data["retention"].as_str().unwrap().contains("180 days"));
    // The same proof as a booking read: a wrong address learns nothing.
    let (status, _) = app.get_json(&format!("/api/v1/bookings/{reference}/personal-data?email=someone@example.ca")).await;
    assert_eq!(status, 404);

    // What the documents print about a person goes too: a home billing address, a licence number.
    app.db
        .execute(&format!(
            "UPDATE bookings SET billing_address = '12, rue des Érables' WHERE reference = '{reference}';
             UPDATE attendees SET licence_number = 'OPQ 1' WHERE booking_id = (SELECT id FROM bookings WHERE reference = '{reference}')"
        ))
        .unwrap();
    let total = app.db.scalar(&format!("SELECT total_cents FROM bookings WHERE reference = '{reference}'"));
    let (status, erased) =
        app.post_json(&format!("/api/v1/bookings/{reference}/erase"), &json!({"email": "marie.tremblay@example.ca"})).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(personal_fields_left(&app, &reference), 0, "nothing personal is left");
    // The accounts keep what they need.
    assert_eq!(app.db.scalar(&format!("SELECT total_cents FROM bookings WHERE reference = '{reference}' AND status = 'confirmed'")), total);
    assert_eq!(app.db.scalar("SELECT count(*) FROM payments WHERE status = 'succeeded'"), 1);
    assert_eq!(app.db.scalar("SELECT seats_sold FROM city_events WHERE id = (SELECT city_event_id FROM bookings LIMIT 1)"), 2);
    // The old proof no longer opens anything, and erasing again finds nothing.
    assert_eq!(app.get_json(&path).await.0, 404);
    let (status, _) = app.post_json(&format!("/api/v1/bookings/{reference}/erase"), &json!({"email": "marie.tremblay@example.ca"})).await;
    assert_eq!(status, 404);
    // No reminder will go to an erased booking.
    let mail = billetterie::email::dispatch::EmailService::new(
        app.state.pool.clone(),
        std::sync::Arc::new(billetterie::email::outbox::OutboxTransport::new(app.db.outbox_dir()).unwrap()),
        billetterie::email::dispatch::EmailSettings::from(app.state.settings.as_ref()),
    )
    .unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2027-03-17T13:00:00Z").unwrap().with_timezone(&chrono::Utc);
    assert_eq!(mail.run_due(at).await.unwrap().claimed, 0);
}

#[actix_web::test]
async fn a_held_booking_cannot_be_erased_until_it_ends() {
    let app = spawn_app().await;
    let (reference, _) = app.held(app.city_event_of("toronto"), 1).await;
    let (status, err) = app.post_json(&format!("/api/v1/bookings/{reference}/erase"), &json!({"email": "marie.tremblay@example.ca"})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (409, Some("not_erasable")));
    let (status, _) = app.post_json(&format!("/api/v1/bookings/{reference}/cancel"), &json!({"email": "marie.tremblay@example.ca"})).await;
    assert_eq!(status, 200);
    let (status, _) = app.post_json(&format!("/api/v1/bookings/{reference}/erase"), &json!({"email": "marie.tremblay@example.ca"})).await;
    assert_eq!(status, 200);
    assert_eq!(personal_fields_left(&app, &reference), 0);
}

#[actix_web::test]
async fn the_retention_pass_anonymises_past_events_only_and_the_command_line_runs_it() {
    let app = spawn_app().await;
    let montreal = confirmed(&app, "montreal").await; // April 16, 2027
    let toronto = confirmed(&app, "toronto").await;
    let ends = |r: &str| {
        app.db.scalar(&format!("SELECT extract(epoch FROM ce.ends_at)::bigint FROM bookings b JOIN city_events ce ON ce.id = b.city_event_id WHERE b.reference = '{r}'"))
    };
    let (first, second) = if ends(&montreal) < ends(&toronto) { (montreal, toronto) } else { (toronto, montreal) };
    // 180 days after the first event ended, and before the second one did.
    let now = chrono::DateTime::from_timestamp(ends(&first) + 180 * 86400 + 60, 0).unwrap();
    assert!(now.timestamp() < ends(&second) + 180 * 86400);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_billetterie"))
        .args(["privacy", "purge", "--now", &now.to_rfc3339()])
        .env("APP_ENV", "test")
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("in 1 bookings"), "{text}");
    assert_eq!(personal_fields_left(&app, &first), 0);
    assert!(personal_fields_left(&app, &second) > 0, "a booking of a later event keeps its data");
    // Again: nothing more to do.
    let n = billetterie::privacy::purge(&app.state.pool, now, 180).await.unwrap();
    assert_eq!(n, 0);
    let n = billetterie::privacy::purge(&app.state.pool, now + chrono::Duration::days(400), 180).await.unwrap();
    assert_eq!(n, 1);
    assert_eq!(personal_fields_left(&app, &second), 0);
}
