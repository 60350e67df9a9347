use std::sync::{Arc, OnceLock};
use std::time::Duration;

use billetterie::actors::Registry;
use billetterie::app::Application;
use billetterie::config::Settings;
use billetterie::test_support::ScratchDb;
use diesel::prelude::*;
use serde_json::{json, Value};

/// The server tests use: `TEST_DATABASE_URL`, else the embedded default like `cargo run` (the
/// PostgreSQL on 127.0.0.1:5432, or a private cluster started from the system's binaries under
/// `target/test-postgres`, left running for the next test run).
pub fn admin_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
            return url;
        }
        let data_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("test-postgres");
        let resolved =
            billetterie::embedded_postgres::resolve(None, "postgres://postgres@127.0.0.1:5432/postgres", &data_dir, 54330, "postgres")
                .expect("a PostgreSQL for the tests");
        let url = resolved.url().to_owned();
        // Never dropped: the cluster (if one was started) outlives the tests and is reused.
        std::mem::forget(resolved);
        url
    })
    .clone()
}

/// A fresh database for one test (see `billetterie::test_support`), with its own outbox folder.
pub struct TestDb(ScratchDb);

impl std::ops::Deref for TestDb {
    type Target = ScratchDb;
    fn deref(&self) -> &ScratchDb {
        &self.0
    }
}

impl TestDb {
    pub fn new() -> Self {
        Self(ScratchDb::new(&admin_url(), "billetterie_test"))
    }

    /// Migrated, with nothing in it: the catalogue an organiser starts from in production.
    pub fn empty() -> Self {
        Self(ScratchDb::empty(&admin_url(), "billetterie_test"))
    }

    /// Where this test's outbox transport writes `.eml` files.
    pub fn outbox_dir(&self) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("test-outbox").join(&self.name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.outbox_dir());
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub registry: Arc<Registry>,
    pub stripe: billetterie::stand_ins::stripe::StripeStandIn,
    pub state: billetterie::state::AppState,
    actors: actix_rt::ArbiterHandle,
    server: actix_web::dev::ServerHandle,
    stopped: Option<tokio::sync::oneshot::Receiver<()>>,
    // Declared last: dropped after the server stops.
    pub db: Arc<TestDb>,
}

