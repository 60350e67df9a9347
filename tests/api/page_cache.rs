//! The pages served from the page store: live seat counts, each visitor's own CSRF token, a
//! back-office edit on the site at once; and `/health` that never costs the database more than a
//! query a second. The store is given a long life here, so only what should clear it can.

use std::sync::Arc;

use billetterie::domain::{Cents, Language};
use billetterie::web::paths;
use futures::future::join_all;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::json;

use crate::admin::login;
use crate::helpers::*;
use crate::website::booking_form;

/// An app whose pages are kept an hour, with city events of these capacities added first (the
/// registry starts an actor for each city event it finds at start).
async fn long_lived(capacities: &[i32]) -> (TestApp, Vec<i64>) {
    let db = Arc::new(TestDb::new());
    let ids = capacities.iter().map(|c| db.add_city_event(*c)).collect();
    (spawn_app_on(db, |s| s.page_cache_ttl_ms = 3_600_000).await, ids)
}

/// The seats a page shows for a city event (`data-available`), and its progress bar's value.
fn seats_on(html: &str, id: i64) -> (i64, i64) {
    let key = format!("data-available-for=\"{id}\" data-available=\"");
    let at = html.find(&key).unwrap_or_else(|| panic!("{key} in the page")) + key.len();
    let available = html[at..].split('"').next().unwrap().parse().unwrap();
    let before_bar = &html[..html.find(&format!("data-bar-for=\"{id}\"")).expect("the event's bar")];
    let v = before_bar.rfind("value=\"").unwrap() + "value=\"".len();
    (available, before_bar[v..].split('"').next().unwrap().parse().unwrap())
}

async fn page(app: &TestApp, path: &str) -> (u16, String, Vec<String>) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let cookies = res.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned()).collect();
    (status, res.text().await.unwrap(), cookies)
}

fn token_in(html: &str) -> String {
    let key = "name=\"csrf_token\" value=\"";
    let at = html.find(key).expect("a form with its token") + key.len();
    html[at..].split('"').next().unwrap().to_owned()
}

#[actix_web::test]
async fn stored_pages_show_the_seats_of_now_not_of_when_they_were_stored() {
    let (app, ids) = long_lived(&[500, 12]).await;
    let (id, few) = (ids[0], ids[1]);
    app.state.registry.wait_ready(std::time::Duration::from_secs(5)).await;
    let pages = ["/fr/".to_owned(), "/en/".to_owned(), paths::city("halifax", Language::Fr), paths::booking_form(id, Language::Fr)];
    for p in &pages {
        let (status, html, _) = page(&app, p).await;
        assert_eq!(status, 200, "{p}");
        assert_eq!(seats_on(&html, id), (500, 0), "{p}");
    }
    let stored = app.state.pages.len();
    assert!(stored >= pages.len(), "the pages were stored ({stored})");
    app.held(id, 3).await;
    app.held(id, 1).await;
    for p in &pages {
        let (_, html, _) = page(&app, p).await;
        assert_eq!(seats_on(&html, id), (496, 4), "{p} shows the actor's count");
    }
    // In the last seats the words depend on the number: the page is rendered again.
    app.held(few, 3).await;
    let (_, html, _) = page(&app, "/fr/").await;
    assert_eq!(seats_on(&html, few), (9, 3));
    assert!(html.contains(&billetterie::web::i18n::seats_left(Language::Fr, 9)), "the badge counts the last seats");
    app.held(few, 9).await;
    let (_, html, _) = page(&app, &paths::city("halifax", Language::Fr)).await;
    assert_eq!(seats_on(&html, few), (0, 12));
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = no_redirect.get(app.url(&paths::booking_form(few, Language::Fr))).send().await.unwrap();
    assert_eq!(res.status(), 303, "a sold-out form sends the visitor to the city page, stored or not");
}

#[actix_web::test]
async fn every_visitor_gets_their_own_token_from_a_stored_form_and_only_theirs_works() {
    let (app, ids) = long_lived(&[100]).await;
    let id = ids[0];
    let form = paths::booking_form(id, Language::Fr);
    let visits = join_all((0..20).map(|_| page(&app, &form))).await;
    let mut tokens: Vec<String> = visits.iter().map(|(_, html, _)| token_in(html)).collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 20, "each new visitor has a token of their own");
    let (_, html_a, cookies_a) = &visits[0];
    let (_, _, cookies_b) = &visits[1];
    assert!(cookies_a.iter().any(|c| c.starts_with("csrf=")), "the stored page still sets the visitor's cookie");
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let post = |cookies: &Vec<String>, token: &str| {
        no_redirect
            .post(app.url(&form))
            .header(COOKIE, cookies.join("; "))
            .header("origin", &app.address)
            .form(&booking_form(token, "2"))
            .send()
    };
    let res = post(cookies_b, &token_in(html_a)).await.unwrap();
    assert_eq!(res.status(), 403, "another visitor's token is refused");
    let res = post(cookies_a, &token_in(html_a)).await.unwrap();
    assert_eq!(res.status(), 303, "the visitor's own token books: {}", res.text().await.unwrap_or_default());
}

#[actix_web::test]
async fn a_back_office_edit_is_on_the_site_at_once() {
    let (app, _) = long_lived(&[]).await;
    let org = login(&app).await;
    let city_id = app.db.scalar("SELECT id FROM cities WHERE slug = 'halifax'");
    let venue_id = app.db.scalar(&format!("SELECT id FROM venues WHERE city_id = {city_id}"));
    let mut input = json!({
        "city_id": city_id, "venue_id": venue_id, "local_start": "2027-10-04T09:00", "local_end": "2027-10-04T16:30",
        "capacity": 40, "regular_price_cents": 40_000
    });
    let (status, created) = org.post(&app, "/api/v1/admin/city-events", input.clone()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (_, before, _) = page(&app, "/fr/").await;
    assert!(!before.contains(&format!("data-available-for=\"{id}\"")), "a draft is not on the site");
    let (status, _) = org.post(&app, &format!("/api/v1/admin/city-events/{id}/open-sales"), json!({})).await;
    assert_eq!(status, 200);
    let form = paths::booking_form(id, Language::Fr);
    for p in ["/fr/", form.as_str()] {
        let (status, html, _) = page(&app, p).await;
        assert_eq!(status, 200, "{p}: opened sales are on the site at once");
        assert!(html.contains(&billetterie::i18n::money(Cents(40_000), Language::Fr)), "{p}");
    }
    input["regular_price_cents"] = json!(41_500);
    let (status, updated) = org.call(&app, "PUT", &format!("/api/v1/admin/city-events/{id}"), Some(input)).await;
    assert_eq!(status, 200, "{updated}");
    for p in ["/fr/", form.as_str()] {
        let (_, html, _) = page(&app, p).await;
        assert!(html.contains(&billetterie::i18n::money(Cents(41_500), Language::Fr)), "{p} shows the new price at once");
        assert!(!html.contains(&billetterie::i18n::money(Cents(40_000), Language::Fr)), "{p} no longer shows the old one");
    }
}

#[actix_web::test]
async fn health_asks_the_database_at_most_about_once_a_second_however_often_it_is_polled() {
    let app = Arc::new(spawn_app().await);
    let asked = app.state.health.asked();
    let answers = join_all((0..300).map(|_| {
        let app = app.clone();
        async move { app.client.get(app.url("/health")).send().await.unwrap().status().as_u16() }
    }))
    .await;
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    let during = app.state.health.asked() - asked;
    assert!((1..=2).contains(&during), "300 polls asked the database {during} times");
}
