//! End to end in a real browser, from nothing: on an empty database (as production starts) the
//! organiser signs in and sets up a tour from the back office's pages alone (a masterclass, a
//! city, a venue, Québec's two taxes, a date on sale, a fixed-amount promotion code), a refused
//! field shows its message in French without losing what was typed, then a buyer books a seat
//! with the code and pays; the organiser writes to everyone booked and cancels the date. Screenshots in `target/e2e-setup-screenshots/`.

use std::sync::Arc;
use std::time::Duration;

use fantoccini::Locator;

use crate::admin::{create_admin, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::browser::{free_port, is_reference, Browser, Chromedriver};
use crate::helpers::*;

impl Browser {
    /// Fills the fields of the form on the page (`name` → value; a select takes the option's
    /// value, a checkbox "on"), then submits it.
    async fn submit_form(&self, form: &str, values: &[(&str, &str)]) {
        for (name, value) in values {
            let css = format!("{form} [name={name}]");
            let e = self.find(&css).await;
            match e.tag_name().await.unwrap().as_str() {
                "select" => e.select_by_value(value).await.unwrap_or_else(|err| panic!("{css} = {value}: {err}")),
                _ if e.attr("type").await.unwrap().as_deref() == Some("datetime-local") => {
                    // A date picker's keystrokes depend on the browser's locale; the value is what it sends.
                    self.c
                        .execute(
                            "arguments[0].value = arguments[1]; return null;",
                            vec![serde_json::to_value(&e).unwrap(), (*value).into()],
                        )
                        .await
                        .unwrap();
                }
                _ if e.attr("type").await.unwrap().as_deref() == Some("checkbox") => {
                    if e.is_selected().await.unwrap() != (*value == "on") {
                        e.click().await.unwrap();
                    }
                }
                _ => self.fill(&css, value).await,
            }
        }
        self.click(&format!("{form} button[type=submit]")).await;
    }

    /// From the catalogue, a new record of `kind` through its form; back on the catalogue.
    async fn add(&self, kind: &str, values: &[(&str, &str)]) {
        self.goto("/admin/catalogue").await;
        self.page("catalogue", |p| p == "/admin/catalogue").await;
        self.click(&format!(r#"a[href^="/admin/catalogue/{kind}/new"]"#)).await;
        let form = format!("/admin/catalogue/{kind}/new");
        self.page(&format!("new-{kind}"), |p| p == form).await;
        self.submit_form("main form.grid", values).await;
        self.page(&format!("{kind}-saved"), |p| p == "/admin/catalogue").await;
        assert!(self.shown("p.notice").await, "{kind} saved with a notice");
    }
}

#[actix_web::test]
async fn an_organiser_sets_up_a_tour_from_nothing_in_the_back_office_and_a_buyer_books_with_a_code() {
    let driver = Chromedriver::start();
    let port = free_port();
    let app = spawn_app_on(Arc::new(TestDb::empty()), |s| {
        s.bind = format!("127.0.0.1:{port}");
        s.frontend_url = format!("http://127.0.0.1:{port}");
    })
    .await;
    assert_eq!(app.db.scalar("SELECT count(*) FROM masterclass_events"), 0, "nothing seeded");
    create_admin(&app).await;
    let b = Browser::open_with_shots(&driver, &app, "e2e-setup-screenshots").await;

    // The empty site says so rather than failing.
    b.goto("/fr/").await;
    b.page("empty-landing", |p| p == "/fr/").await;

    b.goto("/admin/login").await;
    b.page("login", |p| p == "/admin/login").await;
    b.submit_form("main form", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).await;
    b.page("dashboard", |p| p == "/admin").await;

    b.add(
        "masterclasses",
        &[
            ("slug", "act-masterclass"),
            ("title_fr", "L’ACT en toute simplicité"),
            ("title_en", "ACT Made Simple"),
            ("summary_fr", "Une journée de formation pratique."),
            ("summary_en", "A practical day of training."),
            ("presenter", "Dr Russ Harris"),
        ],
    )
    .await;
    b.add("cities", &[("name_fr", "Québec"), ("name_en", "Quebec City"), ("slug", "quebec"), ("province", "QC"), ("code", "QUE")]).await;
    let city = app.db.scalar("SELECT id FROM cities WHERE slug = 'quebec'").to_string();

    // A venue with a wrong postal code: refused in French, nothing written, the rest kept.
    b.goto("/admin/catalogue/venues/new").await;
    b.page("new-venue", |p| p == "/admin/catalogue/venues/new").await;
    let venue = [
        ("city_id", city.as_str()),
        ("name", "Centre des congrès de Québec"),
        ("address", "1000, boulevard René-Lévesque Est, Québec (Québec)"),
        ("postal_code", "90210"),
        ("time_zone", "America/Toronto"),
    ];
    b.submit_form("main form.grid", &venue).await;
    b.page("venue-refused", |p| p == "/admin/catalogue/venues").await;
    let message = b.visible("#form-error").await.text().await.unwrap();
    assert!(message.contains("Code postal") && message.contains("code postal canadien"), "{message}");
    assert_eq!(b.attr("[name=postal_code]", "aria-invalid").await.as_deref(), Some("true"));
    assert_eq!(b.find("[name=name]").await.prop("value").await.unwrap().as_deref(), Some("Centre des congrès de Québec"));
    assert_eq!(app.db.scalar("SELECT count(*) FROM venues"), 0);
    b.submit_form("main form.grid", &[("postal_code", "G1R 5T8")]).await;
    b.page("venue-saved", |p| p == "/admin/catalogue").await;

    b.add(
        "taxes",
        &[
            ("province", "QC"),
            ("code", "GST"),
            ("label_fr", "TPS"),
            ("label_en", "GST"),
            ("rate_per_100k", "5"),
            ("registration_number", "123456789 RT0001"),
            ("position", "0"),
        ],
    )
    .await;
    b.add(
        "taxes",
        &[
            ("province", "QC"),
            ("code", "QST"),
            ("label_fr", "TVQ"),
            ("label_en", "QST"),
            ("rate_per_100k", "9,975"),
            ("registration_number", "1234567890 TQ0001"),
            ("position", "1"),
        ],
    )
    .await;

    // The date, on sale, at 450 $.
    b.goto("/admin/city-events").await;
    b.page("dates", |p| p == "/admin/city-events").await;
    b.submit_form(
        r#"form[action="/admin/city-events"]"#,
        &[
            ("local_start", "2027-10-05T09:00"),
            ("local_end", "2027-10-05T16:30"),
            ("capacity", "40"),
            ("regular_price", "450"),
            ("status", "on_sale"),
        ],
    )
    .await;
    b.page("date-created", |p| p.starts_with("/admin/city-events/")).await;
    let date = app.db.scalar("SELECT id FROM city_events");
    assert_eq!(app.db.scalar("SELECT regular_price_cents FROM city_events"), 45_000);

    b.add("promo-codes", &[("code", "BIENVENUE"), ("kind", "fixed"), ("amount_off_cents", "50"), ("max_uses", "10")]).await;
    assert_eq!(app.db.scalar("SELECT amount_off_cents FROM promo_codes WHERE code = 'BIENVENUE'"), 5_000);

    // The buyer: the date's booking form, one seat, the code.
    b.goto("/fr/").await;
    b.page("landing", |p| p == "/fr/").await;
    b.goto(&format!("/fr/reserver/{date}")).await;
    b.page("booking-form", |p| p == format!("/fr/reserver/{date}")).await;
    for (field, value) in [
        ("first_name", "Marie"),
        ("last_name", "Tremblay"),
        ("email", "marie.tremblay@example.ca"),
        ("phone", "418 555 0199"),
        ("promo_code", "bienvenue"),
    ] {
        b.fill(&format!("form#booking-form [name={field}]"), value).await;
    }
    b.find("form#booking-form select[name=act_experience]").await.select_by_value("beginner").await.unwrap();
    b.click("button#submit-booking").await;
    let checkout = b.page("checkout", |p| p.starts_with("/fr/paiement/")).await;
    let reference = checkout.path().trim_start_matches("/fr/paiement/").to_owned();
    assert!(is_reference(&reference) && reference.starts_with("QUE-"), "{reference}");
    // 450 $ − 50 $ = 400 $, then GST 20,00 $ and QST 39,90 $: 459,90 $.
    assert_eq!(app.db.scalar(&format!("SELECT total_cents FROM bookings WHERE reference = '{reference}'")), 45_990);
    let page = b.c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(page.contains("459,90"), "the checkout shows the discounted total: {page}");
    b.fill("form#test-card-form input[name=card_number]", "4242 4242 4242 4242").await;
    b.click("button#pay-button").await;
    b.page("confirmation", |p| p == format!("/fr/confirmation/{reference}")).await;
    assert!(eventually(Duration::from_secs(20), async || app.booking_status(&reference) == "confirmed").await);

    // The organiser writes to everyone booked (preview, then send), then cancels the date.
    b.goto(&format!("/admin/city-events/{date}")).await;
    b.page("date-page", |p| p == format!("/admin/city-events/{date}")).await;
    b.submit_form(
        "form#broadcast-form",
        &[
            ("subject_fr", "Changement de salle"),
            ("body_fr", "Salle 517, cinquième étage."),
            ("subject_en", "New room"),
            ("body_en", "Room 517, fifth floor."),
        ],
    )
    .await;
    b.page("broadcast-preview", |p| p == format!("/admin/city-events/{date}/broadcast")).await;
    assert_eq!(b.find("#recipients").await.text().await.unwrap().trim(), "1");
    b.click("form#send-form button[type=submit]").await;
    b.page("broadcast-sent", |p| p == format!("/admin/city-events/{date}")).await;
    assert_eq!(app.db.scalar("SELECT count(*) FROM email_campaigns WHERE kind = 'broadcast'"), 1);
    b.submit_form("form#cancel-form", &[("reason_fr", "Tempête de neige."), ("reason_en", "Snowstorm."), ("confirm", "on")]).await;
    b.page("date-cancelled", |p| p == format!("/admin/city-events/{date}")).await;
    assert!(eventually(Duration::from_secs(20), async || app.booking_status(&reference) == "refunded").await);
    assert_eq!(app.db.scalar("SELECT count(*) FROM email_campaigns WHERE kind = 'date_cancelled'"), 1);

    // On a phone (375 px) the back office stays 375 px wide: the navigation wraps and each table
    // scrolls in its own box instead of widening (or cutting) the page.
    b.c.set_window_size(375, 812).await.unwrap();
    for page in ["/admin".to_owned(), format!("/admin/bookings/{reference}"), "/admin/city-events".to_owned()] {
        b.goto(&page).await;
        b.page("phone", |p| p == page).await;
        let width = b.c.execute("return document.documentElement.scrollWidth;", vec![]).await.unwrap();
        let viewport = b.c.execute("return window.innerWidth;", vec![]).await.unwrap();
        assert!(width.as_f64().unwrap() <= viewport.as_f64().unwrap(), "{page} is {width} px wide in a {viewport} px window");
    }

    let errors: Vec<String> = b.console_errors().await.into_iter().filter(|e| !e.contains("status of 422")).collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    b.c.clone().close().await.unwrap();
}
