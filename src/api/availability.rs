use actix_web::{web, HttpResponse};

use crate::state::AppState;

use crate::actors::Availability;
use crate::domain::CityEventId;
use crate::http::error::{ApiError, ApiResult, ErrorBody};

/// Seat counts of a city event, from its actor's memory (no database query).
#[utoipa::path(get, path = "/api/v1/availability/{city_event_id}", tag = "bookings",
    params(("city_event_id" = i64, Path, description = "City event id")),
    responses((status = 200, body = Availability), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "api.availability.get", skip_all)]
pub async fn get(state: web::Data<AppState>, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    state.views.record(id);
    let availability = state.registry.availability(CityEventId(id)).map_err(ApiError::from)?;
    // Short: long enough to absorb a burst of page loads, short enough to stay honest.
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=2")).json(availability))
}
