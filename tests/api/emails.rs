//! The e-mail sequence, exactly once, with time travel (`run-due --now`), transports and tracking.

use std::sync::Arc;
use std::time::Duration;

use billetterie::email::dispatch::{EmailService, EmailSettings};
use billetterie::email::outbox::OutboxTransport;
use billetterie::email::sendgrid::SendGridTransport;
use billetterie::email::transport::EmailTransport;
use billetterie::stand_ins::sendgrid::SendGridStandIn;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::helpers::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn service(app: &TestApp, transport: Arc<dyn EmailTransport>) -> EmailService {
    EmailService::new(app.state.pool.clone(), transport, EmailSettings::from(app.state.settings.as_ref())).unwrap()
}

/// The same outbox the server writes to: every mail sent by anyone lands here.
fn outbox(app: &TestApp) -> Arc<dyn EmailTransport> {
    Arc::new(OutboxTransport::new(app.db.outbox_dir()).unwrap())
}

fn files(app: &TestApp, kind: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(app.db.outbox_dir()) else { return vec![] };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml") && n.contains(&format!("-{kind}-")))
        .collect();
    names.sort();
    names
}

/// A confirmed Montréal booking (April 16, 2027, 9:00 EDT) with two attendees who have addresses.
async fn confirmed_booking(app: &TestApp) -> String {
    let id = app.city_event_of("montreal");
    let mut body = booking_body(id, 2);
    body["attendees"] = json!([
        {"first_name": "Luc", "last_name": "Roy", "email": "luc@example.ca"},
        {"first_name": "Anne", "last_name": "Côté", "email": "anne@example.ca"}
    ]);
    app.booked_and_paid(&body).await
}

fn sent(app: &TestApp, kind: &str) -> i64 {
    app.db.scalar(&format!("SELECT count(*) FROM email_campaigns WHERE kind = '{kind}' AND status = 'sent'"))
}

#[actix_web::test]
async fn an_early_booking_receives_the_whole_sequence_once_each_at_nine_local() {
    let app = spawn_app().await;
    let reference = confirmed_booking(&app).await;
    let mail = service(&app, outbox(&app));

    mail.run_due(Utc::now()).await.unwrap();
    // The app's own dispatcher may have claimed the confirmation first (it is sent on payment):
    // whoever sends it, it goes out once.
    let confirmation_sent = "SELECT count(*) FROM email_campaigns WHERE kind = 'confirmation' AND recipient_email = 'marie.tremblay@example.ca' AND status = 'sent'";
    assert!(eventually(Duration::from_secs(10), async || app.db.scalar(confirmation_sent) == 1).await, "the confirmation is sent");
    assert_eq!(files(&app, "confirmation").len(), 1, "the confirmation, to the buyer, once");
    let eml = std::fs::read_to_string(app.db.outbox_dir().join(&files(&app, "confirmation")[0])).unwrap();
    assert!(eml.contains(".ics"), "the calendar file is attached");
    assert!(eml.contains(&reference) || eml.contains("=?UTF-8?"), "the mail names the booking");

    // One minute before J-30 (March 17, 2027, 9:00 EDT = 13:00 UTC): nothing yet.
    let r = mail.run_due(at("2027-03-17T12:59:00Z")).await.unwrap();
    assert_eq!(r.claimed, 0);
    for (now, kind) in [
        ("2027-03-17T13:00:00Z", "j_minus_30"),
        ("2027-04-02T13:01:00Z", "j_minus_14"),
        ("2027-04-09T15:00:00Z", "j_minus_7"),
        ("2027-04-15T13:00:00Z", "j_minus_1"),
        ("2027-04-17T13:00:00Z", "j_plus_1"),
    ] {
        let report = mail.run_due(at(now)).await.unwrap();
        assert_eq!((report.claimed, report.sent), (2, 2), "{kind}: one mail per attendee address");
        let again = mail.run_due(at(now)).await.unwrap();
        assert_eq!((again.claimed, again.sent), (0, 0), "{kind}: a second pass sends nothing");
        assert_eq!(files(&app, kind).len(), 2, "{kind}");
        assert_eq!(sent(&app, kind), 2);
    }
    assert_eq!(app.db.scalar("SELECT count(DISTINCT recipient_email) FROM email_campaigns WHERE kind = 'j_minus_1'"), 2);
    assert_eq!(app.db.scalar("SELECT count(*) FROM email_campaigns WHERE status <> 'sent'"), 0);
}

