//! Plumbing for `benches/burst.rs`: fresh databases from the tests' template, a real server on its
//! own actix System thread, a cheap HTTP/1 load client (hyper, one connection per simulated buyer),
//! latency histograms, correctness checks against the database, and a CPU split by thread/process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use billetterie::app::Application;
use billetterie::config::{HoldStrategy, Settings};
use billetterie::test_support::ScratchDb;
use bytes::Bytes;
use diesel::prelude::*;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

pub mod pages;
pub mod sse;

// ---------------------------------------------------------------------------------------------
// Databases (same template as tests/api/helpers.rs: same name, so both share it)

pub fn admin_url() -> String {
    std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh database cloned from the tests' template (`billetterie::test_support`); dropped with the
/// value unless `BENCH_KEEP_DB` is set.
pub struct BenchDb(ScratchDb);

impl std::ops::Deref for BenchDb {
    type Target = ScratchDb;
    fn deref(&self) -> &ScratchDb {
        &self.0
    }
}

impl BenchDb {
    pub fn new() -> Self {
        let mut db = ScratchDb::new(&admin_url(), "billetterie_bench");
        if std::env::var("BENCH_KEEP_DB").is_ok() {
            eprintln!("keeping database {}", db.name);
            db.keep = true;
        }
        Self(db)
    }
}

// ---------------------------------------------------------------------------------------------
// The server under test: `Application::build` on its own actix System thread.

static ACTOR_TID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn current_tid() -> Option<u64> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

pub struct RunningServer {
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn strategy_name(s: HoldStrategy) -> &'static str {
    match s {
        HoldStrategy::Actor => "actor",
        HoldStrategy::RowLock => "row_lock",
    }
}

/// Development defaults (pool 16, batch 512, max in-flight 4096, hold TTL 900 s) on this database.
pub fn settings(db: &BenchDb, strategy: HoldStrategy) -> Settings {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut env = vec![
        ("APP_ENV".to_string(), "development".to_string()),
        ("DATABASE_URL".into(), db.url.clone()),
        ("BIND".into(), "127.0.0.1:0".into()),
        ("SEED_DEMO".into(), "false".into()),
        ("HOLD_STRATEGY".into(), strategy_name(strategy).into()),
        // One client address sends the whole burst: no per-IP limit here.
        ("RATE_LIMIT_BOOKINGS_PER_MINUTE".into(), "0".into()),
    ];
    // Pass-through for experiments (e.g. BENCH_DATABASE_POOL_SIZE=32, BENCH_ACTOR_MAX_BATCH=1024).
    for (k, v) in std::env::vars() {
        if let Some(key) = k.strip_prefix("BENCH_SET_") {
            env.push((key.to_string(), v));
        }
    }
    Settings::load_from(&dir, &env).expect("settings")
}

impl RunningServer {
    pub fn start(settings: Settings) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("bench-server".into())
            .spawn(move || {
                let sys = actix_rt::System::new();
                sys.block_on(async move {
                    match Application::build(settings).await {
                        Ok(app) => {
                            // Which thread runs the actors (for the CPU split).
                            let (tid_tx, tid_rx) = tokio::sync::oneshot::channel();
                            app.actor_arbiter().spawn_fn(move || {
                                let _ = tid_tx.send(current_tid());
                            });
                            if let Ok(Some(tid)) = tid_rx.await {
                                ACTOR_TID.store(tid, std::sync::atomic::Ordering::Relaxed);
                            }
                            let _ = tx.send(Ok((app.port(), app.server_handle())));
                            if let Err(e) = app.run_until_stopped().await {
                                eprintln!("server stopped with an error: {e}");
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })
            .unwrap();
        let (port, handle) = rx.recv().expect("server thread").expect("application starts");
        Self { addr: SocketAddr::from(([127, 0, 0, 1], port)), handle, thread: Some(thread) }
    }

    pub async fn stop(mut self) {
        self.handle.stop(true).await;
        if let Some(t) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        // Let the actor arbiter and the pool wind down before the database is dropped.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Load client

pub type Sender = SendRequest<Full<Bytes>>;

pub async fn connect(addr: SocketAddr) -> std::io::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Connects `n` clients, at most 128 handshakes at a time (so the accept backlog never overflows).
pub async fn connect_many(addr: SocketAddr, n: usize) -> Vec<Sender> {
    let sem = Arc::new(tokio::sync::Semaphore::new(128));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            for attempt in 0..20 {
                match connect(addr).await {
                    Ok(s) => return s,
                    Err(e) if attempt < 19 => {
                        let _ = e;
                        tokio::time::sleep(Duration::from_millis(50)).await
                    }
                    Err(e) => panic!("cannot connect to the server: {e}"),
                }
            }
            unreachable!()
        }));
    }
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

pub fn booking_body(city_event_id: i64, quantity: u32) -> Bytes {
    Bytes::from(
        json!({
            "city_event_id": city_event_id,
            "quantity": quantity,
            "buyer": {"first_name": "Marie", "last_name": "Tremblay", "email": "marie.tremblay@example.ca", "phone": "514 555 0199"},
            "act_experience": "beginner",
            "language": "fr",
            "attendees": [],
        })
        .to_string(),
    )
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Hold,
    Read,
}

/// What one request did.
pub struct Outcome {
    pub status: u16,
    pub body: Bytes,
}

pub async fn send(sender: &mut Sender, kind: Kind, path: &str, body: Option<Bytes>) -> Result<Outcome, hyper::Error> {
    sender.ready().await?;
    let req = match kind {
        Kind::Hold => Request::post(path)
            .header(hyper::header::HOST, "127.0.0.1")
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body.unwrap_or_default()))
            .unwrap(),
        Kind::Read => Request::get(path).header(hyper::header::HOST, "127.0.0.1").body(Full::new(Bytes::new())).unwrap(),
    };
    let res = sender.send_request(req).await?;
    let status = res.status().as_u16();
    let body = res.into_body().collect().await?.to_bytes();
    Ok(Outcome { status, body })
}

/// `"reference":"XXX-…"` out of a 201 body, without a JSON parse.
pub fn extract_reference(body: &[u8]) -> Option<String> {
    let key = b"\"reference\":\"";
    let start = body.windows(key.len()).position(|w| w == key)? + key.len();
    let end = body[start..].iter().position(|b| *b == b'"')? + start;
    Some(String::from_utf8_lossy(&body[start..end]).into_owned())
}

/// Cheap per-client random numbers (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545F4914F6CDD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---------------------------------------------------------------------------------------------
// Results

pub fn histogram() -> Histogram<u64> {
    // 1 µs .. 120 s, 3 significant figures.
    Histogram::new_with_bounds(1, 120_000_000, 3).unwrap()
}

/// Results of one kind of request (holds or reads).
/// Latencies are kept as raw samples (µs) per client and only turned into histograms once merged:
/// thousands of per-client histograms would cost gigabytes.
#[derive(Default)]
pub struct Stats {
    pub latency_us: Vec<u32>,
    /// Latency of refusals only (409): how fast a buyer learns there is nothing left.
    pub refusal_us: Vec<u32>,
    pub statuses: BTreeMap<u16, u64>,
    pub conn_errors: u64,
    pub references: Vec<String>,
    pub seats_acknowledged: i64,
    /// Since the start signal, when the last 201 arrived.
    pub last_created: Option<Duration>,
}

impl Stats {
    pub fn merge(&mut self, other: Stats) {
        self.latency_us.extend(other.latency_us);
        self.refusal_us.extend(other.refusal_us);
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.conn_errors += other.conn_errors;
        self.references.extend(other.references);
        self.seats_acknowledged += other.seats_acknowledged;
        self.last_created = match (self.last_created, other.last_created) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    pub fn count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    pub fn count_5xx(&self) -> u64 {
        self.statuses.range(500..600).map(|(_, v)| v).sum()
    }

    pub fn total(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Answers other than 2xx, 409, 429 and 5xx.
    pub fn other(&self) -> u64 {
        self.statuses.iter().filter(|(k, _)| !(200..300).contains(*k) && **k != 409 && **k != 429 && **k < 500).map(|(_, v)| v).sum()
    }

    pub fn record(&mut self, kind: Kind, elapsed: Duration, since_start: Duration, outcome: &Outcome, quantity: u32) {
        let us = (elapsed.as_micros() as u64).clamp(1, 120_000_000) as u32;
        self.latency_us.push(us);
        *self.statuses.entry(outcome.status).or_default() += 1;
        if kind == Kind::Hold {
            match outcome.status {
                201 => {
                    if let Some(r) = extract_reference(&outcome.body) {
                        self.references.push(r);
                    }
                    self.seats_acknowledged += i64::from(quantity);
                    self.last_created = Some(self.last_created.map_or(since_start, |l| l.max(since_start)));
                }
                409 => {
                    self.refusal_us.push(us);
                }
                _ => {}
            }
        }
    }

    pub fn histogram_of(samples: &[u32]) -> Histogram<u64> {
        let mut h = histogram();
        for &s in samples {
            let _ = h.record(u64::from(s));
        }
        h
    }

    pub fn latency_json(samples: &[u32]) -> Value {
        let h = Self::histogram_of(samples);
        if h.is_empty() {
            return Value::Null;
        }
        let ms = |q: f64| (h.value_at_quantile(q) as f64) / 1000.0;
        json!({
            "count": h.len(),
            "mean_ms": h.mean() / 1000.0,
            "p50_ms": ms(0.50),
            "p90_ms": ms(0.90),
            "p99_ms": ms(0.99),
            "p999_ms": ms(0.999),
            "max_ms": h.max() as f64 / 1000.0,
        })
    }

    pub fn to_json(&self, elapsed: Duration) -> Value {
        let secs = elapsed.as_secs_f64();
        json!({
            "requests": self.total(),
            "per_second": self.total() as f64 / secs,
            "created_201_per_second": self.count(201) as f64 / secs,
            "ok_2xx": self.statuses.range(200..300).map(|(_, v)| v).sum::<u64>(),
            "refused_409": self.count(409),
            "busy_429": self.count(429),
            "server_errors_5xx": self.count_5xx(),
            "other_errors": self.other(),
            "connection_errors": self.conn_errors,
            "statuses": self.statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "seats_acknowledged": self.seats_acknowledged,
            "latency": Self::latency_json(&self.latency_us),
            "refusal_latency": Self::latency_json(&self.refusal_us),
            "last_201_after_ms": self.last_created.map(|d| d.as_secs_f64() * 1000.0),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Correctness, from the database

#[derive(Debug, Default)]
pub struct Check {
    pub capacity: i64,
    pub seats_held: i64,
    pub seats_sold: i64,
    pub held_rows: i64,
    pub sold_rows: i64,
    pub bookings_rows: i64,
    pub acknowledged: usize,
    pub acknowledged_unique: usize,
    pub acknowledged_found: i64,
    pub acknowledged_seats: i64,
    pub acknowledged_seats_in_db: i64,
    pub api_held: Option<i64>,
    pub problems: Vec<String>,
}

impl Check {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "ok": self.ok(),
            "problems": self.problems,
            "capacity": self.capacity,
            "seats_held_counter": self.seats_held,
            "seats_sold_counter": self.seats_sold,
            "held_rows_quantity": self.held_rows,
            "sold_rows_quantity": self.sold_rows,
            "booking_rows": self.bookings_rows,
            "acknowledged_201": self.acknowledged,
            "acknowledged_references_found_in_db": self.acknowledged_found,
            "acknowledged_seats": self.acknowledged_seats,
            "acknowledged_seats_in_db": self.acknowledged_seats_in_db,
            "oversold": (self.held_rows + self.sold_rows - self.capacity).max(0),
            "api_held_after_run": self.api_held,
        })
    }
}

/// sold + held ≤ capacity (rows and counters), counters = rows, every 201's reference is in the
/// database exactly once, nothing written that was not acknowledged.
pub fn check(db: &BenchDb, event: i64, references: &[String], acknowledged_seats: i64, api_held: Option<i64>) -> Check {
    let mut c = Check {
        capacity: db.scalar(&format!("SELECT capacity FROM city_events WHERE id = {event}")),
        seats_held: db.scalar(&format!("SELECT seats_held FROM city_events WHERE id = {event}")),
        seats_sold: db.scalar(&format!("SELECT seats_sold FROM city_events WHERE id = {event}")),
        held_rows: db.scalar(&format!("SELECT coalesce(sum(quantity), 0) FROM bookings WHERE city_event_id = {event} AND status = 'held'")),
        sold_rows: db
            .scalar(&format!("SELECT coalesce(sum(quantity), 0) FROM bookings WHERE city_event_id = {event} AND status = 'confirmed'")),
        bookings_rows: db.scalar(&format!("SELECT count(*) FROM bookings WHERE city_event_id = {event}")),
        acknowledged: references.len(),
        acknowledged_seats,
        api_held,
        ..Default::default()
    };
    let mut unique = references.to_vec();
    unique.sort_unstable();
    unique.dedup();
    c.acknowledged_unique = unique.len();
    {
        #[derive(QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            seats: i64,
        }
        let mut conn = db.conn();
        let found: Found = diesel::sql_query(
            "SELECT count(*)::bigint AS n, coalesce(sum(quantity), 0)::bigint AS seats FROM bookings WHERE city_event_id = $1 AND reference = ANY($2)",
        )
        .bind::<diesel::sql_types::BigInt, _>(event)
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&unique)
        .get_result(&mut conn)
        .unwrap();
        c.acknowledged_found = found.n;
        c.acknowledged_seats_in_db = found.seats;
    }
    if c.held_rows + c.sold_rows > c.capacity {
        c.problems.push(format!("OVERSOLD: held {} + sold {} > capacity {}", c.held_rows, c.sold_rows, c.capacity));
    }
    if c.seats_held + c.seats_sold > c.capacity {
        c.problems.push(format!("counters above capacity: {} + {} > {}", c.seats_held, c.seats_sold, c.capacity));
    }
    if c.seats_held != c.held_rows || c.seats_sold != c.sold_rows {
        c.problems.push(format!("counters ({}, {}) differ from rows ({}, {})", c.seats_held, c.seats_sold, c.held_rows, c.sold_rows));
    }
    if c.acknowledged_unique != c.acknowledged {
        c.problems.push(format!("{} duplicate references among 201s", c.acknowledged - c.acknowledged_unique));
    }
    if c.acknowledged_found != c.acknowledged as i64 {
        c.problems.push(format!("LOST ACK: {} of {} acknowledged references are in the database", c.acknowledged_found, c.acknowledged));
    }
    if c.acknowledged_seats_in_db != c.acknowledged_seats {
        c.problems.push(format!(
            "acknowledged seats {} but {} in the database for those references",
            c.acknowledged_seats, c.acknowledged_seats_in_db
        ));
    }
    if c.bookings_rows != c.acknowledged as i64 {
        c.problems.push(format!("{} booking rows but {} acknowledged (unacknowledged writes?)", c.bookings_rows, c.acknowledged));
    }
    if let Some(api) = api_held {
        if api != c.held_rows {
            c.problems.push(format!("API (actor memory) shows {api} held, database {}", c.held_rows));
        }
    }
    c
}

// ---------------------------------------------------------------------------------------------
// CPU split: this process by thread name, PostgreSQL by process.

#[derive(Clone, Debug, Default)]
pub struct CpuSample {
    pub ticks: BTreeMap<&'static str, u64>,
}

fn stat_ticks(path: &std::path::Path) -> Option<(String, u64)> {
    let s = std::fs::read_to_string(path).ok()?;
    let open = s.find('(')?;
    let close = s.rfind(')')?;
    let comm = s[open + 1..close].to_string();
    let fields: Vec<&str> = s[close + 2..].split_whitespace().collect();
    // utime, stime are fields 14 and 15 (1-based); after "pid (comm) " they are at 11, 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

pub fn cpu_sample() -> CpuSample {
    let mut ticks: BTreeMap<&'static str, u64> = BTreeMap::new();
    let actor_tid = ACTOR_TID.load(std::sync::atomic::Ordering::Relaxed).to_string();
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for e in dir.flatten() {
            if let Some((comm, t)) = stat_ticks(&e.path().join("stat")) {
                // actix names every arbiter thread (HTTP workers too) "actix-rt|system:…", which the
                // kernel cuts to 15 characters; the actor arbiter is told apart by its thread id.
                let cat = if e.file_name().to_str() == Some(actor_tid.as_str()) {
                    "server_actor_arbiter"
                } else if comm.starts_with("actix-rt|system") || comm.starts_with("actix-server") {
                    "server_http_workers"
                } else if comm.starts_with("bench-client") {
                    "load_client"
                } else if comm.starts_with("bench-server") {
                    "server_system_accept"
                } else {
                    "other_threads"
                };
                *ticks.entry(cat).or_default() += t;
            }
        }
    }
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Some((comm, t)) = stat_ticks(&e.path().join("stat")) {
                if comm == "postgres" {
                    *ticks.entry("postgresql").or_default() += t;
                }
            }
        }
    }
    // The whole machine (first line of /proc/stat: user nice system idle iowait irq softirq steal).
    if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
        if let Some(line) = stat.lines().next() {
            let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
            if v.len() >= 8 {
                ticks.insert("machine_busy", v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
                ticks.insert("machine_iowait", v[4]);
            }
        }
    }
    CpuSample { ticks }
}

/// Cores busy on the whole machine over `window` (to see other work, e.g. a compiler, in the way).
pub fn machine_busy_cores(window: Duration) -> f64 {
    let a = cpu_sample();
    std::thread::sleep(window);
    let b = cpu_sample();
    let d = |k: &str| b.ticks.get(k).copied().unwrap_or(0).saturating_sub(a.ticks.get(k).copied().unwrap_or(0));
    d("machine_busy") as f64 / 100.0 / window.as_secs_f64()
}

/// Waits (up to `max`) until the machine is idle enough to measure; the busy level seen.
pub fn wait_for_quiet(max: Duration) -> f64 {
    let deadline = std::time::Instant::now() + max;
    let mut warned = false;
    loop {
        let busy = machine_busy_cores(Duration::from_millis(500));
        if busy < 0.3 || std::time::Instant::now() > deadline {
            if busy >= 0.3 {
                eprintln!("    warning: machine still busy ({busy:.2} cores) after waiting; measuring anyway");
            }
            return busy;
        }
        if !warned {
            eprintln!("    machine busy ({busy:.2} cores used by other processes); waiting for quiet …");
            warned = true;
        }
    }
}

/// CPU seconds per category between two samples (assumes 100 ticks/s, Linux's USER_HZ).
pub fn cpu_delta(before: &CpuSample, after: &CpuSample, wall: Duration) -> Value {
    let mut out = serde_json::Map::new();
    let mut total = 0.0;
    let w = wall.as_secs_f64();
    let mut machine = 0.0;
    for (k, v) in &after.ticks {
        let d = v.saturating_sub(before.ticks.get(k).copied().unwrap_or(0)) as f64 / 100.0;
        if k.starts_with("machine_") {
            if *k == "machine_busy" {
                machine = d;
            }
            out.insert(format!("{k}_cores"), json!(d / w));
            continue;
        }
        total += d;
        out.insert(k.to_string(), json!({"cpu_seconds": d, "cores": d / w}));
    }
    out.insert("bench_and_postgresql_cores".into(), json!(total / w));
    // What else ran on the machine meanwhile (kernel work for our sockets counts here too).
    out.insert("other_processes_cores".into(), json!(((machine - total) / w).max(0.0)));
    Value::Object(out)
}

/// The peak resident memory of this process (server and load client together), in KiB.
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
}
