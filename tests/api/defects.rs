//! Small defects of issue 14, each shown fixed on the running server: booking statuses in the
//! page's language, the early-bird price gone after its deadline, city names in English.

use std::time::Duration;

use billetterie::domain::tokens::booking_key;
use serde_json::json;

use crate::admin::login;
use crate::helpers::*;

async fn page(app: &TestApp, path: &str) -> String {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

#[actix_web::test]
async fn the_confirmation_page_shows_the_status_in_its_language() {
    let app = spawn_app_with(|s| s.hold_ttl_seconds = 1).await;
    let id = app.city_event_of("montreal");
    let (reference, _) = app.held(id, 1).await;
    let key = booking_key(app.state.settings.secret_key.expose(), &reference);
    // The hold runs out: the booking expires.
    assert!(eventually(Duration::from_secs(10), async || app.booking_status(&reference) == "expired").await);
    let fr = page(&app, &format!("/fr/confirmation/{reference}?k={key}")).await;
    assert!(fr.contains("Statut\u{a0}: expirée."), "{fr}");
    assert!(!fr.contains("expired."), "no English code in the French page");
    let en = page(&app, &format!("/en/confirmation/{reference}?k={key}")).await;
    assert!(en.contains("Status: expired."), "{en}");

    let (cancelled, _) = app.held(id, 1).await;
    app.db.execute(&format!("UPDATE bookings SET status = 'cancelled' WHERE reference = '{cancelled}'")).unwrap();
    let key = booking_key(app.state.settings.secret_key.expose(), &cancelled);
    let fr = page(&app, &format!("/fr/confirmation/{cancelled}?k={key}")).await;
    assert!(fr.contains("Statut\u{a0}: annulée."), "{fr}");
}

#[actix_web::test]
async fn the_pricing_page_drops_the_early_bird_price_after_its_deadline() {
    let app = spawn_app().await;
    let before = page(&app, "/fr/tarifs").await;
    assert!(before.contains("id=\"tier-early-bird\""), "{before}");
    assert!(before.contains("395,00\u{a0}$"), "the early-bird price");
    assert!(before.contains("Jusqu’au dimanche 31 janvier 2027 inclusivement."), "its last day, from the data");
    assert!(before.contains("À partir du lundi 1er février 2027."), "{before}");
    let en = page(&app, "/en/pricing").await;
    assert!(en.contains("$395.00") || en.contains("395.00"), "{en}");

    // Every city event's early-bird deadline has passed.
    app.db.execute("UPDATE city_events SET early_bird_until = now() - interval '1 hour'").unwrap();
    // Changed behind the back office: the site would show it within PAGE_CACHE_TTL_MS; not waited for.
    app.state.pages.invalidate();
    for path in ["/fr/tarifs", "/en/pricing"] {
        let after = page(&app, path).await;
        assert!(!after.contains("tier-early-bird"), "{path}: no early-bird tier");
        assert!(!after.contains("395,00") && !after.contains("395.00"), "{path}: no early-bird price: {after}");
        assert!(after.contains("id=\"tier-regular\""), "{path}");
        assert!(after.contains("495,00\u{a0}$") || after.contains("$495.00"), "{path}: the regular price: {after}");
    }
    assert!(page(&app, "/fr/tarifs").await.contains("Le prix d’une place, à toutes les dates."));
}

#[actix_web::test]
async fn city_names_follow_the_language_in_the_back_office_and_on_badges() {
    let app = spawn_app().await;
    let org = login(&app).await;
    let id = app.city_event_of("quebec");
    let mut references = vec![];
    for (lang, name) in [("en", "Jean"), ("fr", "Julie")] {
        let mut body = booking_body(id, 1);
        body["language"] = json!(lang);
        body["attendees"] = json!([{"first_name": name, "last_name": "Roy"}]);
        references.push(app.booked_and_paid(&body).await);
    }

    let html = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    let (status, _, en) = org.text(&app, "/admin/city-events?lang=en").await;
    assert_eq!(status, 200);
    let en = html(en);
    assert!(en.contains(&format!("<a href=\"/admin/city-events/{id}\">Québec City</a>")), "{en}");
    assert!(en.contains("Québec City — "), "the venue choices too");
    let (_, _, fr) = org.text(&app, "/admin/city-events?lang=fr").await;
    assert!(html(fr).contains(&format!("<a href=\"/admin/city-events/{id}\">Québec</a>")));
    let (_, _, dashboard) = org.text(&app, "/admin?lang=en").await;
    assert!(html(dashboard).contains(">Québec City<"), "the dashboard");
    let (_, _, one) = org.text(&app, &format!("/admin/city-events/{id}?lang=en")).await;
    assert!(html(one).contains("Québec City — "), "the city event's page title");
    let (_, _, bookings) = org.text(&app, "/admin/bookings?lang=en").await;
    assert!(html(bookings).contains("Québec City, Monday, April 19, 2027"), "the bookings' city-event labels");

    // The back office's statuses are words of its language too.
    let (_, _, fr) = org.text(&app, "/admin/bookings?lang=fr").await;
    let fr = html(fr);
    assert!(fr.contains("<td>confirmée</td>") && !fr.contains("<td>confirmed</td>"), "{fr}");
    assert!(fr.contains("<option value=\"expired\">expirée</option>"), "the status filter: {fr}");
    let (_, _, bookings) = org.text(&app, "/admin/bookings?lang=en").await;
    assert!(html(bookings).contains("<td>confirmed</td>"));

    let (_, _, badges) = org.text(&app, &format!("/api/v1/admin/city-events/{id}/attendees.csv?sheet=badges")).await;
    let badges = html(badges);
    assert!(badges.contains("Jean,Roy,Québec City,2027-04-19\r\n"), "an English booking's badge: {badges}");
    assert!(badges.contains("Julie,Roy,Québec,2027-04-19\r\n"), "a French booking's badge: {badges}");

    // One booking as the organiser reads it: words, not codes; a phone as written; local dates;
    // and what happened to it, a paid booking's history included.
    let (_, _, page) = org.text(&app, &format!("/admin/bookings/{}?lang=fr", references[1])).await;
    let page = html(page);
    for (what, expected) in [
        ("the language", "<dd>Français</dd>"),
        ("the experience", "<dd>Débutante ou débutant</dd>"),
        ("the phone", ">514 555-0199</a>"),
        ("the city event", "Québec, lundi 19 avril 2027, 9\u{a0}h\u{a0}00"),
        ("the payment's status", "<td>réussi</td>"),
        ("the mail's kind", "<td>Confirmation</td>"),
        ("booked", "Réservation faite sur le site (1 place retenue)"),
        ("paid", "Paiement reçu\u{a0}: réservation confirmée"),
        ("the refund in dollars", "Montant à rembourser en dollars"),
    ] {
        assert!(page.contains(expected), "{what}: {expected:?} in {page}");
    }
    assert!(!page.contains("<dd>fr</dd>") && !page.contains("<dd>beginner</dd>") && !page.contains("+15145550199<"), "{page}");
    let (_, _, list) = org.text(&app, "/admin/city-events?lang=fr").await;
    assert!(!html(list).contains("2027-04-19T"), "no raw ISO start times");
    let (_, _, dashboard) = org.text(&app, "/admin?lang=fr").await;
    let dashboard = html(dashboard);
    assert!(dashboard.contains("Taux d’ouverture") && dashboard.contains("lundi 19 avril 2027"), "{dashboard}");
}
