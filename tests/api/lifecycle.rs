//! Expiry, restarts, supervision.

use std::time::Duration;

use billetterie::domain::CityEventId;

use crate::concurrency::assert_all_agree;
use crate::helpers::*;

#[actix_web::test]
async fn holds_expire_and_their_seats_come_back() {
    let app = spawn_app_with(|s| {
        s.hold_ttl_seconds = 1;
        s.hold_expiry_tick_ms = 50;
    })
    .await;
    let id = app.city_event_of("halifax");
    let (status, created) = app.hold(id, 4).await;
    assert_eq!(status, 201);
    let reference = created["reference"].as_str().unwrap().to_owned();
    assert_eq!(app.availability(id).await["available"], 26);

    let back = eventually(Duration::from_secs(5), async || app.availability(id).await["available"] == 30).await;
    assert!(back, "seats come back after expiry");
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM bookings WHERE reference = '{reference}' AND status = 'expired'")), 1);
    let (_, view) = app.get_json(&format!("/api/v1/bookings/{reference}?email=marie.tremblay@example.ca")).await;
    assert_eq!(view["status"], "expired");
    assert_all_agree(&app, id, 0).await;
}

#[actix_web::test]
async fn a_restarted_server_reports_the_same_availability_and_keeps_each_hold_expiry() {
    let app = spawn_app().await;
    let id = app.city_event_of("toronto");
    for q in [1, 2, 3] {
        assert_eq!(app.hold(id, q).await.0, 201);
    }
    let before = app.availability(id).await;
    let expiries_before = app.db.scalar("SELECT sum(extract(epoch FROM hold_expires_at))::bigint FROM bookings");
    let db = app.stop().await;

    let app = spawn_app_on(db, |_| {}).await;
    assert_eq!(app.availability(id).await, before);
    assert_eq!(app.db.scalar("SELECT sum(extract(epoch FROM hold_expires_at))::bigint FROM bookings"), expiries_before);
    assert_all_agree(&app, id, 6).await;
}

#[actix_web::test]
async fn holds_that_expired_while_the_server_was_down_are_released_on_start() {
    let app = spawn_app().await;
    let id = app.city_event_of("vancouver");
    assert_eq!(app.hold(id, 2).await.0, 201);
    let db = app.stop().await;
    // The server was down while the hold's time ran out.
    db.execute("UPDATE bookings SET hold_expires_at = now() - interval '1 minute'").unwrap();
    let app = spawn_app_on(db, |s| s.hold_expiry_tick_ms = 50).await;
    let released = eventually(Duration::from_secs(5), async || app.availability(id).await["held"] == 0).await;
    assert!(released);
    assert_eq!(app.db.scalar("SELECT count(*) FROM bookings WHERE status = 'expired'"), 1);
}

#[actix_web::test]
async fn a_restarted_actor_rebuilds_its_state_from_the_database() {
    let app = spawn_app().await;
    let id = app.city_event_of("montreal");
    assert_eq!(app.hold(id, 3).await.0, 201);
    let handle = app.registry.handle(CityEventId(id)).unwrap();
    let before = handle.availability().unwrap();
    handle.restart();
    // While it reloads it refuses politely; then it is back with the same counts.
    let back = eventually(Duration::from_secs(5), async || handle.availability().is_some_and(|a| a == before) && handle.is_running()).await;
    assert!(back, "the supervisor restarted the actor with its state rebuilt");
    assert_eq!(app.hold(id, 1).await.0, 201, "and it takes holds again");
    assert_all_agree(&app, id, 4).await;
}

#[actix_web::test]
async fn a_payment_after_expiry_confirms_only_while_seats_remain_and_a_refund_returns_them() {
    let app = spawn_app_with(|s| {
        s.hold_ttl_seconds = 1;
        s.hold_expiry_tick_ms = 50;
    })
    .await;
    let id = app.db.add_city_event(2);
    let db = app.stop().await;
    let app = spawn_app_on(db, |s| {
        s.hold_ttl_seconds = 1;
        s.hold_expiry_tick_ms = 50;
    })
    .await;
    let handle = app.registry.handle(CityEventId(id)).unwrap();
    let (_, late) = app.hold(id, 1).await;
    let late_id: billetterie::domain::BookingId = late["booking_id"].as_str().unwrap().parse().unwrap();
    assert!(eventually(Duration::from_secs(5), async || app.availability(id).await["held"] == 0).await);

    // A seat is free: the late payment confirms.
    handle.confirm(late_id, 1).await.expect("confirmed after expiry while a seat remains");
    assert_all_agree(&app, id, 1).await;
    // Someone holds the last seat; a second late confirmation of another expired booking fails.
    let (_, other) = app.hold(id, 1).await;
    let other_id: billetterie::domain::BookingId = other["booking_id"].as_str().unwrap().parse().unwrap();
    assert!(eventually(Duration::from_secs(5), async || app.availability(id).await["held"] == 0).await);
    let (status, _) = app.hold(id, 1).await;
    assert_eq!(status, 201);
    assert_eq!(handle.confirm(other_id, 1).await, Err(billetterie::actors::ReservationError::SoldOut));
    // A refund gives the confirmed seat back.
    handle.refund(late_id, 1).await.unwrap();
    assert_eq!(app.availability(id).await["available"], 1);
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM bookings WHERE id = '{late_id}' AND status = 'refunded'")), 1);
    assert_eq!(handle.refund(late_id, 1).await, Err(billetterie::actors::ReservationError::WrongStatus { expected: "confirmed" }));
    assert_all_agree(&app, id, 1).await;
}
