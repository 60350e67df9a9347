//! On-sale burst: the real server (`Application::build`) on a fresh PostgreSQL database per run,
//! hammered over real HTTP/1 keep-alive connections, for both hold strategies (`actor` and the
//! `row_lock` baseline).
//!
//! Scenarios (each run with a freshly started server and a fresh database):
//!   hot      one city event with 1,000,000 seats; N clients each POST holds (quantity 1–4) in a loop
//!            for a fixed time: holds/s, latency p50/p99/p99.9, errors by status.
//!   sellout  200 seats; 5,000 clients, one POST each (quantity 1), all released together: time to
//!            sell out, exactly 200 sold, refusal latency.
//!   mixed    256 clients, 90 % GET availability / 10 % POST hold: reads/s, holds/s, latencies.
//!   pages    wrk against the availability read, the landing page, a city page, the booking form
//!            and /health, with the page cache off then on (`support/pages.rs`).
//!   sse      10,000 live-seat streams open while holds run: memory per stream, commit → last
//!            stream delay (`support/sse.rs`; the server runs as its own process there).
//! After every run the database is checked (never above capacity, counters = rows, every 201's
//! reference stored, nothing stored that was not acknowledged).
//!
//! The measured runs are driven by this file's own loop (they take seconds each, so criterion's
//! ten-samples minimum would multiply the run time); criterion then times one representative
//! burst per strategy with `iter_custom`. Results: tables on stdout, JSON in
//! `bench-results/burst.json`.
//!
//! Environment: `BENCH_QUICK=1` (smoke run: 1 s, fewer clients), `BENCH_DURATION_SECS`,
//! `BENCH_HOT_CLIENTS=64,256,1000`, `BENCH_SELLOUT_CLIENTS`, `BENCH_SELLOUT_SEATS`,
//! `BENCH_MIXED_CLIENTS`, `BENCH_SCENARIOS=hot,sellout,mixed,pages,sse`, `BENCH_PAGES_CONNECTIONS`,
//! `BENCH_WRK_THREADS`, `BENCH_SSE_CONNECTIONS`, `BENCH_SSE_HOLD_CLIENTS`, `BENCH_SSE_PROBES`, `BENCH_STRATEGIES=actor,row_lock`,
//! `BENCH_CLIENT_THREADS` (load generator threads, default 2), `BENCH_CRITERION=0` (skip criterion),
//! `BENCH_SET_<SETTING>=value` (server settings, e.g. `BENCH_SET_DATABASE_POOL_SIZE=32`),
//! `BENCH_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/postgres).

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use billetterie::config::HoldStrategy;
use bytes::Bytes;
use criterion::{Criterion, SamplingMode};
use serde_json::{json, Value};
use support::*;

const HOLD_PATH: &str = "/api/v1/bookings/create";

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Each client loops until this much time has passed since the start signal.
    For(Duration),
    /// Each client sends this many requests.
    Count(usize),
}

#[derive(Clone, Copy, Debug)]
struct Load {
    clients: usize,
    mode: Mode,
    /// Reads per thousand requests (the rest are holds).
    read_permille: u64,
    /// Quantity 1–4 at random, else 1.
    random_quantity: bool,
}

struct LoadResult {
    holds: Stats,
    reads: Stats,
    /// From the start signal to the last answer.
    elapsed: Duration,
    connect: Duration,
}

