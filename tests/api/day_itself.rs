//! The day itself: tickets with a QR code, invoices and credit notes, check-in at the door,
//! certificates. The PDFs are read back with poppler's `pdftotext` and `pdftoppm`, and the QR
//! decoded from the rendered page with `zbarimg` (installed by `scripts/test`).

use std::process::Command;
use std::time::Duration;

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::admin::Organiser;
use crate::helpers::*;
use crate::self_service::{key, paid};

fn text_of(app: &TestApp, sql: &str) -> String {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    diesel::sql_query(sql).get_result::<T>(&mut app.db.conn()).unwrap().v
}

fn ticket_code(app: &TestApp, reference: &str, position: i32) -> String {
    text_of(
        app,
        &format!(
            "SELECT a.ticket_code AS v FROM attendees a JOIN bookings b ON b.id = a.booking_id
             WHERE b.reference = '{reference}' AND a.position = {position}"
        ),
    )
}

fn token(app: &TestApp, code: &str) -> String {
    billetterie::domain::tokens::ticket_token(app.state.settings.secret_key.expose(), code)
}

/// The date of a booking starts within the hour: its door is open.
fn today(app: &TestApp, city_event_id: i64) {
    app.db
        .execute(&format!(
            "UPDATE city_events SET starts_at = now() + interval '1 hour', ends_at = now() + interval '8 hours' WHERE id = {city_event_id}"
        ))
        .unwrap();
}

fn name_seat(app: &TestApp, reference: &str, position: i32, first: &str, last: &str) {
    app.db
        .execute(&format!(
            "UPDATE attendees SET first_name = '{first}', last_name = '{last}'
             WHERE position = {position} AND booking_id = (SELECT id FROM bookings WHERE reference = '{reference}')"
        ))
        .unwrap();
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("billetterie-docs-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The text poppler reads in a PDF.
fn pdftotext(pdf: &[u8], name: &str) -> String {
    let dir = scratch(name);
    let file = dir.join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext").arg("-layout").arg(&file).arg("-").output().expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    // Spaces as poppler extracts them: the no-break spaces of French amounts come out plain.
    String::from_utf8(out.stdout).unwrap().replace(['\u{a0}', '\u{202f}'], " ")
}

/// An amount as the PDF text reads it.
fn amount(cents: i64) -> String {
    billetterie::i18n::money(billetterie::domain::Cents(cents), billetterie::domain::Language::Fr).replace(['\u{a0}', '\u{202f}'], " ")
}

/// The QR codes zbar finds on page `page` rendered at 150 dpi.
fn qr_codes(pdf: &[u8], page: u32, name: &str) -> Vec<String> {
    let dir = scratch(name);
    let file = dir.join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let prefix = dir.join("page");
    let p = page.to_string();
    let render =
        Command::new("pdftoppm").args(["-r", "150", "-png", "-f", &p, "-l", &p, "-singlefile"]).arg(&file).arg(&prefix).output().unwrap();
    assert!(render.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&render.stderr));
    let out = Command::new("zbarimg").args(["--raw", "-q"]).arg(dir.join("page.png")).output().expect("zbarimg (zbar-tools) is installed");
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).filter(|l| !l.is_empty()).collect()
}

async fn get_pdf(app: &TestApp, path: &str) -> (u16, String, Vec<u8>) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let disposition = res.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    if status == 200 {
        assert_eq!(res.headers()["content-type"], "application/pdf");
    }
    (status, disposition, res.bytes().await.unwrap().to_vec())
}

async fn check_in(org: &Organiser, app: &TestApp, body: Value) -> (u16, Value) {
    org.post(app, "/api/v1/admin/check-in", body).await
}

