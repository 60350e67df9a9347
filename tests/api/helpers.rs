use std::sync::{Arc, OnceLock};
use std::time::Duration;

use billetterie::actors::Registry;
use billetterie::config::Settings;
use billetterie::startup::Application;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
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

fn url_for(db: &str) -> String {
    let admin = admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin);
    format!("{base}/{db}")
}

/// FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
fn fnv(data: &[u8], mut h: u64) -> u64 {
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// A database migrated and seeded once per schema version, shared by every test process; each
/// test clones it (`CREATE DATABASE … TEMPLATE`), which takes milliseconds.
fn template() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<_> = walk(&root.join("migrations"));
        files.push(root.join("src/db/seed.sql"));
        files.sort();
        let mut h = 0xcbf29ce484222325;
        for f in &files {
            h = fnv(f.to_string_lossy().as_bytes(), h);
            h = fnv(&std::fs::read(f).unwrap(), h);
        }
        let name = format!("billetterie_tmpl_{:016x}", h);
        let mut admin = PgConnection::establish(&admin_url()).expect("connect to the test PostgreSQL (TEST_DATABASE_URL)");
        // Serialise template creation across test processes.
        admin.batch_execute("SELECT pg_advisory_lock(727274)").unwrap();
        let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
        )))
        .get_result(&mut admin)
        .unwrap();
        if !exists {
            let building = format!("{name}_building");
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).unwrap();
            admin.batch_execute(&format!("CREATE DATABASE {building}")).unwrap();
            {
                let mut conn = PgConnection::establish(&url_for(&building)).unwrap();
                billetterie::db::run_migrations(&mut conn).unwrap();
                billetterie::db::seed::seed_demo(&mut conn).unwrap();
            }
            admin.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}")).unwrap();
        }
        admin.batch_execute("SELECT pg_advisory_unlock(727274)").unwrap();
        name
    })
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A fresh database for one test, dropped when the value is.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> Self {
        let tmpl = template();
        let name = format!("billetterie_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url()).unwrap();
        // Cloning needs the template to have no other session; retry briefly if another test is
        // cloning it at this very moment.
        let mut tries = 0;
        loop {
            match admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {tmpl}")) {
                Ok(()) => break,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot create test database: {e}"),
            }
        }
        let url = url_for(&name);
        Self { name, url }
    }

    /// Where this test's outbox transport writes `.eml` files.
    pub fn outbox_dir(&self) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("test-outbox").join(&self.name)
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap()
    }

    /// Adds an on-sale city event (Halifax venue, HST 14 %) with this capacity; returns its id.
    pub fn add_city_event(&self, capacity: i32) -> i64 {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            id: i64,
        }
        let mut conn = self.conn();
        let row: Id = diesel::sql_query(format!(
            "INSERT INTO city_events (masterclass_event_id, city_id, venue_id, starts_at, ends_at, time_zone, capacity, regular_price_cents)
             SELECT (SELECT min(id) FROM masterclass_events), v.city_id, v.id, s.at, s.at + INTERVAL '7 hours 30 minutes', v.time_zone, {capacity}, 45000
             FROM venues v JOIN cities c ON c.id = v.city_id,
                  (SELECT TIMESTAMPTZ '2027-09-01 09:00 America/Halifax' + (random() * 100000)::int * INTERVAL '1 minute' AS at) s
             WHERE c.slug = 'halifax'
             RETURNING id"
        ))
        .get_result(&mut conn)
        .unwrap();
        row.id
    }

    pub fn scalar(&self, sql: &str) -> i64 {
        let mut conn = self.conn();
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!("({sql})"))).get_result(&mut conn).unwrap()
    }

    pub fn execute(&self, sql: &str) -> Result<(), diesel::result::Error> {
        self.conn().batch_execute(sql)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&admin_url()) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
        let _ = std::fs::remove_dir_all(self.outbox_dir());
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub registry: Arc<Registry>,
    pub stripe: billetterie::payments::stand_in::StripeStandIn,
    pub state: billetterie::api::AppState,
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
    billetterie::telemetry::init(billetterie::config::LogFormat::Pretty);
    let mut s = settings(&db);
    tweak(&mut s);
    let app = Application::build(s).await.expect("application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = app.server_handle();
    let registry = app.registry();
    let stripe = app.stripe_stand_in().expect("tests run against the Stripe stand-in");
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    actix_rt::spawn(async move {
        let _ = app.run_until_stopped().await;
        let _ = tx.send(());
    });
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).pool_max_idle_per_host(4096).build().unwrap();
    TestApp { address, client, registry, stripe, state, server, stopped: Some(rx), db }
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

    pub async fn availability(&self, id: i64) -> Value {
        let (status, body) = self.get_json(&format!("/api/v1/availability/{id}")).await;
        assert_eq!(status, 200, "{body}");
        body
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
    pub async fn held(&self, city_event_id: i64, quantity: i64) -> (String, uuid::Uuid) {
        let (status, body) = self.hold(city_event_id, quantity).await;
        assert_eq!(status, 201, "{body}");
        (body["reference"].as_str().unwrap().to_owned(), body["booking_id"].as_str().unwrap().parse().unwrap())
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