/// Connects every client first, then releases them together and times until the last answer.
async fn load(addr: SocketAddr, event: i64, spec: Load) -> LoadResult {
    let bodies: Arc<Vec<Bytes>> = Arc::new((1..=4).map(|q| booking_body(event, q)).collect());
    let read_path: Arc<str> = format!("/api/v1/availability/{event}").into();
    let c0 = Instant::now();
    let senders = connect_many(addr, spec.clients).await;
    let connect_time = c0.elapsed();
    let (go_tx, go_rx) = tokio::sync::watch::channel::<Option<Instant>>(None);
    let mut tasks = Vec::with_capacity(spec.clients);
    for (i, mut sender) in senders.into_iter().enumerate() {
        let mut go = go_rx.clone();
        let bodies = bodies.clone();
        let read_path = read_path.clone();
        tasks.push(tokio::spawn(async move {
            let mut holds = Stats::default();
            let mut reads = Stats::default();
            let mut rng = Rng::new(i as u64 + 1);
            let t0 = go.wait_for(|v| v.is_some()).await.unwrap().unwrap();
            let mut sent = 0usize;
            loop {
                match spec.mode {
                    Mode::For(d) => {
                        if t0.elapsed() >= d {
                            break;
                        }
                    }
                    Mode::Count(n) => {
                        if sent >= n {
                            break;
                        }
                    }
                }
                sent += 1;
                let kind = if spec.read_permille > 0 && rng.below(1000) < spec.read_permille { Kind::Read } else { Kind::Hold };
                let quantity = if spec.random_quantity { rng.below(4) as u32 + 1 } else { 1 };
                let started = Instant::now();
                let result = match kind {
                    Kind::Hold => send(&mut sender, kind, HOLD_PATH, Some(bodies[quantity as usize - 1].clone())).await,
                    Kind::Read => send(&mut sender, kind, &read_path, None).await,
                };
                let stats = if kind == Kind::Hold { &mut holds } else { &mut reads };
                match result {
                    Ok(outcome) => stats.record(kind, started.elapsed(), t0.elapsed(), &outcome, quantity),
                    Err(_) => {
                        stats.conn_errors += 1;
                        // The server closed the connection (or refused it): open another.
                        loop {
                            match connect(addr).await {
                                Ok(s) => {
                                    sender = s;
                                    break;
                                }
                                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                            }
                            if let Mode::For(d) = spec.mode {
                                if t0.elapsed() >= d {
                                    break;
                                }
                            }
                        }
                    }
                }
            }
            (holds, reads, Instant::now())
        }));
    }
    let t0 = Instant::now();
    go_tx.send(Some(t0)).unwrap();
    let mut holds = Stats::default();
    let mut reads = Stats::default();
    let mut last = t0;
    for t in tasks {
        let (h, r, done) = t.await.unwrap();
        holds.merge(h);
        reads.merge(r);
        last = last.max(done);
    }
    LoadResult { holds, reads, elapsed: last - t0, connect: connect_time }
}

