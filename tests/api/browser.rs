//! End to end in a real browser: a headless Chromium, driven through chromedriver (WebDriver),
//! books two seats in French from the landing page to the confirmed booking, paying with the Stripe
//! test card through the local stand-in, while a second window on the city page watches the seat
//! count drop without reloading (Server-Sent Events). A screenshot of each step is saved in
//! `target/e2e-screenshots/`, and chromedriver's log in `target/e2e-chromedriver.log`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`; `scripts/test` installs them); `CHROME_PATH` and `CHROMEDRIVER` override.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::helpers::*;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long an element or a page may take to appear.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the stand-in's webhook may take to confirm the booking, and the live count to follow.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(20);

#[actix_web::test]
async fn browser_books_two_seats_in_french_and_a_second_window_sees_the_count_drop_live() {
    let started = Instant::now();
    // First, so a machine without the driver fails at once with what to do.
    let driver = Chromedriver::start();
    // A known port, so the site's absolute addresses (canonical links, redirects) point at this server.
    let port = free_port();
    let app = spawn_app_with(|s| {
        s.bind = format!("127.0.0.1:{port}");
        s.frontend_url = format!("http://127.0.0.1:{port}");
    })
    .await;
    let montreal = app.city_event_of("montreal");
    let before = app.availability(montreal).await;
    let (available, sold) = (before["available"].as_i64().unwrap(), before["sold"].as_i64().unwrap());
    assert!(available >= 2, "{before}");
    let seats = format!(r#"[data-available-for="{montreal}"]"#);

    let b = Browser::open(&driver, &app).await;

    // The landing page.
    b.goto("/fr/").await;
    b.page("landing", |p| p == "/fr/").await;
    let first = b.c.window().await.unwrap();

    // A second window on Montréal's page, left open: it must follow the sale live.
    let second = b.c.new_window(false).await.unwrap().handle;
    b.c.switch_to_window(second.clone()).await.unwrap();
    b.goto("/fr/villes/montreal").await;
    b.page("city-page", |p| p == "/fr/villes/montreal").await;
    assert_eq!(b.seat_count(&seats).await, available, "the city page shows the actor's count");
    // Gone if the page reloads.
    b.c.execute("window.__e2eNoReload = 'same document'; return null;", vec![]).await.unwrap();

    // Back in the first window: the call to action, then Montréal.
    b.c.switch_to_window(first).await.unwrap();
    b.click("a#book-cta").await;
    b.page("book-page", |p| p == "/fr/reserver").await;
    b.click(r#"a[data-city="montreal"]"#).await;
    let form_path = format!("/fr/reserver/{montreal}");
    b.page("booking-form", |p| p == form_path).await;
    b.find("form#booking-form").await;

    // On a phone: a short header, and what is being bought above the button that buys it.
    b.c.set_window_size(375, 812).await.unwrap();
    let layout = b
        .c
        .execute(
            "const top = s => document.querySelector(s).getBoundingClientRect(); \
             return [top('.site-header').height, top('.summary-card').top, top('#submit-booking').top, document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    let at = |i: usize| layout[i].as_f64().unwrap();
    assert!(at(0) < 130.0, "the header takes {} px of an 812 px phone screen", at(0));
    assert!(at(1) < at(2), "the summary (at {} px) comes before the submit button (at {} px)", at(1), at(2));
    assert!(at(3) <= 400.0, "the page is {} px wide at 375 px", at(3));
    b.c.set_window_size(1280, 900).await.unwrap();

    // Sent empty: the summary names each field, takes the focus, and the title says so.
    b.click("button#submit-booking").await;
    b.visible("#error-summary").await;
    let focused = b.c.execute("return document.activeElement.id;", vec![]).await.unwrap();
    assert_eq!(focused.as_str(), Some("error-summary"), "focus moves to the error summary");
    assert!(b.c.title().await.unwrap().replace('\u{a0}', " ").starts_with("Erreur :"), "the title says there are errors");
    // WebDriver reads a no-break space as a space.
    let summary = b.find("#error-summary").await.text().await.unwrap().replace('\u{a0}', " ");
    assert!(
        summary.contains("Prénom : Ce champ est obligatoire.") && summary.contains("Courriel : Ce champ est obligatoire."),
        "{summary}"
    );

    // The form: the buyer, then two seats, which shows the second attendee's fields.
    b.fill("form#booking-form [name=first_name]", "Marie").await;
    b.fill("form#booking-form [name=last_name]", "Tremblay").await;
    b.fill("form#booking-form [name=email]", "marie.tremblay@example.ca").await;
    b.fill("form#booking-form [name=phone]", "514 555 0199").await;
    b.find("form#booking-form select[name=act_experience]").await.select_by_value("beginner").await.unwrap();
    let quantity = b.find("form#booking-form select[name=quantity]").await;
    assert_eq!(quantity.prop("value").await.unwrap().as_deref(), Some("1"), "one seat by default");
    assert!(!b.shown("form#booking-form [name=attendee_2_first_name]").await, "a second attendee before asking for two seats");
    quantity.select_by_value("2").await.unwrap();
    // The buyer is seat 1 unless they untick it, so seat 1 asks for nothing more.
    assert!(b.find("#buyer_attends").await.is_selected().await.unwrap(), "the buyer attends by default");
    assert!(!b.shown("form#booking-form [name=attendee_1_first_name]").await, "seat 1's own fields while the buyer takes it");
    assert!(!b.shown("form#booking-form [data-seat=\"2\"] #buyer_attends").await);
    for (field, value) in [("attendee_2_first_name", "Luc"), ("attendee_2_last_name", "Roy")] {
        b.visible(&format!("form#booking-form [name={field}]")).await;
        b.fill(&format!("form#booking-form [name={field}]"), value).await;
    }
    b.shot("booking-form-filled").await;
    b.click("button#submit-booking").await;

    // Checkout: the hold's countdown and the test-card form.
    let checkout = b.page("checkout", |p| p.starts_with("/fr/paiement/")).await;
    let reference = checkout.path().trim_start_matches("/fr/paiement/").to_owned();
    assert!(is_reference(&reference), "checkout address {checkout}");
    assert!(checkout.query_pairs().any(|(k, v)| k == "k" && !v.is_empty()), "checkout address {checkout} carries its key");
    let countdown = b.visible("#hold-countdown").await;
    assert!(!countdown.text().await.unwrap().trim().is_empty(), "the hold countdown shows the time left");
    b.visible("form#test-card-form").await;
    assert_eq!(app.booking_status(&reference), "held");
    b.fill("form#test-card-form input[name=card_number]", "4242 4242 4242 4242").await;
    b.shot("test-card").await;
    b.click("button#pay-button").await;

    // Confirmation: pending until the stand-in's signed webhook confirms the booking.
    let confirmation_path = format!("/fr/confirmation/{reference}");
    let confirmation = b.page("confirmation", |p| p == confirmation_path).await;
    assert!(confirmation.query_pairs().any(|(k, v)| k == "k" && !v.is_empty()), "confirmation address {confirmation} carries its key");
    let status = b.attr("#confirmation-status", "data-status").await;
    assert!(matches!(status.as_deref(), Some("pending" | "confirmed")), "confirmation status {status:?}");
    b.poll("#confirmation-status[data-status=confirmed]", CONFIRM_TIMEOUT, async |b: &Browser| {
        b.attr("#confirmation-status", "data-status").await.filter(|s| s == "confirmed")
    })
    .await;
    b.shot("confirmed").await;
    let shown = b.find("#booking-reference").await.text().await.unwrap();
    assert!(is_reference(shown.trim()), "#booking-reference shows {shown:?}");
    assert_eq!(shown.trim(), reference);

    // What was written: two confirmed seats, the buyer and both attendees.
    assert_eq!(app.booking_status(&reference), "confirmed");
    let booking = |column: &str| format!("SELECT count(*) FROM bookings WHERE reference = '{reference}' AND {column}");
    assert_eq!(app.db.scalar(&booking("quantity = 2")), 1);
    assert_eq!(app.db.scalar(&booking(&format!("city_event_id = {montreal}"))), 1);
    assert_eq!(app.db.scalar(&booking("buyer_email = 'marie.tremblay@example.ca' AND language = 'fr' AND act_experience = 'beginner'")), 1);
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT count(*) FROM attendees a JOIN bookings b ON b.id = a.booking_id WHERE b.reference = '{reference}' \
             AND (a.first_name, a.last_name) IN (('Marie', 'Tremblay'), ('Luc', 'Roy'))"
        )),
        2
    );
    let after = app.availability(montreal).await;
    assert_eq!(
        (after["available"].as_i64(), after["sold"].as_i64(), after["held"].as_i64()),
        (Some(available - 2), Some(sold + 2), Some(0))
    );

    // The second window, never reloaded, has followed.
    b.c.switch_to_window(second).await.unwrap();
    b.poll(&format!("{seats} to show {}", available - 2), CONFIRM_TIMEOUT, async |b: &Browser| {
        b.attr(&seats, "data-available").await.filter(|n| n.trim() == (available - 2).to_string())
    })
    .await;
    assert_eq!(b.seat_count(&seats).await, available - 2);
    let same = b.c.execute("return window.__e2eNoReload || null;", vec![]).await.unwrap();
    assert_eq!(same, json!("same document"), "the city page updated itself without reloading");
    b.shot("city-page-live-update").await;

    // And the cities page agrees.
    b.goto("/fr/villes").await;
    b.page("cities-page", |p| p == "/fr/villes").await;
    assert_eq!(b.seat_count(&seats).await, available - 2, "Montréal's card on /fr/villes");

    // The empty form sent on purpose answered 422: Chromium logs that status, nothing else may be.
    let sent_empty = format!("{form_path} - Failed to load resource: the server responded with a status of 422");
    let errors: Vec<String> = b.console_errors().await.into_iter().filter(|e| !e.contains(&sent_empty)).collect();
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    b.c.clone().close().await.unwrap();
    eprintln!("browser test: {:.1} s, screenshots in {}", started.elapsed().as_secs_f64(), b.shots.display());
}