#[actix_web::test]
async fn concurrent_passes_never_send_twice() {
    let app = spawn_app().await;
    confirmed_booking(&app).await;
    let a = Arc::new(service(&app, outbox(&app)));
    let b = Arc::new(service(&app, outbox(&app)));
    let now = at("2027-04-15T14:00:00Z");
    let passes = (0..6).map(|i| {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { s.run_due(now).await.unwrap() }
    });
    let reports = futures::future::join_all(passes).await;
    assert_eq!(reports.iter().map(|r| r.sent).sum::<usize>(), 3, "J-1 to two attendees + the confirmation, once each");
    assert_eq!(files(&app, "j_minus_1").len(), 2);
    assert_eq!(files(&app, "confirmation").len(), 1);
}

#[actix_web::test]
async fn a_late_booking_skips_the_reminders_its_confirmation_carries() {
    let app = spawn_app().await;
    let reference = confirmed_booking(&app).await;
    // Confirmed after J-7 was due (April 9, 9:00 EDT).
    app.db.execute(&format!("UPDATE bookings SET confirmed_at = '2027-04-10T12:00:00Z' WHERE reference = '{reference}'")).unwrap();
    let mail = service(&app, outbox(&app));
    for now in ["2027-04-10T12:05:00Z", "2027-04-12T13:00:00Z"] {
        mail.run_due(at(now)).await.unwrap();
    }
    for kind in ["j_minus_30", "j_minus_14", "j_minus_7"] {
        assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM email_campaigns WHERE kind = '{kind}'")), 0, "{kind}");
    }
    mail.run_due(at("2027-04-15T13:00:00Z")).await.unwrap();
    mail.run_due(at("2027-04-17T13:00:00Z")).await.unwrap();
    assert_eq!((sent(&app, "j_minus_1"), sent(&app, "j_plus_1")), (2, 2), "J-1 and J+1 reach everyone confirmed");
}

#[actix_web::test]
async fn a_refunded_booking_stops_its_sequence_even_for_mails_already_claimed() {
    let app = spawn_app().await;
    let reference = confirmed_booking(&app).await;
    assert!(eventually(Duration::from_secs(10), async || sent(&app, "confirmation") == 1).await, "the confirmation went out at once");
    let stand_in = SendGridStandIn::start("SG.test").unwrap();
    stand_in.script(&[503, 503]);
    let mail = service(&app, Arc::new(SendGridTransport::new(&stand_in.base_url(), "SG.test".into(), Duration::from_secs(5))));
    let r = mail.run_due(at("2027-03-17T13:00:00Z")).await.unwrap();
    assert_eq!((r.sent, r.retried), (0, 2), "SendGrid is down: both J-30 mails wait for a retry");

    let mut conn = billetterie::db::connection(&app.state.pool).await.unwrap();
    let (booking, _) = billetterie::db::bookings::by_reference(&mut conn, &reference).await.unwrap().unwrap();
    drop(conn);
    app.state.payments.refund(&booking, None).await.unwrap();

    let r = mail.run_due(at("2027-03-17T14:00:00Z")).await.unwrap();
    assert_eq!(r.skipped, 2, "claimed but not yet sent: skipped");
    // The refund itself is announced, once, by this pass or by the server's own dispatcher.
    assert!(r.sent <= 1, "{r:?}");
    assert!(eventually(Duration::from_secs(10), async || sent(&app, "refund_notice") == 1).await, "the refund mail went out");
    assert_eq!(app.db.scalar("SELECT count(*) FROM email_campaigns WHERE kind = 'refund_notice'"), 1);
    let r = mail.run_due(at("2027-04-15T13:00:00Z")).await.unwrap();
    assert_eq!((r.claimed, r.sent), (0, 0), "nothing further");
    assert!(stand_in.received().iter().all(|m| m["personalizations"][0]["custom_args"]["kind"] != "j_minus_30"));
}