struct Config {
    quick: bool,
    duration: Duration,
    hot_clients: Vec<usize>,
    sellout_clients: usize,
    sellout_seats: i32,
    mixed_clients: usize,
    scenarios: Vec<String>,
    strategies: Vec<HoldStrategy>,
    client_threads: usize,
    criterion: bool,
    pages: support::pages::PagesSpec,
    sse: support::sse::SseSpec,
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

impl Config {
    fn from_env() -> Self {
        let quick = std::env::var("BENCH_QUICK").map(|v| v != "0" && !v.is_empty()).unwrap_or(false);
        let list = |key: &str, default: &str| -> Vec<String> {
            std::env::var(key)
                .unwrap_or_else(|_| default.into())
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let hot_default = if quick { "16,64,128" } else { "64,256,1000" };
        let strategies = list("BENCH_STRATEGIES", "actor,row_lock")
            .iter()
            .map(|s| match s.as_str() {
                "actor" => HoldStrategy::Actor,
                "row_lock" => HoldStrategy::RowLock,
                other => panic!("unknown strategy {other}"),
            })
            .collect();
        Self {
            quick,
            duration: Duration::from_secs_f64(env_or("BENCH_DURATION_SECS", if quick { 1.0 } else { 5.0 })),
            hot_clients: list("BENCH_HOT_CLIENTS", hot_default).iter().map(|s| s.parse().expect("BENCH_HOT_CLIENTS")).collect(),
            sellout_clients: env_or("BENCH_SELLOUT_CLIENTS", if quick { 500 } else { 5000 }),
            sellout_seats: env_or("BENCH_SELLOUT_SEATS", if quick { 50 } else { 200 }),
            mixed_clients: env_or("BENCH_MIXED_CLIENTS", if quick { 64 } else { 256 }),
            scenarios: list("BENCH_SCENARIOS", "hot,sellout,mixed,pages,sse"),
            strategies,
            client_threads: env_or("BENCH_CLIENT_THREADS", 2),
            criterion: std::env::var("BENCH_CRITERION").map(|v| v != "0").unwrap_or(true),
            pages: support::pages::PagesSpec {
                connections: env_or("BENCH_PAGES_CONNECTIONS", 256),
                duration: Duration::from_secs_f64(env_or("BENCH_DURATION_SECS", if quick { 1.0 } else { 5.0 })),
                threads: env_or("BENCH_WRK_THREADS", 2),
            },
            sse: support::sse::SseSpec {
                connections: env_or("BENCH_SSE_CONNECTIONS", if quick { 1000 } else { 10_000 }),
                hold_clients: env_or("BENCH_SSE_HOLD_CLIENTS", 64),
                probes: env_or("BENCH_SSE_PROBES", if quick { 5 } else { 20 }),
            },
        }
    }
}

/// One measured run: fresh database, fresh server, optional warm-up, the load, checks.
fn run(rt: &tokio::runtime::Runtime, scenario: &str, strategy: HoldStrategy, capacity: i32, spec: Load, warm_up: bool) -> Value {
    let quiet_before = wait_for_quiet(Duration::from_secs(env_or("BENCH_QUIET_WAIT_SECS", 90)));
    let db = BenchDb::new();
    let event = db.add_city_event(capacity);
    let server = RunningServer::start(settings(&db, strategy));
    let addr = server.addr;
    let name = strategy_name(strategy);
    eprintln!("[{scenario}] {name}: {} clients, {:?} …", spec.clients, spec.mode);
    let (warm, result, cpu, api_held) = rt.block_on(async {
        // Open the pool's connections and touch the pages before measuring.
        let warm = if warm_up {
            Some(
                load(
                    addr,
                    event,
                    Load { clients: 16, mode: Mode::For(Duration::from_millis(300)), read_permille: 0, random_quantity: true },
                )
                .await,
            )
        } else {
            None
        };
        let before = cpu_sample();
        let result = load(addr, event, spec).await;
        let after = cpu_sample();
        let cpu = cpu_delta(&before, &after, result.elapsed + result.connect);
        let api_held = if strategy == HoldStrategy::Actor {
            let mut s = connect(addr).await.unwrap();
            let out = send(&mut s, Kind::Read, &format!("/api/v1/availability/{event}"), None).await.unwrap();
            serde_json::from_slice::<Value>(&out.body).ok().and_then(|v| v["held"].as_i64())
        } else {
            None // row_lock writes behind the actor's back: its memory (the availability API) is stale
        };
        (warm, result, cpu, api_held)
    });
    rt.block_on(server.stop());
    let mut references = result.holds.references.clone();
    let mut seats = result.holds.seats_acknowledged;
    if let Some(w) = &warm {
        references.extend(w.holds.references.iter().cloned());
        seats += w.holds.seats_acknowledged;
    }
    let mut check = check(&db, event, &references, seats, api_held);
    if scenario == "sellout" && (check.held_rows != i64::from(capacity) || check.seats_held != i64::from(capacity)) {
        check
            .problems
            .push(format!("not exactly sold out: {} held rows, counter {}, capacity {capacity}", check.held_rows, check.seats_held));
    }
    let mut warm_json = Value::Null;
    if let Some(w) = &warm {
        warm_json = json!({"holds_201": w.holds.count(201), "holds_5xx": w.holds.count_5xx(), "requests": w.holds.total()});
    }
    let v = json!({
        "scenario": scenario,
        "strategy": name,
        "clients": spec.clients,
        "mode": match spec.mode { Mode::For(d) => json!({"duration_s": d.as_secs_f64()}), Mode::Count(n) => json!({"requests_per_client": n}) },
        "read_fraction": spec.read_permille as f64 / 1000.0,
        "capacity": capacity,
        "connect_s": result.connect.as_secs_f64(),
        "elapsed_s": result.elapsed.as_secs_f64(),
        "holds": result.holds.to_json(result.elapsed),
        "reads": if result.reads.total() > 0 { result.reads.to_json(result.elapsed) } else { Value::Null },
        "warm_up": warm_json,
        "check": check.to_json(),
        "cpu": cpu,
        "machine_busy_cores_before": quiet_before,
    });
    let other = v["cpu"]["other_processes_cores"].as_f64().unwrap_or(0.0);
    if other > 0.3 {
        eprintln!("    warning: other processes used {other:.2} cores during this run; its numbers are disturbed");
    }
    eprintln!(
        "    {name}: {:.0} holds/s, {} reads, 5xx {}, check {}",
        result.holds.count(201) as f64 / result.elapsed.as_secs_f64(),
        result.reads.total(),
        result.holds.count_5xx() + result.reads.count_5xx(),
        if check.ok() { "ok".to_string() } else { check.problems.join("; ") }
    );
    v
}

// ---------------------------------------------------------------------------------------------
// Tables

fn f(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_f64()
}

fn num(x: Option<f64>, digits: usize) -> String {
    match x {
        Some(x) => format!("{x:.digits$}"),
        None => "-".into(),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.1}x", a / b),
        _ => "-".into(),
    }
}

fn find<'a>(runs: &'a [Value], scenario: &str, strategy: &str, clients: Option<usize>) -> Option<&'a Value> {
    runs.iter()
        .find(|r| r["scenario"] == scenario && r["strategy"] == strategy && clients.is_none_or(|c| r["clients"].as_u64() == Some(c as u64)))
}