/// Test settings: `config/test.toml` plus this database and a random port.
pub fn settings(db: &TestDb) -> Settings {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let env = vec![
        ("APP_ENV".to_string(), "test".to_string()),
        ("DATABASE_URL".into(), db.url.clone()),
        ("BIND".into(), "127.0.0.1:0".into()),
        ("DATABASE_POOL_SIZE".into(), "8".into()),
        ("EMAIL_OUTBOX_DIR".into(), db.outbox_dir().to_string_lossy().into_owned()),
    ];
    Settings::load_from(&dir, &env).unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_on(Arc::new(TestDb::new()), |_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(Arc::new(TestDb::new()), tweak).await
}

pub async fn spawn_app_on(db: Arc<TestDb>, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    // Servers of finished tests wind down in the background; keep CI output to real errors unless
    // RUST_LOG asks for more.
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    billetterie::telemetry::init(billetterie::config::LogFormat::Pretty);
    let mut s = settings(&db);
    tweak(&mut s);
    let app = Application::build(s).await.expect("application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = app.server_handle();
    let registry = app.registry();
    let stripe = app.stripe_stand_in().expect("tests run against the Stripe stand-in");
    let state = app.state().clone();
    let actors = app.actor_arbiter();
    let (tx, rx) = tokio::sync::oneshot::channel();
    actix_rt::spawn(async move {
        let _ = app.run_until_stopped().await;
        let _ = tx.send(());
    });
    // Idle connections are dropped before the server's 5 s keep-alive closes them, so a request never
    // races a connection the server is closing.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(4096)
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    TestApp { address, client, registry, stripe, state, actors, server, stopped: Some(rx), db }
}

/// A finished test's server must not outlive it: its actors would keep polling a database that is
/// being dropped, and the load would slow every later test.
impl Drop for TestApp {
    fn drop(&mut self) {
        // Both only send a command (the returned future merely waits for completion).
        drop(self.server.stop(false));
        self.actors.stop();
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Stops the server gracefully and its actors; the database stays.
    pub async fn stop(mut self) -> Arc<TestDb> {
        self.server.stop(true).await;
        if let Some(rx) = self.stopped.take() {
            let _ = rx.await;
        }
        // Let the actor arbiter wind down.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.db.clone()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let res = self.client.post(self.url(path)).json(body).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let res = self.client.get(self.url(path)).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Availability, waiting through an actor's reload (a 503 that lasts milliseconds).
    pub async fn availability(&self, id: i64) -> Value {
        for _ in 0..100 {
            let (status, body) = self.get_json(&format!("/api/v1/availability/{id}")).await;
            match status {
                200 => return body,
                503 => tokio::time::sleep(Duration::from_millis(20)).await,
                _ => panic!("availability of {id}: {status} {body}"),
            }
        }
        panic!("availability of {id} stayed unavailable for 2 s");
    }

    pub async fn hold(&self, city_event_id: i64, quantity: i64) -> (u16, Value) {
        self.post_json("/api/v1/bookings/create", &booking_body(city_event_id, quantity)).await
    }

    /// The id of the seeded city event in this city.
    pub fn city_event_of(&self, city_slug: &str) -> i64 {
        self.db.scalar(&format!(
            "SELECT ce.id FROM city_events ce JOIN cities c ON c.id = ce.city_id WHERE c.slug = '{city_slug}' ORDER BY ce.id LIMIT 1"
        ))
    }

    pub fn bookings_count(&self) -> i64 {
        self.db.scalar("SELECT count(*) FROM bookings") + self.db.scalar("SELECT count(*) FROM attendees")
    }
}

impl TestApp {
    /// Holds seats and returns (reference, booking id).
    pub async fn held(&self, city_event_id: i64, quantity: i64) -> (String, billetterie::domain::BookingId) {
        let (status, body) = self.hold(city_event_id, quantity).await;
        assert_eq!(status, 201, "{body}");
        (body["reference"].as_str().unwrap().to_owned(), body["booking_id"].as_str().unwrap().parse().unwrap())
    }

    /// Books with `body`, pays with Stripe's test Visa and waits for the confirmation; the reference.
    pub async fn booked_and_paid(&self, body: &Value) -> String {
        let (status, created) = self.post_json("/api/v1/bookings/create", body).await;
        assert_eq!(status, 201, "{created}");
        let reference = created["reference"].as_str().unwrap().to_owned();
        let (_, intent) = self.create_intent(&reference).await;
        self.stripe.confirm(intent["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await;
        assert!(eventually(Duration::from_secs(10), async || self.booking_status(&reference) == "confirmed").await);
        reference
    }

    pub async fn create_intent(&self, reference: &str) -> (u16, Value) {
        self.post_json("/api/v1/payments/create-intent", &json!({"reference": reference, "email": "marie.tremblay@example.ca"})).await
    }

    pub fn booking_status(&self, reference: &str) -> String {
        #[derive(QueryableByName)]
        struct S {
            #[diesel(sql_type = diesel::sql_types::Text)]
            status: String,
        }
        let mut conn = self.db.conn();
        let row: S =
            diesel::sql_query(format!("SELECT status FROM bookings WHERE reference = '{reference}'")).get_result(&mut conn).unwrap();
        row.status
    }
}

pub fn booking_body(city_event_id: i64, quantity: i64) -> Value {
    json!({
        "city_event_id": city_event_id,
        "quantity": quantity,
        "buyer": {"first_name": "Marie", "last_name": "Tremblay", "email": "marie.tremblay@example.ca", "phone": "514 555 0199"},
        "act_experience": "beginner",
        "language": "fr",
        "attendees": [],
    })
}

/// Waits until `check` holds (polling), up to `timeout`.
pub async fn eventually(timeout: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
