//! The attendees' feedback: one form per seat behind the J+1 mail's signed link, answered once,
//! refused input re-rendered with nothing written, and the organiser's results (page, JSON, CSV).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use billetterie::domain::tokens::{booking_key, feedback_key, feedback_url};
use billetterie::domain::url::percent_encode;
use billetterie::domain::{EmailKind, Language};
use billetterie::email::dispatch::{EmailService, EmailSettings};
use billetterie::email::transport::{EmailTransport, OutgoingEmail, TransportError};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::helpers::*;
use crate::self_service::{paid, starts_in_days};

fn secret(app: &TestApp) -> String {
    app.state.settings.secret_key.expose().to_owned()
}

fn page(lang: &str, reference: &str, seat: i32, k: &str) -> String {
    let slug = if lang == "fr" { "commentaires" } else { "feedback" };
    format!("/{lang}/{slug}/{reference}/{seat}?k={k}")
}

fn answers(app: &TestApp) -> i64 {
    app.db.scalar("SELECT count(*) FROM feedback_answers")
}

/// A browser without JavaScript: keeps its cookies, does not follow redirects.
struct Browser {
    client: reqwest::Client,
    cookies: HashMap<String, String>,
    csrf: String,
}

impl Browser {
    fn new() -> Self {
        Self {
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookies: HashMap::new(),
            csrf: String::new(),
        }
    }

    fn keep(&mut self, res: &reqwest::Response) {
        for c in res.headers().get_all(SET_COOKIE) {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            let (n, v) = pair.split_once('=').unwrap();
            self.cookies.insert(n.to_owned(), v.to_owned());
        }
    }

    fn cookie(&self) -> String {
        self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn get(&mut self, app: &TestApp, path: &str) -> (u16, String) {
        let res = self.client.get(app.url(path)).header(COOKIE, self.cookie()).send().await.unwrap();
        self.keep(&res);
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// Opens the form for its CSRF token, then posts `fields`: status, location, body.
    async fn answer(&mut self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        self.answer_from(app, path, path, fields).await
    }

    /// Takes the CSRF token from the page `from`, then posts to `path`.
    async fn answer_from(&mut self, app: &TestApp, from: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let (_, html) = self.get(app, from).await;
        // A page with no form (the thanks) leaves the token of the last form: the back button's.
        if let Some(token) = html.split("name=\"csrf_token\" value=\"").nth(1).map(|s| s.split('"').next().unwrap().to_owned()) {
            self.csrf = token;
        }
        let csrf = self.csrf.clone();
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", &csrf)];
        form.extend_from_slice(fields);
        let res = self.client.post(app.url(path)).header(COOKIE, self.cookie()).form(&form).send().await.unwrap();
        self.keep(&res);
        let location = res.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
        (res.status().as_u16(), location, res.text().await.unwrap())
    }
}

const GOOD: [(&str, &str); 6] =
    [("overall", "5"), ("content", "4"), ("presenter", "5"), ("venue", "3"), ("recommend", "yes"), ("comments", "Très utile, merci !")];

#[actix_web::test]
async fn the_signed_link_opens_one_form_per_seat_answered_once() {
    let app = spawn_app().await;
    let (reference, id) = paid(&app, "quebec", 2).await;
    let s = secret(&app);
    let seat1 = page("fr", &reference, 1, &feedback_key(&s, &reference, 1));
    let mut browser = Browser::new();

    // Before the day: a clear page, no form.
    let (status, html) = browser.get(&app, &seat1).await;
    assert_eq!(status, 403, "{html}");
    assert!(html.contains("Le formulaire ouvrira le jour de la formation") && !html.contains("feedback-form"), "{html}");

    starts_in_days(&app, id, -1);
    let (status, html) = browser.get(&app, &seat1).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"feedback-form\"") && html.contains("<legend>Le contenu de la formation"), "{html}");
    assert!(html.contains("lang=\"fr\""));

    // Forged, another seat's or the booking page's key, an unknown seat: the same 404.
    for path in [
        page("fr", &reference, 1, &"0".repeat(64)),
        page("fr", &reference, 1, &feedback_key(&s, &reference, 2)),
        page("fr", &reference, 1, &booking_key(&s, &reference)),
        page("fr", &reference, 3, &feedback_key(&s, &reference, 3)),
        page("fr", "QUE-AAAA-AAAA", 1, &feedback_key(&s, "QUE-AAAA-AAAA", 1)),
    ] {
        let (status, _) = browser.get(&app, &path).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _, _) = browser.answer_from(&app, &seat1, &page("fr", &reference, 1, &"ab".repeat(32)), &GOOD).await;
    assert_eq!(status, 404, "a forged key cannot post either");

