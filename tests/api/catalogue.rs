use crate::helpers::*;

#[actix_web::test]
async fn health_reports_database_and_actors() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["actors"]["running"], 6);
    assert_eq!(body["actors"]["ready"], 6);
}

#[actix_web::test]
async fn cities_carry_local_times_prices_taxes_and_availability() {
    let app = spawn_app().await;
    let (status, cities) = app.get_json("/api/v1/masterclass/cities").await;
    assert_eq!(status, 200);
    let cities = cities.as_array().unwrap();
    assert_eq!(cities.len(), 6);
    let montreal = cities.iter().find(|c| c["slug"] == "montreal").unwrap();
    assert_eq!(montreal["name"]["fr"], "Montréal");
    let ce = &montreal["city_events"][0];
    assert_eq!(ce["time_zone"], "America/Toronto");
    assert_eq!(ce["local_start_time"], "09:00", "9:00 local, whatever UTC says");
    assert_eq!(ce["starts_at"], "2027-04-16T13:00:00Z");
    assert_eq!(ce["prices"]["currency"], "CAD");
    let codes: Vec<&str> = ce["taxes"].as_array().unwrap().iter().map(|t| t["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["GST", "QST"], "Québec shows two tax lines");
    assert_eq!(ce["availability"]["total"], 300);
    let vancouver = cities.iter().find(|c| c["slug"] == "vancouver").unwrap();
    assert_eq!(vancouver["city_events"][0]["local_start_time"], "09:00");
    assert_eq!(vancouver["city_events"][0]["starts_at"], "2027-05-20T16:00:00Z");
}

#[actix_web::test]
async fn events_list_the_masterclass_with_its_city_events() {
    let app = spawn_app().await;
    let (status, events) = app.get_json("/api/v1/masterclass/events").await;
    assert_eq!(status, 200);
    assert_eq!(events[0]["presenter"], "Dr Russ Harris");
    assert_eq!(events[0]["city_events"].as_array().unwrap().len(), 6);
}

#[actix_web::test]
async fn availability_comes_with_a_short_cache_and_openapi_lists_every_route() {
    let app = spawn_app().await;
    let id = app.city_event_of("halifax");
    let res = app.client.get(app.url(&format!("/api/v1/availability/{id}"))).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "public, max-age=2");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"city_event_id": id, "available": 30, "total": 30, "held": 0, "sold": 0}));

    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    for path in [
        "/api/v1/masterclass/events",
        "/api/v1/masterclass/cities",
        "/api/v1/availability/{city_event_id}",
        "/api/v1/bookings/create",
        "/api/v1/bookings/{reference}",
        "/api/v1/bookings/{reference}/cancel",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
    }
}

#[actix_web::test]
async fn a_time_zone_nobody_knows_is_an_error_not_toronto() {
    let app = spawn_app().await;
    // The database's CHECK only asks for `Area/Name`; this one passes it and names no zone.
    let id = app.city_event_of("vancouver");
    app.db.execute(&format!("UPDATE city_events SET time_zone = 'Mars/Olympus' WHERE id = {id}")).unwrap();
    let (status, body) = app.get_json("/api/v1/masterclass/cities").await;
    assert_eq!((status, body["error"]["code"].as_str()), (500, Some("internal_error")), "{body}");
    let page = app.client.get(app.url("/en/cities")).send().await.unwrap();
    assert_eq!(page.status(), 500, "the page fails as a page, in HTML");
    assert!(page.text().await.unwrap().contains("<html"));
}
