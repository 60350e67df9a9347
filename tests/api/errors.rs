//! Bad input gets a clear JSON error with a stable code and the field at fault, the right status,
//! and writes nothing.

use serde_json::{json, Value};

use crate::helpers::*;

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    *body.pointer_mut(pointer).unwrap() = value;
    body
}

fn without(mut body: Value, parent: &str, key: &str) -> Value {
    body.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(key);
    body
}

#[actix_web::test]
async fn every_bad_booking_request_is_refused_with_its_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let id = app.city_event_of("montreal");
    let ok = booking_body(id, 1);
    let cases: Vec<(&str, Value, u16, &str, Option<&str>)> = vec![
        ("quantity as a string", with(ok.clone(), "/quantity", json!("two")), 422, "invalid_field", Some("quantity")),
        ("quantity zero", with(ok.clone(), "/quantity", json!(0)), 422, "invalid_quantity", Some("quantity")),
        ("negative quantity", with(ok.clone(), "/quantity", json!(-5)), 422, "invalid_quantity", Some("quantity")),
        ("huge quantity", with(ok.clone(), "/quantity", json!(1_000_000)), 422, "invalid_quantity", Some("quantity")),
        ("quantity beyond i64", with(ok.clone(), "/quantity", json!(1e30)), 422, "invalid_field", Some("quantity")),
        ("fractional quantity", with(ok.clone(), "/quantity", json!(1.5)), 422, "invalid_field", Some("quantity")),
        ("city event as text", with(ok.clone(), "/city_event_id", json!("montreal")), 422, "invalid_field", Some("city_event_id")),
        ("unknown city event", with(ok.clone(), "/city_event_id", json!(999_999)), 404, "city_event_not_found", Some("city_event_id")),
        ("negative city event", with(ok.clone(), "/city_event_id", json!(-1)), 404, "city_event_not_found", Some("city_event_id")),
        ("missing buyer", without(ok.clone(), "", "buyer"), 422, "missing_field", Some("buyer")),
        ("missing e-mail", without(ok.clone(), "/buyer", "email"), 422, "missing_field", Some("buyer.email")),
        ("invalid e-mail", with(ok.clone(), "/buyer/email", json!("marie@")), 422, "invalid_email", Some("buyer.email")),
        ("e-mail as number", with(ok.clone(), "/buyer/email", json!(42)), 422, "invalid_field", Some("buyer.email")),
        ("invalid phone", with(ok.clone(), "/buyer/phone", json!("call me")), 422, "invalid_phone", Some("buyer.phone")),
        ("short phone", with(ok.clone(), "/buyer/phone", json!("555-0199")), 422, "invalid_phone", Some("buyer.phone")),
        ("blank first name", with(ok.clone(), "/buyer/first_name", json!("   ")), 422, "required", Some("buyer.first_name")),
        ("very long last name", with(ok.clone(), "/buyer/last_name", json!("x".repeat(500))), 422, "invalid_name", Some("buyer.last_name")),
        ("unknown experience", with(ok.clone(), "/act_experience", json!("expert")), 422, "invalid_field", Some("act_experience")),
        ("unknown language", with(ok.clone(), "/language", json!("de")), 422, "invalid_field", Some("language")),
        (
            "unknown field",
            with(ok.clone(), "/language", json!("fr"))
                .as_object()
                .cloned()
                .map(|mut o| {
                    o.insert("coupon".into(), json!("x"));
                    Value::Object(o)
                })
                .unwrap(),
            422,
            "unknown_field",
            Some("coupon"),
        ),
        (
            "too many attendees",
            with(ok.clone(), "/attendees", json!([{"first_name": "A", "last_name": "B"}, {"first_name": "C", "last_name": "D"}])),
            422,
            "too_many_attendees",
            Some("attendees"),
        ),
        (
            "attendee with a bad e-mail",
            with(with(ok.clone(), "/quantity", json!(2)), "/attendees", json!([{"first_name": "A", "last_name": "B", "email": "nope"}])),
            422,
            "invalid_email",
            Some("attendees[0].email"),
        ),
        ("attendees not a list", with(ok.clone(), "/attendees", json!("Luc")), 422, "invalid_field", Some("attendees")),
        ("body is a list", json!([1, 2, 3]), 422, "invalid_field", None),
        ("empty object", json!({}), 422, "missing_field", None),
    ];
    for (what, body, status, code, field) in cases {
        let res = app.client.post(app.url("/api/v1/bookings/create")).json(&body).send().await.unwrap();
        let got_status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let err: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"));
        assert_eq!(got_status, status, "{what}: {err}");
        assert_eq!(err["error"]["code"], code, "{what}: {err}");
        if let Some(field) = field {
            assert_eq!(err["error"]["field"], field, "{what}: {err}");
        }
        assert!(err["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: a message for people");
        assert!(!text.contains("panicked") && !text.contains("src/"), "{what}: no internals leak: {text}");
    }
    assert_eq!(app.bookings_count(), 0, "no bad request wrote anything");
    assert_eq!(app.availability(id).await["held"], 0);
}

#[actix_web::test]
async fn malformed_bodies_are_refused_before_anything_else() {
    let app = spawn_app().await;
    let url = app.url("/api/v1/bookings/create");
    let send = |body: Vec<u8>, content_type: &'static str| {
        let req = app.client.post(&url).header("content-type", content_type).body(body);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.expect("errors are JSON");
            (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
        }
    };
    assert_eq!(send(b"{\"city_event_id\": 1,".to_vec(), "application/json").await, (400, "malformed_json".into()));
    assert_eq!(send(b"not json at all".to_vec(), "application/json").await, (400, "malformed_json".into()));
    assert_eq!(send(vec![0xff, 0xfe, 0x00], "application/json").await, (400, "malformed_json".into()));
    assert_eq!(send(b"city_event_id=1".to_vec(), "application/x-www-form-urlencoded").await, (415, "unsupported_media_type".into()));
    assert_eq!(send(b"{}".to_vec(), "text/plain").await, (415, "unsupported_media_type".into()));
    let mut huge = b"{\"city_event_id\": 1, \"padding\": \"".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    huge.extend(b"\"}");
    assert_eq!(send(huge, "application/json").await, (413, "payload_too_large".into()));
    assert_eq!(app.bookings_count(), 0);
}

#[actix_web::test]
async fn unknown_routes_and_bad_path_parameters_answer_in_json() {
    let app = spawn_app().await;
    let (status, err) = app.get_json("/api/v1/does-not-exist").await;
    assert_eq!((status, err["error"]["code"].as_str()), (404, Some("route_not_found")));
    let (status, err) = app.get_json("/api/v1/availability/not-a-number").await;
    assert_eq!((status, err["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, err) = app.get_json("/api/v1/availability/99999999999999999999999").await;
    assert_eq!((status, err["error"]["code"].as_str()), (404, Some("not_found")));
    let res = app.client.delete(app.url("/api/v1/bookings/create")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let (status, err) = app.post_json("/api/v1/bookings/TOR-2222-3333/cancel", &json!({"email": 5})).await;
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("email")));
}
