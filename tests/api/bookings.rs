use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn a_hold_is_priced_taxed_committed_and_readable_with_the_buyers_email() {
    let app = spawn_app().await;
    let id = app.city_event_of("montreal");
    let mut body = booking_body(id, 2);
    body["attendees"] = json!([{"first_name": "Luc", "last_name": "Roy", "email": "LUC@example.ca"}]);
    let (status, created) = app.post_json("/api/v1/bookings/create", &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "held");
    assert_eq!(created["currency"], "CAD");
    let reference = created["reference"].as_str().unwrap();
    assert!(reference.starts_with("MTL-") && reference.len() == 13, "{reference}");
    // Early-bird price now (until February 2027): 2 × 395.00, GST 5 % and QST 9.975 % on 790.00.
    assert_eq!(created["subtotal_cents"], 79_000);
    assert_eq!(created["taxes"][0]["code"], "GST");
    assert_eq!(created["taxes"][0]["amount_cents"], 3_950);
    assert_eq!(created["taxes"][1]["code"], "QST");
    assert_eq!(created["taxes"][1]["amount_cents"], 7_880); // 7880.25
    assert_eq!(created["total_cents"], 79_000 + 3_950 + 7_880);

    // It is in the database, with one attendee row per seat.
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM bookings WHERE reference = '{reference}' AND status = 'held'")), 1);
    assert_eq!(app.db.scalar("SELECT count(*) FROM attendees"), 2);
    assert_eq!(app.db.scalar(&format!("SELECT seats_held::bigint FROM city_events WHERE id = {id}")), 2);

    let (status, view) = app.get_json(&format!("/api/v1/bookings/{reference}?email=Marie.Tremblay@example.ca")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "held");
    assert_eq!(view["attendees"][0]["email"], "luc@example.ca");
    assert!(view["attendees"][1]["first_name"].is_null(), "names may come later");
    assert_eq!(view["buyer"]["phone"], "+15145550199");

    let availability = app.availability(id).await;
    assert_eq!(availability["held"], 2);
    assert_eq!(availability["available"], 298);
}

#[actix_web::test]
async fn a_wrong_email_is_the_same_404_as_an_unknown_reference() {
    let app = spawn_app().await;
    let (_, created) = app.hold(app.city_event_of("toronto"), 1).await;
    let reference = created["reference"].as_str().unwrap();
    let (s1, wrong) = app.get_json(&format!("/api/v1/bookings/{reference}?email=someone@else.ca")).await;
    let (s2, unknown) = app.get_json("/api/v1/bookings/TOR-2222-3333?email=marie.tremblay@example.ca").await;
    let (s3, garbage) = app.get_json("/api/v1/bookings/whatever?email=marie.tremblay@example.ca").await;
    assert_eq!((s1, s2, s3), (404, 404, 404));
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, garbage);
    let (s4, missing) = app.get_json(&format!("/api/v1/bookings/{reference}")).await;
    assert_eq!(s4, 422, "{missing}");
    assert_eq!(missing["error"]["field"], "email");
}

#[actix_web::test]
async fn cancelling_a_hold_returns_its_seats_at_once_and_only_once() {
    let app = spawn_app().await;
    let id = app.city_event_of("halifax");
    let (_, created) = app.hold(id, 3).await;
    let reference = created["reference"].as_str().unwrap();
    assert_eq!(app.availability(id).await["available"], 27);

    let path = format!("/api/v1/bookings/{reference}/cancel");
    let (status, view) = app.post_json(&path, &json!({"email": "other@example.ca"})).await;
    assert_eq!(status, 404, "only the buyer cancels");
    assert_eq!(view["error"]["code"], "booking_not_found");
    assert_eq!(app.availability(id).await["available"], 27);

    let (status, view) = app.post_json(&path, &json!({"email": "marie.tremblay@example.ca"})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "cancelled");
    assert_eq!(app.availability(id).await["available"], 30);
    assert_eq!(app.db.scalar(&format!("SELECT seats_held::bigint FROM city_events WHERE id = {id}")), 0);

    let (status, again) = app.post_json(&path, &json!({"email": "marie.tremblay@example.ca"})).await;
    assert_eq!(status, 409);
    assert_eq!(again["error"]["code"], "not_cancellable");
    assert_eq!(again["error"]["status"], "cancelled");
    assert_eq!(app.availability(id).await["available"], 30);
}