#[actix_web::test]
async fn sendgrid_429_then_202_sends_one_mail_and_400_is_a_visible_failure() {
    let app = spawn_app().await;
    confirmed_booking(&app).await;
    let stand_in = SendGridStandIn::start("SG.key").unwrap();
    let mail = service(&app, Arc::new(SendGridTransport::new(&stand_in.base_url(), "SG.key".into(), Duration::from_secs(5))));
    // Let the server's own dispatcher (outbox) send the confirmation first, so only reminders go to SendGrid here.
    assert!(eventually(Duration::from_secs(10), async || sent(&app, "confirmation") == 1).await);

    stand_in.script(&[429, 400]);
    let t0 = at("2027-04-15T13:00:00Z");
    let r = mail.run_due(t0).await.unwrap();
    assert_eq!((r.sent, r.retried, r.failed), (0, 1, 1), "{r:?}");
    let failed = app.db.scalar("SELECT count(*) FROM email_campaigns WHERE status = 'failed' AND last_error LIKE '%valid address%'");
    assert_eq!(failed, 1, "a permanent failure is recorded with SendGrid's reason");
    let r = mail.run_due(t0 + chrono::Duration::seconds(10)).await.unwrap();
    assert_eq!(r.sent, 0, "the back-off is respected");
    let r = mail.run_due(t0 + chrono::Duration::seconds(31)).await.unwrap();
    assert_eq!(r.sent, 1, "retried after 30 s: accepted");
    let received = stand_in.received();
    assert_eq!(received.len(), 1, "exactly one mail reached SendGrid");
    assert_eq!(received[0]["personalizations"][0]["custom_args"]["kind"], "j_minus_1");
    assert_eq!(stand_in.requests(), 3);
}

#[actix_web::test]
async fn open_and_click_routes_record_and_refuse_forgeries() {
    let app = spawn_app().await;
    confirmed_booking(&app).await;
    assert!(eventually(Duration::from_secs(10), async || sent(&app, "confirmation") == 1).await);
    let id = app.db.scalar("SELECT id FROM email_campaigns WHERE kind = 'confirmation'");
    let eml = std::fs::read_to_string(app.db.outbox_dir().join(&files(&app, "confirmation")[0])).unwrap();
    assert!(eml.contains("/e/o/"), "the mail carries the open pixel");
    let secret = app.state.settings.secret_key.expose().to_owned();
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let forged = format!("/e/o/{id}.{}.gif", "0".repeat(64));
    assert_eq!(no_redirect.get(app.url(&forged)).send().await.unwrap().status().as_u16(), 404);
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM email_campaigns WHERE id = {id} AND opened_at IS NULL")), 1);
    let open = format!("/e/o/{}.gif", billetterie::domain::tokens::open_token(&secret, id));
    let res = no_redirect.get(app.url(&open)).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["content-type"].to_str().unwrap()), (200, "image/gif"));
    assert_eq!(
        app.db.scalar(&format!("SELECT count(*) FROM email_campaigns WHERE id = {id} AND opened_at IS NOT NULL AND clicked_at IS NULL")),
        1
    );

    let target = "https://billetterie.example/fr/resources";
    let token = billetterie::domain::tokens::click_token(&secret, id, target);
    let evil = no_redirect.get(app.url(&format!("/e/c/{token}?u=https%3A%2F%2Fevil.example%2F"))).send().await.unwrap();
    assert_eq!(evil.status().as_u16(), 404, "a token for one link cannot redirect elsewhere");
    let no_target = no_redirect.get(app.url(&format!("/e/c/{token}"))).send().await.unwrap();
    assert_eq!(no_target.status().as_u16(), 404);
    let err: serde_json::Value = no_target.json().await.unwrap();
    assert_eq!(err["error"]["code"], "not_found");
    let res = no_redirect.get(app.url(&format!("/e/c/{token}?u=https%3A%2F%2Fbilletterie.example%2Ffr%2Fresources"))).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 302);
    assert_eq!(res.headers()["location"], target);
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM email_campaigns WHERE id = {id} AND clicked_at IS NOT NULL")), 1);
}

