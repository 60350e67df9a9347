//! One source for every fact: the organiser sets the policies, the programme, the organiser's
//! contacts and two venues' practical facts through the back office, and every page and every
//! mail kind, for both venues in both languages, then prints those values and none of the old
//! ones.

use billetterie::db;
use billetterie::domain::{EmailKind, Language};
use billetterie::email::dispatch::{booking_context, EmailSettings};
use billetterie::email::render::{EmailRenderer, NoTracking};
use serde_json::json;

use crate::admin::login;
use crate::helpers::*;

fn key(app: &TestApp, reference: &str) -> String {
    billetterie::domain::tokens::booking_key(app.state.settings.secret_key.expose(), reference)
}

fn venue_of(app: &TestApp, city_event: i64) -> i64 {
    app.db.scalar(&format!("SELECT venue_id FROM city_events WHERE id = {city_event}"))
}

/// Every mail kind of a booking, rendered from the stored facts, in `lang`: (kind, text + HTML).
async fn mails(app: &TestApp, reference: &str, lang: Language) -> Vec<(EmailKind, String)> {
    let mut conn = db::connection(&app.state.pool).await.unwrap();
    let (booking, people) = db::bookings::by_reference(&mut conn, reference).await.unwrap().unwrap();
    let details = db::catalogue::city_event(&mut conn, booking.city_event_id).await.unwrap().unwrap();
    let facts = db::facts::for_date(&mut conn, details.event.masterclass_event_id, details.venue.id.0).await.unwrap();
    let settings = EmailSettings::from(&*app.state.settings);
    let renderer = EmailRenderer::new().unwrap();
    EmailKind::ALL
        .into_iter()
        .map(|kind| {
            let ctx = booking_context(&settings, kind, lang, Some("Marie".into()), &booking, &details, &people, facts.clone());
            let r = renderer.render(&ctx, &NoTracking).unwrap();
            (kind, format!("{}\n{}\n{}", r.subject, r.text, r.html))
        })
        .collect()
}

