use actix_web::{web, HttpResponse};

use super::AppState;
use diesel::OptionalExtension;

use crate::actors::Availability;
use crate::config::HoldStrategy;
use crate::db;
use crate::domain::CityEventId;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// Seat counts of a city event, from its actor's memory (no database query).
#[utoipa::path(get, path = "/api/v1/availability/{city_event_id}", tag = "bookings",
    params(("city_event_id" = i64, Path, description = "City event id")),
    responses((status = 200, body = Availability), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    state.views.record(id);
    let availability = match state.settings.hold_strategy {
        HoldStrategy::Actor => state.registry.availability(CityEventId(id)).map_err(ApiError::from)?,
        // The baseline's holds bypass the actors: it reads the database, as a naive server would.
        HoldStrategy::RowLock => {
            let mut conn = db::connection(&state.pool).await?;
            let (total, held, sold) = db::catalogue::seat_counters(&mut conn, id)
                .await
                .optional()?
                .ok_or_else(|| ApiError::from(crate::actors::ReservationError::UnknownCityEvent))?;
            Availability { city_event_id: id, available: total - held - sold, total, held, sold }
        }
    };
    // Short: long enough to absorb a burst of page loads, short enough to stay honest.
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=2")).json(availability))
}