fn errors(s: &Value) -> String {
    format!(
        "{}/{}/{}/{}",
        s["busy_429"].as_u64().unwrap_or(0),
        s["server_errors_5xx"].as_u64().unwrap_or(0),
        s["other_errors"].as_u64().unwrap_or(0),
        s["connection_errors"].as_u64().unwrap_or(0)
    )
}

fn check_cell(r: &Value) -> &'static str {
    if r["check"]["ok"].as_bool() == Some(true) {
        "ok"
    } else {
        "FAIL"
    }
}

fn print_tables(runs: &[Value], cfg: &Config) {
    let mut out = String::new();
    use std::fmt::Write;
    if cfg.scenarios.iter().any(|s| s == "hot") {
        let _ = writeln!(out, "\n## hot event (capacity 1,000,000, quantity 1-4, {:.0} s per run)\n", cfg.duration.as_secs_f64());
        let _ = writeln!(
            out,
            "| clients | strategy | holds/s | p50 ms | p99 ms | p99.9 ms | 201 | 429/5xx/other/conn | check | actor/row_lock |"
        );
        let _ = writeln!(out, "|---:|---|---:|---:|---:|---:|---:|---|---|---:|");
        for &c in &cfg.hot_clients {
            let actor = find(runs, "hot", "actor", Some(c)).and_then(|r| f(r, &["holds", "created_201_per_second"]));
            let row = find(runs, "hot", "row_lock", Some(c)).and_then(|r| f(r, &["holds", "created_201_per_second"]));
            for s in ["actor", "row_lock"] {
                let Some(r) = find(runs, "hot", s, Some(c)) else { continue };
                let h = &r["holds"];
                let _ = writeln!(
                    out,
                    "| {c} | {s} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    num(f(h, &["created_201_per_second"]), 0),
                    num(f(h, &["latency", "p50_ms"]), 2),
                    num(f(h, &["latency", "p99_ms"]), 2),
                    num(f(h, &["latency", "p999_ms"]), 2),
                    h["statuses"]["201"].as_u64().unwrap_or(0),
                    errors(h),
                    check_cell(r),
                    if s == "actor" { ratio(actor, row) } else { String::new() },
                );
            }
        }
    }
    if cfg.scenarios.iter().any(|s| s == "sellout") {
        let _ = writeln!(out, "\n## sell-out ({} clients, one hold each, {} seats, quantity 1)\n", cfg.sellout_clients, cfg.sellout_seats);
        let _ = writeln!(
            out,
            "| strategy | sold out after ms | all answered ms | sold (201) | refused (409) | refusal p50 ms | refusal p99 ms | hold p99 ms | 429/5xx/other/conn | check |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---|---|");
        let t = |s| find(runs, "sellout", s, None).and_then(|r| f(r, &["holds", "last_201_after_ms"]));
        for s in ["actor", "row_lock"] {
            let Some(r) = find(runs, "sellout", s, None) else { continue };
            let h = &r["holds"];
            let _ = writeln!(
                out,
                "| {s} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                num(f(h, &["last_201_after_ms"]), 1),
                num(f(r, &["elapsed_s"]).map(|x| x * 1000.0), 1),
                h["statuses"]["201"].as_u64().unwrap_or(0),
                h["refused_409"].as_u64().unwrap_or(0),
                num(f(h, &["refusal_latency", "p50_ms"]), 2),
                num(f(h, &["refusal_latency", "p99_ms"]), 2),
                num(f(h, &["latency", "p99_ms"]), 2),
                errors(h),
                check_cell(r),
            );
        }
        let _ = writeln!(out, "\nrow_lock/actor time to sell out: {}", ratio(t("row_lock"), t("actor")));
    }
    if cfg.scenarios.iter().any(|s| s == "mixed") {
        let _ = writeln!(
            out,
            "\n## mixed on-sale traffic ({} clients, 90 % GET availability / 10 % hold, {:.0} s)\n",
            cfg.mixed_clients,
            cfg.duration.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "| strategy | reads/s | read p50 ms | read p99 ms | holds/s | hold p50 ms | hold p99 ms | 429/5xx/other/conn (holds) | 5xx (reads) | check |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|---:|---|");
        for s in ["actor", "row_lock"] {
            let Some(r) = find(runs, "mixed", s, None) else { continue };
            let h = &r["holds"];
            let rd = &r["reads"];
            let _ = writeln!(
                out,
                "| {s} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                num(f(rd, &["per_second"]), 0),
                num(f(rd, &["latency", "p50_ms"]), 2),
                num(f(rd, &["latency", "p99_ms"]), 2),
                num(f(h, &["created_201_per_second"]), 0),
                num(f(h, &["latency", "p50_ms"]), 2),
                num(f(h, &["latency", "p99_ms"]), 2),
                errors(h),
                rd["server_errors_5xx"].as_u64().unwrap_or(0),
                check_cell(r),
            );
        }
        let ra = find(runs, "mixed", "actor", None).and_then(|r| f(r, &["reads", "per_second"]));
        let rr = find(runs, "mixed", "row_lock", None).and_then(|r| f(r, &["reads", "per_second"]));
        let ha = find(runs, "mixed", "actor", None).and_then(|r| f(r, &["holds", "created_201_per_second"]));
        let hr = find(runs, "mixed", "row_lock", None).and_then(|r| f(r, &["holds", "created_201_per_second"]));
        let _ = writeln!(out, "\nactor/row_lock: reads {}, holds {}", ratio(ra, rr), ratio(ha, hr));
    }
    let _ = writeln!(out, "\n## CPU split (cores busy during each measured run; 2.00 = both cores)\n");
    let _ = writeln!(
        out,
        "| scenario | strategy | clients | HTTP workers | actor thread | PostgreSQL | load client | other processes | iowait |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        let c = &r["cpu"];
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r["scenario"].as_str().unwrap_or(""),
            r["strategy"].as_str().unwrap_or(""),
            r["clients"],
            num(f(c, &["server_http_workers", "cores"]), 2),
            num(f(c, &["server_actor_arbiter", "cores"]), 2),
            num(f(c, &["postgresql", "cores"]), 2),
            num(f(c, &["load_client", "cores"]), 2),
            num(f(c, &["other_processes_cores"]), 2),
            num(f(c, &["machine_iowait_cores"]), 2),
        );
    }
    println!("{out}");
}