async fn page(app: &TestApp, path: &str) -> String {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

#[actix_web::test]
async fn pages_and_mails_print_the_facts_the_back_office_stored_for_two_venues_in_both_languages() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let (mtl, hfx) = (app.city_event_of("montreal"), app.city_event_of("halifax"));
    let masterclass: i64 = app.db.scalar(&format!("SELECT masterclass_event_id FROM city_events WHERE id = {mtl}"));
    let (mtl_ref, _) = app.held(mtl, 1).await;
    let (hfx_ref, _) = app.held(hfx, 1).await;

    // New values, none of which the demo uses anywhere.
    let (s, b) = org
        .call(
            &app,
            "PUT",
            &format!("/api/v1/admin/masterclasses/{masterclass}/policies"),
            Some(json!({
            "ce_hours": 7, "refund_window_days": 21, "name_change_days": 3, "resources_days": 45, "certificate_days": 10})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = org
        .call(&app, "PUT", &format!("/api/v1/admin/masterclasses/{masterclass}/programme"), Some(json!({"items": [
            {"starts_minutes": -50, "label_en": "Doors open, espresso bar", "label_fr": "Ouverture des portes, bar à espresso", "brief": true},
            {"starts_minutes": 0, "label_en": "Opening words", "label_fr": "Mot d’ouverture", "brief": true},
            {"starts_minutes": 200, "ends_minutes": 265, "label_en": "Long lunch", "label_fr": "Long dîner", "brief": true},
            {"starts_minutes": 450, "label_en": "Farewell", "label_fr": "Au revoir", "brief": true}]})))
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = org
        .call(
            &app,
            "PUT",
            "/api/v1/admin/organiser",
            Some(json!({"legal_name": "Souplesse Psy SENC", "address": "12, rue Principale, Sherbrooke (Québec) J1H 1A1",
            "support_email": "bonjour@souplesse.ca", "support_phone": "819 823-4455"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    for (id, wifi, phone, transit) in [
        (mtl, "Souplesse-MTL-93", "514 861-7070", "Bixi dock at the door"),
        (hfx, "Souplesse-HFX-41", "902 420-1111", "Ferry terminal, 4 min"),
    ] {
        let venue = venue_of(&app, id);
        let (s, b) = org
            .call(&app, "PUT", &format!("/api/v1/admin/venues/{venue}/facts"), Some(json!({
                "transit_en": transit, "transit_fr": format!("{transit} (fr)"), "hotels_en": format!("Hotel {venue}"), "hotels_fr": format!("Hôtel {venue}"),
                "wifi_network": wifi, "wifi_password": format!("pw-{wifi}"), "emergency_phone": phone})))
            .await;
        assert_eq!(s, 200, "{b}");
    }

    // The pages: the general ones and each venue's city page, in both languages.
    for (lang, days, hours, cert) in [("fr", "21 jours", "7 heures", "10 jours"), ("en", "21 days", "7 hours", "10 days")] {
        let pricing = page(&app, &format!("/{lang}/{}", if lang == "fr" { "tarifs" } else { "pricing" })).await;
        assert!(pricing.contains(days) && pricing.contains(hours) && pricing.contains("45"), "{lang} pricing: {pricing}");
        assert!(!pricing.contains("30 days") && !pricing.contains("30 jours"), "{lang} pricing keeps an old number");
        let faq = page(&app, &format!("/{lang}/faq")).await;
        assert!(faq.contains(days) && faq.contains(cert) && faq.contains(hours), "{lang} faq: {faq}");
        for html in [&pricing, &faq] {
            assert!(html.contains("Souplesse Psy SENC") && html.contains("bonjour@souplesse.ca"), "{lang} footer");
            assert!(!html.contains("aide@billetterie.example") && !html.contains("ACT Canada Formation"), "{lang} old organiser");
        }
    }
    let city_fr = page(&app, "/fr/villes/halifax").await;
    assert!(city_fr.contains("Ferry terminal, 4 min (fr)") && city_fr.contains("Long dîner"), "{city_fr}");
    let city_en = page(&app, "/en/cities/montreal").await;
    assert!(city_en.contains("Bixi dock at the door") && city_en.contains("8:10") && city_en.contains("12:20"), "{city_en}");

    // Every mail kind, for both venues, in both languages.
    for (reference, wifi, phone) in [(&mtl_ref, "Souplesse-MTL-93", "514 861-7070"), (&hfx_ref, "Souplesse-HFX-41", "902 420-1111")] {
        for lang in [Language::Fr, Language::En] {
            for (kind, mail) in mails(&app, reference, lang).await {
                let what = format!("{kind:?} {lang:?} {reference}");
                assert!(mail.contains("Souplesse Psy SENC") && mail.contains("bonjour@souplesse.ca"), "{what}: {mail}");
                assert!(!mail.contains("Formations ACT Canada") && !mail.contains("aide@billetterie.example"), "{what}");
                assert!(!mail.contains("hexaflex"), "{what} prints another venue's Wi-Fi");
                match kind {
                    EmailKind::JMinus1 => assert!(
                        mail.contains(wifi) && mail.contains(phone) && mail.contains("Au revoir") == (lang == Language::Fr),
                        "{what}: {mail}"
                    ),
                    EmailKind::JMinus14 => assert!(mail.contains(if lang == Language::Fr { "Long dîner" } else { "Long lunch" }), "{what}"),
                    EmailKind::JMinus7 => assert!(mail.contains(if lang == Language::Fr { "Hôtel" } else { "Hotel" }), "{what}"),
                    EmailKind::JPlus1 => {
                        assert!(mail.contains(if lang == Language::Fr { "45 jours" } else { "45 days" }), "{what}: {mail}");
                        assert!(mail.contains(if lang == Language::Fr { "7 heures" } else { "7 hours" }), "{what}");
                    }
                    EmailKind::Confirmation => assert!(mail.contains("12, rue Principale, Sherbrooke"), "{what}: the receipt's issuer"),
                    _ => {}
                }
            }
        }
    }

    // The booking's own page carries the stored organiser too.
    let k = key(&app, &mtl_ref);
    let res = app.client.get(app.url(&format!("/fr/confirmation/{mtl_ref}?k={k}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let own = res.text().await.unwrap();
    assert!(own.contains("Souplesse Psy SENC") && own.contains("bonjour@souplesse.ca"), "{own}");
}

#[actix_web::test]
async fn a_bad_fact_is_refused_with_its_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let before: i64 = app.db.scalar("SELECT count(*) FROM programme_items");
    let (s, b) = org
        .call(
            &app,
            "PUT",
            "/api/v1/admin/masterclasses/1/programme",
            Some(json!({"items": [
            {"starts_minutes": 0, "label_en": "A", "label_fr": "A"}, {"starts_minutes": -5, "label_en": "B", "label_fr": "B"}]})),
        )
        .await;
    assert_eq!((s, b["error"]["field"].as_str()), (422, Some("items[1].starts_minutes")), "{b}");
    assert_eq!(app.db.scalar("SELECT count(*) FROM programme_items"), before);
    let (s, b) = org
        .call(
            &app,
            "PUT",
            "/api/v1/admin/organiser",
            Some(json!({"legal_name": "X", "address": "Y", "support_email": "not-an-address", "support_phone": "819 823-4455"})),
        )
        .await;
    assert_eq!((s, b["error"]["field"].as_str()), (422, Some("support_email")), "{b}");
    assert_eq!(app.db.scalar("SELECT count(*) FROM organiser WHERE legal_name = 'X'"), 0);
    let (s, _) = org.call(&app, "PUT", "/api/v1/admin/venues/999999/facts", Some(json!({}))).await;
    assert_eq!(s, 404);

    // The page form answers in the page's language, naming the field.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = client
        .post(app.url("/admin/masterclasses/1/policies"))
        .header("cookie", &org.cookies)
        .header("accept-language", "fr-CA")
        .form(&[
            ("csrf_token", org.csrf.as_str()),
            ("ce_hours", "6"),
            ("refund_window_days", "900"),
            ("name_change_days", "2"),
            ("resources_days", "60"),
            ("certificate_days", "7"),
        ])
        .send()
        .await
        .unwrap();
    let to = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(to.contains("error=out_of_range") && to.contains("Remboursement"), "{to}");
    assert_eq!(app.db.scalar("SELECT refund_window_days::bigint FROM masterclass_events WHERE id = 1"), 30);
}
