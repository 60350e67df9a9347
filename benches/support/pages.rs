//! The pages scenario: `wrk` (a separate process) against the real server, for the availability
//! read (actor memory, the baseline of the same run), the landing page, a city page, the booking
//! form and `/health`; once with the page cache off (`PAGE_CACHE_TTL_MS=0`: every page rendered
//! from the database, as before the cache) and once with it on. After the cached run, a hold is
//! taken and every page must show the new count at once (the cache keeps seat counts live).

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use billetterie::config::HoldStrategy;
use billetterie::domain::Language;
use billetterie::web::paths;
use serde_json::{json, Value};

use super::{booking_body, connect, send, settings, BenchDb, Kind, RunningServer};

pub struct PagesSpec {
    pub connections: usize,
    pub duration: Duration,
    pub threads: usize,
}

fn wrk(addr: SocketAddr, path: &str, spec: &PagesSpec) -> Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/wrk/report.lua");
    let out = Command::new("wrk")
        .arg(format!("-t{}", spec.threads))
        .arg(format!("-c{}", spec.connections))
        .arg(format!("-d{}s", spec.duration.as_secs().max(1)))
        .arg("-s")
        .arg(&script)
        .arg(format!("http://{addr}{path}"))
        .output()
        .expect("wrk runs (scripts/bench installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).unwrap_or("{}");
    let mut v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
    if let Some(us) = v["duration_us"].as_f64() {
        v["rps"] = json!(v["requests"].as_f64().unwrap_or(0.0) / (us / 1e6));
    }
    v
}

/// `data-available="N"` of a city event in a page.
fn shown(html: &str, event: i64) -> Option<i64> {
    let key = format!("data-available-for=\"{event}\" data-available=\"");
    let start = html.find(&key)? + key.len();
    html[start..].split('"').next()?.parse().ok()
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = connect(addr).await.expect("connect");
    let out = send(&mut s, Kind::Read, path, None).await.expect("GET");
    (out.status, String::from_utf8_lossy(&out.body).into_owned())
}

/// After a hold, every page shows the actor's count (not the one it was cached with).
async fn live_counts_check(addr: SocketAddr, event: i64, pages: &[(&str, String)]) -> Vec<String> {
    let mut problems = vec![];
    let mut s = connect(addr).await.expect("connect");
    let held = send(&mut s, Kind::Hold, "/api/v1/bookings/create", Some(booking_body(event, 3))).await.expect("hold");
    if held.status != 201 {
        problems.push(format!("the check's hold answered {}", held.status));
    }
    let (_, body) = get(addr, &format!("/api/v1/availability/{event}")).await;
    let api = serde_json::from_str::<Value>(&body).ok().and_then(|v| v["available"].as_i64());
    for (name, path) in pages.iter().filter(|(n, _)| *n != "availability" && *n != "health") {
        let (status, html) = get(addr, path).await;
        let on_page = shown(&html, event);
        if status != 200 || on_page.is_none() || on_page != api {
            problems.push(format!("{name}: status {status}, page shows {on_page:?} seats, the actor {api:?}"));
        }
    }
    problems
}

pub fn run(rt: &tokio::runtime::Runtime, spec: &PagesSpec) -> Vec<Value> {
    let mut runs = vec![];
    for cache in [false, true] {
        super::wait_for_quiet(Duration::from_secs(30));
        let db = BenchDb::new();
        let event = db.add_city_event(1_000_000);
        let mut s = settings(&db, HoldStrategy::Actor);
        if !cache {
            s.page_cache_ttl_ms = 0;
        }
        let server = RunningServer::start(s);
        let addr = server.addr;
        let pages: Vec<(&str, String)> = vec![
            ("availability", format!("/api/v1/availability/{event}")),
            ("landing", "/fr/".to_owned()),
            ("city", paths::city("halifax", Language::Fr)),
            ("booking_form", paths::booking_form(event, Language::Fr)),
            ("health", "/health".to_owned()),
        ];
        let label = if cache { "cache on" } else { "cache off" };
        let mut results = serde_json::Map::new();
        for (name, path) in &pages {
            let (status, _) = rt.block_on(get(addr, path));
            assert_eq!(status, 200, "{path} answers 200 before it is measured");
            let before = super::cpu_sample();
            let mut r = wrk(addr, path, spec);
            let after = super::cpu_sample();
            r["cpu"] = super::cpu_delta(&before, &after, spec.duration);
            eprintln!(
                "[pages] {label} {name}: {:.0} req/s, p99 {:.1} ms, non-2xx {}",
                r["rps"].as_f64().unwrap_or(0.0),
                r["latency_us"]["p99"].as_f64().unwrap_or(0.0) / 1000.0,
                r["errors"]["status"]
            );
            results.insert((*name).to_owned(), r);
        }
        let problems = if cache { rt.block_on(live_counts_check(addr, event, &pages)) } else { vec![] };
        rt.block_on(server.stop());
        runs.push(json!({
            "scenario": "pages",
            "strategy": if cache { "page_cache" } else { "no_page_cache" },
            "connections": spec.connections,
            "threads": spec.threads,
            "duration_s": spec.duration.as_secs_f64(),
            "pages": results,
            "live_counts_problems": problems,
            "peak_rss_kib": super::peak_rss_kib(),
        }));
    }
    runs
}

/// The table, with each page's rate as a share of the availability read of the same run.
pub fn print(runs: &[Value]) {
    println!("### Pages (wrk, {} connections)\n", runs.first().map(|r| r["connections"].clone()).unwrap_or_default());
    println!("| page cache | page | req/s | p50 ms | p99 ms | share of the read rate | non-2xx |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for r in runs {
        let read = r["pages"]["availability"]["rps"].as_f64().unwrap_or(f64::NAN);
        for name in ["availability", "landing", "city", "booking_form", "health"] {
            let p = &r["pages"][name];
            let rps = p["rps"].as_f64().unwrap_or(f64::NAN);
            println!(
                "| {} | {name} | {rps:.0} | {:.2} | {:.2} | {:.0} % | {} |",
                if r["strategy"] == "page_cache" { "on" } else { "off" },
                p["latency_us"]["p50"].as_f64().unwrap_or(f64::NAN) / 1000.0,
                p["latency_us"]["p99"].as_f64().unwrap_or(f64::NAN) / 1000.0,
                100.0 * rps / read,
                p["errors"]["status"]
            );
        }
        let problems = r["live_counts_problems"].as_array().map(|a| a.len()).unwrap_or(0);
        if r["strategy"] == "page_cache" {
            println!("\nlive seat counts after a hold, on every cached page: {}\n", if problems == 0 { "ok" } else { "WRONG" });
        }
    }
    println!();
}
