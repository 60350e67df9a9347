//! The buyer's other self-service on "my booking": attendee names until the name-change deadline
//! (`PUT /api/v1/bookings/{reference}/attendees` and the page's form).

use std::collections::HashMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::self_service::{key, paid, starts_in_days};

/// Whether the booking's `seat`-th attendee (from 0, in seat order) has these names.
fn named(app: &TestApp, reference: &str, seat: usize, first: &str, last: &str) -> bool {
    app.db.scalar(&format!(
        "SELECT count(*) FROM (SELECT a.first_name, a.last_name FROM attendees a JOIN bookings b ON b.id = a.booking_id
         WHERE b.reference = '{reference}' ORDER BY a.position OFFSET {seat} LIMIT 1) x WHERE first_name = '{first}' AND last_name = '{last}'"
    )) == 1
}

async fn rename(app: &TestApp, reference: &str, body: &Value) -> (u16, Value) {
    let res = app.client.put(app.url(&format!("/api/v1/bookings/{reference}/attendees"))).json(body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn the_buyer_renames_the_attendees_before_the_deadline_and_not_after() {
    let app = spawn_app().await;
    let (reference, id) = paid(&app, "halifax", 2).await;
    let token = key(&app, &reference);
    let body = json!({"token": token, "attendees": [
        {"first_name": "Élise", "last_name": "Gagnon"},
        {"first_name": "Jean-Marc", "last_name": "Côté", "email": "jm.cote@example.ca"},
    ]});
    let (status, answer) = rename(&app, &reference, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(named(&app, &reference, 0, "Élise", "Gagnon") && named(&app, &reference, 1, "Jean-Marc", "Côté"));

    // A bad name: 422 naming the field, nothing written.
    let bad = json!({"token": token, "attendees": [
        {"first_name": "Anne", "last_name": "Roy"},
        {"first_name": "Luc", "last_name": "   "},
    ]});
    let (status, answer) = rename(&app, &reference, &bad).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["field"], "attendees[1].last_name", "{answer}");
    let (status, answer) =
        rename(&app, &reference, &json!({"token": token, "attendees": [{"first_name": "Anne", "last_name": "Roy"}]})).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("attendees")), "{answer}");
    assert!(named(&app, &reference, 0, "Élise", "Gagnon") && named(&app, &reference, 1, "Jean-Marc", "Côté"));

    // A wrong token: the same 404 as an unknown reference.
    let (status, _) = rename(&app, &reference, &json!({"token": key(&app, "HAL-AAAA-AAAA"), "attendees": []})).await;
    assert_eq!(status, 404);

    // One day before the day, past the two days of the policy: 409, nothing changes.
    starts_in_days(&app, id, 1);
    let late = json!({"token": token, "attendees": [
        {"first_name": "Anne", "last_name": "Roy"},
        {"first_name": "Luc", "last_name": "Roy"},
    ]});
    let (status, answer) = rename(&app, &reference, &late).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (409, Some("name_change_closed")), "{answer}");
    assert!(named(&app, &reference, 0, "Élise", "Gagnon") && named(&app, &reference, 1, "Jean-Marc", "Côté"));
}

