//! The public website through HTTP, as a browser without JavaScript sees it: every page in both
//! languages, the booking form's validation and CSRF protection, checkout with the test card,
//! the confirmation, live seat counts, SEO files, security headers and consent.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT_ENCODING, ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::helpers::{eventually, spawn_app, spawn_app_with, TestApp};

/// A cookie-keeping client that does not follow redirects, to check each step.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> String {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }

    /// The value of the hidden CSRF field of the page's first form.
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf_token\" value=\"").expect("the page has a CSRF field") + 25;
        self.body[at..at + 64].to_owned()
    }

    fn field_error(&self, field: &str) -> Option<String> {
        let marker = format!("id=\"{field}-error\">");
        let at = self.body.find(&marker)? + marker.len();
        Some(self.body[at..].split('<').next().unwrap_or_default().to_owned())
    }

    fn input_value(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" type=\"");
        let at = self.body.find(&marker)?;
        let rest = &self.body[at..];
        let v = rest.find("value=\"")? + 7;
        Some(rest[v..].split('"').next().unwrap_or_default().to_owned())
    }
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { app, client, cookies: HashMap::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let res = req.header(COOKIE, self.cookie_header()).send().await.unwrap();
        for c in res.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.insert(k.trim().to_owned(), v.trim().to_owned());
        }
        Page { status: res.status().as_u16(), headers: res.headers().clone(), body: res.text().await.unwrap() }
    }

    async fn get(&mut self, path: &str) -> Page {
        let url = if path.starts_with("http") { path.to_owned() } else { self.app.url(path) };
        let req = self.client.get(url);
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let url = if path.starts_with("http") { path.to_owned() } else { self.app.url(path) };
        let req = self.client.post(url).form(form);
        self.send(req).await
    }
}