/// The goals, evaluated on this run's numbers.
fn goals(runs: &[Value], pages: &[Value], sse: &Value, cfg: &Config) -> Vec<Value> {
    let mut out = Vec::new();
    let holds = |s: &str, c: usize| find(runs, "hot", s, Some(c)).and_then(|r| f(r, &["holds", "created_201_per_second"]));
    let mut goal = |name: String, value: Option<f64>, target: String, met: Option<bool>| {
        out.push(json!({"goal": name, "value": value, "target": target, "met": met}));
    };
    let (lo, hi) = (cfg.hot_clients.first().copied(), cfg.hot_clients.last().copied());
    let mid = cfg.hot_clients.iter().copied().find(|&c| c == 256).or(cfg.hot_clients.get(1).copied());
    for c in [mid, hi].into_iter().flatten().collect::<std::collections::BTreeSet<_>>() {
        let (a, r) = (holds("actor", c), holds("row_lock", c));
        let x = a.zip(r).map(|(a, r)| a / r);
        goal(format!("holds/s at {c} clients: actor >= 30x row_lock"), x, ">= 30".into(), x.map(|x| x >= 30.0));
        let read = pages.iter().find(|r| r["strategy"] == "page_cache").and_then(|r| f(r, &["pages", "availability", "rps"]));
        let share = a.zip(read).map(|(a, r)| a / r);
        goal(format!("holds/s at {c} clients / availability reads/s (wrk, same run)"), share, ">= 0.25".into(), share.map(|x| x >= 0.25));
    }
    let cached = pages.iter().find(|r| r["strategy"] == "page_cache");
    if let Some(r) = cached {
        let read = f(r, &["pages", "availability", "rps"]);
        for page in ["landing", "city", "booking_form"] {
            let share = f(r, &["pages", page, "rps"]).zip(read).map(|(p, r)| p / r);
            goal(format!("{page} req/s / availability reads/s (wrk, same run)"), share, ">= 0.30".into(), share.map(|x| x >= 0.30));
            let p99 = f(r, &["pages", page, "latency_us", "p99"]).map(|us| us / 1000.0);
            goal(format!("{page} p99 (ms)"), p99, "< 50".into(), p99.map(|x| x < 50.0));
        }
        let wrong = r["live_counts_problems"].as_array().map(|a| a.len() as f64);
        goal("cached pages showing a stale seat count after a hold".into(), wrong, "0".into(), wrong.map(|x| x == 0.0));
    }
    if !sse.is_null() {
        let p99 = sse["delay_ms"]["p99"].as_f64();
        goal(
            format!("live seats: commit -> last of {} connections, p99 (ms)", sse["connections_open"]),
            p99,
            "< 1000".into(),
            p99.map(|x| x < 1000.0),
        );
        let open = sse["connections_open"].as_f64();
        goal(
            "live seats: connections open".into(),
            open,
            format!(">= {}", cfg.sse.connections),
            open.map(|x| x >= cfg.sse.connections as f64),
        );
    }
    if let (Some(lo), Some(hi)) = (lo, hi) {
        let x = holds("actor", hi).zip(holds("actor", lo)).map(|(h, l)| h / l);
        goal(format!("actor holds/s at {hi} clients / at {lo} clients"), x, ">= 0.90".into(), x.map(|x| x >= 0.9));
        let p99 = find(runs, "hot", "actor", Some(hi)).and_then(|r| f(r, &["holds", "latency", "p99_ms"]));
        goal(format!("actor hold p99 at {hi} clients (ms)"), p99, "< 50".into(), p99.map(|x| x < 50.0));
        if let Some(mid) = mid.filter(|&m| m != hi) {
            let x = holds("actor", hi).zip(holds("actor", mid)).map(|(h, m)| h / m);
            goal(format!("actor holds/s at {hi} clients / at {mid} clients"), x, ">= 0.95".into(), x.map(|x| x >= 0.95));
        }
    }
    if let Some(r) = find(runs, "sellout", "actor", None) {
        let all = f(r, &["elapsed_s"]).map(|x| x * 1000.0);
        goal("sell-out: every request answered after the first (ms)".into(), all, "<= 100".into(), all.map(|x| x <= 100.0));
    }
    let reads = find(runs, "mixed", "actor", None).and_then(|r| f(r, &["reads", "per_second"]));
    goal("actor availability reads/s (mixed)".into(), reads, ">= 30000".into(), reads.map(|x| x >= 30_000.0));
    let oversold: i64 = runs.iter().map(|r| r["check"]["oversold"].as_i64().unwrap_or(0)).sum();
    goal("seats oversold, all runs, both strategies".into(), Some(oversold as f64), "0".into(), Some(oversold == 0));
    let fivexx = |s: &str| -> u64 {
        runs.iter()
            .filter(|r| r["strategy"] == s)
            .map(|r| r["holds"]["server_errors_5xx"].as_u64().unwrap_or(0) + r["reads"]["server_errors_5xx"].as_u64().unwrap_or(0))
            .sum()
    };
    goal("5xx answers, actor runs".into(), Some(fivexx("actor") as f64), "0".into(), Some(fivexx("actor") == 0));
    goal("5xx answers, row_lock runs (reported, no target)".into(), Some(fivexx("row_lock") as f64), "-".into(), None);
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| r["check"]["ok"].as_bool() != Some(true))
        .map(|r| format!("{}/{}/{}", r["scenario"], r["strategy"], r["clients"]).replace('"', ""))
        .collect();
    goal(format!("database checks failed: {failed:?}"), Some(failed.len() as f64), "0".into(), Some(failed.is_empty()));
    out
}

