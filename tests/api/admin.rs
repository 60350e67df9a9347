//! The back office, against the real server and database: authentication and authorisation on
//! every route, CSRF, each action's effect on the database, the actor and availability, exports,
//! and the waiting list under concurrent releases.

use std::time::Duration;

use futures::future::join_all;
use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use serde_json::{json, Value};

use crate::helpers::*;

pub const ADMIN_EMAIL: &str = "organisatrice@example.ca";
pub const ADMIN_PASSWORD: &str = "une phrase de passe assez longue";

/// Every back-office JSON route, with a body where it takes one.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/admin/session"),
    ("POST", "/api/v1/admin/check-in"),
    ("GET", "/api/v1/admin/check-in/1"),
    ("GET", "/api/v1/admin/check-in/1/search"),
    ("POST", "/api/v1/admin/logout"),
    ("GET", "/api/v1/admin/dashboard"),
    ("GET", "/api/v1/admin/bookings"),
    ("GET", "/api/v1/admin/bookings/HAL-AAAA-AAAA"),
    ("POST", "/api/v1/admin/bookings/HAL-AAAA-AAAA/resend-confirmation"),
    ("PUT", "/api/v1/admin/bookings/HAL-AAAA-AAAA/attendees"),
    ("POST", "/api/v1/admin/bookings/HAL-AAAA-AAAA/cancel"),
    ("POST", "/api/v1/admin/bookings/HAL-AAAA-AAAA/refund"),
    ("POST", "/api/v1/admin/bookings/HAL-AAAA-AAAA/move"),
    ("GET", "/api/v1/admin/city-events"),
    ("POST", "/api/v1/admin/city-events"),
    ("GET", "/api/v1/admin/city-events/1"),
    ("PUT", "/api/v1/admin/city-events/1"),
    ("POST", "/api/v1/admin/city-events/1/open-sales"),
    ("POST", "/api/v1/admin/city-events/1/close-sales"),
    ("GET", "/api/v1/admin/city-events/1/waiting-list"),
    ("DELETE", "/api/v1/admin/city-events/1/waiting-list/1"),
    ("GET", "/api/v1/admin/city-events/1/attendees.csv"),
    ("GET", "/api/v1/admin/exports/bookings.csv"),
    ("GET", "/api/v1/admin/venues"),
    ("POST", "/api/v1/admin/venues"),
    ("PUT", "/api/v1/admin/venues/1"),
    ("GET", "/api/v1/admin/masterclasses"),
    ("POST", "/api/v1/admin/masterclasses"),
    ("PUT", "/api/v1/admin/cities/1"),
    ("POST", "/api/v1/admin/sales-taxes"),
    ("DELETE", "/api/v1/admin/sales-taxes/1"),
    ("GET", "/api/v1/admin/promo-codes"),
    ("POST", "/api/v1/admin/promo-codes"),
    ("POST", "/api/v1/admin/promo-codes/1/deactivate"),
    ("GET", "/api/v1/admin/promo-codes/usage"),
    ("POST", "/api/v1/admin/city-events/1/broadcasts/preview"),
    ("POST", "/api/v1/admin/city-events/1/broadcasts"),
    ("GET", "/api/v1/admin/city-events/1/broadcasts"),
    ("POST", "/api/v1/admin/city-events/1/cancel"),
    ("GET", "/api/v1/admin/city-events/1/cancellation"),
    ("GET", "/api/v1/admin/audit"),
    ("GET", "/api/v1/admin/no-such-route"),
    ("GET", "/api/v1/admin/login"),
];