/// Every public page: (French path, English path).
fn pages(app: &TestApp) -> Vec<(String, String)> {
    let mtl = app.city_event_of("montreal");
    let mut v: Vec<(String, String)> = [
        ("/fr/", "/en/"),
        ("/fr/russ-harris", "/en/russ-harris"),
        ("/fr/formation", "/en/masterclass"),
        ("/fr/villes", "/en/cities"),
        ("/fr/villes/montreal", "/en/cities/montreal"),
        ("/fr/tarifs", "/en/pricing"),
        ("/fr/temoignages", "/en/testimonials"),
        ("/fr/faq", "/en/faq"),
        ("/fr/reserver", "/en/book"),
        ("/fr/confidentialite", "/en/privacy"),
        ("/fr/conditions", "/en/terms"),
        ("/fr/ressources", "/en/resources"),
        ("/fr/commentaires", "/en/feedback"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    v.push((format!("/fr/reserver/{mtl}"), format!("/en/book/{mtl}")));
    v
}

/// What a missing locale key looks like once rendered (`i18n::text` falls back to the path).
fn has_raw_key(body: &str) -> Option<String> {
    let sections = ["common", "nav", "availability", "consent", "city", "form", "errors", "checkout", "confirmation", "pricing", "book"];
    for s in sections {
        if let Some(i) = body.find(&format!(">{s}.")) {
            return Some(body[i..(i + 40).min(body.len())].to_owned());
        }
    }
    // The script's templates for live badges and attendee legends carry their placeholders.
    if body.replace("{{count}}", "").replace("{{n}}", "").contains("{{") {
        return Some("{{".into());
    }
    None
}

fn script_tags_without_src(body: &str) -> Vec<String> {
    body.match_indices("<script")
        .map(|(i, _)| body[i..].split('>').next().unwrap_or_default().to_owned())
        .filter(|tag| !tag.contains("src=") && !tag.contains("application/ld+json"))
        .collect()
}

#[actix_web::test]
async fn every_page_renders_in_both_languages_with_its_pair_and_no_missing_words() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let mut weights = vec![];
    for (fr, en) in pages(&app) {
        for (path, lang, other) in [(&fr, "fr", &en), (&en, "en", &fr)] {
            let p = b.get(path).await;
            assert_eq!(p.status, 200, "{path}");
            assert!(p.body.contains(&format!("<html lang=\"{lang}\">")), "{path}: lang");
            assert!(p.body.contains("<main id=\"main\""), "{path}: main landmark");
            assert!(p.body.contains("<nav class=\"site-nav\" aria-label="), "{path}: labelled navigation");
            assert!(p.body.contains("class=\"skip-link\""), "{path}: skip link");
            let title = p.body.split("<title>").nth(1).and_then(|t| t.split("</title>").next()).unwrap_or_default();
            assert!(title.len() > 3, "{path}: title");
            assert!(title.contains("ACT Canada 2027"), "{path}: the site's name in the title {title:?}");
            assert!(p.body.contains("<meta name=\"description\" content=\""), "{path}: description");
            assert!(p.body.contains(&format!("<link rel=\"canonical\" href=\"http://127.0.0.1:8080{path}\">")), "{path}: canonical");
            assert!(p.body.contains(&format!("hreflang=\"{lang}-CA\" href=\"http://127.0.0.1:8080{path}\"")), "{path}: hreflang self");
            let other_lang = if lang == "fr" { "en" } else { "fr" };
            assert!(
                p.body.contains(&format!("hreflang=\"{other_lang}-CA\" href=\"http://127.0.0.1:8080{other}\"")),
                "{path}: hreflang pair"
            );
            assert!(p.body.contains(&format!("class=\"lang-switch\" href=\"{other}\"")), "{path}: the switcher keeps the page");
            assert_eq!(has_raw_key(&p.body), None, "{path}: a locale key is missing");
            assert_eq!(script_tags_without_src(&p.body), Vec::<String>::new(), "{path}: inline script");
            assert!(!p.body.contains(" style=\""), "{path}: inline style (the CSP forbids it)");
            assert_eq!(p.headers.get("content-language").unwrap(), lang);
            weights.push((path.clone(), p.body.len()));
        }
    }
    // Each page with its CSS and script, before images and before compression.
    let home = b.get("/fr/").await;
    let asset = |ext: &str| {
        let at = home.body.find("/assets/site.").unwrap();
        let rest = &home.body[at..];
        rest[..rest.find(ext).unwrap() + ext.len()].to_owned()
    };
    let mut assets = 0;
    for href in [asset(".css"), asset(".js")] {
        assets += b.get(&href).await.body.len();
    }
    for (path, html) in weights {
        assert!(html + assets < 100 * 1024, "{path}: {} bytes with its CSS and JS", html + assets);
    }
}

#[actix_web::test]
async fn the_root_picks_the_language_from_the_browser_and_unknown_pages_answer_404_in_theirs() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let to = |accept: &'static str, query: &'static str| {
        let client = b.client.clone();
        let url = app.url(&format!("/{query}"));
        async move {
            let res = client.get(url).header(ACCEPT_LANGUAGE, accept).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 302);
            assert_eq!(res.headers().get("vary").unwrap(), "Accept-Language");
            res.headers().get(LOCATION).unwrap().to_str().unwrap().to_owned()
        }
    };
    assert_eq!(to("fr-CA,fr;q=0.9", "").await, "/fr/");
    assert_eq!(to("en-CA,en;q=0.9,fr;q=0.5", "").await, "/en/");
    assert_eq!(to("de-DE,en;q=0.5", "").await, "/en/");
    assert_eq!(to("", "").await, "/fr/", "French first when nothing is said");
    assert_eq!(to("en", "?lang=fr").await, "/fr/", "an explicit choice wins");

    for (path, lang) in [("/fr/pas-une-page", "fr"), ("/en/no-such-page", "en"), ("/fr/villes/atlantis", "fr"), ("/en/book/999999", "en")] {
        let p = b.get(path).await;
        assert_eq!(p.status, 404, "{path}");
        assert!(p.body.contains(&format!("<html lang=\"{lang}\">")), "{path}");
        assert!(p.body.contains("noindex"), "{path}");
    }
    let p = b.get("/fr/pas-une-page").await;
    assert!(p.body.contains("Page introuvable"));
    let api = app.client.get(app.url("/api/v1/nothing")).send().await.unwrap();
    assert_eq!(api.status().as_u16(), 404);
    assert_eq!(api.json::<Value>().await.unwrap()["error"]["code"], "route_not_found", "the API keeps its JSON errors");
}

