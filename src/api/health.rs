use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ActorsHealth {
    pub running: usize,
    pub ready: usize,
    pub city_events: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// `ok` or `unavailable`.
    pub database: &'static str,
    pub actors: ActorsHealth,
}

/// Database reachability and actor state; `503` when degraded.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health), (status = 503, body = Health)))]
#[tracing::instrument(name = "api.health.get", skip_all)]
pub async fn get(state: web::Data<AppState>) -> HttpResponse {
    let db_ok = state.health.database_ok(&state.pool).await;
    let (running, ready, city_events) = state.registry.health();
    let expected = state.registry.handles().len();
    let healthy = db_ok && running == expected && ready == expected;
    let body = Health {
        status: if healthy { "ok" } else { "degraded" },
        database: if db_ok { "ok" } else { "unavailable" },
        actors: ActorsHealth { running, ready, city_events },
    };
    let mut res = if healthy { HttpResponse::Ok() } else { HttpResponse::ServiceUnavailable() };
    if !healthy {
        // The same promise as every other 503: come back shortly.
        res.insert_header(("Retry-After", "2"));
    }
    res.insert_header(("Cache-Control", "no-store")).json(body)
}

/// `/metrics` is business data: with `METRICS_TOKEN` set, only `Authorization: Bearer <token>`
/// reads it (compared as SHA-256 digests, so the comparison's timing says nothing of the token);
/// without one, only a client on this machine. The refusal, if any.
fn metrics_refusal(token: &crate::config::Secret, req: &actix_web::HttpRequest) -> Option<HttpResponse> {
    use actix_web::http::{header, StatusCode};
    use actix_web::ResponseError;
    use sha2::{Digest, Sha256};
    if token.is_empty() {
        let local = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
        return (!local).then(|| {
            ApiError::new(StatusCode::FORBIDDEN, "metrics_loopback_only", "Set METRICS_TOKEN to read /metrics from another machine.")
                .error_response()
        });
    }
    let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if given.is_some_and(|g| Sha256::digest(g.as_bytes()) == Sha256::digest(token.expose().as_bytes())) {
        return None;
    }
    let mut res = ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "/metrics needs its bearer token.").error_response();
    res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    Some(res)
}

/// `GET /metrics`: Prometheus' text format, with the actors' queues and the pool read now.
#[tracing::instrument(name = "api.health.metrics", skip_all)]
pub async fn metrics(state: web::Data<AppState>, req: actix_web::HttpRequest) -> HttpResponse {
    if let Some(refused) = metrics_refusal(&state.settings.metrics_token, &req) {
        return refused;
    }
    let status = state.pool.status();
    let now = crate::metrics::Gauges {
        actor_queue_depths: state.registry.handles().iter().map(|h| (h.id().0, h.queue_depth())).collect(),
        actors_ready: state.registry.health().1,
        pool_size: status.size,
        pool_available: status.available,
    };
    HttpResponse::Ok()
        .insert_header(("Content-Type", "text/plain; version=0.0.4"))
        .insert_header(("Cache-Control", "no-store"))
        .body(crate::metrics::metrics().render(&now))
}