/// `^[A-Z]{3}-[A-Z0-9]{4}-[A-Z0-9]{4}$`
pub(crate) fn is_reference(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 3
        && parts[0].bytes().all(|c| c.is_ascii_uppercase())
        && parts[1..].iter().all(|p| p.len() == 4 && p.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target")
}

/// chromedriver as a child process on a free port; shut down (with its browsers) on drop.
pub(crate) struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    pub(crate) fn start() -> Self {
        let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.to_owned());
        let browser = chromium();
        for (what, file) in [("chromedriver", &path), ("Chromium", &browser)] {
            assert!(
                Path::new(file).exists(),
                "{what} is not installed ({file} is missing): the browser test needs Debian's `chromium` and `chromium-driver`. \
                 Run scripts/test, which installs them (or `sudo apt-get install chromium chromium-driver`)."
            );
        }
        std::fs::create_dir_all(target_dir()).unwrap();
        let log = std::fs::File::create(target_dir().join("e2e-chromedriver.log")).unwrap();
        let port = free_port();
        let child = Command::new(&path)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {path}: {e}"));
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn ready(&self) {
        let http = reqwest::Client::new();
        let ok = eventually(STEP_TIMEOUT, async || match http.get(format!("{}/status", self.url())).send().await {
            Ok(res) => res.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true),
            Err(_) => false,
        })
        .await;
        assert!(ok, "chromedriver did not answer on port {} (see target/e2e-chromedriver.log)", self.port);
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // `/shutdown` quits the sessions' browsers too; a plain kill would leave Chromium running.
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
            let _ = write!(s, "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            let _ = s.read(&mut [0; 256]);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium() -> String {
    std::env::var("CHROME_PATH").unwrap_or_else(|_| CHROMIUM.to_owned())
}

/// One WebDriver session, with the steps' screenshots and the console's errors.
pub(crate) struct Browser {
    pub(crate) c: Client,
    base: String,
    driver: String,
    pub(crate) shots: PathBuf,
    step: Cell<u32>,
    errors: RefCell<Vec<String>>,
}

impl Browser {
    pub(crate) async fn open(driver: &Chromedriver, app: &TestApp) -> Self {
        Self::open_with_shots(driver, app, "e2e-screenshots").await
    }

    /// As `open`, with the screenshots in `target/{folder}` (each test its own, as they run at once).
    pub(crate) async fn open_with_shots(driver: &Chromedriver, app: &TestApp, folder: &str) -> Self {
        driver.ready().await;
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--lang=fr-CA"],
                // Headless Chromium ignores --lang for Accept-Language; the back office follows it.
                "prefs": {"intl.accept_languages": "fr-CA,fr"},
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let caps = caps.as_object().unwrap().clone();
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| panic!("no Chromium session through chromedriver: {e} (see target/e2e-chromedriver.log)"));
        let shots = target_dir().join(folder);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).unwrap();
        let b = Self { c, base: app.address.clone(), driver: driver.url(), shots, step: Cell::new(0), errors: RefCell::new(Vec::new()) };
        // The console check must not pass because the log reads nothing: an error logged now is seen.
        b.c.execute("console.error('e2e console probe'); return null;", vec![]).await.unwrap();
        let seen = b.console_errors().await;
        assert!(seen.iter().any(|e| e.contains("e2e console probe")), "chromedriver's browser log does not work: {seen:?}");
        b.errors.borrow_mut().clear();
        b
    }

    pub(crate) async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
    }

    /// Waits for the page whose path satisfies `at` to finish loading, checks `<html lang="fr">`,
    /// keeps the console's errors and saves a screenshot; returns the address.
    pub(crate) async fn page(&self, name: &str, at: impl Fn(&str) -> bool) -> url::Url {
        let url = self
            .poll(&format!("the {name} page"), STEP_TIMEOUT, async |b: &Browser| {
                let url = b.c.current_url().await.ok()?;
                let done = b.c.execute("return document.readyState;", vec![]).await.ok()?;
                (at(url.path()) && done == "complete").then_some(url)
            })
            .await;
        let lang = self.c.execute("return document.documentElement.getAttribute('lang');", vec![]).await.unwrap();
        assert_eq!(lang, json!("fr"), "<html lang> of {url}");
        self.collect_console(&url).await;
        self.shot(name).await;
        url
    }

    pub(crate) async fn shot(&self, name: &str) {
        self.step.set(self.step.get() + 1);
        let png = self.c.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{:02}-{name}.png", self.step.get())), png).unwrap();
    }

    /// Polls `f` until it gives a value; on timeout saves a screenshot and fails with the address.
    async fn poll<T>(&self, what: &str, timeout: Duration, mut f: impl AsyncFnMut(&Browser) -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = f(self).await {
                return v;
            }
            if Instant::now() > deadline {
                let url = self.c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
                self.shot("failure").await;
                let errors = self.console_errors().await;
                panic!(
                    "waited {timeout:?} for {what}; the browser is at {url} (screenshot in {}); console errors: {errors:?}",
                    self.shots.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) async fn find(&self, css: &str) -> Element {
        self.poll(css, STEP_TIMEOUT, async |b: &Browser| b.c.find(Locator::Css(css)).await.ok()).await
    }

    pub(crate) async fn visible(&self, css: &str) -> Element {
        self.poll(&format!("{css} to be visible"), STEP_TIMEOUT, async |b: &Browser| {
            let e = b.c.find(Locator::Css(css)).await.ok()?;
            e.is_displayed().await.ok()?.then_some(e)
        })
        .await
    }

    /// Whether `css` is on the page and visible, now.
    pub(crate) async fn shown(&self, css: &str) -> bool {
        match self.c.find(Locator::Css(css)).await {
            Ok(e) => e.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        }
    }

    pub(crate) async fn click(&self, css: &str) {
        self.visible(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub(crate) async fn fill(&self, css: &str, value: &str) {
        let e = self.visible(css).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub(crate) async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.c.find(Locator::Css(css)).await.ok()?.attr(name).await.ok()?
    }

    /// A seat count: the element's `data-available`, which its text must show too.
    pub(crate) async fn seat_count(&self, css: &str) -> i64 {
        let e = self.find(css).await;
        let raw = e.attr("data-available").await.unwrap().unwrap_or_else(|| panic!("{css} has no data-available"));
        let n: i64 = raw.trim().parse().unwrap_or_else(|_| panic!("{css}: data-available={raw:?} is not a number"));
        let text = e.text().await.unwrap();
        assert!(text.split(|c: char| !c.is_ascii_digit()).any(|t| t == n.to_string()), "{css} shows {text:?}, not {n}");
        n
    }

    /// Chrome's console entries at level SEVERE since the last call (chromedriver's log endpoint).
    async fn collect_console(&self, url: &url::Url) {
        let session = self.c.session_id().await.unwrap().unwrap();
        let res = reqwest::Client::new()
            .post(format!("{}/session/{session}/se/log", self.driver))
            .json(&json!({"type": "browser"}))
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        let entries = body["value"].as_array().unwrap_or_else(|| panic!("chromedriver's browser log: {body}"));
        for entry in entries {
            if entry["level"] == "SEVERE" {
                self.errors.borrow_mut().push(format!("{url}: {}", entry["message"].as_str().unwrap_or_default()));
            }
        }
    }

    pub(crate) async fn console_errors(&self) -> Vec<String> {
        if let Ok(url) = self.c.current_url().await {
            self.collect_console(&url).await;
        }
        self.errors.borrow().clone()
    }
}
