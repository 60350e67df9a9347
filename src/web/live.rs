//! Live seat counts for the pages, as Server-Sent Events: each open page subscribes to the city
//! events it shows and gets a message whenever an actor's published snapshot changes. Reads
//! only the snapshots (no database, no actor mailbox), so thousands of open pages cost little.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::domain::CityEventId;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LiveQuery {
    /// Comma-separated city event ids; empty = every running actor.
    #[serde(default)]
    ids: String,
}

const TICK: Duration = Duration::from_millis(250);
const KEEPALIVE: Duration = Duration::from_secs(15);
/// Streams end after this long and the browser reconnects (`retry`), so no connection lives
/// forever and a restarted server is picked up.
const LIFETIME: Duration = Duration::from_secs(300);

#[tracing::instrument(name = "web.live.availability", skip_all)]
pub async fn availability(state: web::Data<AppState>, query: web::Query<LiveQuery>) -> HttpResponse {
    let mut ids: Vec<i64> = query.ids.split(',').filter_map(|s| s.trim().parse().ok()).take(64).collect();
    if ids.is_empty() {
        ids = state.registry.handles().iter().map(|h| h.id().0).collect();
    }
    let registry = state.registry.clone();
    let started = Instant::now();
    let first = web::Bytes::from_static(b"retry: 1000\n\n");
    let init = (registry, ids, HashMap::<i64, (i32, i32)>::new(), Instant::now(), Some(first));
    let stream = futures::stream::unfold(init, move |(registry, ids, mut last, mut last_sent, mut pending)| async move {
        if let Some(chunk) = pending.take() {
            return Some((Ok::<_, actix_web::Error>(chunk), (registry, ids, last, last_sent, None)));
        }
        loop {
            if started.elapsed() > LIFETIME {
                return None;
            }
            let mut out = String::new();
            for id in &ids {
                if let Ok(a) = registry.availability(CityEventId(*id)) {
                    let now = (a.available, a.total);
                    if last.get(id) != Some(&now) {
                        last.insert(*id, now);
                        let data = json!({"city_event_id": id, "available": a.available.max(0), "capacity": a.total});
                        out.push_str(&format!("event: availability\ndata: {data}\n\n"));
                    }
                }
            }
            if out.is_empty() && last_sent.elapsed() > KEEPALIVE {
                out.push_str(": keep-alive\n\n");
            }
            if !out.is_empty() {
                last_sent = Instant::now();
                return Some((Ok(web::Bytes::from(out)), (registry, ids, last, last_sent, None)));
            }
            tokio::time::sleep(TICK).await;
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Compression would buffer the events; proxies must not buffer them either.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}
