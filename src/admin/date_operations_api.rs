//! A whole date's operations in the JSON API: broadcasts (preview, send, list) and cancellation
//! (start or resume, progress).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::OpenApi;

use super::date_operations::{
    self as ops, BroadcastInput, BroadcastPreview, BroadcastView, CancelDateInput, CancellationView, PreviewedMail,
};
use super::session::AdminSession;
use crate::db::admin::CancellationProgress;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::state::AppState;

fn ok<T: Serialize>(status: actix_web::http::StatusCode, body: T) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/city-events/{id}/broadcasts", web::get().to(list_broadcasts))
        .route("/city-events/{id}/broadcasts", web::post().to(send_broadcast))
        .route("/city-events/{id}/broadcasts/preview", web::post().to(preview_broadcast))
        .route("/city-events/{id}/cancel", web::post().to(cancel_date))
        .route("/city-events/{id}/cancellation", web::get().to(get_cancellation));
}

#[utoipa::path(get, path = "/api/v1/admin/city-events/{id}/broadcasts", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = [BroadcastView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.list_broadcasts", skip_all)]
pub async fn list_broadcasts(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(ok(actix_web::http::StatusCode::OK, ops::broadcasts(&state, *path).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/city-events/{id}/broadcasts/preview", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path)), request_body = BroadcastInput,
    responses((status = 200, body = BroadcastPreview), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.preview_broadcast", skip_all)]
pub async fn preview_broadcast(
    state: web::Data<AppState>,
    _who: AdminSession,
    path: web::Path<i64>,
    body: ApiJson<BroadcastInput>,
) -> ApiResult<HttpResponse> {
    Ok(ok(actix_web::http::StatusCode::OK, ops::preview_broadcast(&state, *path, &body.0).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/city-events/{id}/broadcasts", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path)), request_body = BroadcastInput,
    responses((status = 201, body = BroadcastView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.send_broadcast", skip_all)]
pub async fn send_broadcast(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<i64>,
    body: ApiJson<BroadcastInput>,
) -> ApiResult<HttpResponse> {
    Ok(ok(actix_web::http::StatusCode::CREATED, ops::send_broadcast(&state, &who, *path, &body.0).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/city-events/{id}/cancel", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path)), request_body = CancelDateInput,
    responses((status = 200, description = "Cancelled, or where the cancellation stands (run again to resume)", body = CancellationView),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.cancel_date", skip_all)]
pub async fn cancel_date(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<i64>,
    body: ApiJson<CancelDateInput>,
) -> ApiResult<HttpResponse> {
    Ok(ok(actix_web::http::StatusCode::OK, ops::cancel_date(&state, &who, *path, &body.0).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/city-events/{id}/cancellation", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = CancellationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.get_cancellation", skip_all)]
pub async fn get_cancellation(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    let found = ops::cancellation(&state, *path).await?;
    let view = found.ok_or_else(|| ApiError::not_found("cancellation_not_found", "This date is not cancelled."))?;
    Ok(ok(actix_web::http::StatusCode::OK, view))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_broadcasts, preview_broadcast, send_broadcast, cancel_date, get_cancellation),
    components(schemas(
        BroadcastInput,
        BroadcastPreview,
        PreviewedMail,
        BroadcastView,
        CancelDateInput,
        CancellationView,
        CancellationProgress
    ))
)]
pub struct DateOperationsApiDoc;