/// A ticket reads back (name, day, place, reference), its QR decodes to a token the door
/// accepts once, and a corrected name voids the old ticket; the certificate exists only for
/// who came, and carries the corrected name.
#[actix_web::test]
async fn a_ticket_scans_once_and_a_name_change_voids_it_and_the_certificate_follows() {
    let app = spawn_app().await;
    let org = crate::admin::login(&app).await;
    let (reference, id) = paid(&app, "toronto", 2).await;
    today(&app, id);
    name_seat(&app, &reference, 1, "Zoé", "Côté");
    let k = key(&app, &reference);

    let (status, disposition, pdf) = get_pdf(&app, &format!("/fr/confirmation/{reference}/tickets.pdf?k={k}")).await;
    assert_eq!(status, 200);
    assert_eq!(disposition, format!("attachment; filename=\"tickets-{reference}.pdf\""));
    let text = pdftotext(&pdf, "ticket");
    for needle in ["Billet d’entrée", "Zoé Côté", "Place 1 de 2", "Place 2 de 2", "Nom à préciser", "Toronto", reference.as_str()] {
        assert!(text.contains(needle), "{needle} on the ticket:\n{text}");
    }
    let scanned = qr_codes(&pdf, 1, "ticket");
    assert_eq!(scanned, vec![token(&app, &ticket_code(&app, &reference, 1))], "page 1's QR is seat 1's signed token");

    let (s, first) = check_in(&org, &app, json!({"token": scanned[0], "city_event_id": id})).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["already_checked_in"], false);
    assert_eq!(first["attendee"]["name"], "Zoé Côté");
    assert_eq!(first["counts"]["present"], 1);
    let (s, again) = check_in(&org, &app, json!({"token": scanned[0]})).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["already_checked_in"], true, "the second scan says so");
    assert_eq!(again["attendee"]["checked_in_at"], first["attendee"]["checked_in_at"], "the first scan's time stands");
    assert!(again["attendee"]["checked_in_at_local"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(again["counts"]["present"], 1);

    // The certificate: seat 1 came, seat 2 did not.
    let (s, _, cert) = get_pdf(&app, &format!("/fr/confirmation/{reference}/certificates/1.pdf?k={k}")).await;
    assert_eq!(s, 200);
    let text = pdftotext(&cert, "certificate");
    for needle in ["Attestation de participation", "Zoé Côté", "6 heures de formation continue", "Formations ACT Canada inc."] {
        assert!(text.contains(needle), "{needle} on the certificate:\n{text}");
    }
    assert_eq!(get_pdf(&app, &format!("/fr/confirmation/{reference}/certificates/2.pdf?k={k}")).await.0, 404, "seat 2 never came");
    assert_eq!(get_pdf(&app, &format!("/fr/confirmation/{reference}/certificates/1.pdf?k=forged")).await.0, 404);

    // A corrected name: the old ticket is void, a new one admits, the certificate follows.
    let old = scanned[0].clone();
    name_seat(&app, &reference, 1, "Zoé", "Côté-Roy");
    let (s, void) = check_in(&org, &app, json!({"token": old})).await;
    assert_eq!((s, void["error"]["code"].as_str()), (410, Some("ticket_voided")), "{void}");
    let (_, _, pdf) = get_pdf(&app, &format!("/fr/confirmation/{reference}/tickets.pdf?k={k}")).await;
    let renewed = qr_codes(&pdf, 1, "renewed");
    assert_eq!(renewed.len(), 1);
    assert_ne!(renewed[0], old, "a new token");
    let (s, ok) = check_in(&org, &app, json!({"token": renewed[0]})).await;
    assert_eq!((s, ok["already_checked_in"].as_bool()), (200, Some(true)), "the same attendee, still present: {ok}");
    let (_, _, cert) = get_pdf(&app, &format!("/fr/confirmation/{reference}/certificates/1.pdf?k={k}")).await;
    assert!(pdftotext(&cert, "renamed").contains("Zoé Côté-Roy"), "the certificate is regenerated with the corrected name");

    // "My booking" shows each seat's code and links the documents.
    let page = app.client.get(app.url(&format!("/fr/confirmation/{reference}?k={k}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"tickets-pdf\"") && page.contains("id=\"invoice-pdf\"") && page.contains("class=\"certificate-pdf\""));
    assert_eq!(page.matches("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=").count(), 2, "one code per seat");
}

/// Forged, malformed, unknown, voided, other-date, unpaid and past tickets are refused with a
/// clear code, and none of them checks anybody in.
#[actix_web::test]
async fn bad_tickets_are_refused_and_check_nobody_in() {
    let app = spawn_app().await;
    let org = crate::admin::login(&app).await;
    let (reference, id) = paid(&app, "toronto", 1).await;
    today(&app, id);
    let good = token(&app, &ticket_code(&app, &reference, 1));
    let forged = format!("{}{}", &good[..good.len() - 4], if good.ends_with("0000") { "1111" } else { "0000" });
    let other_secret = billetterie::domain::tokens::ticket_token("another server", &ticket_code(&app, &reference, 1));
    let unknown = token(&app, "0123456789abcdef0123456789abcdef");
    let cases = [
        (json!({"token": forged}), 422, "ticket_forged"),
        (json!({"token": other_secret}), 422, "ticket_forged"),
        (json!({"token": "https://example.ca/not-a-ticket"}), 422, "not_a_ticket"),
        (json!({"token": unknown}), 404, "ticket_unknown"),
        (json!({"token": good, "city_event_id": id + 1000}), 409, "wrong_date"),
        (json!({}), 422, "missing_field"),
        (json!({"token": good, "extra": 1}), 422, "unknown_field"),
    ];
    for (body, status, code) in cases {
        let (s, answer) = check_in(&org, &app, body.clone()).await;
        assert_eq!(s, status, "{body} → {answer}");
        if !code.is_empty() {
            assert_eq!(answer["error"]["code"], code, "{body}");
        }
    }
    let present = || app.db.scalar("SELECT count(*) FROM attendees WHERE checked_in_at IS NOT NULL");
    assert_eq!(present(), 0, "no refusal checked anybody in");

    // An unpaid booking admits nobody; a past date's tickets no longer admit.
    let (held, _) = app.held(id, 1).await;
    let (s, answer) = check_in(&org, &app, json!({"token": token(&app, &ticket_code(&app, &held, 1))})).await;
    assert_eq!((s, answer["error"]["code"].as_str()), (409, Some("booking_not_confirmed")));
    app.db.execute(&format!("UPDATE city_events SET starts_at = now() - interval '3 days', ends_at = now() - interval '3 days' + interval '8 hours' WHERE id = {id}")).unwrap();
    let (s, answer) = check_in(&org, &app, json!({"token": good})).await;
    assert_eq!((s, answer["error"]["code"].as_str()), (410, Some("ticket_expired")));
    assert_eq!(present(), 0);
}

/// Twenty phones scan the same ticket at once: one checks the attendee in, the others are told
/// they already are, and the count says one.
#[actix_web::test]
async fn simultaneous_scans_check_in_exactly_once() {
    let app = spawn_app().await;
    let org = crate::admin::login(&app).await;
    let (reference, id) = paid(&app, "toronto", 2).await;
    today(&app, id);
    let t1 = token(&app, &ticket_code(&app, &reference, 1));
    let t2 = token(&app, &ticket_code(&app, &reference, 2));
    let scans = (0..20).map(|i| {
        let body = json!({"token": if i % 4 == 3 { &t2 } else { &t1 }, "city_event_id": id});
        let (org, app) = (&org, &app);
        async move { check_in(org, app, body).await }
    });
    let answers = futures::future::join_all(scans).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let firsts = answers.iter().filter(|(_, a)| a["already_checked_in"] == false).count();
    assert_eq!(firsts, 2, "one first scan per attendee: {answers:?}");
    let (s, counts) = org.get(&app, &format!("/api/v1/admin/check-in/{id}")).await;
    assert_eq!((s, counts["present"].as_i64(), counts["expected"].as_i64()), (200, Some(2), Some(2)));
}

/// A staff account checks people in and reaches nothing else.
#[actix_web::test]
async fn staff_check_people_in_and_reach_nothing_else() {
    let app = spawn_app().await;
    let (reference, id) = paid(&app, "toronto", 1).await;
    today(&app, id);
    billetterie::admin::auth::create_user(
        &app.state.pool,
        "porte@example.ca",
        "door-staff-password-2027",
        billetterie::domain::AdminRole::Staff,
    )
    .await
    .unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/admin/login"))
        .json(&json!({"email": "porte@example.ca", "password": "door-staff-password-2027"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookies =
        crate::admin::cookies_of(res.headers()).iter().map(|c| c.split(';').next().unwrap().to_owned()).collect::<Vec<_>>().join("; ");
    let body: Value = res.json().await.unwrap();
    let staff = Organiser { cookies, csrf: body["csrf_token"].as_str().unwrap().to_owned() };

    let (s, ok) = check_in(&staff, &app, json!({"token": token(&app, &ticket_code(&app, &reference, 1))})).await;
    assert_eq!(s, 200, "{ok}");
    for (method, path) in [
        ("GET", "/api/v1/admin/bookings"),
        ("POST", &*format!("/api/v1/admin/bookings/{reference}/refund")),
        ("GET", "/api/v1/admin/dashboard"),
    ] {
        let (s, refused) = staff.call(&app, method, path, (method == "POST").then(|| json!({}))).await;
        assert_eq!((s, refused["error"]["code"].as_str()), (403, Some("owner_only")), "{method} {path}");
    }
    assert_eq!(app.booking_status(&reference), "confirmed", "the refused refund did nothing");
    let (s, _, page) = staff.text(&app, "/admin/bookings").await;
    assert_eq!(s, 403);
    assert!(String::from_utf8(page).unwrap().contains("/admin/check-in"), "the refusal points to the door's page");
    let (s, _, page) = staff.text(&app, &format!("/admin/check-in/{id}")).await;
    assert_eq!(s, 200);
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("Présents") || page.contains("Present"), "{page}");
    assert!(!page.contains("href=\"/admin/bookings\""), "staff are not offered the owner's pages");
}

/// Invoice numbers have no gaps and no repeats, however many mails and pages ask at once.
#[actix_web::test]
async fn invoice_numbers_are_gap_free_when_issued_concurrently() {
    use billetterie::db::invoices::{issue, Amount, DocumentKind};
    let app = spawn_app().await;
    let id = app.city_event_of("toronto");
    let mut bookings = Vec::new();
    for _ in 0..8 {
        bookings.push(app.held(id, 1).await.1);
    }
    let calls = bookings.iter().flat_map(|b| [*b, *b, *b]).map(|b| {
        let pool = app.state.pool.clone();
        tokio::spawn(async move {
            let mut conn = billetterie::db::connection(&pool).await.unwrap();
            issue(&mut conn, b, DocumentKind::Invoice, "", Amount::Exactly(100)).await.unwrap().number
        })
    });
    let mut numbers: Vec<i64> = futures::future::join_all(calls).await.into_iter().map(Result::unwrap).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>(), "one number per booking, 1 to 8");
    assert_eq!(app.db.scalar("SELECT count(*) FROM invoices"), 8);
}

/// The confirmation mail carries the tickets and the invoice; a refund's notice carries its
/// credit note; both read back as the documents they are.
#[actix_web::test]
async fn the_mails_carry_the_tickets_the_invoice_and_the_credit_note() {
    let app = spawn_app().await;
    let org = crate::admin::login(&app).await;
    let (reference, _) = paid(&app, "toronto", 2).await;
    let sent = |kind: &str| {
        app.db.scalar(&format!(
            "SELECT count(*) FROM email_campaigns e JOIN bookings b ON b.id = e.booking_id
             WHERE b.reference = '{reference}' AND e.kind = '{kind}' AND e.status = 'sent'"
        ))
    };
    assert!(eventually(Duration::from_secs(10), async || sent("confirmation") >= 1).await);
    let mail = |kind: &str| -> String {
        std::fs::read_dir(app.db.outbox_dir())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(&format!("-{kind}-")))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .next()
            .unwrap_or_default()
    };
    let confirmation = mail("confirmation");
    assert!(confirmation.contains(&format!("filename=\"tickets-{reference}.pdf\"")), "tickets attached");
    assert!(confirmation.contains("filename=\"F-000001.pdf\""), "the invoice attached");

    let k = key(&app, &reference);
    let (s, disposition, invoice) = get_pdf(&app, &format!("/fr/confirmation/{reference}/invoice.pdf?k={k}")).await;
    assert_eq!((s, disposition.as_str()), (200, "attachment; filename=\"F-000001.pdf\""), "the same invoice, not a new number");
    let text = pdftotext(&invoice, "invoice");
    let total = app.db.scalar(&format!("SELECT total_cents FROM bookings WHERE reference = '{reference}'"));
    let money = amount(total);
    for needle in
        ["Facture", "N° F-000001", "Formations ACT Canada inc.", "123456789 RT0001", "Marie Tremblay", reference.as_str(), money.as_str()]
    {
        assert!(text.contains(needle), "{needle} on the invoice:\n{text}");
    }

    let (s, body) = org.post(&app, &format!("/api/v1/admin/bookings/{reference}/refund"), json!({"amount_cents": 5_000})).await;
    assert_eq!(s, 200, "{body}");
    assert!(eventually(Duration::from_secs(10), async || sent("refund_notice") == 1).await);
    assert!(mail("refund_notice").contains("filename=\"NC-000001.pdf\""), "the credit note attached");
    let (s, _, note) = get_pdf(&app, &format!("/fr/confirmation/{reference}/credit-notes/NC-000001.pdf?k={k}")).await;
    assert_eq!(s, 200);
    let text = pdftotext(&note, "credit");
    let refunded = amount(-5_000);
    for needle in ["Note de crédit", "NC-000001", "F-000001", refunded.as_str()] {
        assert!(text.contains(needle), "{needle} on the credit note:\n{text}");
    }
    assert_eq!(get_pdf(&app, &format!("/fr/confirmation/{reference}/credit-notes/NC-000002.pdf?k={k}")).await.0, 404);
}

/// What an employer needs: the booking form's billing details and my booking's details form
/// reach the invoice (same number) and the certificate (the licence number); a detail too long
/// is refused and changes nothing; the back office downloads the same invoice.
#[actix_web::test]
async fn billing_details_and_licence_numbers_reach_the_invoice_and_the_certificate() {
    use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
    let app = spawn_app().await;
    let org = crate::admin::login(&app).await;
    let id = app.city_event_of("toronto");
    let mut body = booking_body(id, 1);
    body["billing"] = json!({"company_name": "CIUSSS du Centre-Sud", "purchase_order": "PO-7781"});
    let reference = app.booked_and_paid(&body).await;
    let k = key(&app, &reference);
    let text = pdftotext(&get_pdf(&app, &format!("/fr/confirmation/{reference}/invoice.pdf?k={k}")).await.2, "billing");
    assert!(text.contains("CIUSSS du Centre-Sud") && text.contains("Bon de commande PO-7781"), "{text}");
    let too_long = {
        let mut b = booking_body(id, 1);
        b["billing"] = json!({"purchase_order": "9".repeat(61)});
        b
    };
    let before = app.bookings_count();
    let (s, refused) = app.post_json("/api/v1/bookings/create", &too_long).await;
    assert_eq!((s, refused["error"]["field"].as_str()), (422, Some("billing.purchase_order")), "{refused}");
    assert_eq!(app.bookings_count(), before, "nothing held");

    // My booking's details form, as a browser sends it.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = client.get(app.url(&format!("/fr/confirmation/{reference}?k={k}"))).send().await.unwrap();
    let cookie = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"document-details\""), "{html}");
    let at = html.find("name=\"csrf_token\" value=\"").unwrap() + 25;
    let csrf = html[at..].split('"').next().unwrap().to_owned();
    let post = |fields: Vec<(&'static str, String)>| {
        let (client, cookie, csrf) = (&client, &cookie, &csrf);
        let url = app.url(&format!("/fr/confirmation/{reference}/details?k={k}"));
        async move {
            let mut form = vec![("csrf_token", csrf.clone())];
            form.extend(fields);
            let res = client.post(url).header(COOKIE, cookie).form(&form).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 303);
            res.headers()[LOCATION].to_str().unwrap().to_owned()
        }
    };
    let back = post(vec![
        ("company_name", "CIUSSS du Centre-Sud-de-l’Île-de-Montréal".into()),
        ("billing_address", "1560, rue Sherbrooke Est\nMontréal (Québec) H2L 4M1".into()),
        ("purchase_order", "PO-7781".into()),
        ("licence_1", "OPQ 12345-67".into()),
    ])
    .await;
    assert!(back.contains("notice=details_saved"), "{back}");
    let back = post(vec![("company_name", "x".repeat(201)), ("licence_1", "nope".into())]).await;
    assert!(back.contains("notice=details_refused"), "{back}");
    let (_, disposition, invoice) = get_pdf(&app, &format!("/fr/confirmation/{reference}/invoice.pdf?k={k}")).await;
    assert_eq!(disposition, "attachment; filename=\"F-000001.pdf\"", "the invoice keeps its number");
    let text = pdftotext(&invoice, "billing-after");
    for needle in ["Centre-Sud-de-l’Île-de-Montréal", "1560, rue Sherbrooke Est", "Montréal (Québec) H2L 4M1"] {
        assert!(text.contains(needle), "{needle}, and the refused edit changed nothing:\n{text}");
    }

    // The licence number on the certificate of the attendee who came.
    today(&app, id);
    let (s, _) = check_in(&org, &app, json!({"token": token(&app, &ticket_code(&app, &reference, 1))})).await;
    assert_eq!(s, 200);
    let text = pdftotext(&get_pdf(&app, &format!("/fr/confirmation/{reference}/certificates/1.pdf?k={k}")).await.2, "licence");
    assert!(text.contains("Numéro de permis OPQ 12345-67") && text.contains("Marie Tremblay"), "{text}");

    // The back office's download is the same invoice.
    let (s, headers, bytes) = org.text(&app, &format!("/admin/bookings/{reference}/invoice.pdf")).await;
    assert_eq!(s, 200);
    assert_eq!(headers["content-disposition"], "attachment; filename=\"F-000001.pdf\"");
    assert!(pdftotext(&bytes, "admin-invoice").contains("PO-7781"));
}

