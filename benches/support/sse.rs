//! The live-seats scenario: the server as its own process (the release binary, so its resident
//! memory is its own), `n` Server-Sent Events connections to `/live/availability` held open by
//! this process while clients take holds on the same city event. Measured: the server's
//! resident memory before and with the connections (per connection), its peak, and for probe
//! holds the delay from sending the hold to the moment the last connection has seen a count at
//! least as low as the one the actor showed right after the 201 (an upper bound on commit →
//! last connection).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

use super::{booking_body, connect, send, BenchDb, Kind};

pub struct SseSpec {
    pub connections: usize,
    pub hold_clients: usize,
    pub probes: usize,
}

struct Server {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Server {
    fn start(db: &BenchDb) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_billetterie"))
            .arg("serve")
            .env("APP_ENV", "development")
            .env("DATABASE_URL", &db.url)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("SEED_DEMO", "false")
            .env("RATE_LIMIT_BOOKINGS_PER_MINUTE", "0")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the server binary starts");
        Self { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) }
    }

    /// (resident, peak) KiB of the server process.
    fn rss(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn stop(mut self) {
        let _ = std::process::Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

async fn ready(addr: SocketAddr) {
    for _ in 0..600 {
        if let Ok(mut s) = connect(addr).await {
            if send(&mut s, Kind::Read, "/health", None).await.map(|o| o.status == 200).unwrap_or(false) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become healthy");
}

/// One open stream; `seen` is the lowest count it has been sent.
async fn listen(addr: SocketAddr, event: i64, seen: Arc<AtomicI64>, opened: Arc<std::sync::atomic::AtomicUsize>) {
    let Ok(mut sender) = connect(addr).await else { return };
    let req = hyper::Request::get(format!("/live/availability?ids={event}"))
        .header(hyper::header::HOST, "127.0.0.1")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let Ok(res) = sender.send_request(req).await else { return };
    opened.fetch_add(1, Ordering::Relaxed);
    let mut body = res.into_body();
    let key = b"\"available\":";
    while let Some(Ok(frame)) = body.frame().await {
        let Some(data) = frame.data_ref() else { continue };
        let mut rest: &[u8] = data;
        while let Some(p) = rest.windows(key.len()).position(|w| w == key) {
            rest = &rest[p + key.len()..];
            let digits: Vec<u8> = rest.iter().take_while(|b| b.is_ascii_digit()).copied().collect();
            if let Ok(n) = String::from_utf8_lossy(&digits).parse::<i64>() {
                seen.fetch_min(n, Ordering::Relaxed);
            }
        }
    }
}

async fn available(addr: SocketAddr, event: i64) -> i64 {
    let mut s = connect(addr).await.unwrap();
    let out = send(&mut s, Kind::Read, &format!("/api/v1/availability/{event}"), None).await.unwrap();
    serde_json::from_slice::<Value>(&out.body).ok().and_then(|v| v["available"].as_i64()).unwrap_or(-1)
}

pub fn run(rt: &tokio::runtime::Runtime, spec: &SseSpec) -> Value {
    super::wait_for_quiet(Duration::from_secs(30));
    let db = BenchDb::new();
    let event = db.add_city_event(1_000_000);
    let server = Server::start(&db);
    let addr = server.addr;
    let result = rt.block_on(async {
        ready(addr).await;
        let idle_rss = server.rss().0;
        let seen: Vec<Arc<AtomicI64>> = (0..spec.connections).map(|_| Arc::new(AtomicI64::new(i64::MAX))).collect();
        let opened = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let sem = Arc::new(tokio::sync::Semaphore::new(128));
        for s in &seen {
            let (s, opened, sem) = (s.clone(), opened.clone(), sem.clone());
            tokio::spawn(async move {
                let permit = sem.acquire_owned().await.unwrap();
                let opened2 = opened.clone();
                let before = opened2.load(Ordering::Relaxed);
                let task = tokio::spawn(listen(addr, event, s, opened));
                // The permit goes once this stream is open (or failed), keeping handshakes ≤ 128.
                while opened2.load(Ordering::Relaxed) == before && !task.is_finished() {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                drop(permit);
                let _ = task.await;
            });
        }
        while opened.load(Ordering::Relaxed) < spec.connections && started.elapsed() < Duration::from_secs(120) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let open = opened.load(Ordering::Relaxed);
        let connect_s = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let open_rss = server.rss().0;
        // Background holds on the same city event while the probes run.
        let stop = Arc::new(AtomicBool::new(false));
        let holds = Arc::new(AtomicI64::new(0));
        for _ in 0..spec.hold_clients {
            let (stop, holds) = (stop.clone(), holds.clone());
            tokio::spawn(async move {
                let Ok(mut s) = connect(addr).await else { return };
                while !stop.load(Ordering::Relaxed) {
                    match send(&mut s, Kind::Hold, "/api/v1/bookings/create", Some(booking_body(event, 1))).await {
                        Ok(o) if o.status == 201 => {
                            holds.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            });
        }
        let load_started = Instant::now();
        let mut delays_ms = vec![];
        let mut missed = 0;
        for _ in 0..spec.probes {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let sent = Instant::now();
            let mut s = connect(addr).await.unwrap();
            let out = send(&mut s, Kind::Hold, "/api/v1/bookings/create", Some(booking_body(event, 1))).await.unwrap();
            if out.status != 201 {
                missed += 1;
                continue;
            }
            let target = available(addr, event).await;
            loop {
                if seen.iter().all(|s| s.load(Ordering::Relaxed) <= target) {
                    delays_ms.push(sent.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
                if sent.elapsed() > Duration::from_secs(5) {
                    missed += 1;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let load_s = load_started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let (rss, peak) = server.rss();
        delays_ms.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| delays_ms.get(((delays_ms.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied();
        json!({
            "scenario": "sse",
            "connections_asked": spec.connections,
            "connections_open": open,
            "connect_s": connect_s,
            "server_rss_idle_kib": idle_rss,
            "server_rss_open_kib": open_rss,
            "server_rss_end_kib": rss,
            "server_peak_rss_kib": peak,
            "rss_per_connection_kib": (open_rss.saturating_sub(idle_rss)) as f64 / open.max(1) as f64,
            "hold_clients": spec.hold_clients,
            "holds_per_s": holds.load(Ordering::Relaxed) as f64 / load_s,
            "probes": spec.probes,
            "probes_missed": missed,
            "delay_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": delays_ms.last()},
        })
    });
    server.stop();
    eprintln!("[sse] {result}");
    result
}

pub fn print(r: &Value) {
    println!("### Live seats (Server-Sent Events)\n");
    println!("| connections open | connect s | server RSS idle MiB | with connections MiB | KiB per connection | server peak MiB | holds/s meanwhile | delay p50 ms | delay p99 ms | delay max ms | probes missed |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mib = |k: &str| r[k].as_f64().unwrap_or(f64::NAN) / 1024.0;
    println!(
        "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} | {} |\n",
        r["connections_open"],
        r["connect_s"].as_f64().unwrap_or(f64::NAN),
        mib("server_rss_idle_kib"),
        mib("server_rss_open_kib"),
        r["rss_per_connection_kib"].as_f64().unwrap_or(f64::NAN),
        mib("server_peak_rss_kib"),
        r["holds_per_s"].as_f64().unwrap_or(f64::NAN),
        r["delay_ms"]["p50"].as_f64().unwrap_or(f64::NAN),
        r["delay_ms"]["p99"].as_f64().unwrap_or(f64::NAN),
        r["delay_ms"]["max"].as_f64().unwrap_or(f64::NAN),
        r["probes_missed"]
    );
}