/// Every back-office page and form target.
pub const PAGE_ROUTES: &[(&str, &str)] = &[
    ("GET", "/admin"),
    ("GET", "/admin/"),
    ("POST", "/admin/logout"),
    ("GET", "/admin/bookings"),
    ("GET", "/admin/bookings/HAL-AAAA-AAAA"),
    ("POST", "/admin/bookings/HAL-AAAA-AAAA/resend-confirmation"),
    ("POST", "/admin/bookings/HAL-AAAA-AAAA/attendees"),
    ("POST", "/admin/bookings/HAL-AAAA-AAAA/cancel"),
    ("POST", "/admin/bookings/HAL-AAAA-AAAA/refund"),
    ("POST", "/admin/bookings/HAL-AAAA-AAAA/move"),
    ("POST", "/admin/city-events/1/broadcast"),
    ("POST", "/admin/city-events/1/cancel"),
    ("GET", "/admin/catalogue"),
    ("GET", "/admin/catalogue/venues/new"),
    ("POST", "/admin/catalogue/venues"),
    ("GET", "/admin/catalogue/taxes/1"),
    ("POST", "/admin/catalogue/taxes/1"),
    ("POST", "/admin/catalogue/taxes/1/delete"),
    ("POST", "/admin/catalogue/promo-codes/1/deactivate"),
    ("GET", "/admin/city-events"),
    ("POST", "/admin/city-events"),
    ("GET", "/admin/city-events/1"),
    ("POST", "/admin/city-events/1"),
    ("POST", "/admin/city-events/1/sales"),
    ("POST", "/admin/city-events/1/waiting-list/1/remove"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/check-in"),
    ("GET", "/admin/check-in/1"),
    ("POST", "/admin/check-in/1"),
    ("POST", "/admin/check-in/1/attendees/1"),
    ("GET", "/admin/no-such-page"),
];

/// An organiser's browser: the session and CSRF cookies, and the CSRF token.
pub struct Organiser {
    pub cookies: String,
    pub csrf: String,
}

pub async fn create_admin(app: &TestApp) {
    billetterie::admin::auth::create_user(&app.state.pool, ADMIN_EMAIL, ADMIN_PASSWORD, billetterie::domain::AdminRole::Owner)
        .await
        .unwrap();
}

pub fn cookies_of(headers: &HeaderMap) -> Vec<String> {
    headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

fn cookie_pairs(set_cookies: &[String]) -> String {
    set_cookies.iter().map(|c| c.split(';').next().unwrap().to_owned()).filter(|c| !c.ends_with('=')).collect::<Vec<_>>().join("; ")
}

pub async fn login(app: &TestApp) -> Organiser {
    create_admin(app).await;
    let res = app
        .client
        .post(app.url("/api/v1/admin/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookies = cookie_pairs(&cookies_of(res.headers()));
    let body: Value = res.json().await.unwrap();
    Organiser { cookies, csrf: body["csrf_token"].as_str().unwrap().to_owned() }
}

impl Organiser {
    pub async fn call(&self, app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req =
            app.client.request(method.parse().unwrap(), app.url(path)).header(COOKIE, &self.cookies).header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> (u16, Value) {
        self.call(app, "GET", path, None).await
    }

    pub async fn post(&self, app: &TestApp, path: &str, body: Value) -> (u16, Value) {
        self.call(app, "POST", path, Some(body)).await
    }

    pub async fn text(&self, app: &TestApp, path: &str) -> (u16, HeaderMap, Vec<u8>) {
        let res = app.client.get(app.url(path)).header(COOKIE, &self.cookies).send().await.unwrap();
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        (status, headers, res.bytes().await.unwrap().to_vec())
    }
}

async fn pay(app: &TestApp, reference: &str) {
    let (status, intent) = app.create_intent(reference).await;
    assert_eq!(status, 200, "{intent}");
    app.stripe.confirm(intent["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await;
    assert!(eventually(Duration::from_secs(10), async || app.booking_status(reference) == "confirmed").await);
}

fn audit_count(app: &TestApp, action: &str) -> i64 {
    app.db.scalar(&format!("SELECT count(*) FROM audit_log WHERE action = '{action}' AND actor_email = '{ADMIN_EMAIL}'"))
}

async fn request(app: &TestApp, method: &str, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut req = client.request(method.parse().unwrap(), app.url(path));
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    if method != "GET" {
        req = req.header("content-type", "application/json").body("{}");
    }
    req.send().await.unwrap()
}

#[actix_web::test]
async fn no_admin_route_answers_without_a_valid_session() {
    let app = spawn_app().await;
    let before = app.bookings_count();
    let forged = format!("admin_session={}", "ab".repeat(32));
    for cookie in [None, Some("admin_session=nonsense"), Some(forged.as_str())] {
        for (method, path) in API_ROUTES {
            let res = request(&app, method, path, cookie).await;
            assert_eq!(res.status(), 401, "{method} {path} with {cookie:?}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthenticated", "{method} {path}");
        }
        for (method, path) in PAGE_ROUTES {
            let res = request(&app, method, path, cookie).await;
            assert_eq!(res.status(), 303, "{method} {path} with {cookie:?}");
            let to = res.headers()["location"].to_str().unwrap();
            assert!(to.starts_with("/admin/login?next=/admin"), "{method} {path} → {to}");
        }
    }
    assert_eq!(app.bookings_count(), before);
    assert_eq!(app.db.scalar("SELECT count(*) FROM audit_log"), 0);

    // A session that ended (logout) opens nothing either.
    let org = login(&app).await;
    assert_eq!(org.get(&app, "/api/v1/admin/session").await.0, 200);
    assert_eq!(org.call(&app, "POST", "/api/v1/admin/logout", None).await.0, 204);
    for (method, path) in API_ROUTES {
        assert_eq!(request(&app, method, path, Some(&org.cookies)).await.status(), 401, "{method} {path} after logout");
    }
    for (method, path) in PAGE_ROUTES {
        assert_eq!(request(&app, method, path, Some(&org.cookies)).await.status(), 303, "{method} {path} after logout");
    }
    // An expired one neither.
    let org = login(&app).await;
    app.db.execute("UPDATE admin_sessions SET created_at = now() - INTERVAL '2 hours', expires_at = now() - INTERVAL '1 hour'").unwrap();
    assert_eq!(org.get(&app, "/api/v1/admin/dashboard").await.0, 401);
    // Nor an idle one.
    let org = login(&app).await;
    app.db.execute("UPDATE admin_sessions SET last_seen_at = now() - INTERVAL '2 hours' WHERE expires_at > now()").unwrap();
    assert_eq!(org.get(&app, "/api/v1/admin/dashboard").await.0, 401);
}

#[actix_web::test]
async fn login_sets_a_strict_http_only_cookie_and_stores_only_a_hash() {
    let app = spawn_app().await;
    create_admin(&app).await;
    let hash: i64 =
        app.db.scalar(&format!("SELECT count(*) FROM admin_users WHERE email = '{ADMIN_EMAIL}' AND password_hash LIKE '$argon2id$v=19$%'"));
    assert_eq!(hash, 1);
    let res = app
        .client
        .post(app.url("/api/v1/admin/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookies = cookies_of(res.headers());
    let session = cookies.iter().find(|c| c.starts_with("admin_session=")).unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Max-Age="), "{session}");
    assert!(!session.contains("Secure"), "plain HTTP: no Secure flag");
    let token = session.trim_start_matches("admin_session=").split(';').next().unwrap();
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM admin_sessions WHERE token_hash = '{token}'")), 0, "the token is not stored");
    assert_eq!(app.db.scalar("SELECT count(*) FROM admin_sessions"), 1);

    // Behind an HTTPS proxy the cookie is Secure.
    let res = app
        .client
        .post(app.url("/api/v1/admin/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookies = cookies_of(res.headers());
    assert!(cookies.iter().find(|c| c.starts_with("admin_session=")).unwrap().contains("Secure"));
}

#[actix_web::test]
async fn repeated_failures_lock_the_account_in_the_database() {
    let app = spawn_app().await;
    create_admin(&app).await;
    let attempt = async |email: &str, password: &str| {
        let res =
            app.client.post(app.url("/api/v1/admin/login")).json(&json!({"email": email, "password": password})).send().await.unwrap();
        let status = res.status().as_u16();
        let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let body: Value = res.json().await.unwrap_or(Value::Null);
        (status, body["error"]["code"].as_str().unwrap_or_default().to_owned(), retry)
    };
    assert_eq!(attempt("nobody@example.ca", "whatever it is").await.1, "invalid_credentials", "an unknown address: the same answer");
    // Text the database refuses (a NUL byte, Schemathesis found it answering 500) is refused as a
    // wrong login, never an error of ours.
    for odd in ["a\u{0}b@example.ca", "\u{0}", &"x".repeat(10_000)] {
        let (status, code, _) = attempt(odd, "whatever it is").await;
        assert_eq!((status, code.as_str()), (401, "invalid_credentials"), "{:?}", &odd[..odd.len().min(20)]);
    }
    for _ in 0..5 {
        let (status, code, _) = attempt(ADMIN_EMAIL, "wrong password!!").await;
        assert_eq!((status, code.as_str()), (401, "invalid_credentials"));
    }
    // Locked now, even with the right password.
    let (status, code, retry) = attempt(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!((status, code.as_str()), (429, "account_locked"));
    assert!(retry.unwrap().parse::<u64>().unwrap() > 800);
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM admin_login_attempts WHERE email = '{ADMIN_EMAIL}' AND NOT success")), 6);
    // Another instance on the same database agrees: the lock is in the table, not in memory.
    let other = spawn_app_on(app.db.clone(), |_| {}).await;
    let res = other
        .client
        .post(other.url("/api/v1/admin/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    // The lock passes with its window.
    app.db.execute("UPDATE admin_login_attempts SET at = at - INTERVAL '16 minutes'").unwrap();
    assert_eq!(attempt(ADMIN_EMAIL, ADMIN_PASSWORD).await.0, 200);
}

#[actix_web::test]
async fn a_change_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let id = app.city_event_of("halifax");
    let (reference, _) = app.held(id, 2).await;
    for token in [None, Some("00"), Some("not hex")] {
        let mut req = app.client.post(app.url(&format!("/api/v1/admin/bookings/{reference}/cancel"))).header(COOKIE, &org.cookies);
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        let res = req.json(&json!({})).send().await.unwrap();
        assert_eq!(res.status(), 403, "{token:?}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "csrf_refused");
    }
    // From another site, even with a valid token.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/admin/bookings/{reference}/cancel")))
        .header(COOKIE, &org.cookies)
        .header("x-csrf-token", &org.csrf)
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(app.booking_status(&reference), "held");
    assert_eq!(app.availability(id).await["held"], 2);
    assert_eq!(app.db.scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'booking.%'"), 0);
    // Reads need no token.
    assert_eq!(app.client.get(app.url("/api/v1/admin/dashboard")).header(COOKIE, &org.cookies).send().await.unwrap().status(), 200);
}

#[actix_web::test]
async fn search_show_cancel_and_edit_a_booking() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let id = app.city_event_of("halifax");
    let mut body = booking_body(id, 2);
    body["attendees"] = json!([{"first_name": "Anne", "last_name": "Côté", "email": "anne@example.ca"}]);
    let (status, created) = app.post_json("/api/v1/bookings/create", &body).await;
    assert_eq!(status, 201);
    let reference = created["reference"].as_str().unwrap().to_owned();
    let (other, _) = app.held(app.city_event_of("toronto"), 1).await;

    for q in [reference.as_str(), &reference.to_lowercase(), "marie.tremblay@example.ca", "Tremblay", "côté", "anne@example.ca"] {
        let (status, found) = org.get(&app, &format!("/api/v1/admin/bookings?q={}", urlencode(q))).await;
        assert_eq!(status, 200);
        let refs: Vec<&str> = found.as_array().unwrap().iter().map(|b| b["reference"].as_str().unwrap()).collect();
        assert!(refs.contains(&reference.as_str()), "{q}: {refs:?}");
    }
    let (_, found) = org.get(&app, &format!("/api/v1/admin/bookings?city_event_id={id}&status=held")).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (_, found) = org.get(&app, "/api/v1/admin/bookings?q=C%C3%B4t%C3%A9&status=confirmed").await;
    assert!(found.as_array().unwrap().is_empty());
    assert_eq!(org.get(&app, "/api/v1/admin/bookings?status=lost").await.0, 422);

    let (status, detail) = org.get(&app, &format!("/api/v1/admin/bookings/{reference}")).await;
    assert_eq!(status, 200);
    assert_eq!(detail["booking"]["attendees"].as_array().unwrap().len(), 2);
    assert_eq!(detail["booking"]["attendees"][0]["last_name"], "Côté");

    // Names: both or neither; the edit is audited with before and after.
    let (status, err) = org
        .call(
            &app,
            "PUT",
            &format!("/api/v1/admin/bookings/{reference}/attendees"),
            Some(json!({"attendees": [{"position": 2, "first_name": "Luc"}]})),
        )
        .await;
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("attendees[0].last_name")));
    let (status, edited) = org
        .call(
            &app,
            "PUT",
            &format!("/api/v1/admin/bookings/{reference}/attendees"),
            Some(json!({"attendees": [{"position": 2, "first_name": "Luc", "last_name": "Roy", "email": "Luc@Example.ca"}]})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(app.db.scalar("SELECT count(*) FROM attendees WHERE last_name = 'Roy' AND email = 'luc@example.ca' AND position = 2"), 1);
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT count(*) FROM audit_log WHERE action = 'booking.edit_attendees' AND target_id = '{reference}'
             AND before->'attendees'->1->>'last_name' IS NULL AND after->'attendees'->1->>'last_name' = 'Roy'"
        )),
        1
    );

    // Cancel through the actor: the seats come back at once.
    assert_eq!(app.availability(id).await["held"], 2);
    let (status, cancelled) = org.post(&app, &format!("/api/v1/admin/bookings/{reference}/cancel"), json!({})).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(app.availability(id).await["held"], 0);
    assert_eq!(app.db.scalar(&format!("SELECT seats_held FROM city_events WHERE id = {id}")), 0);
    assert_eq!(audit_count(&app, "booking.cancel"), 1);
    let (status, err) = org.post(&app, &format!("/api/v1/admin/bookings/{reference}/cancel"), json!({})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (409, Some("not_cancellable")));
    assert_eq!(app.booking_status(&other), "held", "other bookings untouched");
    let (status, _) = org.get(&app, "/api/v1/admin/bookings/HAL-ZZZZ-ZZZZ").await;
    assert_eq!(status, 404);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[actix_web::test]
async fn refund_partly_then_fully_and_resend_the_confirmation() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let id = app.city_event_of("calgary");
    let (reference, booking_id) = app.held(id, 2).await;
    pay(&app, &reference).await;
    assert_eq!(app.availability(id).await["sold"], 2);

    let (status, _) = org.post(&app, &format!("/api/v1/admin/bookings/{reference}/resend-confirmation"), json!({})).await;
    assert_eq!(status, 200);
    assert!(
        eventually(Duration::from_secs(15), async || {
            app.db.scalar(&format!(
                "SELECT count(*) FROM email_campaigns WHERE booking_id = '{booking_id}' AND kind = 'confirmation' AND status = 'sent'"
            )) == 1
        })
        .await,
        "the dispatcher sends it"
    );
    assert_eq!(audit_count(&app, "booking.resend_confirmation"), 1);

    let (status, partial) = org.post(&app, &format!("/api/v1/admin/bookings/{reference}/refund"), json!({"amount_cents": 1000})).await;
    assert_eq!(status, 200, "{partial}");
    assert_eq!((partial["amount_cents"].as_i64(), partial["booking"]["status"].as_str()), (Some(1000), Some("confirmed")));
    assert_eq!(app.availability(id).await["sold"], 2, "a partial refund keeps the seats");
    let (status, err) = org.post(&app, &format!("/api/v1/admin/bookings/{reference}/refund"), json!({"amount_cents": 99_999_999})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (422, Some("invalid_amount")));
    let (status, full) = org.post(&app, &format!("/api/v1/admin/bookings/{reference}/refund"), json!({})).await;
    assert_eq!(status, 200, "{full}");
    assert_eq!(full["booking"]["status"], "refunded");
    assert_eq!(app.availability(id).await["sold"], 0, "a full refund frees the seats through the actor");
    assert_eq!(
        app.db.scalar(&format!("SELECT count(*) FROM payments WHERE booking_id = '{booking_id}' AND amount_refunded_cents = amount_cents")),
        1
    );
    assert_eq!(audit_count(&app, "booking.refund"), 2);
    let (status, detail) = org.get(&app, &format!("/api/v1/admin/bookings/{reference}")).await;
    assert_eq!(status, 200);
    assert_eq!(detail["payments"][0]["amount_refunded_cents"], detail["payments"][0]["amount_cents"]);
    assert!(detail["emails"].as_array().unwrap().iter().any(|e| e["kind"] == "confirmation" && e["status"] == "sent"));
    assert_eq!(detail["history"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn a_move_holds_in_the_target_first_then_releases_the_source() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let (from, to) = (app.city_event_of("calgary"), app.city_event_of("toronto"));
    let (paid, paid_id) = app.held(from, 2).await;
    pay(&app, &paid).await;
    let (held, _) = app.held(from, 1).await;
    let before_to = app.availability(to).await;

    let (status, moved) = org.post(&app, &format!("/api/v1/admin/bookings/{paid}/move"), json!({"city_event_id": to})).await;
    assert_eq!(status, 200, "{moved}");
    let new_ref = moved["booking"]["reference"].as_str().unwrap().to_owned();
    assert!(new_ref.starts_with("TOR-"));
    assert_eq!(moved["booking"]["status"], "confirmed");
    assert_eq!(moved["moved_from_reference"], paid.as_str());
    assert_eq!(app.booking_status(&paid), "moved");
    let a_from = app.availability(from).await;
    assert_eq!((a_from["sold"].as_i64(), a_from["held"].as_i64()), (Some(0), Some(1)));
    let a_to = app.availability(to).await;
    assert_eq!(a_to["sold"].as_i64().unwrap(), before_to["sold"].as_i64().unwrap() + 2);
    assert_eq!(
        app.db.scalar(&format!("SELECT count(*) FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE b.reference = '{new_ref}'")),
        1
    );
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM payments WHERE booking_id = '{paid_id}'")), 0, "the payment followed");
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM bookings WHERE reference = '{new_ref}' AND total_cents = (SELECT total_cents FROM bookings WHERE id = '{paid_id}')")), 1);
    assert_eq!(audit_count(&app, "booking.move"), 1);
    // The database agrees with both actors.
    for e in [from, to] {
        let a = app.availability(e).await;
        assert_eq!(a["sold"].as_i64().unwrap(), app.db.scalar(&format!("SELECT seats_sold FROM city_events WHERE id = {e}")));
        assert_eq!(a["held"].as_i64().unwrap(), app.db.scalar(&format!("SELECT seats_held FROM city_events WHERE id = {e}")));
    }
    // A refund of the moved booking refunds its payment and frees the target's seats.
    let (status, _) = org.post(&app, &format!("/api/v1/admin/bookings/{new_ref}/refund"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(app.availability(to).await["sold"], before_to["sold"]);

    // A move into a full city event changes nothing.
    let full = app.db.add_city_event(1);
    let app = {
        let db = app.stop().await;
        spawn_app_on(db, |_| {}).await
    };
    let org = login(&app).await;
    app.held(full, 1).await;
    let (status, err) = org.post(&app, &format!("/api/v1/admin/bookings/{held}/move"), json!({"city_event_id": full})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (409, Some("sold_out")));
    assert_eq!(app.booking_status(&held), "held");
    assert_eq!(app.availability(from).await["held"], 1);
    // A held booking moves with its hold.
    let (status, moved) = org.post(&app, &format!("/api/v1/admin/bookings/{held}/move"), json!({"city_event_id": to})).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["booking"]["status"], "held");
    assert_eq!(app.availability(from).await["held"], 0);
}

#[actix_web::test]
async fn city_events_are_created_edited_opened_and_closed_through_their_actor() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let city_id = app.db.scalar("SELECT id FROM cities WHERE slug = 'halifax'");
    let venue_id = app.db.scalar(&format!("SELECT id FROM venues WHERE city_id = {city_id}"));
    let input = json!({
        "city_id": city_id, "venue_id": venue_id, "local_start": "2027-10-04T09:00", "local_end": "2027-10-04T16:30",
        "capacity": 2, "regular_price_cents": 40_000
    });
    let (status, created) = org.post(&app, "/api/v1/admin/city-events", input.clone()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!((created["status"].as_str(), created["local_start"].as_str()), (Some("draft"), Some("2027-10-04T09:00")));
    assert_eq!(created["starts_at"], "2027-10-04T12:00:00Z", "9:00 in Halifax (ADT)");
    let (status, err) = app.hold(id, 1).await;
    assert_eq!((status, err["error"]["code"].as_str()), (409, Some("sales_closed")));

    let (status, opened) = org.post(&app, &format!("/api/v1/admin/city-events/{id}/open-sales"), json!({})).await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["status"], "on_sale");
    let (r1, _) = app.held(id, 1).await;
    let (r2, _) = app.held(id, 1).await;
    assert_eq!(app.hold(id, 1).await.0, 409);
    assert_eq!(app.booking_status(&r1), "held");

    // Capacity: never below what is taken (the actor says so, and the database too).
    let mut edit = input.clone();
    edit["capacity"] = json!(1);
    let (status, err) = org.call(&app, "PUT", &format!("/api/v1/admin/city-events/{id}"), Some(edit.clone())).await;
    assert_eq!((status, err["error"]["code"].as_str()), (409, Some("capacity_below_taken")));
    assert!(app.db.execute(&format!("UPDATE city_events SET capacity = 1 WHERE id = {id}")).is_err(), "the CHECK refuses it too");
    // Up by one: the actor sells it at once; and a new price applies to the next hold.
    edit["capacity"] = json!(3);
    edit["regular_price_cents"] = json!(45_000);
    let (status, updated) = org.call(&app, "PUT", &format!("/api/v1/admin/city-events/{id}"), Some(edit.clone())).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(app.availability(id).await["available"], 1);
    let (status, third) = app.hold(id, 1).await;
    assert_eq!(status, 201, "{third}");
    assert_eq!(third["unit_price_cents"], 45_000);
    // Down to what is taken, through the actor.
    app.post_json(&format!("/api/v1/bookings/{r2}/cancel"), &json!({"email": "marie.tremblay@example.ca"})).await;
    edit["capacity"] = json!(2);
    let (status, _) = org.call(&app, "PUT", &format!("/api/v1/admin/city-events/{id}"), Some(edit)).await;
    assert_eq!(status, 200);
    let a = app.availability(id).await;
    assert_eq!((a["total"].as_i64(), a["available"].as_i64()), (Some(2), Some(0)));
    assert_eq!(app.db.scalar(&format!("SELECT capacity FROM city_events WHERE id = {id}")), 2);

    // Close: holds refused at once, confirmations still go through the actor.
    let (status, closed) = org.post(&app, &format!("/api/v1/admin/city-events/{id}/close-sales"), json!({})).await;
    assert_eq!((status, closed["status"].as_str()), (200, Some("closed")));
    app.post_json(&format!("/api/v1/bookings/{r1}/cancel"), &json!({"email": "marie.tremblay@example.ca"})).await;
    let (status, err) = app.hold(id, 1).await;
    assert_eq!((status, err["error"]["code"].as_str(), err["error"]["status"].as_str()), (409, Some("sales_closed"), Some("closed")));
    pay(&app, third["reference"].as_str().unwrap()).await;
    assert_eq!(
        audit_count(&app, "city_event.create")
            + audit_count(&app, "city_event.update")
            + audit_count(&app, "city_event.open_sales")
            + audit_count(&app, "city_event.close_sales"),
        5
    );
    // Invalid input names its field.
    let mut bad = input.clone();
    bad["local_end"] = json!("2027-10-04T08:00");
    assert_eq!(org.post(&app, "/api/v1/admin/city-events", bad).await.1["error"]["field"], "local_end");
}

#[actix_web::test]
async fn exports_are_utf8_with_bom_and_quoted() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let id = app.city_event_of("montreal");
    let mut body = booking_body(id, 2);
    body["attendees"] = json!([
        {"first_name": "Anne", "last_name": "Côté", "email": "anne@example.ca"},
        {"first_name": "Luc \"Doc\"", "last_name": "Roy, fils"}
    ]);
    let (_, created) = app.post_json("/api/v1/bookings/create", &body).await;
    let reference = created["reference"].as_str().unwrap().to_owned();
    pay(&app, &reference).await;
    app.held(id, 1).await; // held: not on the lists

    let (status, headers, bytes) = org.text(&app, &format!("/api/v1/admin/city-events/{id}/attendees.csv?sheet=checkin")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "header + 2 seats: {text}");
    assert!(lines[0].starts_with("présent / present,nom / last name"));
    assert!(lines[1].starts_with(&format!(",Côté,Anne,anne@example.ca,{reference},1,Marie Tremblay")), "{}", lines[1]);
    assert!(lines[2].starts_with(&format!(",\"Roy, fils\",\"Luc \"\"Doc\"\"\",,{reference},2,")), "{}", lines[2]);
    let (_, _, badges) = org.text(&app, &format!("/api/v1/admin/city-events/{id}/attendees.csv?sheet=badges")).await;
    let badges = String::from_utf8(badges).unwrap();
    assert!(badges.contains("Anne,Côté,Montréal,2027-04-16\r\n"), "{badges}");

    let (status, _, bytes) = org.text(&app, "/api/v1/admin/exports/bookings.csv").await;
    assert_eq!(status, 200);
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "only the paid booking: {text}");
    assert!(lines[0].contains("tax_GST,tax_HST,tax_QST,tax_PST,tax_total,total,refunded,net"));
    // Montréal, early-bird 395.00 × 2: GST 39.50, QST 78.80.
    assert!(lines[1].contains(&format!(",{reference},confirmed,{id},Montréal,QC,Marie Tremblay,marie.tremblay@example.ca,2,395.00,790.00,0.00,39.50,0.00,78.80,0.00,118.30,908.30,0.00,790.00,CAD,pi_")), "{}", lines[1]);
    // Streaming pages through many rows keeps every line.
    let big = app.db.add_city_event(1200);
    app.db
        .execute(&format!(
            "INSERT INTO bookings (id, reference, city_event_id, quantity, status, buyer_first_name, buyer_last_name, buyer_email, buyer_phone,
                 act_experience, language, unit_price_cents, subtotal_cents, tax_cents, total_cents, hold_expires_at, confirmed_at)
             SELECT gen_random_uuid(), 'HAL-' || upper(lpad(to_hex(i), 4, '0')) || '-ZZZZ', {big}, 1, 'confirmed', 'Zoé', 'N' || i, 'z' || i || '@example.ca',
                    '+15145550199', 'none', 'fr', 45000, 45000, 6300, 51300, now(), now()
             FROM generate_series(1, 1100) i;
             INSERT INTO attendees (booking_id, position, first_name, last_name) SELECT id, 1, buyer_first_name, buyer_last_name FROM bookings WHERE city_event_id = {big}"
        ))
        .unwrap();
    let (_, _, bytes) = org.text(&app, &format!("/api/v1/admin/city-events/{big}/attendees.csv")).await;
    assert_eq!(String::from_utf8(bytes).unwrap().matches("\r\n").count(), 1101);
    let (_, _, bytes) = org.text(&app, &format!("/api/v1/admin/exports/bookings.csv?city_event_id={big}")).await;
    assert_eq!(String::from_utf8(bytes).unwrap().matches("\r\n").count(), 1101);
}

#[actix_web::test]
async fn the_dashboard_counts_seats_revenue_funnel_and_mails() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let id = app.city_event_of("halifax");
    for _ in 0..8 {
        app.get_json(&format!("/api/v1/availability/{id}")).await;
    }
    let (reference, _) = app.held(id, 2).await;
    pay(&app, &reference).await;
    app.held(id, 1).await;
    let (status, d) = org.get(&app, "/api/v1/admin/dashboard").await;
    assert_eq!(status, 200, "{d}");
    let line = d["city_events"].as_array().unwrap().iter().find(|l| l["city_event_id"] == id).unwrap().clone();
    assert_eq!(
        (line["capacity"].as_i64(), line["sold"].as_i64(), line["held"].as_i64(), line["available"].as_i64()),
        (Some(30), Some(2), Some(1), Some(27))
    );
    assert_eq!(line["revenue"]["gross_cents"], 90_060);
    assert_eq!(line["revenue"]["taxes_cents"], 11_060);
    // Net is what the organiser keeps: the taxes are the governments'.
    assert_eq!(line["revenue"]["net_cents"], 90_060 - 11_060);
    assert!(d["totals"]["net_cents"].as_i64().unwrap() >= 79_000);
    // …and the accounting export's net column says the same, to the cent.
    let (_, _, bytes) = org.text(&app, &format!("/api/v1/admin/exports/bookings.csv?city_event_id={id}")).await;
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut rows = text.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let net = header.iter().position(|h| *h == "net").unwrap();
    let exported: i64 = rows.map(|r| (r.split(',').nth(net).unwrap().parse::<f64>().unwrap() * 100.0).round() as i64).sum();
    assert_eq!(exported, line["revenue"]["net_cents"].as_i64().unwrap());
    assert!(line["days_to_go"].as_i64().unwrap() > 0);
    assert_eq!(line["funnel"]["availability_views"], 8);
    assert_eq!((line["funnel"]["bookings_held"].as_i64(), line["funnel"]["bookings_paid"].as_i64()), (Some(2), Some(1)));
    assert_eq!(line["funnel"]["paid_per_held_pct"], 50.0);
    assert_eq!(d["sales_by_day"][0]["seats"], 2);
    assert!(d["emails"].as_array().unwrap().iter().any(|e| e["kind"] == "confirmation" && e["total"] == 1));
    assert_eq!(app.db.scalar(&format!("SELECT sum(views) FROM availability_views WHERE city_event_id = {id}")), 8);
}

#[actix_web::test]
async fn the_openapi_document_describes_the_back_office_and_its_security() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(doc["components"]["securitySchemes"]["admin_session"]["in"], "cookie");
    assert_eq!(doc["paths"]["/api/v1/admin/dashboard"]["get"]["security"][0]["admin_session"], json!([]));
    for (method, path) in API_ROUTES.iter().filter(|(_, p)| !p.contains("no-such") && !p.ends_with("/login")) {
        let templated = path
            .replace("HAL-AAAA-AAAA", "{reference}")
            .replace("/check-in/1", "/check-in/{city_event_id}")
            .replace("/city-events/1/waiting-list/1", "/city-events/{id}/waiting-list/{entry_id}")
            .replace("/city-events/1", "/city-events/{id}")
            .replace("s/1", "s/{id}");
        assert!(doc["paths"][&templated][method.to_lowercase()].is_object(), "{method} {templated} is documented");
    }
    assert!(doc["paths"]["/api/v1/waiting-list"]["post"].is_object());
}

// -- the waiting list ----------------------------------------------------------------------------

fn joiner(id: i64, n: usize) -> Value {
    json!({"city_event_id": id, "first_name": "Personne", "last_name": format!("N{n}"), "email": format!("p{n}@example.ca"), "language": if n % 2 == 0 { "fr" } else { "en" }})
}

fn offers(app: &TestApp, id: i64) -> Vec<(i64, String)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
    }
    use diesel::RunQueryDsl;
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT w.id, b.status FROM waitlist_entries w JOIN bookings b ON b.id = w.offer_booking_id WHERE w.city_event_id = {id} ORDER BY w.id"
    ))
    .load(&mut app.db.conn())
    .unwrap();
    rows.into_iter().map(|r| (r.id, r.status)).collect()
}

#[actix_web::test]
async fn released_seats_go_to_the_waiting_list_in_order_once_each_and_expire_to_the_next() {
    let app = spawn_app_with(|s| s.waitlist_offer_ttl_seconds = 2).await;
    let id = app.db.add_city_event(3);
    let app = {
        let db = app.stop().await;
        spawn_app_on(db, |s| s.waitlist_offer_ttl_seconds = 2).await
    };
    // Seats free: join refused, book instead.
    let (status, err) = app.post_json("/api/v1/waiting-list", &joiner(id, 1)).await;
    assert_eq!((status, err["error"]["code"].as_str(), err["error"]["available"].as_i64()), (409, Some("seats_available"), Some(3)));
    let mut holds = Vec::new();
    for _ in 0..3 {
        holds.push(app.held(id, 1).await.0);
    }
    let mut entries = Vec::new();
    for n in 1..=5 {
        let (status, joined) = app.post_json("/api/v1/waiting-list", &joiner(id, n)).await;
        assert_eq!(status, 201, "{joined}");
        assert_eq!(joined["position"], n as i64);
        entries.push(joined["waitlist_entry_id"].as_i64().unwrap());
    }
    let (status, err) = app.post_json("/api/v1/waiting-list", &joiner(id, 2)).await;
    assert_eq!((status, err["error"]["code"].as_str()), (409, Some("already_on_waiting_list")));
    assert_eq!(
        app.post_json(
            "/api/v1/waiting-list",
            &json!({"city_event_id": id, "first_name": "A", "last_name": "B", "email": "nope", "language": "fr"})
        )
        .await
        .0,
        422
    );

    // Three seats come back at once, through three concurrent cancellations and public holds
    // racing for them: every seat goes to the list, in order, once.
    let body = json!({"email": "marie.tremblay@example.ca"});
    let paths: Vec<String> = holds.iter().map(|r| format!("/api/v1/bookings/{r}/cancel")).collect();
    let cancels = paths.iter().map(|p| app.post_json(p, &body));
    let racers = (0..20).map(|_| app.hold(id, 1));
    let (cancelled, raced) = futures::join!(join_all(cancels), join_all(racers));
    assert!(cancelled.iter().all(|(s, _)| *s == 200));
    assert!(raced.iter().all(|(s, _)| *s == 409), "the public never gets a seat the list is waiting for");
    assert!(eventually(Duration::from_secs(5), async || offers(&app, id).len() == 3).await);
    let made = offers(&app, id);
    assert_eq!(made.iter().map(|(e, _)| *e).collect::<Vec<_>>(), entries[..3].to_vec(), "first come, first offered");
    assert!(made.iter().all(|(_, s)| s == "held"));
    assert_eq!(app.db.scalar(&format!("SELECT count(DISTINCT offer_booking_id) FROM waitlist_entries WHERE city_event_id = {id}")), 3);
    let a = app.availability(id).await;
    assert_eq!((a["available"].as_i64(), a["held"].as_i64()), (Some(0), Some(3)));
    assert_eq!(app.db.scalar(&format!("SELECT seats_held FROM city_events WHERE id = {id}")), 3);
    assert_eq!(
        app.db.scalar("SELECT count(*) FROM email_campaigns WHERE kind = 'waitlist_offer'"),
        3,
        "each offer's mail is claimed with it"
    );

    // Offers expire (2 s here) and pass to the next people; the third seat, with nobody left,
    // goes back on sale.
    assert!(eventually(Duration::from_secs(10), async || offers(&app, id).len() == 5).await);
    let made = offers(&app, id);
    assert_eq!(made.iter().map(|(e, _)| *e).collect::<Vec<_>>(), entries);
    assert!(
        eventually(Duration::from_secs(10), async || app.availability(id).await["available"] == 3).await,
        "every offer lapsed in the end"
    );
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM waitlist_entries WHERE city_event_id = {id} AND status = 'waiting'")), 0);
}

#[actix_web::test]
async fn an_offer_is_claimed_by_its_link_then_paid() {
    let app = spawn_app().await;
    let id = app.db.add_city_event(1);
    let app = {
        let db = app.stop().await;
        spawn_app_on(db, |_| {}).await
    };
    let org = login(&app).await;
    let (taken, _) = app.held(id, 1).await;
    let (status, _) = app.post_json("/api/v1/waiting-list", &joiner(id, 1)).await;
    assert_eq!(status, 201);
    let (status, joined) = app.post_json("/api/v1/waiting-list", &joiner(id, 2)).await;
    assert_eq!(status, 201);
    // The organiser takes the second person off the list.
    let entry = joined["waitlist_entry_id"].as_i64().unwrap();
    let (status, _) = org.call(&app, "DELETE", &format!("/api/v1/admin/city-events/{id}/waiting-list/{entry}"), None).await;
    assert_eq!(status, 204);
    // A capacity increase is a seat that comes back too.
    let _ = taken;
    let (_, ce) = org.get(&app, &format!("/api/v1/admin/city-events/{id}")).await;
    let input = json!({"venue_id": ce["venue_id"], "local_start": ce["local_start"], "local_end": ce["local_end"], "capacity": 2, "regular_price_cents": 45_000});
    let (status, _) = org.call(&app, "PUT", &format!("/api/v1/admin/city-events/{id}"), Some(input)).await;
    assert_eq!(status, 200);
    assert!(eventually(Duration::from_secs(5), async || offers(&app, id).len() == 1).await);
    let (_, list) = org.get(&app, &format!("/api/v1/admin/city-events/{id}/waiting-list")).await;
    let states: Vec<&str> = list.as_array().unwrap().iter().map(|l| l["state"].as_str().unwrap()).collect();
    assert_eq!(states, vec!["offered", "removed"]);

    #[derive(diesel::QueryableByName)]
    struct Offer {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::Text)]
        reference: String,
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        hold_expires_at: chrono::DateTime<chrono::Utc>,
    }
    use diesel::RunQueryDsl;
    let offer: Offer = diesel::sql_query(format!(
        "SELECT b.id, b.reference, b.hold_expires_at FROM bookings b JOIN waitlist_entries w ON w.offer_booking_id = b.id WHERE w.city_event_id = {id}"
    ))
    .get_result(&mut app.db.conn())
    .unwrap();
    let secret = app.state.settings.secret_key.expose().to_owned();
    let token = billetterie::domain::tokens::offer_token(&secret, billetterie::domain::BookingId(offer.id), offer.hold_expires_at);
    // The mail goes out with the signed claim link.
    assert!(
        eventually(Duration::from_secs(15), async || app.db.scalar(
            "SELECT count(*) FROM email_campaigns WHERE kind = 'waitlist_offer' AND status = 'sent' AND recipient_email = 'p1@example.ca'"
        ) == 1)
        .await
    );
    let mail = std::fs::read_dir(app.db.outbox_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().contains("-waitlist_offer-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .expect("the offer in the outbox");
    let unfolded = mail.replace("=\r\n", "").replace("=\n", "");
    assert!(
        unfolded.contains("waiting-list/claim?token=") || unfolded.contains("waiting-list%2Fclaim%3Ftoken%3D"),
        "the claim link is in the mail"
    );
    // Not payable before it is claimed.
    let (status, err) =
        app.post_json("/api/v1/payments/create-intent", &json!({"reference": offer.reference, "email": "p1@example.ca"})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (409, Some("offer_not_claimed")));
    let (status, view) = app.get_json(&format!("/api/v1/waiting-list/offers/{token}")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!((view["reference"].as_str(), view["claimed"].as_bool()), (Some(offer.reference.as_str()), Some(false)));
    let forged =
        billetterie::domain::tokens::offer_token("another secret", billetterie::domain::BookingId(offer.id), offer.hold_expires_at);
    assert_eq!(app.get_json(&format!("/api/v1/waiting-list/offers/{forged}")).await.0, 404);
    let (status, claimed) = app
        .post_json(
            &format!("/api/v1/waiting-list/offers/{token}/claim"),
            &json!({"phone": "514 555 0142", "act_experience": "intermediate"}),
        )
        .await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["claimed"], true);
    let (status, intent) =
        app.post_json("/api/v1/payments/create-intent", &json!({"reference": offer.reference, "email": "p1@example.ca"})).await;
    assert_eq!(status, 200, "{intent}");
    app.stripe.confirm(intent["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await;
    assert!(eventually(Duration::from_secs(10), async || app.booking_status(&offer.reference) == "confirmed").await);
    let (_, list) = org.get(&app, &format!("/api/v1/admin/city-events/{id}/waiting-list")).await;
    assert_eq!(list[0]["state"], "booked");
    assert_eq!(app.availability(id).await["sold"], 1);
}

// -- pages ---------------------------------------------------------------------------------------------

struct Browser {
    client: reqwest::Client,
    cookies: std::collections::BTreeMap<String, String>,
}

impl Browser {
    fn new() -> Self {
        Self {
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookies: Default::default(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for c in cookies_of(headers) {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
    }

    async fn get(&mut self, app: &TestApp, path: &str) -> (u16, HeaderMap, String) {
        let res = self.client.get(app.url(path)).header(COOKIE, self.cookie_header()).send().await.unwrap();
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        self.keep(&headers);
        (status, headers, res.text().await.unwrap())
    }

    async fn post(&mut self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, HeaderMap, String) {
        let res = self.client.post(app.url(path)).header(COOKIE, self.cookie_header()).form(form).send().await.unwrap();
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        self.keep(&headers);
        (status, headers, res.text().await.unwrap())
    }
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf_token\" value=\"").expect("a form with its token") + "name=\"csrf_token\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

#[actix_web::test]
async fn the_pages_log_in_show_everything_and_refuse_forms_without_their_token() {
    let app = spawn_app().await;
    create_admin(&app).await;
    let id = app.city_event_of("halifax");
    let (reference, _) = app.held(id, 2).await;
    let (paid, _) = app.held(app.city_event_of("toronto"), 1).await;
    pay(&app, &paid).await;

    let mut b = Browser::new();
    let (status, headers, _) = b.get(&app, "/admin/bookings").await;
    assert_eq!((status, headers["location"].to_str().unwrap()), (303, "/admin/login?next=/admin/bookings"));
    let (status, _, html) = b.get(&app, "/admin/login?next=/admin/bookings&lang=en").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"en\">") && html.contains("Log in"));
    let token = csrf_in(&html);
    // A login form without its token does nothing.
    let (status, _, _) = b.post(&app, "/admin/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(status, 403);
    let (status, _, html) =
        b.post(&app, "/admin/login", &[("csrf_token", &token), ("email", ADMIN_EMAIL), ("password", "wrong password")]).await;
    assert_eq!(status, 401);
    assert!(html.contains("Adresse ou mot de passe incorrect") || html.contains("Wrong e-mail address"));
    let (status, headers, _) = b
        .post(
            &app,
            "/admin/login",
            &[("csrf_token", &token), ("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/admin/bookings")],
        )
        .await;
    assert_eq!((status, headers["location"].to_str().unwrap()), (303, "/admin/bookings"));
    assert!(b.cookies.contains_key("admin_session"));

    let (status, headers, html) = b.get(&app, "/admin").await;
    assert_eq!(status, 200);
    assert!(headers["content-security-policy"].to_str().unwrap().contains("script-src"), "the site's security headers apply");
    assert!(html.contains("<svg") && html.contains("Tableau de bord") && html.contains("Halifax"));
    assert!(!html.contains("<script") && !html.contains("style=\""), "no inline script or style (CSP)");
    let (status, _, html) = b.get(&app, "/admin?lang=en").await;
    assert_eq!(status, 200);
    assert!(html.contains("Dashboard") && html.contains("Conversion funnel"));
    let (status, _, html) = b.get(&app, &format!("/admin/bookings?q={reference}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("/admin/bookings/{reference}")));
    let (status, _, html) = b.get(&app, &format!("/admin/bookings/{reference}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Annuler la réservation retenue") && html.contains("name=\"first_name_2\""));
    let token = csrf_in(&html);
    let (status, _, html) = b.get(&app, &format!("/admin/bookings/{paid}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Rembourser") && html.contains("Déplacer vers une autre date"));
    for page in ["/admin/city-events", &format!("/admin/city-events/{id}"), "/admin/audit"] {
        let (status, _, html) = b.get(&app, page).await;
        assert_eq!(status, 200, "{page}");
        assert!(html.contains("</html>"));
    }
    assert_eq!(b.get(&app, "/admin/nothing-here").await.0, 404);
    assert_eq!(b.get(&app, "/admin/bookings/HAL-ZZZZ-ZZZZ").await.0, 404);

    // A form without its token, or with another's: 403, nothing changes.
    for bad in [None, Some("0123")] {
        let mut form = vec![];
        if let Some(t) = bad {
            form.push(("csrf_token", t));
        }
        let (status, _, _) = b.post(&app, &format!("/admin/bookings/{reference}/cancel"), &form).await;
        assert_eq!(status, 403, "{bad:?}");
    }
    assert_eq!(app.booking_status(&reference), "held");
    // With it: the names are saved, then the booking is cancelled through its actor.
    let (status, headers, _) = b
        .post(
            &app,
            &format!("/admin/bookings/{reference}/attendees"),
            &[
                ("csrf_token", &token),
                ("first_name_1", "Élise"),
                ("last_name_1", "Gagnon"),
                ("email_1", ""),
                ("first_name_2", ""),
                ("last_name_2", ""),
            ],
        )
        .await;
    assert_eq!((status, headers["location"].to_str().unwrap()), (303, format!("/admin/bookings/{reference}?notice=saved").as_str()));
    assert_eq!(app.db.scalar("SELECT count(*) FROM attendees WHERE first_name = 'Élise' AND last_name = 'Gagnon'"), 1);
    let (status, headers, _) = b.post(&app, &format!("/admin/bookings/{reference}/cancel"), &[("csrf_token", &token)]).await;
    assert_eq!((status, headers["location"].to_str().unwrap()), (303, format!("/admin/bookings/{reference}?notice=done").as_str()));
    assert_eq!(app.booking_status(&reference), "cancelled");
    assert_eq!(app.availability(id).await["held"], 0);
    // A refusal comes back to the page with its reason.
    let (_, headers, _) = b.post(&app, &format!("/admin/bookings/{reference}/cancel"), &[("csrf_token", &token)]).await;
    let to = headers["location"].to_str().unwrap().to_owned();
    assert!(to.contains("error=not_cancellable"), "{to}");
    let (_, _, html) = b.get(&app, &to).await;
    assert!(html.contains("not_cancellable") && html.contains("role=\"alert\""));

    // Sales close from the city event's page.
    let (status, _, _) = b.post(&app, &format!("/admin/city-events/{id}/sales"), &[("csrf_token", &token), ("action", "close")]).await;
    assert_eq!(status, 303);
    assert_eq!(app.hold(id, 1).await.1["error"]["code"], "sales_closed");
    // Logging out ends the session.
    let (status, headers, _) = b.post(&app, "/admin/logout", &[("csrf_token", &token)]).await;
    assert_eq!((status, headers["location"].to_str().unwrap()), (303, "/admin/login"));
    assert_eq!(b.get(&app, "/admin").await.0, 303);
    assert!(audit_count(&app, "booking.cancel") == 1 && audit_count(&app, "session.logout") == 1);
}

#[actix_web::test]
async fn the_public_waiting_list_form_and_claim_page_lead_to_checkout() {
    let app = spawn_app().await;
    let id = app.db.add_city_event(1);
    let app = {
        let db = app.stop().await;
        spawn_app_on(db, |_| {}).await
    };
    let (taken, _) = app.held(id, 1).await;
    let mut b = Browser::new();
    // Any of the site's forms gives the browser its CSRF cookie and token (here the booking form).
    let (_, _, html) =
        b.get(&app, &billetterie::web::paths::booking_form(app.city_event_of("toronto"), billetterie::domain::Language::Fr)).await;
    let token = csrf_in(&html);
    let id_s = id.to_string();
    let form = [
        ("csrf_token", token.as_str()),
        ("city_event_id", id_s.as_str()),
        ("first_name", "Zoé"),
        ("last_name", "Côté"),
        ("email", "zoe@example.ca"),
    ];
    assert_eq!(b.post(&app, "/fr/waiting-list", &form[1..]).await.0, 403, "no token, no entry");
    let (status, _, html) = b.post(&app, "/fr/waiting-list", &form).await;
    assert_eq!(status, 201, "{html}");
    assert!(html.contains("position 1"));
    let (status, _, html) = b.post(&app, "/fr/waiting-list", &form).await;
    assert_eq!(status, 409);
    assert!(html.contains("déjà sur la liste"));

    app.post_json(&format!("/api/v1/bookings/{taken}/cancel"), &json!({"email": "marie.tremblay@example.ca"})).await;
    assert!(eventually(Duration::from_secs(5), async || offers(&app, id).len() == 1).await);
    #[derive(diesel::QueryableByName)]
    struct Offer {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::Text)]
        reference: String,
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        hold_expires_at: chrono::DateTime<chrono::Utc>,
    }
    use diesel::RunQueryDsl;
    let offer: Offer = diesel::sql_query(format!("SELECT b.id, b.reference, b.hold_expires_at FROM bookings b JOIN waitlist_entries w ON w.offer_booking_id = b.id WHERE w.city_event_id = {id}"))
        .get_result(&mut app.db.conn())
        .unwrap();
    let link = billetterie::domain::tokens::offer_token(
        app.state.settings.secret_key.expose(),
        billetterie::domain::BookingId(offer.id),
        offer.hold_expires_at,
    );
    let (status, _, html) = b.get(&app, &format!("/fr/waiting-list/claim?token={link}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&offer.reference) && html.contains("name=\"phone\""));
    // The deadline is the city event's local time, in the page's language (never Toronto's).
    #[derive(diesel::QueryableByName)]
    struct Zone {
        #[diesel(sql_type = diesel::sql_types::Text)]
        time_zone: String,
    }
    let zone: Zone =
        diesel::sql_query(format!("SELECT time_zone FROM city_events WHERE id = {id}")).get_result(&mut app.db.conn()).unwrap();
    let tz: chrono_tz::Tz = zone.time_zone.parse().unwrap();
    let deadline =
        billetterie::i18n::locale(billetterie::domain::Language::Fr).unwrap().date_time(&offer.hold_expires_at.with_timezone(&tz));
    assert!(html.contains(&deadline), "the claim page shows {deadline:?} ({})", zone.time_zone);
    let token = csrf_in(&html);
    let (status, _, html) = b
        .post(
            &app,
            &format!("/fr/waiting-list/claim?token={link}"),
            &[("csrf_token", &token), ("phone", "12"), ("act_experience", "beginner")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("n’est pas valide"));
    let (status, headers, _) = b
        .post(
            &app,
            &format!("/fr/waiting-list/claim?token={link}"),
            &[("csrf_token", &token), ("phone", "514 555 0142"), ("act_experience", "beginner")],
        )
        .await;
    assert_eq!(status, 303);
    let checkout = headers["location"].to_str().unwrap().to_owned();
    assert!(checkout.starts_with(&format!("/fr/paiement/{}?k=", offer.reference)), "{checkout}");
    assert_eq!(b.get(&app, &checkout).await.0, 200, "the site's checkout takes it from there");
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT count(*) FROM bookings WHERE reference = '{}' AND buyer_phone = '+15145550142' AND act_experience = 'beginner'",
            offer.reference
        )),
        1
    );
    assert_eq!(b.get(&app, "/fr/waiting-list/claim?token=forged").await.0, 404);
}

#[actix_web::test]
async fn the_audit_log_is_append_only_but_an_erasure_redacts_its_snapshots() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let (reference, _) = app.held(app.city_event_of("toronto"), 1).await;
    let (status, _) = org
        .call(
            &app,
            "PUT",
            &format!("/api/v1/admin/bookings/{reference}/attendees"),
            Some(json!({"attendees": [{"position": 1, "first_name": "Jeanne", "last_name": "Privée"}]})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(app.db.execute("DELETE FROM audit_log").is_err(), "no deleting");
    assert!(app.db.execute("UPDATE audit_log SET actor_email = 'someone@else.ca'").is_err(), "no rewriting");
    pay(&app, &reference).await;
    let (status, _) = app.post_json(&format!("/api/v1/bookings/{reference}/erase"), &json!({"email": "marie.tremblay@example.ca"})).await;
    assert_eq!(status, 200);
    assert_eq!(app.db.scalar("SELECT count(*) FROM audit_log WHERE after::text LIKE '%Privée%' OR before::text LIKE '%Privée%'"), 0);
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM audit_log WHERE target_id = '{reference}' AND after = '{{\"redacted\": true}}' AND action = 'booking.edit_attendees'")), 1);
}
