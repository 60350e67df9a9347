//! The row-lock baseline: what a web framework tutorial would write — one transaction per hold,
//! `SELECT … FOR UPDATE` on the city event's row, insert, commit. Same HTTP stack, JSON, pricing
//! and rows as the actor path; selected with `HOLD_STRATEGY=row_lock` for benchmarks only
//! (production refuses it), so both can be measured side by side on one machine.

use chrono::Utc;

use crate::actors::city_event::{prepare_hold, Offer};
use crate::actors::{HoldReceipt, ReservationError};
use crate::db::{self, AsyncPool};
use crate::domain::booking_request::BookingRequest;

pub async fn hold(
    pool: &AsyncPool,
    offer: &Offer,
    request: &BookingRequest,
    percent_off: Option<u8>,
    ttl: chrono::Duration,
) -> Result<HoldReceipt, ReservationError> {
    let prepared = prepare_hold(offer, request, percent_off, Utc::now(), ttl);
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
