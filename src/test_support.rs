//! Throwaway databases for the integration tests and the benchmarks (not used by the server).
//!
//! A template database is migrated and seeded once per schema version (its name hashes the
//! migrations and the seed) and shared by every test process; each test or benchmark run clones it
//! with `CREATE DATABASE … TEMPLATE`, which takes milliseconds, and drops its clone when done.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;

/// `admin_url` with its database replaced by `db`.
pub fn url_for(admin_url: &str, db: &str) -> String {
    let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or_else(|| admin_url.to_owned());
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

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the migrations folder of the checkout") {
        let p = entry.expect("a readable migrations folder").path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The template's name, creating it if needed (serialised across processes by an advisory lock;
/// built under another name and renamed, so a half-built template is never seen).
pub fn template(admin_url: &str) -> String {
    // Per server: a test may start a private cluster of its own (the database-outage test).
    static NAMES: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let mut names = NAMES.get_or_init(Mutex::default).lock().unwrap_or_else(|p| p.into_inner());
    names
        .entry(admin_url.to_owned())
        .or_insert_with(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let mut files = walk(&root.join("migrations"));
            files.push(root.join("src/db/seed.sql"));
            files.sort();
            let mut h = 0xcbf29ce484222325;
            for f in &files {
                h = fnv(f.to_string_lossy().as_bytes(), h);
                h = fnv(&std::fs::read(f).expect("a readable migration"), h);
            }
            let name = format!("billetterie_tmpl_{h:016x}");
            let mut admin = PgConnection::establish(admin_url).expect("connect to the PostgreSQL for tests");
            admin.batch_execute("SELECT pg_advisory_lock(727274)").expect("advisory lock");
            let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
            )))
            .get_result(&mut admin)
            .expect("pg_database");
            if !exists {
                let building = format!("{name}_building");
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).expect("drop");
                admin.batch_execute(&format!("CREATE DATABASE {building}")).expect("create");
                {
                    let mut conn = PgConnection::establish(&url_for(admin_url, &building)).expect("connect to the template");
                    crate::db::run_migrations(&mut conn).expect("migrations");
                    crate::db::seed::seed_demo(&mut conn).expect("seed");
                }
                admin.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}")).expect("rename");
            }
            admin.batch_execute("SELECT pg_advisory_unlock(727274)").expect("advisory unlock");
            name
        })
        .clone()
}

/// A fresh database cloned from the template, dropped with the value (unless `keep` is set).
pub struct ScratchDb {
    pub name: String,
    pub url: String,
    admin_url: String,
    pub keep: bool,
}

impl ScratchDb {
    /// `prefix` names the database (`billetterie_test_…`, `billetterie_bench_…`).
    pub fn new(admin_url: &str, prefix: &str) -> Self {
        let tmpl = template(admin_url);
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url).expect("connect to the PostgreSQL for tests");
        // Cloning needs the template to have no other session; retry briefly if another process
        // is cloning it at this very moment.
        let mut tries = 0;
        loop {
            match admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {tmpl}")) {
                Ok(()) => break,
                Err(_) if tries < 50 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot create database {name}: {e}"),
            }
        }
        Self { url: url_for(admin_url, &name), name, admin_url: admin_url.to_owned(), keep: false }
    }

    /// A fresh database with the schema and nothing else: no demo, as production starts.
    pub fn empty(admin_url: &str, prefix: &str) -> Self {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url).expect("connect to the PostgreSQL for tests");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create an empty database");
        let db = Self { url: url_for(admin_url, &name), name, admin_url: admin_url.to_owned(), keep: false };
        crate::db::run_migrations(&mut db.conn()).expect("migrations");
        db
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to the scratch database")
    }

    /// Adds an on-sale city event (Halifax venue, HST 14 %, 450.00 $) with this capacity; its id.
    pub fn add_city_event(&self, capacity: i32) -> i64 {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            id: i64,
        }
        let row: Id = diesel::sql_query(format!(
            "INSERT INTO city_events (masterclass_event_id, city_id, venue_id, starts_at, ends_at, time_zone, capacity, regular_price_cents)
             SELECT (SELECT min(id) FROM masterclass_events), v.city_id, v.id, s.at, s.at + INTERVAL '7 hours 30 minutes', v.time_zone, {capacity}, 45000
             FROM venues v JOIN cities c ON c.id = v.city_id,
                  (SELECT TIMESTAMPTZ '2027-09-01 09:00 America/Halifax' + (random() * 100000)::int * INTERVAL '1 minute' AS at) s
             WHERE c.slug = 'halifax'
             RETURNING id"
        ))
        .get_result(&mut self.conn())
        .expect("insert a city event");
        row.id
    }

    /// The value of a query returning one integer.
    pub fn scalar(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            v: i64,
        }
        let row: V = diesel::sql_query(format!("SELECT ({sql})::bigint AS v")).get_result(&mut self.conn()).expect("a scalar query");
        row.v
    }

    pub fn execute(&self, sql: &str) -> Result<(), diesel::result::Error> {
        self.conn().batch_execute(sql)
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}