#[actix_web::test]
async fn the_run_due_and_preview_commands_work_from_the_command_line() {
    let app = spawn_app().await;
    confirmed_booking(&app).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_billetterie"))
        .args(["emails", "run-due", "--now", "2027-04-15T09:30:00-04:00"])
        .env("APP_ENV", "test")
        .env("DATABASE_URL", &app.db.url)
        .env("EMAIL_OUTBOX_DIR", app.db.outbox_dir())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("sent"), "{text}");
    assert_eq!(files(&app, "j_minus_1").len(), 2, "{text}");

    for lang in ["fr", "en"] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_billetterie"))
            .args(["emails", "preview", "j_minus_1", "--lang", lang])
            .env("APP_ENV", "test")
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.starts_with("Subject: "), "{text}");
    }
    let bad =
        tokio::process::Command::new(env!("CARGO_BIN_EXE_billetterie")).args(["emails", "preview", "j_minus_2"]).output().await.unwrap();
    assert!(!bad.status.success());
}

/// `EMAIL_TRANSPORT=smtp` end to end: the server sends the confirmation (with its calendar file)
/// through a real SMTP server, and the `run-due` command, reading the SMTP settings from the
/// environment, sends the J-1 mails there too, one per address, each recorded as sent once.
#[actix_web::test]
async fn the_server_and_run_due_send_through_smtp() {
    use crate::smtp::{header, parts, SmtpServer};
    let server = SmtpServer::start();
    let port = server.port;
    let app = spawn_app_with(|s| {
        s.email_transport = billetterie::config::EmailTransportKind::Smtp;
        s.smtp_host = "127.0.0.1".into();
        s.smtp_port = Some(port);
        s.smtp_tls = billetterie::config::SmtpTls::None;
    })
    .await;
    let reference = confirmed_booking(&app).await;
    let of_kind =
        |kind: &str| -> Vec<Value> { server.received().into_iter().filter(|m| header(m, "X-Billetterie-Kind") == kind).collect() };
    assert!(eventually(Duration::from_secs(20), async || !of_kind("confirmation").is_empty()).await, "the confirmation went out");
    let confirmation = &of_kind("confirmation")[0];
    assert_eq!(confirmation["rcpt_tos"][0], "marie.tremblay@example.ca", "{confirmation}");
    assert!(parts(confirmation, "text/plain")[0]["body"].as_str().unwrap().contains(&reference), "{confirmation}");
    let ics = parts(confirmation, "text/calendar");
    assert_eq!(ics.len(), 1, "{confirmation}");
    assert!(ics[0]["body"].as_str().unwrap().contains("BEGIN:VEVENT"), "{confirmation}");
    assert_eq!(parts(confirmation, "text/html").len(), 1, "{confirmation}");
    assert!(files(&app, "confirmation").is_empty(), "nothing went to the outbox");

    let run = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_billetterie"))
            .args(["emails", "run-due", "--now", "2027-04-15T09:30:00-04:00"])
            .env("APP_ENV", "test")
            .env("DATABASE_URL", &app.db.url)
            .env("EMAIL_TRANSPORT", "smtp")
            .env("SMTP_HOST", "127.0.0.1")
            .env("SMTP_PORT", port.to_string())
            .env("SMTP_TLS", "none")
            .env("RUST_LOG", "warn")
            .output()
    };
    let out = run().await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("(transport: smtp)"), "{text}");

    let j1 = of_kind("j_minus_1");
    let mut to: Vec<&str> = j1.iter().map(|m| m["rcpt_tos"][0].as_str().unwrap()).collect();
    to.sort();
    assert_eq!(to, ["anne@example.ca", "luc@example.ca"], "{j1:?}");
    for m in &j1 {
        let campaign: i64 = header(m, "X-Billetterie-Campaign").parse().unwrap();
        assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM email_campaigns WHERE id = {campaign} AND status = 'sent'")), 1);
        assert_eq!((parts(m, "text/plain").len(), parts(m, "text/html").len()), (1, 1), "{m}");
        assert!(parts(m, "text/plain")[0]["body"].as_str().unwrap().contains("Wi-Fi"), "{m}");
    }
    // Run again: nothing is sent twice.
    let before = server.received().len();
    assert!(run().await.unwrap().status.success());
    assert_eq!(server.received().len(), before);
}

