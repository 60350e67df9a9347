//! The facts' JSON API under `/api/v1/admin`: the organiser, a masterclass's policies and
//! programme, a venue's practical facts. Each `PUT` replaces the whole record.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::OpenApi;

use super::facts::{self, OrganiserInput, PoliciesInput, ProgrammeInput, ProgrammeItemInput, VenueFactsInput};
use super::session::AdminSession;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::state::AppState;

fn ok<T: Serialize>(body: T) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organiser", web::get().to(get_organiser))
        .route("/organiser", web::put().to(put_organiser))
        .route("/masterclasses/{id}/policies", web::get().to(get_policies))
        .route("/masterclasses/{id}/policies", web::put().to(put_policies))
        .route("/masterclasses/{id}/programme", web::get().to(get_programme))
        .route("/masterclasses/{id}/programme", web::put().to(put_programme))
        .route("/venues/{id}/facts", web::get().to(get_venue_facts))
        .route("/venues/{id}/facts", web::put().to(put_venue_facts));
}

#[utoipa::path(get, path = "/api/v1/admin/organiser", tag = "back office", security(("admin_session" = [])),
    responses((status = 200, body = OrganiserInput), (status = 401, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.get_organiser", skip_all)]
pub async fn get_organiser(state: web::Data<AppState>, _who: AdminSession) -> ApiResult<HttpResponse> {
    Ok(ok(facts::organiser(&state).await?))
}

#[utoipa::path(put, path = "/api/v1/admin/organiser", tag = "back office", security(("admin_session" = [])), request_body = OrganiserInput,
    responses((status = 200, body = OrganiserInput), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.put_organiser", skip_all)]
pub async fn put_organiser(state: web::Data<AppState>, who: AdminSession, body: ApiJson<OrganiserInput>) -> ApiResult<HttpResponse> {
    Ok(ok(facts::save_organiser(&state, &who, &body.0).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/masterclasses/{id}/policies", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = PoliciesInput), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.get_policies", skip_all)]
pub async fn get_policies(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(ok(facts::policies(&state, *path).await?))
}

#[utoipa::path(put, path = "/api/v1/admin/masterclasses/{id}/policies", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
    request_body = PoliciesInput,
    responses((status = 200, body = PoliciesInput), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.put_policies", skip_all)]
pub async fn put_policies(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<i64>,
    body: ApiJson<PoliciesInput>,
) -> ApiResult<HttpResponse> {
    Ok(ok(facts::save_policies(&state, &who, *path, &body.0).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/masterclasses/{id}/programme", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ProgrammeInput), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.get_programme", skip_all)]
pub async fn get_programme(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(ok(facts::programme(&state, *path).await?))
}

#[utoipa::path(put, path = "/api/v1/admin/masterclasses/{id}/programme", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
    request_body = ProgrammeInput,
    responses((status = 200, body = ProgrammeInput), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.put_programme", skip_all)]
pub async fn put_programme(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<i64>,
    body: ApiJson<ProgrammeInput>,
) -> ApiResult<HttpResponse> {
    Ok(ok(facts::save_programme(&state, &who, *path, &body.0).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/venues/{id}/facts", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = VenueFactsInput), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.get_venue_facts", skip_all)]
pub async fn get_venue_facts(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(ok(facts::venue_facts(&state, *path).await?))
}

#[utoipa::path(put, path = "/api/v1/admin/venues/{id}/facts", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
    request_body = VenueFactsInput,
    responses((status = 200, body = VenueFactsInput), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.put_venue_facts", skip_all)]
pub async fn put_venue_facts(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<i64>,
    body: ApiJson<VenueFactsInput>,
) -> ApiResult<HttpResponse> {
    Ok(ok(facts::save_venue_facts(&state, &who, *path, &body.0).await?))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_organiser, put_organiser, get_policies, put_policies, get_programme, put_programme, get_venue_facts, put_venue_facts),
    components(schemas(OrganiserInput, PoliciesInput, ProgrammeInput, ProgrammeItemInput, VenueFactsInput))
)]
pub struct FactsApiDoc;