    // A rating out of range, a missing one, comments too long: 422, named, what was typed kept.
    let long = "a".repeat(2001);
    let mut bad: Vec<(&str, &str)> = GOOD.to_vec();
    bad[0] = ("overall", "7");
    bad[1] = ("content", "");
    bad[5] = ("comments", long.as_str());
    let (status, _, html) = browser.answer(&app, &seat1, &bad).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("Le formulaire contient des erreurs") && html.contains("href=\"#overall-1\""), "{html}");
    assert!(html.contains("La note doit être un nombre de 1 à 5.") && html.contains("Choisissez une note de 1 à 5."), "{html}");
    assert!(html.contains("Vos commentaires dépassent 2000 caractères"), "{html}");
    assert!(html.contains("id=\"presenter-5\" name=\"presenter\" value=\"5\" required checked"), "the valid answers are kept: {html}");
    assert_eq!(answers(&app), 0, "nothing written");

    // A valid answer: stored once, then thanks.
    let (status, location, _) = browser.answer(&app, &seat1, &GOOD).await;
    assert_eq!(status, 303);
    let (status, html) = browser.get(&app, &location).await;
    assert_eq!(status, 200);
    assert!(html.contains("Merci pour vos commentaires\u{a0}!"), "{html}");
    assert_eq!(answers(&app), 1);
    assert_eq!(
        app.db.scalar("SELECT count(*) FROM feedback_answers WHERE overall = 5 AND venue = 3 AND language = 'fr' AND would_recommend"),
        1
    );

    // Again: already received, by a visit or a second post; still one answer.
    let (status, html) = browser.get(&app, &seat1).await;
    assert_eq!(status, 200);
    assert!(html.contains("Merci, nous avons déjà reçu vos commentaires.") && !html.contains("feedback-form"), "{html}");
    let (status, _, html) = browser.answer(&app, &seat1, &GOOD).await;
    assert_eq!(status, 409);
    assert!(html.contains("Merci, nous avons déjà reçu vos commentaires."), "{html}");
    assert_eq!(answers(&app), 1);

    // The second seat answers for itself, in English.
    let seat2 = page("en", &reference, 2, &feedback_key(&s, &reference, 2));
    let (status, html) = browser.get(&app, &seat2).await;
    assert!(status == 200 && html.contains("Would you recommend this masterclass"), "{html}");
    let (status, _, _) = browser.answer(&app, &seat2, &GOOD).await;
    assert_eq!(status, 303);
    let (_, html) = browser.get(&app, &seat2).await;
    assert!(html.contains("Thank you, we already received your feedback."), "{html}");
    assert_eq!(answers(&app), 2);
}