#[actix_web::test]
async fn pages_carry_security_headers_and_assets_are_hashed_cached_and_compressed() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let p = b.get("/fr/").await;
    let h = |name: &str| p.headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let csp = h("content-security-policy");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert!(!csp.contains("stripe.com") && !csp.contains("google"), "no third party without its keys: {csp}");
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("referrer-policy"), "strict-origin-when-cross-origin");
    assert_eq!(h("strict-transport-security"), "", "no HSTS over plain HTTP");
    let https = b.client.get(app.url("/fr/")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert!(https.headers().get("strict-transport-security").unwrap().to_str().unwrap().starts_with("max-age="));

    let at = p.body.find("/assets/site.").unwrap();
    let href = p.body[at..].split('"').next().unwrap().to_owned();
    assert!(href.len() > "/assets/site..css".len() + 8, "{href}: a content hash in the name");
    let res = b.client.get(app.url(&href)).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers().get("cache-control").unwrap(), "public, max-age=31536000, immutable");
    assert_eq!(res.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
    assert!(res.headers().get(CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/css"));
    assert_eq!(b.get("/assets/site.0000000000ab.css").await.status, 404);
}

#[actix_web::test]
async fn sitemap_robots_and_event_structured_data_describe_the_tour() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let sitemap = b.get("/sitemap.xml").await;
    assert_eq!(sitemap.status, 200);
    for (fr, en) in pages(&app).into_iter().filter(|(fr, _)| !fr.starts_with("/fr/reserver/")) {
        assert!(sitemap.body.contains(&format!("<loc>http://127.0.0.1:8080{fr}</loc>")), "{fr}");
        assert!(sitemap.body.contains(&format!("<loc>http://127.0.0.1:8080{en}</loc>")), "{en}");
    }
    assert!(sitemap.body.contains("hreflang=\"en-CA\" href=\"http://127.0.0.1:8080/en/cities/halifax\""));
    let robots = b.get("/robots.txt").await;
    assert!(robots.body.contains("Sitemap: http://127.0.0.1:8080/sitemap.xml"));
    assert!(robots.body.contains("Disallow: /fr/paiement/"));

    let id = app.city_event_of("montreal");
    assert_eq!(app.hold(id, 3).await.0, 201);
    let page = b.get("/en/cities/montreal").await;
    let start = page.body.find("<script type=\"application/ld+json\">").unwrap() + 35;
    let end = start + page.body[start..].find("</script>").unwrap();
    let ld: Value = serde_json::from_str(&page.body[start..end]).expect("valid JSON-LD");
    let event = &ld[0];
    assert_eq!(event["@type"], "Event");
    assert_eq!(event["startDate"], "2027-04-16T09:00:00-04:00");
    assert_eq!(event["location"]["name"], "Palais des congrès de Montréal");
    assert_eq!(event["location"]["address"]["addressRegion"], "QC");
    assert_eq!(event["offers"]["priceCurrency"], "CAD");
    assert_eq!(event["offers"]["availability"], "https://schema.org/InStock");
    assert!(event["offers"]["price"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
}

#[actix_web::test]
async fn the_landing_and_city_pages_show_live_seats_and_an_urgency_badge() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let halifax = app.city_event_of("halifax");
    let marker = |n: i64| format!("data-available-for=\"{halifax}\" data-available=\"{n}\"");
    let fr = b.get("/fr/").await;
    assert!(fr.body.contains(&marker(30)), "Halifax shows its 30 seats");
    assert!(fr.body.contains("395,00\u{a0}$"), "money the Québec way");
    assert!(fr.body.contains("9\u{a0}h\u{a0}00"), "24-hour time with no-break spaces");
    let en = b.get("/en/").await;
    assert!(en.body.contains("$395.00"));
    assert!(en.body.contains("9:00\u{a0}a.m."), "{}", &en.body[en.body.find("event-meta").unwrap()..][..80]);

    assert_eq!(app.hold(halifax, 10).await.0, 201);
    assert_eq!(app.hold(halifax, 10).await.0, 201);
    let city = b.get("/fr/villes/halifax").await;
    assert!(city.body.contains(&marker(10)));
    assert!(city.body.contains("Plus que 10 places\u{a0}!"), "the urgency badge");
    assert_eq!(app.hold(halifax, 10).await.0, 201);
    let city = b.get("/en/cities/halifax").await;
    assert!(city.body.contains(&marker(0)));
    assert!(city.body.contains("This date is sold out"));
    assert!(!city.body.contains(&format!("href=\"/en/book/{halifax}\"")), "no booking link when sold out");
    // Sold out: the page offers the waiting list, and joining it works without JavaScript.
    assert!(city.body.contains("action=\"/en/waiting-list\""));
    let p = b
        .post(
            "/en/waiting-list",
            &[
                ("csrf_token", &city.csrf()),
                ("city_event_id", &halifax.to_string()),
                ("first_name", "Ana"),
                ("last_name", "Roy"),
                ("email", "ana.roy@example.ca"),
            ],
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    assert_eq!(app.db.scalar("SELECT count(*) FROM waitlist_entries"), 1);
}

#[actix_web::test]
async fn seat_counts_stream_to_open_pages_as_server_sent_events() {
    let app = spawn_app().await;
    let id = app.city_event_of("calgary");
    let res = app.client.get(app.url(&format!("/live/availability?ids={id}"))).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers().get(CONTENT_TYPE).unwrap(), "text/event-stream");
    let mut res = res;
    let mut seen = String::new();
    let read_until = async |res: &mut reqwest::Response, seen: &mut String, needle: &str| {
        tokio::time::timeout(Duration::from_secs(10), async {
            while !seen.contains(needle) {
                let chunk = res.chunk().await.unwrap().expect("the stream stays open");
                seen.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {needle:?} in {seen:?}"));
    };
    read_until(&mut res, &mut seen, &format!("\"available\":80,\"capacity\":80,\"city_event_id\":{id}")).await;
    assert_eq!(app.hold(id, 2).await.0, 201);
    read_until(&mut res, &mut seen, &format!("\"available\":78,\"capacity\":80,\"city_event_id\":{id}")).await;
    assert!(seen.starts_with("retry: 1000\n\n"));
    assert!(seen.contains("event: availability\ndata: {"));
}

pub(crate) fn booking_form(csrf: &str, quantity: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf_token", csrf.to_owned()),
        ("first_name", "Marie".into()),
        ("last_name", "Tremblay".into()),
        ("email", "marie.tremblay@example.ca".into()),
        ("phone", "514 555-0199".into()),
        ("act_experience", "beginner".into()),
        ("quantity", quantity.into()),
        ("attendee_1_first_name", "Marie".into()),
        ("attendee_1_last_name", "Tremblay".into()),
        ("attendee_2_first_name", "Luc".into()),
        ("attendee_2_last_name", "Gagnon".into()),
        ("promo_code", "".into()),
        ("action", "book".into()),
    ]
}

fn as_pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[actix_web::test]
async fn the_booking_form_refuses_bad_input_beside_each_field_keeps_values_and_changes_nothing() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let id = app.city_event_of("montreal");
    let before = app.bookings_count();
    let form_path = format!("/en/book/{id}");
    let page = b.get(&form_path).await;
    let csrf = page.csrf();

    // Without the token (a forged cross-site post): refused, nothing written.
    let mut forged = booking_form("", "2");
    forged.retain(|(k, _)| *k != "csrf_token");
    let p = b.post(&form_path, &as_pairs(&forged)).await;
    assert_eq!(p.status, 403);
    assert!(p.body.contains("Your session expired"));
    let wrong = booking_form(&"0".repeat(64), "2");
    assert_eq!(b.post(&form_path, &as_pairs(&wrong)).await.status, 403);
    let mut foreign = b.client.post(app.url(&form_path)).form(&as_pairs(&booking_form(&csrf, "2")));
    foreign = foreign.header("origin", "https://evil.example");
    assert_eq!(b.send(foreign).await.status, 403, "another site's origin");

    // Several bad fields at once: each error beside its field, in English, values kept.
    let mut bad = booking_form(&csrf, "2");
    for (k, v) in bad.iter_mut() {
        match *k {
            "email" => *v = "marie@".into(),
            "last_name" => *v = "".into(),
            "phone" => *v = "12".into(),
            "attendee_2_last_name" => *v = "".into(),
            _ => {}
        }
    }
    let p = b.post(&form_path, &as_pairs(&bad)).await;
    assert_eq!(p.status, 422);
    assert_eq!(p.field_error("email").as_deref(), Some("Enter a valid e-mail address, for example name@example.ca."));
    assert_eq!(p.field_error("last_name").as_deref(), Some("This field is required."));
    assert!(p.field_error("phone").unwrap().starts_with("Enter a valid phone number"));
    assert_eq!(p.field_error("attendee_2_last_name").as_deref(), Some("This field is required."));
    assert_eq!(p.input_value("email").as_deref(), Some("marie@"), "entered values are kept");
    assert_eq!(p.input_value("attendee_2_first_name").as_deref(), Some("Luc"));
    assert!(p.body.contains("aria-invalid=\"true\""));
    assert!(p.body.contains("role=\"alert\""), "an error summary");

    // The same in French.
    let p = b.post(&format!("/fr/reserver/{id}"), &as_pairs(&bad)).await;
    assert_eq!(p.status, 422);
    assert_eq!(p.field_error("last_name").as_deref(), Some("Ce champ est obligatoire."));

    // Too many seats, an unknown promotion code.
    let mut many = booking_form(&csrf, "11");
    many.retain(|(k, _)| !k.starts_with("attendee"));
    let p = b.post(&form_path, &as_pairs(&many)).await;
    assert_eq!(p.status, 422);
    assert_eq!(p.field_error("quantity").as_deref(), Some("Choose between 1 and 10 seats."));
    let mut promo = booking_form(&csrf, "2");
    promo.iter_mut().filter(|(k, _)| *k == "promo_code").for_each(|(_, v)| *v = "NOPE2027".into());
    let p = b.post(&form_path, &as_pairs(&promo)).await;
    assert_eq!(p.status, 422);
    assert_eq!(p.field_error("promo_code").as_deref(), Some("This promotion code does not exist or has expired."));

    // Garbage bodies and oversized ones change nothing either.
    let raw = b.client.post(app.url(&form_path)).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body("%%%&&&=");
    assert_eq!(b.send(raw).await.status, 403);
    let huge = b
        .client
        .post(app.url(&form_path))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("a=".to_owned() + &"x".repeat(64 * 1024));
    assert!(b.send(huge).await.status >= 400);

    // "Update seats" (the no-JavaScript way to show more attendee fields) holds nothing.
    let mut update = booking_form(&csrf, "4");
    update.iter_mut().filter(|(k, _)| *k == "action").for_each(|(_, v)| *v = "update".into());
    let p = b.post(&form_path, &as_pairs(&update)).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("name=\"attendee_4_first_name\""));
    assert!(!p.body.contains("name=\"attendee_5_first_name\""));

    assert_eq!(app.bookings_count(), before, "no partial writes");
    assert_eq!(app.availability(id).await["available"], 300);
}

#[actix_web::test]
async fn booking_paying_with_the_test_card_and_confirmation_without_javascript() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let id = app.city_event_of("montreal");
    let form_path = format!("/fr/reserver/{id}");
    let csrf = b.get(&form_path).await.csrf();
    let p = b.post(&form_path, &as_pairs(&booking_form(&csrf, "2"))).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let checkout = p.location();
    assert!(checkout.starts_with("/fr/paiement/MTL-"), "{checkout}");
    assert_eq!(app.availability(id).await["available"], 298);

    let page = b.get(&checkout).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"hold-countdown\""));
    assert!(page.body.contains("Mode test"));
    assert!(page.body.contains("TPS (5\u{a0}%)") && page.body.contains("TVQ (9,975\u{a0}%)"), "Québec's two tax lines");
    assert!(page.body.contains("908,30\u{a0}$"), "2 × 395 $ + 5 % + 9.975 %");
    assert!(page.body.contains("noindex"));
    let reference = checkout.trim_start_matches("/fr/paiement/").split('?').next().unwrap().to_owned();

    // The address is the proof: a wrong key shows nothing.
    let forged = checkout.replace("k=", "k=00");
    assert_eq!(b.get(&forged).await.status, 404);
    assert_eq!(b.get(&format!("/fr/paiement/{reference}")).await.status, 404);

    // A declined card: an error in the page, the booking still held.
    let p = b.post(&checkout, &[("csrf_token", &csrf), ("card_number", "4000 0000 0000 9995")]).await;
    assert_eq!(p.status, 402);
    // Our words for Stripe's decline code, not Stripe's English, tied to the field.
    assert!(p.body.contains("les fonds ou le crédit disponibles sont insuffisants"), "{}", p.body);
    assert!(!p.body.contains("insufficient funds"), "{}", p.body);
    assert!(p.body.contains("aria-describedby=\"card_number-error\"") && p.body.contains("id=\"card_number-error\""), "{}", p.body);
    assert_eq!(app.booking_status(&reference), "held");
    let p = b.post(&checkout, &[("csrf_token", &csrf), ("card_number", "12ab")]).await;
    assert_eq!(p.status, 422);

    // 4242: to the confirmation page, which waits for the webhook.
    let p = b.post(&checkout, &[("csrf_token", &csrf), ("card_number", "4242 4242 4242 4242")]).await;
    assert_eq!(p.status, 303);
    let confirmation = p.location();
    assert!(confirmation.starts_with(&format!("/fr/confirmation/{reference}?k=")));
    let confirmed =
        eventually(Duration::from_secs(15), async || b.get(&confirmation).await.body.contains("data-status=\"confirmed\"")).await;
    assert!(confirmed, "the webhook confirms the booking");
    let page = b.get(&confirmation).await;
    assert!(page.body.contains(&format!("id=\"booking-reference\">{reference}<")));
    assert!(page.body.contains("Luc Gagnon"));
    assert!(page.body.contains("data-track-event=\"payment_completed\""));
    // GA4's purchase: the reference as transaction id, 2 × 395 $ before taxes, the taxes apart.
    for attribute in [
        format!("data-purchase-id=\"{reference}\""),
        "data-purchase-value=\"790.00\"".to_owned(),
        "data-purchase-tax=\"118.30\"".to_owned(),
        "data-purchase-currency=\"CAD\"".to_owned(),
        "data-purchase-quantity=\"2\"".to_owned(),
    ] {
        assert!(page.body.contains(&attribute), "{attribute}");
    }
    assert_eq!(app.booking_status(&reference), "confirmed");
    assert_eq!(app.availability(id).await["available"], 298);

    let ics = b.get(&confirmation.replacen('?', "/calendar.ics?", 1)).await;
    assert_eq!(ics.status, 200);
    assert!(ics.body.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(ics.body.contains("DTSTART:20270416T130000Z"));

    // Paying again is refused; the checkout now points to the confirmation.
    let again = b.get(&checkout).await;
    assert!(again.body.contains("déjà payée"));

    // "My booking" (the e-mails' link) needs the buyer's address.
    let manage = format!("/fr/bookings/{reference}");
    let form = b.get(&manage).await;
    assert_eq!(form.status, 200);
    let p = b.post(&manage, &[("csrf_token", &form.csrf()), ("email", "someone.else@example.ca")]).await;
    assert_eq!(p.status, 404);
    let p = b.post(&manage, &[("csrf_token", &form.csrf()), ("email", "Marie.Tremblay@example.ca")]).await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), confirmation);
}