/// The page's form, as a browser without JavaScript sends it (cookie and hidden CSRF field).
#[actix_web::test]
async fn the_booking_page_form_renames_and_explains_after_the_deadline() {
    let app = spawn_app().await;
    let (reference, id) = paid(&app, "quebec", 1).await;
    let k = key(&app, &reference);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut cookies: HashMap<String, String> = HashMap::new();
    let page = format!("/fr/confirmation/{reference}?k={k}");
    let res = client.get(app.url(&page)).send().await.unwrap();
    for c in res.headers().get_all(SET_COOKIE) {
        let (pair, _) = c.to_str().unwrap().split_once(';').unwrap_or((c.to_str().unwrap(), ""));
        let (n, v) = pair.split_once('=').unwrap();
        cookies.insert(n.to_owned(), v.to_owned());
    }
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"rename-attendees\"") && html.contains("Enregistrer les noms"), "{html}");
    let at = html.find("name=\"csrf_token\" value=\"").unwrap() + 25;
    let csrf = html[at..].split('"').next().unwrap().to_owned();
    let cookie = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
    let res = client
        .post(app.url(&format!("/fr/confirmation/{reference}/attendees?k={k}")))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", csrf.as_str()), ("first_name_0", "Geneviève"), ("last_name_0", "Bélanger")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let back = res.headers().get(LOCATION).unwrap().to_str().unwrap().to_owned();
    assert!(back.contains("notice=names_saved"), "{back}");
    assert!(named(&app, &reference, 0, "Geneviève", "Bélanger"));
    let html = client.get(app.url(&back)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Geneviève Bélanger") && html.contains("C’est enregistré"), "{html}");

    // A blank last name: refused, the seat named in French, nothing written.
    let res = client
        .post(app.url(&format!("/fr/confirmation/{reference}/attendees?k={k}")))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", csrf.as_str()), ("first_name_0", "Luc"), ("last_name_0", " ")])
        .send()
        .await
        .unwrap();
    let back = res.headers().get(LOCATION).unwrap().to_str().unwrap().to_owned();
    assert!(back.contains("notice=names_refused&seat=1"), "{back}");
    let html = client.get(app.url(&back)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Place 1\u{a0}: les noms n’ont pas été enregistrés"), "{html}");
    assert!(named(&app, &reference, 0, "Geneviève", "Bélanger"));

    // Without the token: refused, nothing written.
    let res = client
        .post(app.url(&format!("/fr/confirmation/{reference}/attendees?k={k}")))
        .header(COOKIE, &cookie)
        .form(&[("first_name_0", "X"), ("last_name_0", "Y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);

    starts_in_days(&app, id, 1);
    let support = app.state.facts.get().organiser.support_email.clone();
    let en = client.get(app.url(&format!("/en/confirmation/{reference}?k={k}"))).send().await.unwrap().text().await.unwrap();
    assert!(!en.contains("id=\"rename-attendees\"") && en.contains("id=\"name-change-closed\""), "{en}");
    assert!(en.contains("could be changed until") && en.contains(&format!("mailto:{support}")), "{en}");
    assert!(named(&app, &reference, 0, "Geneviève", "Bélanger"));
}

/// Every refund is told: each partial refund sends its own notice with its amount (the seats
/// kept), and the full refund that ends the booking sends one more.
#[actix_web::test]
async fn every_partial_refund_sends_its_own_notice_and_the_full_one_sends_one() {
    let app = spawn_app().await;
    let org = crate::admin::login(&app).await;
    let reference = app.booked_and_paid(&booking_body(app.city_event_of("toronto"), 2)).await;
    for amount in [5_000, 2_500] {
        let (s, body) = org.post(&app, &format!("/api/v1/admin/bookings/{reference}/refund"), json!({"amount_cents": amount})).await;
        assert_eq!(s, 200, "{body}");
    }
    assert_eq!(app.booking_status(&reference), "confirmed", "a partial refund keeps the seats");
    let (s, body) = org.post(&app, &format!("/api/v1/admin/bookings/{reference}/refund"), json!({})).await;
    assert_eq!(s, 200, "{body}");
    let notices = |cond: &str| {
        app.db.scalar(&format!(
            "SELECT count(*) FROM email_campaigns ec JOIN bookings b ON b.id = ec.booking_id
             WHERE b.reference = '{reference}' AND ec.kind = 'refund_notice' {cond}"
        ))
    };
    assert_eq!(notices(""), 3, "two partial notices and the full one");
    assert_eq!(notices("AND ec.occurrence LIKE 'refund:5000:%'"), 1);
    assert_eq!(notices("AND ec.occurrence LIKE 'refund:2500:%'"), 1);
    assert!(
        eventually(std::time::Duration::from_secs(10), async || notices("AND ec.status = 'sent'") == 3).await,
        "the dispatcher sends all three"
    );
    let outbox: Vec<String> = std::fs::read_dir(app.db.outbox_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("-refund_notice-"))
        // Quoted-printable: its soft line breaks may fall inside a phrase.
        .map(|e| std::fs::read_to_string(e.path()).unwrap().replace("=\r\n", ""))
        .collect();
    assert_eq!(outbox.iter().filter(|m| m.contains("vos places sont conserv")).count(), 2, "{outbox:?}");
}

/// "My booking"'s receipt: the issuer, each tax with its registration number and the total, as
/// the confirmation mail prints them; a wrong key or an unpaid booking gets the 404 page.
#[actix_web::test]
async fn the_receipt_page_prints_the_issuer_the_taxes_and_the_total_behind_the_link() {
    let app = spawn_app().await;
    let (reference, _) = paid(&app, "toronto", 2).await;
    let k = key(&app, &reference);
    let res = app.client.get(app.url(&format!("/en/confirmation/{reference}/receipt?k={k}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("inline; filename=\"receipt-"));
    let html = res.text().await.unwrap();
    let total = app.db.scalar(&format!("SELECT total_cents FROM bookings WHERE reference = '{reference}'"));
    for needle in ["Formations ACT Canada inc.", "123456789 RT0001", "HST", &reference] {
        assert!(html.contains(needle), "{needle} on the receipt: {html}");
    }
    let dollars = (total / 100).to_string();
    let grouped = if dollars.len() > 3 { format!("{},{}", &dollars[..dollars.len() - 3], &dollars[dollars.len() - 3..]) } else { dollars };
    assert!(html.contains(&format!("${grouped}.{:02}", total % 100)), "the total on the receipt: {html}");
    // The page of "my booking" links to it.
    let page = app.client.get(app.url(&format!("/en/confirmation/{reference}?k={k}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("id=\"receipt-link\" href=\"/en/confirmation/{reference}/receipt?k")), "linked from my booking");
    let wrong = app.client.get(app.url(&format!("/en/confirmation/{reference}/receipt?k=forged"))).send().await.unwrap();
    assert_eq!(wrong.status(), 404);
    let (held, _) = app.held(app.city_event_of("toronto"), 1).await;
    let unpaid = app.client.get(app.url(&format!("/en/confirmation/{held}/receipt?k={}", key(&app, &held)))).send().await.unwrap();
    assert_eq!(unpaid.status(), 404, "no receipt before payment");
}