#[actix_web::test]
async fn promotion_codes_discount_before_tax_and_unknown_codes_are_refused() {
    let app = spawn_app().await;
    let id = app.city_event_of("calgary");
    let mut body = booking_body(id, 1);
    body["promo_code"] = json!("bienvenue10");
    let (status, created) = app.post_json("/api/v1/bookings/create", &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["discount_cents"], 3_950);
    assert_eq!(created["taxes"][0]["amount_cents"], 1_778); // 5 % of 355.50 = 17.775 → 17.78
    assert_eq!(created["total_cents"], 35_550 + 1_778);

    body["promo_code"] = json!("NOPE-2027");
    let before = app.bookings_count();
    let (status, err) = app.post_json("/api/v1/bookings/create", &body).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["code"], "invalid_promo_code");
    assert_eq!(err["error"]["field"], "promo_code");
    assert_eq!(app.bookings_count(), before);
}

#[actix_web::test]
async fn group_price_applies_from_five_seats() {
    let app = spawn_app().await;
    // Early-bird (395.00) beats the group price (445.00) until February; after it, the group price wins.
    app.db.execute("UPDATE city_events SET early_bird_until = now() - interval '1 day'").unwrap();
    let app = {
        let db = app.stop().await;
        spawn_app_on(db, |_| {}).await
    };
    let id = app.city_event_of("toronto");
    let (_, four) = app.hold(id, 4).await;
    let (_, five) = app.hold(id, 5).await;
    assert_eq!(four["price_tier"], "regular");
    assert_eq!(four["unit_price_cents"], 49_500);
    assert_eq!(five["price_tier"], "group");
    assert_eq!(five["unit_price_cents"], 44_500);
    assert_eq!(five["taxes"][0]["code"], "HST");
    assert_eq!(five["taxes"][0]["amount_cents"], 28_925); // 13 % of 2,225.00
}

#[actix_web::test]
async fn sold_out_and_not_enough_seats_say_what_is_left() {
    let app = spawn_app().await;
    let id = app.db.add_city_event(5);
    let app = {
        let db = app.stop().await;
        spawn_app_on(db, |_| {}).await
    };
    let (status, _) = app.hold(id, 4).await;
    assert_eq!(status, 201);
    let (status, err) = app.hold(id, 2).await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["code"], "not_enough_seats");
    assert_eq!(err["error"]["available"], 1);
    let (status, _) = app.hold(id, 1).await;
    assert_eq!(status, 201);
    let (status, err) = app.hold(id, 1).await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["code"], "sold_out");
    assert_eq!(err["error"]["available"], 0);
    assert_eq!(app.db.scalar("SELECT count(*) FROM bookings"), 2);
}

#[actix_web::test]
async fn a_closed_city_event_refuses_holds_and_an_unknown_one_is_404() {
    let app = spawn_app().await;
    let id = app.city_event_of("quebec");
    app.db.execute(&format!("UPDATE city_events SET status = 'closed' WHERE id = {id}")).unwrap();
    let app = {
        let db = app.stop().await;
        spawn_app_on(db, |_| {}).await
    };
    let (status, err) = app.hold(id, 1).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["code"], "sales_closed");
    assert_eq!(err["error"]["status"], "closed");
    let (status, err) = app.hold(987_654, 1).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "city_event_not_found");
    assert_eq!(err["error"]["field"], "city_event_id");
    assert_eq!(app.get_json("/api/v1/availability/987654").await.0, 404);
    assert_eq!(app.db.scalar("SELECT count(*) FROM bookings"), 0);
}
