//! Who moves seats when a payment settles.
//!
//! Inside the server, the city event's actor (`SeatKeeper::Actors`); from the command line, which
//! has no actors, the database itself (`SeatKeeper::Database`), whose triggers and CHECK
//! constraint arbitrate, and the owning server's actor notices the change at its next drift check
//! and reloads.

use std::sync::Arc;

use crate::actors::{CityEventHandle, Registry, ReservationError};
use crate::db::bookings::{BatchWrite, Transition};
use crate::db::models::BookingRow;
use crate::db::{self, AsyncPool};
use crate::domain::CityEventId;

/// Who moves seats (see the module comment).
#[derive(Clone)]
pub enum SeatKeeper {
    Actors(Arc<Registry>),
    Database,
}

/// The seat changes a payment causes, through the keeper or, without an actor, the database.
pub(super) struct Seats {
    pub(super) keeper: SeatKeeper,
    pub(super) pool: AsyncPool,
}

fn is_oversell(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::CheckViolation, info)
        if info.constraint_name() == Some("city_events_no_oversell"))
}

impl Seats {
    fn handle(&self, booking: &BookingRow) -> Option<CityEventHandle> {
        match &self.keeper {
            SeatKeeper::Actors(registry) => registry.handle(CityEventId(booking.city_event_id)).ok(),
            SeatKeeper::Database => None,
        }
    }

    pub(super) async fn confirm(&self, booking: &BookingRow) -> Result<(), ReservationError> {
        if let Some(h) = self.handle(booking) {
            return h.confirm(booking.id, booking.quantity).await;
        }
        self.in_database(booking, &[Transition::ConfirmHeld, Transition::ConfirmLate]).await
    }

    pub(super) async fn cancel(&self, booking: &BookingRow) -> Result<(), ReservationError> {
        if let Some(h) = self.handle(booking) {
            return h.cancel(booking.id).await;
        }
        self.in_database(booking, &[Transition::CancelHeld]).await
    }

    pub(super) async fn refund(&self, booking: &BookingRow) -> Result<(), ReservationError> {
        if let Some(h) = self.handle(booking) {
            return h.refund(booking.id, booking.quantity).await;
        }
        self.in_database(booking, &[Transition::RefundConfirmed]).await
    }

    /// Without an actor (command line, or a city event no longer on sale): the database decides.
    async fn in_database(&self, booking: &BookingRow, transitions: &[Transition]) -> Result<(), ReservationError> {
        let unavailable = ReservationError::Unavailable { retry_after_secs: 5 };
        let mut conn = db::connection(&self.pool).await.map_err(|_| unavailable.clone())?;
        let batch = BatchWrite { transitions: transitions.iter().map(|t| (booking.id, *t)).collect(), ..Default::default() };
        match db::bookings::write_batch(&mut conn, &batch).await {
            Ok(outcome) if transitions.iter().any(|t| outcome.changed.contains(&(booking.id, *t))) => Ok(()),
            Ok(_) => Err(ReservationError::WrongStatus { expected: "in a state this change applies to" }),
            Err(e) if is_oversell(&e) => Err(ReservationError::SoldOut),
            Err(e) => {
                tracing::warn!(error = %e, "seat change in the database failed");
                Err(unavailable)
            }
        }
    }
}