#[actix_web::test]
async fn analytics_load_only_with_ga_id_and_consent() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let p = b.get("/fr/").await;
    assert!(!p.body.contains("class=\"consent\""), "no banner without GA_ID");
    assert!(!p.body.contains("analytics."));
    drop(app);

    let app = spawn_app_with(|s| s.ga_id = "G-TEST123".into()).await;
    let mut b = Browser::new(&app);
    let p = b.get("/en/pricing").await;
    assert!(p.body.contains("class=\"consent\""), "the banner asks first");
    assert!(!p.body.contains("data-ga-id"), "nothing loads before consent");
    let csp = p.headers.get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("https://www.googletagmanager.com"));

    let refused = b.post("/consent", &[("csrf_token", &p.csrf()), ("choice", "no"), ("return_to", "/en/pricing")]).await;
    assert_eq!(refused.status, 303);
    assert_eq!(refused.location(), "/en/pricing");
    let p = b.get("/en/pricing").await;
    assert!(!p.body.contains("class=\"consent\"") && !p.body.contains("data-ga-id"), "a refusal is remembered");

    let p = b.get("/en/privacy").await;
    let accepted = b.post("/consent", &[("csrf_token", &p.csrf()), ("choice", "yes"), ("return_to", "//evil.example/")]).await;
    assert_eq!(accepted.location(), "/", "never an open redirect");
    let p = b.get("/en/").await;
    assert!(p.body.contains("data-ga-id=\"G-TEST123\""));
    let forged = b.post("/consent", &[("choice", "yes")]).await;
    assert_eq!(forged.status, 403);
}