fn machine(rt: &tokio::runtime::Runtime) -> Value {
    let _ = rt;
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let meminfo = read("/proc/meminfo");
    let mem_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(str::trim).unwrap_or("");
    let db = BenchDb::new();
    let show = |what: &str| -> String {
        #[derive(diesel::QueryableByName)]
        struct S {
            #[diesel(sql_type = diesel::sql_types::Text)]
            s: String,
        }
        use diesel::RunQueryDsl;
        let mut conn = db.conn();
        diesel::sql_query(format!("SELECT ({what})::text AS s")).get_result::<S>(&mut conn).map(|r| r.s).unwrap_or_default()
    };
    json!({
        "nproc": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": model,
        "memory_gib": mem_kb as f64 / 1024.0 / 1024.0,
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "postgresql": show("version()"),
        "fsync": show("current_setting('fsync')"),
        "synchronous_commit": show("current_setting('synchronous_commit')"),
        "shared_buffers": show("current_setting('shared_buffers')"),
        "max_connections": show("current_setting('max_connections')"),
    })
}

// ---------------------------------------------------------------------------------------------

fn main() {
    if std::env::var("BENCH_LOG").is_ok() {
        billetterie::telemetry::init(billetterie::config::LogFormat::Pretty);
    }
    let cfg = Config::from_env();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.client_threads)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let machine = machine(&rt);
    eprintln!("machine: {machine}");
    let mut runs = Vec::new();
    let mut pages_runs = Vec::new();
    let mut sse_run = Value::Null;
    for scenario in &cfg.scenarios {
        match scenario.as_str() {
            "pages" => {
                pages_runs = support::pages::run(&rt, &cfg.pages);
                continue;
            }
            "sse" => {
                sse_run = support::sse::run(&rt, &cfg.sse);
                continue;
            }
            _ => {}
        }
        for &strategy in &cfg.strategies {
            match scenario.as_str() {
                "hot" => {
                    for &clients in &cfg.hot_clients {
                        let spec = Load { clients, mode: Mode::For(cfg.duration), read_permille: 0, random_quantity: true };
                        runs.push(run(&rt, "hot", strategy, 1_000_000, spec, true));
                    }
                }
                "sellout" => {
                    let spec = Load { clients: cfg.sellout_clients, mode: Mode::Count(1), read_permille: 0, random_quantity: false };
                    runs.push(run(&rt, "sellout", strategy, cfg.sellout_seats, spec, false));
                }
                "mixed" => {
                    let spec =
                        Load { clients: cfg.mixed_clients, mode: Mode::For(cfg.duration), read_permille: 900, random_quantity: true };
                    runs.push(run(&rt, "mixed", strategy, 1_000_000, spec, true));
                }
                other => panic!("unknown scenario {other}"),
            }
        }
    }
    // Hot runs in the order of the table (by clients), whatever the loop order.
    print_tables(&runs, &cfg);
    if !pages_runs.is_empty() {
        support::pages::print(&pages_runs);
    }
    if !sse_run.is_null() {
        support::sse::print(&sse_run);
    }
    let goals = goals(&runs, &pages_runs, &sse_run, &cfg);
    println!("## goals\n");
    for g in &goals {
        let met = match g["met"].as_bool() {
            Some(true) => "MET",
            Some(false) => "MISSED",
            None => "info",
        };
        println!(
            "- [{met}] {}: {} (target {})",
            g["goal"].as_str().unwrap_or(""),
            num(g["value"].as_f64(), 2),
            g["target"].as_str().unwrap_or("")
        );
    }
    let measured_s = started.elapsed().as_secs_f64();

    let criterion = if cfg.criterion { criterion_bursts(&rt, &cfg) } else { Value::Null };

    let report = json!({
        "bench": "burst",
        "quick": cfg.quick,
        "machine": machine,
        "config": {
            "duration_s": cfg.duration.as_secs_f64(),
            "hot_clients": cfg.hot_clients,
            "sellout_clients": cfg.sellout_clients,
            "sellout_seats": cfg.sellout_seats,
            "mixed_clients": cfg.mixed_clients,
            "client_threads": cfg.client_threads,
            "server": "development defaults: database_pool_size 16, actor_max_batch 512, actor_max_inflight 4096, HTTP workers = cores",
        },
        "runs": runs,
        "pages": pages_runs,
        "sse": sse_run,
        "peak_rss_kib": peak_rss_kib(),
        "goals": goals,
        "criterion": criterion,
        "measured_runs_s": measured_s,
        "total_s": started.elapsed().as_secs_f64(),
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("burst.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("\nresults: {} (total {:.0} s)", path.display(), started.elapsed().as_secs_f64());
}

/// Criterion's view: one burst = 64 clients (already connected) × 4 holds on a hot event; the
/// time from the start signal to the last answer. One server per strategy for all samples.
fn criterion_bursts(rt: &tokio::runtime::Runtime, cfg: &Config) -> Value {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(if cfg.quick { 1 } else { 3 }))
        .without_plots()
        .configure_from_args();
    let mut results = serde_json::Map::new();
    let (clients, per_client) = (64, 4);
    for &strategy in &cfg.strategies {
        let db = BenchDb::new();
        let event = db.add_city_event(1_000_000);
        let server = RunningServer::start(settings(&db, strategy));
        let addr = server.addr;
        let acked = Arc::new(std::sync::Mutex::new((Vec::<String>::new(), 0i64, 0u64, 0u64)));
        {
            let mut group = c.benchmark_group("burst");
            group.sampling_mode(SamplingMode::Flat);
            let acked = acked.clone();
            group.bench_function(format!("{}/{clients}x{per_client}_holds", strategy_name(strategy)), move |b| {
                b.to_async(rt).iter_custom(|iters| {
                    let acked = acked.clone();
                    async move {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let r =
                                load(addr, event, Load { clients, mode: Mode::Count(per_client), read_permille: 0, random_quantity: true })
                                    .await;
                            total += r.elapsed;
                            let mut a = acked.lock().unwrap();
                            a.0.extend(r.holds.references.iter().cloned());
                            a.1 += r.holds.seats_acknowledged;
                            a.2 += r.holds.count_5xx();
                            a.3 += 1;
                        }
                        total
                    }
                })
            });
            group.finish();
        }
        rt.block_on(server.stop());
        let a = acked.lock().unwrap();
        let check = check(&db, event, &a.0, a.1, None);
        eprintln!(
            "criterion {}: {} bursts, {} holds acknowledged, 5xx {}, check {}",
            strategy_name(strategy),
            a.3,
            a.0.len(),
            a.2,
            if check.ok() { "ok".into() } else { check.problems.join("; ") }
        );
        results.insert(
            strategy_name(strategy).into(),
            json!({"bursts": a.3, "clients": clients, "holds_per_client": per_client, "acknowledged": a.0.len(), "server_errors_5xx": a.2, "check": check.to_json()}),
        );
    }
    c.final_summary();
    Value::Object(results)
}
