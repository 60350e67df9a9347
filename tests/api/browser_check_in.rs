//! The door in a real browser: two phones (two Chromium windows, two sessions) check two
//! attendees in at the same moment by typing their tickets, then one scans a ticket already
//! used; each window shows its outcome and both follow the count live. Screenshots in
//! `target/e2e-check-in-screenshots/`.

use std::time::Duration;

use crate::admin::{create_admin, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::browser::{free_port, Browser, Chromedriver};
use crate::helpers::*;

async fn signed_in(driver: &Chromedriver, app: &TestApp, shots: &str) -> Browser {
    let b = Browser::open_with_shots(driver, app, shots).await;
    b.goto("/admin/login").await;
    b.page("login", |p| p == "/admin/login").await;
    b.fill("main form [name=email]", ADMIN_EMAIL).await;
    b.fill("main form [name=password]", ADMIN_PASSWORD).await;
    b.click("main form button[type=submit]").await;
    b.page("dashboard", |p| p == "/admin").await;
    b
}

async fn outcome(b: &Browser, expect: &str) -> String {
    for _ in 0..100 {
        let text = b.find("#door-outcome").await.text().await.unwrap();
        if text.contains(expect) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.shot("failure").await;
    panic!("the door never said {expect:?}");
}

async fn present_shown(b: &Browser, n: &str) -> bool {
    for _ in 0..100 {
        if b.find("[data-present]").await.text().await.unwrap() == n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[actix_web::test]
async fn two_phones_check_two_attendees_in_at_once_and_a_second_scan_says_already() {
    let driver = Chromedriver::start();
    let port = free_port();
    let app = spawn_app_with(|s| {
        s.bind = format!("127.0.0.1:{port}");
        s.frontend_url = format!("http://127.0.0.1:{port}");
    })
    .await;
    create_admin(&app).await;
    let (reference, id) = crate::self_service::paid(&app, "toronto", 2).await;
    app.db
        .execute(&format!(
            "UPDATE city_events SET starts_at = now() + interval '1 hour', ends_at = now() + interval '8 hours' WHERE id = {id};
             UPDATE attendees SET first_name = CASE position WHEN 1 THEN 'Zoé' ELSE 'Luc' END,
                                  last_name = CASE position WHEN 1 THEN 'Côté' ELSE 'Roy' END
             WHERE booking_id = (SELECT id FROM bookings WHERE reference = '{reference}')"
        ))
        .unwrap();
    let token = |position: i32| {
        #[derive(diesel::QueryableByName)]
        struct T {
            #[diesel(sql_type = diesel::sql_types::Text)]
            code: String,
        }
        use diesel::RunQueryDsl;
        let t: T = diesel::sql_query(format!(
            "SELECT a.ticket_code AS code FROM attendees a JOIN bookings b ON b.id = a.booking_id WHERE b.reference = '{reference}' AND a.position = {position}"
        ))
        .get_result(&mut app.db.conn())
        .unwrap();
        billetterie::domain::tokens::ticket_token(app.state.settings.secret_key.expose(), &t.code)
    };
    let (zoe, luc) = (token(1), token(2));

    let a = signed_in(&driver, &app, "e2e-check-in-screenshots/a").await;
    let b = signed_in(&driver, &app, "e2e-check-in-screenshots/b").await;
    let door = format!("/admin/check-in/{id}");
    for w in [&a, &b] {
        w.goto(&door).await;
        w.page("door", |p| p == door).await;
        assert_eq!(w.find("[data-present]").await.text().await.unwrap(), "0");
    }
    // At once: Zoé at one phone, Luc at the other.
    let scan = async |w: &Browser, t: &str| {
        w.fill("#door-q", t).await;
        w.click("[data-typed] button[type=submit]").await;
    };
    futures::join!(scan(&a, &zoe), scan(&b, &luc));
    let said_a = outcome(&a, "Zoé Côté").await;
    let said_b = outcome(&b, "Luc Roy").await;
    assert!(said_a.contains("enregistré") && said_b.contains("enregistré"), "{said_a} / {said_b}");
    // Zoé's ticket again, at the other phone: already in, since when.
    scan(&b, &zoe).await;
    let again = outcome(&b, "déjà").await;
    assert!(again.contains("Zoé Côté") && again.contains("depuis"), "{again}");
    b.shot("already").await;
    assert!(present_shown(&a, "2").await && present_shown(&b, "2").await, "both phones count two present");
    assert_eq!(app.db.scalar("SELECT count(*) FROM attendees WHERE checked_in_at IS NOT NULL"), 2);
    for w in [&a, &b] {
        assert!(w.console_errors().await.is_empty(), "{:?}", w.console_errors().await);
    }
}
