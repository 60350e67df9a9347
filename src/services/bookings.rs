//! Taking a booking, as the API and the site's booking form both do it: the client's rate, the
//! promotion code, the hold through the city event's actor.

use actix_web::HttpRequest;
use chrono::Utc;

use crate::actors::city_event::HoldReceipt;
use crate::db;
use crate::domain::booking_request::BookingRequest;
use crate::domain::pricing::Discount;
use crate::domain::Cents;
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

/// A promotion code as the booking path applies it.
#[derive(Debug, Clone)]
pub struct Promotion {
    pub id: i64,
    pub code: String,
    pub discount: Discount,
    pub max_uses: Option<i64>,
}

fn invalid_code() -> ApiError {
    ApiError::unprocessable("invalid_promo_code", "promo_code", "This promotion code does not exist or has expired.")
}

/// The request's promotion; an unknown, inactive or out-of-window code is refused
/// (`invalid_promo_code` on `promo_code`) before any seat is held.
pub async fn promotion(state: &AppState, request: &BookingRequest) -> ApiResult<Option<Promotion>> {
    let Some(code) = &request.promo_code else { return Ok(None) };
    let mut conn = db::connection(&state.pool).await?;
    let row = db::catalogue::valid_promo(&mut conn, code, request.city_event_id.0, Utc::now()).await?.ok_or_else(invalid_code)?;
    let discount = match (row.kind.as_str(), row.percent_off, row.amount_off_cents) {
        ("percent", Some(p), _) => Discount::Percent(p.clamp(0, 100) as u8),
        ("fixed", _, Some(c)) => Discount::Fixed(Cents(c)),
        _ => return Err(invalid_code()),
    };
    Ok(Some(Promotion { id: row.id, code: row.code, discount, max_uses: row.max_uses.map(i64::from) }))
}

/// Holds seats for a parsed request through the city event's actor; answers once the hold is
/// committed. Shared by the API and the booking form.
pub async fn place_hold(state: &AppState, request: &BookingRequest, discount: Option<Discount>) -> ApiResult<HoldReceipt> {
    Ok(state.registry.handle(request.city_event_id)?.hold(request, discount).await?)
}

/// The promotion checked, then the hold: what the API and the booking form do once the fields
/// parse. A capped code's use is claimed first (`claim_promo_use`), held, then the claim is
/// released, so its last use goes to one buyer however many ask at once; no connection is held
/// while the actor commits. Uncapped codes and bookings without a code skip all of it.
pub async fn hold(state: &AppState, request: &BookingRequest) -> ApiResult<HoldReceipt> {
    match promotion(state, request).await? {
        Some(Promotion { id, code, discount, max_uses: Some(cap) }) => {
            let claim = {
                let mut conn = db::connection(&state.pool).await?;
                db::catalogue::claim_promo_use(&mut conn, id, &code, cap).await?
            };
            let Some(claim) = claim else {
                return Err(ApiError::conflict("promo_code_used_up", "This promotion code has been used as many times as it allows.")
                    .field("promo_code"));
            };
            let held = place_hold(state, request, Some(discount)).await;
            let mut conn = db::connection(&state.pool).await?;
            db::catalogue::release_promo_claim(&mut conn, claim).await?;
            held
        }
        promo => place_hold(state, request, promo.map(|p| p.discount)).await,
    }
}
