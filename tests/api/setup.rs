//! Setting a tour up from nothing through the back office's JSON API: masterclass, city, venue,
//! taxes, a date, promotion codes (percentage or fixed, capped, windowed) and their report; bad
//! input names its field and writes nothing; a capped code's last use goes to one buyer however
//! many ask at once.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::admin::{login, Organiser};
use crate::helpers::*;

fn tables(app: &TestApp) -> Vec<i64> {
    ["masterclass_events", "cities", "venues", "sales_taxes", "promo_codes", "city_events", "audit_log"]
        .iter()
        .map(|t| app.db.scalar(&format!("SELECT count(*) FROM {t}")))
        .collect()
}

/// The catalogue an organiser enters for Québec City, through the API; the new date's id.
pub async fn set_up_quebec(app: &TestApp, org: &Organiser) -> i64 {
    let (s, m) = org
        .post(
            app,
            "/api/v1/admin/masterclasses",
            json!({"slug": "act-masterclass", "title_en": "ACT Made Simple", "title_fr": "L’ACT en toute simplicité",
            "summary_en": "One day.", "summary_fr": "Une journée.", "presenter": "Dr Russ Harris"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let (s, city) = org
        .post(
            app,
            "/api/v1/admin/cities",
            json!({"slug": "quebec", "name_en": "Quebec City", "name_fr": "Québec", "province": "qc", "code": "que"}),
        )
        .await;
    assert_eq!((s, city["code"].as_str(), city["province"].as_str()), (201, Some("QUE"), Some("QC")), "{city}");
    let (s, venue) = org
        .post(
            app,
            "/api/v1/admin/venues",
            json!({"city_id": city["id"], "name": "Centre des congrès de Québec",
            "address": "1000, boulevard René-Lévesque Est, Québec (Québec)", "postal_code": "g1r5t8", "time_zone": "America/Toronto"}),
        )
        .await;
    assert_eq!((s, venue["postal_code"].as_str()), (201, Some("G1R 5T8")), "{venue}");
    for (code, fr, rate, number, position) in [("GST", "TPS", 5000, "123456789 RT0001", 0), ("QST", "TVQ", 9975, "1234567890 TQ0001", 1)] {
        let (s, t) = org
            .post(
                app,
                "/api/v1/admin/sales-taxes",
                json!({"province": "QC", "code": code, "label_en": code, "label_fr": fr,
                "rate_per_100k": rate, "registration_number": number, "position": position}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
    }
    let (s, date) = org
        .post(app, "/api/v1/admin/city-events", json!({"city_id": city["id"], "masterclass_id": m["id"], "venue_id": venue["id"],
            "local_start": "2027-10-05T09:00", "local_end": "2027-10-05T16:30", "capacity": 40, "regular_price_cents": 45000, "status": "on_sale"}))
        .await;
    assert_eq!(s, 201, "{date}");
    date["id"].as_i64().unwrap()
}

fn with_code(city_event_id: i64, code: &str) -> Value {
    let mut body = booking_body(city_event_id, 2);
    body["promo_code"] = json!(code);
    body
}

#[actix_web::test]
async fn a_tour_is_set_up_on_an_empty_database_through_the_api_and_sells_with_a_fixed_code() {
    let app = spawn_app_on(Arc::new(TestDb::empty()), |_| {}).await;
    assert_eq!(app.db.scalar("SELECT count(*) FROM masterclass_events"), 0, "nothing seeded");
    let org = login(&app).await;
    let date = set_up_quebec(&app, &org).await;

    // A fixed 50 $ off the booking, for this date, once.
    let (s, code) = org
        .post(
            &app,
            "/api/v1/admin/promo-codes",
            json!({"code": "psy-qc", "kind": "fixed", "amount_off_cents": 5000,
            "city_event_id": date, "max_uses": 1}),
        )
        .await;
    assert_eq!((s, code["code"].as_str(), code["uses"].as_i64()), (201, Some("PSY-QC"), Some(0)), "{code}");

    let (s, held) = app.post_json("/api/v1/bookings/create", &with_code(date, "PSY-QC")).await;
    assert_eq!(s, 201, "{held}");
    // 2 × 450 $ − 50 $ = 850 $, then GST 5 % and QST 9.975 % on the 850 $.
    let reference = held["reference"].as_str().unwrap();
    assert!(reference.starts_with("QUE-"), "{reference}");
    let row = app.db.scalar(&format!("SELECT discount_cents * 1000000000 + total_cents FROM bookings WHERE reference = '{reference}'"));
    assert_eq!((row / 1_000_000_000, row % 1_000_000_000), (5000, 85_000 + 4_250 + 8_479));

    // Used up: the next buyer is refused on the field, with nothing held.
    let before = app.bookings_count();
    let (s, refused) = app.post_json("/api/v1/bookings/create", &with_code(date, "psy-qc")).await;
    assert_eq!(
        (s, refused["error"]["code"].as_str(), refused["error"]["field"].as_str()),
        (409, Some("promo_code_used_up"), Some("promo_code"))
    );
    assert_eq!(app.bookings_count(), before);

    let (_, usage) = org.get(&app, "/api/v1/admin/promo-codes/usage").await;
    assert_eq!(usage, json!([{"code": "PSY-QC", "city_event_id": date, "held": 1, "paid": 0, "seats_paid": 0, "discount_cents": 0}]));

    // Deactivated: refused as unknown from then on.
    let (s, _) = org.post(&app, &format!("/api/v1/admin/promo-codes/{}/deactivate", code["id"]), json!({})).await;
    assert_eq!(s, 200);
    let (s, refused) = app.post_json("/api/v1/bookings/create", &with_code(date, "PSY-QC")).await;
    assert_eq!((s, refused["error"]["code"].as_str()), (422, Some("invalid_promo_code")));

    // Every catalogue path is in the OpenAPI document.
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    for path in [
        "/api/v1/admin/masterclasses",
        "/api/v1/admin/cities/{id}",
        "/api/v1/admin/venues",
        "/api/v1/admin/sales-taxes/{id}",
        "/api/v1/admin/promo-codes",
        "/api/v1/admin/promo-codes/usage",
        "/api/v1/admin/promo-codes/{id}/deactivate",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} in the OpenAPI document");
    }
}

#[actix_web::test]
async fn bad_catalogue_input_names_its_field_and_writes_nothing() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let city = app.db.scalar("SELECT id FROM cities WHERE slug = 'montreal'");
    let venue = app.db.scalar("SELECT min(id) FROM venues");
    let before = tables(&app);
    let good_venue =
        json!({"city_id": city, "name": "Salle", "address": "1 rue A", "postal_code": "H3A 1L4", "time_zone": "America/Toronto"});
    let mut cases: Vec<(&str, &str, Value, u16, &str, &str)> = vec![
        (
            "POST",
            "/api/v1/admin/masterclasses",
            json!({"slug": "Pas Bon", "title_en": "T", "title_fr": "T", "presenter": "P"}),
            422,
            "invalid_slug",
            "slug",
        ),
        (
            "POST",
            "/api/v1/admin/masterclasses",
            json!({"slug": "act-made-simple-2027", "title_en": "T", "title_fr": "T", "presenter": "P"}),
            409,
            "duplicate",
            "slug",
        ),
        (
            "POST",
            "/api/v1/admin/masterclasses",
            json!({"slug": "autre", "title_en": "T", "title_fr": "T", "presenter": "P", "presenter_photo_url": "javascript:alert(1)"}),
            422,
            "invalid_url",
            "presenter_photo_url",
        ),
        (
            "POST",
            "/api/v1/admin/cities",
            json!({"slug": "gatineau", "name_en": "Gatineau", "name_fr": "Gatineau", "province": "XX", "code": "GAT"}),
            422,
            "invalid_choice",
            "province",
        ),
        (
            "PUT",
            "/api/v1/admin/cities/0",
            json!({"slug": "gatineau", "name_en": "Gatineau", "name_fr": "Gatineau", "province": "QC", "code": "GAT"}),
            404,
            "city_not_found",
            "",
        ),
        (
            "POST",
            "/api/v1/admin/sales-taxes",
            json!({"province": "QC", "code": "GST", "label_en": "GST", "label_fr": "TPS", "rate_per_100k": 5000, "registration_number": "1"}),
            409,
            "duplicate",
            "code",
        ),
        (
            "POST",
            "/api/v1/admin/sales-taxes",
            json!({"province": "ON", "code": "HST", "label_en": "HST", "label_fr": "TVH", "rate_per_100k": 130000, "registration_number": "1"}),
            422,
            "out_of_range",
            "rate_per_100k",
        ),
        (
            "POST",
            "/api/v1/admin/promo-codes",
            json!({"code": "X", "kind": "percent", "percent_off": 10}),
            422,
            "invalid_promo_code",
            "code",
        ),
        (
            "POST",
            "/api/v1/admin/promo-codes",
            json!({"code": "LATE", "kind": "percent", "percent_off": 10, "valid_from": "2027-02-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z"}),
            422,
            "invalid_window",
            "valid_until",
        ),
        (
            "POST",
            "/api/v1/admin/promo-codes",
            json!({"code": "NODATE", "kind": "fixed", "amount_off_cents": 100, "city_event_id": 999999}),
            422,
            "invalid_reference",
            "city_event_id",
        ),
    ];
    let mut zone = good_venue.clone();
    zone["time_zone"] = json!("Mars/Olympus");
    cases.push(("POST", "/api/v1/admin/venues", zone, 422, "invalid_time_zone", "time_zone"));
    let mut postal = good_venue.clone();
    postal["postal_code"] = json!("90210");
    cases.push(("POST", "/api/v1/admin/venues", postal, 422, "invalid_postal_code", "postal_code"));
    // A venue with dates keeps its zone: its dates' local times were set in it.
    let mut moved = good_venue.clone();
    moved["time_zone"] = json!("America/Vancouver");
    let used_venue = app.db.scalar("SELECT min(venue_id) FROM city_events");
    moved["city_id"] = json!(app.db.scalar(&format!("SELECT city_id FROM venues WHERE id = {used_venue}")));
    cases.push(("PUT", "/api/v1/admin/venues/USED", moved, 409, "venue_in_use", "time_zone"));
    let _ = venue;
    for (method, path, body, status, code, field) in cases {
        let path = path.replace("USED", &used_venue.to_string());
        let (s, b) = org.call(&app, method, &path, Some(body)).await;
        assert_eq!((s, b["error"]["code"].as_str()), (status, Some(code)), "{method} {path}: {b}");
        if !field.is_empty() {
            assert_eq!(b["error"]["field"].as_str(), Some(field), "{method} {path}: {b}");
        }
        assert_eq!(tables(&app), before, "{method} {path} wrote nothing");
    }
}

#[actix_web::test]
async fn a_capped_code_is_used_at_most_its_cap_when_many_buyers_use_it_at_once() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let date = app.city_event_of("montreal");
    let (s, code) = org
        .post(&app, "/api/v1/admin/promo-codes", json!({"code": "FIRST-FIVE", "kind": "percent", "percent_off": 20, "max_uses": 5}))
        .await;
    assert_eq!(s, 201, "{code}");
    let app = Arc::new(app);
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut body = booking_body(date, 1);
                body["promo_code"] = json!("FIRST-FIVE");
                app.post_json("/api/v1/bookings/create", &body).await.0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 5, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert_eq!(app.db.scalar("SELECT count(*) FROM bookings WHERE promo_code = 'FIRST-FIVE' AND status IN ('held', 'confirmed')"), 5);
    // A use comes back when its hold expires or is released.
    app.db.execute("UPDATE bookings SET status = 'expired' WHERE promo_code = 'FIRST-FIVE' AND id = (SELECT id FROM bookings WHERE promo_code = 'FIRST-FIVE' LIMIT 1)").unwrap();
    let mut body = booking_body(date, 1);
    body["promo_code"] = json!("FIRST-FIVE");
    assert_eq!(app.post_json("/api/v1/bookings/create", &body).await.0, 201);
}

#[actix_web::test]
async fn a_tax_edit_prices_the_next_hold_at_once() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let date = app.city_event_of("montreal");
    let qst = app.db.scalar("SELECT id FROM sales_taxes WHERE province = 'QC' AND code = 'QST'");
    let (_, mut t) = org.get(&app, &format!("/api/v1/admin/sales-taxes/{qst}")).await;
    t.as_object_mut().unwrap().remove("id");
    t["rate_per_100k"] = json!(10000);
    let (s, saved) = org.call(&app, "PUT", &format!("/api/v1/admin/sales-taxes/{qst}"), Some(t)).await;
    assert_eq!(s, 200, "{saved}");
    let (s, held) = app.hold(date, 1).await;
    assert_eq!(s, 201, "{held}");
    let reference = held["reference"].as_str().unwrap();
    let unit = app.db.scalar(&format!("SELECT subtotal_cents FROM bookings WHERE reference = '{reference}'"));
    let tax = app.db.scalar(&format!("SELECT tax_cents FROM bookings WHERE reference = '{reference}'"));
    assert_eq!(tax, (unit * 5 + 50) / 100 + unit / 10, "GST 5 % and the new QST 10 %");
}

#[actix_web::test]
async fn the_presenter_page_shows_the_photo_the_organiser_set_and_no_placeholder() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let page = |app: &TestApp| {
        let url = app.url("/fr/russ-harris");
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    // No photo set: no picture at all, not a silhouette.
    let before = page(&app).await;
    assert!(!before.contains("class=\"portrait\"") && !before.contains(".svg\" alt"), "{before}");
    let id = app.db.scalar("SELECT min(id) FROM masterclass_events");
    let (_, mut m) = org.get(&app, &format!("/api/v1/admin/masterclasses/{id}")).await;
    m.as_object_mut().unwrap().remove("id");
    m["presenter_photo_url"] = json!("https://photos.example.org/russ-harris.jpg");
    let (s, saved) = org.call(&app, "PUT", &format!("/api/v1/admin/masterclasses/{id}"), Some(m)).await;
    assert_eq!(s, 200, "{saved}");
    let after = page(&app).await;
    assert!(after.contains("<img class=\"portrait\" src=\"https://photos.example.org/russ-harris.jpg\""), "{after}");
}