#[actix_web::test]
async fn sendgrid_event_webhook_is_verified_and_records_opens_clicks_and_bounces() {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::{Signature, SigningKey};
    use p256::pkcs8::EncodePublicKey;

    let key = loop {
        if let Ok(k) = SigningKey::from_slice(&rand::random::<[u8; 32]>()) {
            break k;
        }
    };
    let public = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
    let app = spawn_app_with(|s| s.sendgrid_webhook_public_key = public.clone()).await;
    confirmed_booking(&app).await;
    assert!(eventually(Duration::from_secs(10), async || sent(&app, "confirmation") == 1).await);
    let id = app.db.scalar("SELECT id FROM email_campaigns WHERE kind = 'confirmation'");
    let body = serde_json::to_vec(&json!([
        {"email": "marie.tremblay@example.ca", "event": "open", "timestamp": 1_800_000_000, "campaign_id": id.to_string()},
        {"email": "marie.tremblay@example.ca", "event": "click", "timestamp": 1_800_000_100, "url": "https://x.ca", "campaign_id": id.to_string()}
    ]))
    .unwrap();
    let now = Utc::now().timestamp().to_string();
    let post = |timestamp: &str, signature: String, body: Vec<u8>| {
        app.client
            .post(app.url("/api/v1/webhooks/sendgrid"))
            .header("X-Twilio-Email-Event-Webhook-Signature", signature)
            .header("X-Twilio-Email-Event-Webhook-Timestamp", timestamp)
            .body(body)
            .send()
    };
    let sign = |timestamp: &str, body: &[u8]| {
        let mut signed = timestamp.as_bytes().to_vec();
        signed.extend_from_slice(body);
        let s: Signature = key.sign(&signed);
        STANDARD.encode(s.to_der().as_bytes())
    };
    // Forged: signed over another body.
    let res = post(&now, sign(&now, b"[]"), body.clone()).await.unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let stale = (Utc::now().timestamp() - 3600).to_string();
    let res = post(&stale, sign(&stale, &body), body.clone()).await.unwrap();
    assert_eq!(res.status().as_u16(), 400, "a replay of an old signed batch");
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM email_campaigns WHERE id = {id} AND opened_at IS NULL")), 1);
    let res = post(&now, sign(&now, &body), body.clone()).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        app.db
            .scalar(&format!("SELECT count(*) FROM email_campaigns WHERE id = {id} AND opened_at IS NOT NULL AND clicked_at IS NOT NULL")),
        1
    );
    let bounce = serde_json::to_vec(&json!([{"event": "bounce", "reason": "550 unknown user", "campaign_id": id.to_string()}])).unwrap();
    let res = post(&now, sign(&now, &bounce), bounce).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        app.db.scalar(&format!("SELECT count(*) FROM email_campaigns WHERE id = {id} AND status = 'failed' AND last_error LIKE 'bounce%'")),
        1
    );
}