#[actix_web::test]
async fn the_organiser_reads_averages_comments_and_the_csv() {
    let app = spawn_app().await;
    let org = crate::admin::login(&app).await;
    let (reference, id) = paid(&app, "halifax", 3).await;
    starts_in_days(&app, id, -1);
    let s = secret(&app);
    let mut browser = Browser::new();
    let first =
        [("overall", "5"), ("content", "4"), ("presenter", "5"), ("venue", "2"), ("recommend", "yes"), ("comments", "Bravo, \"génial\"")];
    let second = [("overall", "4"), ("content", "3"), ("presenter", "4"), ("venue", "3"), ("recommend", "no"), ("comments", "")];
    for (seat, lang, fields) in [(1, "fr", &first), (2, "en", &second)] {
        let (status, _, html) = browser.answer(&app, &page(lang, &reference, seat, &feedback_key(&s, &reference, seat)), fields).await;
        assert_eq!(status, 303, "{html}");
    }

    let (status, body) = org.get(&app, &format!("/api/v1/admin/city-events/{id}/feedback")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["answers"].as_i64(), body["attendees"].as_i64(), body["would_recommend"].as_i64()), (Some(2), Some(3), Some(1)));
    let averages: Vec<(String, f64)> = body["averages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["question"].as_str().unwrap().to_owned(), a["average"].as_f64().unwrap()))
        .collect();
    let expected = [("overall", 4.5), ("content", 3.5), ("presenter", 4.5), ("venue", 2.5)].map(|(q, v)| (q.to_owned(), v));
    assert_eq!(averages, expected);
    assert_eq!(body["comments"].as_array().unwrap().len(), 1, "the empty comment is not listed");
    assert_eq!(
        (body["comments"][0]["language"].as_str(), body["comments"][0]["comments"].as_str()),
        (Some("fr"), Some("Bravo, \"génial\""))
    );
    let (status, _) = org.get(&app, "/api/v1/admin/city-events/999999/feedback").await;
    assert_eq!(status, 404);

    let (status, _, html) = org.text(&app, &format!("/admin/city-events/{id}/feedback?lang=fr")).await;
    let html = String::from_utf8(html).unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("2 réponses sur 3 participants") && html.contains("4,5") && html.contains("2,5"), "{html}");
    assert!(html.contains("Bravo, &quot;génial&quot;") || html.contains("Bravo, \"génial\""), "{html}");
    let (_, _, date_page) = org.text(&app, &format!("/admin/city-events/{id}")).await;
    assert!(String::from_utf8(date_page).unwrap().contains(&format!("href=\"/admin/city-events/{id}/feedback\"")), "linked from the date");

    let (status, headers, csv) = org.text(&app, &format!("/admin/city-events/{id}/feedback.csv")).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(headers["content-disposition"].to_str().unwrap().contains(&format!("feedback-{id}.csv")));
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert_eq!(lines[0], "answered_at,language,overall,content,presenter,venue,would_recommend,comments");
    assert!(lines[1].ends_with(",fr,5,4,5,2,yes,\"Bravo, \"\"génial\"\"\""), "{csv}");
    assert!(lines[2].ends_with(",en,4,3,4,3,no,"), "{csv}");
}

/// Keeps every mail it is given.
#[derive(Default)]
struct Captured(Mutex<Vec<OutgoingEmail>>);

impl EmailTransport for Captured {
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<String, TransportError>> {
        self.0.lock().unwrap().push(email.clone());
        Box::pin(async { Ok("captured".to_owned()) })
    }

    fn name(&self) -> &'static str {
        "outbox"
    }
}

#[actix_web::test]
async fn each_j_plus_1_mail_links_to_its_recipients_own_form() {
    let app = spawn_app().await;
    let mut body = booking_body(app.city_event_of("montreal"), 2);
    body["attendees"] = json!([
        {"first_name": "Luc", "last_name": "Roy", "email": "luc@example.ca"},
        {"first_name": "Anne", "last_name": "Côté", "email": "anne@example.ca"}
    ]);
    let reference = app.booked_and_paid(&body).await;
    let captured = Arc::new(Captured::default());
    let service = EmailService::new(app.state.pool.clone(), captured.clone(), EmailSettings::from(app.state.settings.as_ref())).unwrap();
    // Montréal's day is April 16, 2027; J+1 goes at 9:00 the next day (13:00 UTC).
    let at: DateTime<Utc> = "2027-04-17T13:00:00Z".parse().unwrap();
    service.run_due(at).await.unwrap();
    let j1: Vec<(String, String, String)> = captured
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.kind == EmailKind::JPlus1)
        .map(|m| (m.to.clone(), m.text.clone(), m.html.clone()))
        .collect();
    assert_eq!(j1.len(), 2, "one J+1 per attendee address");
    starts_in_days(&app, app.city_event_of("montreal"), -1);
    let (base, s) = (app.state.settings.frontend_url.clone(), secret(&app));
    for (to, text, html) in j1 {
        let (own, other) = if to == "luc@example.ca" { (1, 2) } else { (2, 1) };
        let url = feedback_url(&base, &s, Language::Fr, &reference, own);
        // The link goes through the click redirect, which carries the target encoded.
        assert!(text.contains(&percent_encode(&url)) && html.contains(&percent_encode(&url)), "{to}: {text}");
        assert!(!text.contains(&feedback_key(&s, &reference, other)), "{to} gets no one else's link");
        // And the link opens that seat's form once the day has started.
        let path = url.strip_prefix(base.trim_end_matches('/')).unwrap().to_owned();
        let (status, html) = Browser::new().get(&app, &path).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains(if own == 1 { "Bonjour Luc," } else { "Bonjour Anne," }), "{html}");
    }
}
