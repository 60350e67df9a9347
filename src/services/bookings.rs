//! Taking a booking, as the API and the site's booking form both do it: the client's rate, the
//! promotion code, the hold through the city event's actor.

use actix_web::HttpRequest;
use chrono::Utc;

use crate::actors::city_event::HoldReceipt;
use crate::db;
use crate::domain::booking_request::BookingRequest;
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

/// One booking creation from this client (`RATE_LIMIT_BOOKINGS_PER_MINUTE`), shared by the API and
/// the booking form. Keyed by the peer address, not X-Forwarded-For, which any client can write;
/// behind a proxy every request shares the proxy's address, so raise the limit there or limit at
/// the proxy.
pub fn check_booking_rate(state: &AppState, req: &HttpRequest) -> ApiResult<()> {
    if let Some(ip) = req.peer_addr().map(|a| a.ip()) {
        state.booking_limiter.check(&ip).inspect_err(|_| crate::metrics::metrics().rate_limited.with_label_values(&["bookings"]).inc())?;
    }
    Ok(())
}

/// The request's promotion, as a whole percentage off; an unknown or expired code is refused
/// (`invalid_promo_code` on `promo_code`) before any seat is held.
pub async fn promo_percent(state: &AppState, request: &BookingRequest) -> ApiResult<Option<u8>> {
    Ok(match &request.promo_code {
        None => None,
        Some(code) => {
            let mut conn = db::connection(&state.pool).await?;
            let pct = db::catalogue::promo_percent(&mut conn, code, request.city_event_id.0, Utc::now()).await?;
            let pct = pct.ok_or_else(|| {
                ApiError::unprocessable("invalid_promo_code", "promo_code", "This promotion code does not exist or has expired.")
            })?;
            Some(pct.clamp(0, 100) as u8)
        }
    })
}

/// Holds seats for a parsed request through the city event's actor; answers once the hold is
/// committed. Shared by the API and the booking form.
pub async fn place_hold(state: &AppState, request: &BookingRequest, percent_off: Option<u8>) -> ApiResult<HoldReceipt> {
    Ok(state.registry.handle(request.city_event_id)?.hold(request, percent_off).await?)
}

/// The promotion checked, then the hold: what a booking form does once its fields parse.
pub async fn hold(state: &AppState, request: &BookingRequest) -> ApiResult<HoldReceipt> {
    let percent_off = promo_percent(state, request).await?;
    place_hold(state, request, percent_off).await
}