/// Closing the day sends the J+1 mail now, with the certificate of each attendee who came and
/// none for who did not; closing twice sends nothing more.
#[actix_web::test]
async fn closing_the_day_sends_the_certificates_of_those_who_came() {
    let app = spawn_app().await;
    let org = crate::admin::login(&app).await;
    let (reference, id) = paid(&app, "toronto", 2).await;
    name_seat(&app, &reference, 1, "Zoé", "Côté");
    name_seat(&app, &reference, 2, "Luc", "Roy");
    let (s, early) = org.post(&app, &format!("/api/v1/admin/city-events/{id}/close-day"), json!({})).await;
    assert_eq!((s, early["error"]["code"].as_str()), (409, Some("day_not_started")), "{early}");
    app.db
        .execute(&format!(
            "UPDATE city_events SET starts_at = now() - interval '2 hours', ends_at = now() + interval '5 hours' WHERE id = {id}"
        ))
        .unwrap();
    let (s, _) = check_in(&org, &app, json!({"token": token(&app, &ticket_code(&app, &reference, 1))})).await;
    assert_eq!(s, 200);
    let (s, closed) = org.post(&app, &format!("/api/v1/admin/city-events/{id}/close-day"), json!({})).await;
    assert_eq!((s, closed["mails"].as_i64()), (200, Some(1)), "one mail: the buyer's, no attendee has an address");
    let (_, again) = org.post(&app, &format!("/api/v1/admin/city-events/{id}/close-day"), json!({})).await;
    assert_eq!(again["mails"], 0, "closing twice sends nothing more");
    let sent = || {
        app.db.scalar(&format!(
            "SELECT count(*) FROM email_campaigns e JOIN bookings b ON b.id = e.booking_id
             WHERE b.reference = '{reference}' AND e.kind = 'j_plus_1' AND e.status = 'sent'"
        ))
    };
    assert!(eventually(Duration::from_secs(10), async || sent() == 1).await);
    let mail = std::fs::read_dir(app.db.outbox_dir())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().contains("-j_plus_1-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap();
    assert!(mail.contains(&format!("filename=\"certificate-{reference}-1.pdf\"")), "Zoé came");
    assert!(!mail.contains(&format!("certificate-{reference}-2.pdf")), "Luc did not");
}
