//! The catalogue's JSON API under `/api/v1/admin`: list and create with `GET`/`POST` on the
//! collection, read and replace with `GET`/`PUT` on one record; taxes can be deleted and
//! promotion codes deactivated; `GET /promo-codes/usage` is the usage report.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::OpenApi;

use super::inputs::{CityInput, MasterclassInput, PromoCodeInput, SalesTaxInput, VenueInput};
use super::{City, Masterclass, PromoCode, PromoUsage, SalesTax, Venue};
use crate::admin::session::AdminSession;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::state::AppState;

fn ok<T: Serialize>(body: T) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

fn created<T: Serialize>(body: T) -> HttpResponse {
    HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/masterclasses", web::get().to(list_masterclasses))
        .route("/masterclasses", web::post().to(create_masterclass))
        .route("/masterclasses/{id}", web::get().to(get_masterclass))
        .route("/masterclasses/{id}", web::put().to(put_masterclass))
        .route("/cities", web::get().to(list_cities))
        .route("/cities", web::post().to(create_city))
        .route("/cities/{id}", web::get().to(get_city))
        .route("/cities/{id}", web::put().to(put_city))
        .route("/venues", web::get().to(list_venues))
        .route("/venues", web::post().to(create_venue))
        .route("/venues/{id}", web::get().to(get_venue))
        .route("/venues/{id}", web::put().to(put_venue))
        .route("/sales-taxes", web::get().to(list_sales_taxes))
        .route("/sales-taxes", web::post().to(create_sales_tax))
        .route("/sales-taxes/{id}", web::get().to(get_sales_tax))
        .route("/sales-taxes/{id}", web::put().to(put_sales_tax))
        .route("/sales-taxes/{id}", web::delete().to(delete_sales_tax))
        .route("/promo-codes", web::get().to(list_promo_codes))
        .route("/promo-codes", web::post().to(create_promo_code))
        .route("/promo-codes/usage", web::get().to(promo_usage))
        .route("/promo-codes/{id}", web::get().to(get_promo_code))
        .route("/promo-codes/{id}", web::put().to(put_promo_code))
        .route("/promo-codes/{id}/deactivate", web::post().to(deactivate_promo_code));
}

/// The four handlers of one kind of record, each one line over its service.
macro_rules! crud {
    ($path:literal, $one:literal, $input:ty, $out:ty, $list:ident => $list_svc:ident, $get:ident => $get_svc:ident,
     $create:ident, $put:ident => $save_svc:ident) => {
        #[utoipa::path(get, path = $path, tag = "back office", security(("admin_session" = [])),
                    responses((status = 200, body = [$out]), (status = 401, body = ErrorBody)))]
        #[tracing::instrument(name = "admin.api.catalogue", skip_all, fields(handler = stringify!($list)))]
        pub async fn $list(state: web::Data<AppState>, _who: AdminSession) -> ApiResult<HttpResponse> {
            Ok(ok(super::$list_svc(&state).await?))
        }

        #[utoipa::path(post, path = $path, tag = "back office", security(("admin_session" = [])), request_body = $input,
                    responses((status = 201, body = $out), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
                              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
        #[tracing::instrument(name = "admin.api.catalogue", skip_all, fields(handler = stringify!($create)))]
        pub async fn $create(state: web::Data<AppState>, who: AdminSession, body: ApiJson<$input>) -> ApiResult<HttpResponse> {
            Ok(created(super::$save_svc(&state, &who, None, &body.0).await?))
        }

        #[utoipa::path(get, path = $one, tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
                    responses((status = 200, body = $out), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
        #[tracing::instrument(name = "admin.api.catalogue", skip_all, fields(handler = stringify!($get)))]
        pub async fn $get(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
            Ok(ok(super::$get_svc(&state, *path).await?))
        }

        #[utoipa::path(put, path = $one, tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
                    request_body = $input,
                    responses((status = 200, body = $out), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
                              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
        #[tracing::instrument(name = "admin.api.catalogue", skip_all, fields(handler = stringify!($put)))]
        pub async fn $put(
            state: web::Data<AppState>,
            who: AdminSession,
            path: web::Path<i64>,
            body: ApiJson<$input>,
        ) -> ApiResult<HttpResponse> {
            Ok(ok(super::$save_svc(&state, &who, Some(*path), &body.0).await?))
        }
    };
}

crud!("/api/v1/admin/masterclasses", "/api/v1/admin/masterclasses/{id}", MasterclassInput, Masterclass,
    list_masterclasses => masterclasses, get_masterclass => masterclass, create_masterclass, put_masterclass => save_masterclass);
crud!("/api/v1/admin/cities", "/api/v1/admin/cities/{id}", CityInput, City,
    list_cities => cities, get_city => city, create_city, put_city => save_city);
crud!("/api/v1/admin/venues", "/api/v1/admin/venues/{id}", VenueInput, Venue,
    list_venues => venues, get_venue => venue, create_venue, put_venue => save_venue);
crud!("/api/v1/admin/sales-taxes", "/api/v1/admin/sales-taxes/{id}", SalesTaxInput, SalesTax,
    list_sales_taxes => sales_taxes, get_sales_tax => sales_tax, create_sales_tax, put_sales_tax => save_sales_tax);
crud!("/api/v1/admin/promo-codes", "/api/v1/admin/promo-codes/{id}", PromoCodeInput, PromoCode,
    list_promo_codes => promo_codes, get_promo_code => promo_code, create_promo_code, put_promo_code => save_promo_code);

#[utoipa::path(delete, path = "/api/v1/admin/sales-taxes/{id}", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.delete_sales_tax", skip_all)]
pub async fn delete_sales_tax(state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    super::delete_sales_tax(&state, &who, *path).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/v1/admin/promo-codes/{id}/deactivate", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = PromoCode), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.deactivate_promo_code", skip_all)]
pub async fn deactivate_promo_code(state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(ok(super::deactivate_promo_code(&state, &who, *path).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/promo-codes/usage", tag = "back office", security(("admin_session" = [])),
    responses((status = 200, body = [PromoUsage]), (status = 401, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.promo_usage", skip_all)]
pub async fn promo_usage(state: web::Data<AppState>, _who: AdminSession) -> ApiResult<HttpResponse> {
    Ok(ok(super::promo_usage(&state).await?))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_masterclasses,
        create_masterclass,
        get_masterclass,
        put_masterclass,
        list_cities,
        create_city,
        get_city,
        put_city,
        list_venues,
        create_venue,
        get_venue,
        put_venue,
        list_sales_taxes,
        create_sales_tax,
        get_sales_tax,
        put_sales_tax,
        delete_sales_tax,
        list_promo_codes,
        create_promo_code,
        get_promo_code,
        put_promo_code,
        deactivate_promo_code,
        promo_usage
    ),
    components(schemas(
        MasterclassInput,
        CityInput,
        VenueInput,
        SalesTaxInput,
        PromoCodeInput,
        Masterclass,
        City,
        Venue,
        SalesTax,
        PromoCode,
        PromoUsage
    ))
)]
pub struct CatalogueApiDoc;
