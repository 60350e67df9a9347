//! What the city-event actor is asked, one message per request kind. Every message carries a
//! one-shot `reply`: handlers answer it when the decision is made (a refusal at once) or when the
//! batch holding the change has been committed, so the mailbox keeps flowing meanwhile.

use crate::domain::BookingId;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::prepare::PreparedHold;
use crate::actors::ReservationError;
use crate::db::models::NewWaitlistEntry;
use crate::domain::pricing::Quote;

/// A hold that succeeded.
#[derive(Debug, Clone)]
pub struct HoldReceipt {
    pub booking_id: BookingId,
    pub reference: String,
    pub quote: Quote,
    pub expires_at: DateTime<Utc>,
}

pub(super) type Reply<T> = oneshot::Sender<Result<T, ReservationError>>;

/// Hold seats for a new booking. The rows are prepared by the caller; the actor decides.
pub(super) struct Hold {
    pub(super) prepared: PreparedHold,
    pub(super) reply: Reply<HoldReceipt>,
}

impl Message for Hold {
    type Result = ();
}

/// Turn a booking into a sale (its payment succeeded). A booking whose hold already ended is
/// confirmed only if seats remain.
pub(super) struct Confirm {
    pub(super) booking_id: BookingId,
    pub(super) quantity: i32,
    pub(super) reply: Reply<()>,
}

impl Message for Confirm {
    type Result = ();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReleaseKind {
    /// The buyer cancels a hold.
    Cancel,
    /// A confirmed booking is refunded.
    Refund,
}

/// Give seats back.
pub(super) struct Release {
    pub(super) booking_id: BookingId,
    pub(super) quantity: i32,
    pub(super) kind: ReleaseKind,
    pub(super) reply: Reply<()>,
}

impl Message for Release {
    type Result = ();
}

/// The organiser changes the capacity. Decided here, in turn with holds: never below the seats
/// taken (held, sold, and holds not yet written).
pub(super) struct SetCapacity {
    pub(super) capacity: i32,
    pub(super) reply: Reply<()>,
}

impl Message for SetCapacity {
    type Result = ();
}

/// The organiser opens (`on_sale`) or closes (`closed`) sales.
pub(super) struct SetStatus {
    pub(super) status: &'static str,
    pub(super) reply: Reply<()>,
}

impl Message for SetStatus {
    type Result = ();
}

/// Someone joins the waiting list; accepted only while no seat is free (a free seat is for sale).
pub(super) struct JoinWaitlist {
    pub(super) entry: NewWaitlistEntry,
    pub(super) reply: Reply<i64>,
}

impl Message for JoinWaitlist {
    type Result = ();
}

/// The organiser takes someone off the waiting list (before any offer).
pub(super) struct RemoveWaiting {
    pub(super) entry_id: i64,
    pub(super) reply: Reply<()>,
}

impl Message for RemoveWaiting {
    type Result = ();
}

/// A booking leaves for another city event, whose actor already holds its replacement `to`.
pub(super) struct MoveOut {
    pub(super) booking_id: BookingId,
    pub(super) quantity: i32,
    pub(super) to: BookingId,
    pub(super) reply: Reply<()>,
}

impl Message for MoveOut {
    type Result = ();
}

/// Stop and start again from the database (after an operator change, or to recover).
pub(super) struct Restart;

impl Message for Restart {
    type Result = ();
}

/// Periodic: expire due holds.
pub(super) struct Tick;

impl Message for Tick {
    type Result = ();
}
