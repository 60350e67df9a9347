//! `/e/o/<token>.gif` (opens) and `/e/c/<token>?u=<url>` (clicks): the project's own tracking,
//! independent of the transport. Tokens are signed (see `domain::tokens`); a forged one changes
//! nothing and never redirects.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;

use crate::db;
use crate::domain::tokens;
use crate::http::error::ApiError;
use crate::state::AppState;

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/e/o/{token}", web::get().to(open)).route("/e/c/{token}", web::get().to(click));
}

fn not_found() -> ApiError {
    ApiError::not_found("not_found", "This link is not valid.")
}

#[tracing::instrument(name = "web.tracking.open", skip_all)]
async fn open(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let token = path.into_inner();
    let token = token.strip_suffix(".gif").unwrap_or(&token);
    let id = tokens::verify_open(state.settings.secret_key.expose(), token).ok_or_else(not_found)?;
    let mut conn = db::connection(&state.pool).await?;
    if !db::emails::record_open(&mut conn, id, Utc::now()).await? {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().content_type("image/gif").insert_header((header::CACHE_CONTROL, "no-store, private")).body(PIXEL))
}

#[derive(Deserialize)]
struct Target {
    u: Option<String>,
}

#[tracing::instrument(name = "web.tracking.click", skip_all)]
async fn click(state: web::Data<AppState>, path: web::Path<String>, query: web::Query<Target>) -> Result<HttpResponse, ApiError> {
    let target = query.into_inner().u.ok_or_else(not_found)?;
    let id = tokens::verify_click(state.settings.secret_key.expose(), &path, &target).ok_or_else(not_found)?;
    let mut conn = db::connection(&state.pool).await?;
    if !db::emails::record_click(&mut conn, id, Utc::now()).await? {
        return Err(not_found());
    }
    Ok(HttpResponse::Found().insert_header((header::LOCATION, target)).insert_header((header::CACHE_CONTROL, "no-store")).finish())
}
