//! The row-lock baseline: what a web framework tutorial would write — one transaction per hold,
//! `SELECT … FOR UPDATE` on the city event's row, insert, commit. Same HTTP stack, JSON, pricing
//! and rows as the actor path, so both can be measured side by side on one machine.
//!
//! It is a route set of its own, registered in front of the API's hold and availability routes
//! only when `HOLD_STRATEGY=row_lock` (benchmarks; production refuses the setting): the product's
//! handlers know nothing of it.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use diesel::OptionalExtension;

use crate::actors::city_event::{prepare_hold, Offer};
use crate::actors::Availability;
use crate::actors::{HoldReceipt, ReservationError};
use crate::api::bookings::{count_hold, created, parse_booking};
use crate::db::{self, AsyncPool};
use crate::domain::booking_request::{BookingRequest, RawBookingRequest};
use crate::domain::pricing::Discount;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{path_config, ApiJson};
use crate::services::bookings::promotion;
use crate::state::AppState;

/// `POST /api/v1/bookings/create` and `GET /api/v1/availability/{id}`, the row-lock way.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/bookings/create").route(web::post().to(create)))
        .service(web::resource("/api/v1/availability/{city_event_id}").app_data(path_config()).route(web::get().to(availability)));
}

#[tracing::instrument(name = "baseline.create", skip_all, fields(city_event_id, quantity))]
async fn create(state: web::Data<AppState>, req: HttpRequest, body: ApiJson<RawBookingRequest>) -> ApiResult<HttpResponse> {
    count_hold(
        async {
            let request = parse_booking(&state, &req, body.0)?;
            // The baseline measures the row lock: a capped code's use is not counted here.
            let discount = promotion(&state, &request).await?.map(|p| p.discount);
            let offer = state.registry.handle(request.city_event_id)?.offer();
            let receipt = hold(&state.pool, &offer, &request, discount, state.settings.hold_ttl()).await?;
            Ok(created(&request, &receipt))
        }
        .await,
    )
}

/// The baseline's holds bypass the actors: it reads the database, as a naive server would.
#[tracing::instrument(name = "baseline.availability", skip_all, fields(city_event_id = *path))]
async fn availability(state: web::Data<AppState>, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    state.views.record(id);
    let mut conn = db::connection(&state.pool).await?;
    let (total, held, sold) =
        db::catalogue::seat_counters(&mut conn, id).await.optional()?.ok_or_else(|| ApiError::from(ReservationError::UnknownCityEvent))?;
    let availability = Availability { city_event_id: id, available: total - held - sold, total, held, sold };
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=2")).json(availability))
}

pub async fn hold(
    pool: &AsyncPool,
    offer: &Offer,
    request: &BookingRequest,
    discount: Option<Discount>,
    ttl: chrono::Duration,
) -> Result<HoldReceipt, ReservationError> {
    let prepared = prepare_hold(offer, request, discount, Utc::now(), ttl);
    let unavailable = |e: db::DbError| {
        tracing::warn!(error = %e, "row-lock hold failed");
        ReservationError::Unavailable { retry_after_secs: 1 }
    };
    let mut conn = db::connection(pool).await.map_err(unavailable)?;
    let outcome =
        db::bookings::row_lock_hold(&mut conn, prepared.booking(), prepared.attendees()).await.map_err(|e| unavailable(e.into()))?;
    match outcome {
        Ok(()) => Ok(HoldReceipt {
            booking_id: prepared.booking().id,
            reference: prepared.booking().reference.clone(),
            quote: prepared.quote().clone(),
            expires_at: prepared.booking().hold_expires_at,
        }),
        Err(available) if available <= 0 => Err(ReservationError::SoldOut),
        Err(available) => Err(ReservationError::NotEnoughSeats { available }),
    }
}
