//! The handle the rest of the application holds.

use crate::domain::BookingId;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use actix::prelude::*;
use chrono::Utc;
use tokio::sync::oneshot;

use super::actor::CityEventActor;
use super::load::status_name;
use super::messages::*;
use super::prepare::{prepare_hold, PreparedHold};
use super::shared::{read_offer, Offer, SeatSnapshot, SharedOffer};
use crate::actors::ActorSettings;
use crate::actors::{Availability, ReservationError};
use crate::db::models::NewWaitlistEntry;
use crate::db::AsyncPool;
use crate::domain::booking_request::BookingRequest;
use crate::domain::pricing::Discount;
use crate::domain::CityEventId;

/// A cheap, clonable way to talk to one city event's actor, with admission control: at most
/// `max_inflight` requests are queued or in flight; the next one is refused at once (`Busy`), so
/// memory stays bounded and accepted requests keep their latency in a burst.
#[derive(Clone)]
pub struct CityEventHandle {
    id: CityEventId,
    offer: SharedOffer,
    addr: Addr<CityEventActor>,
    snapshot: Arc<SeatSnapshot>,
    inflight: Arc<AtomicUsize>,
    max_inflight: usize,
    hold_ttl: chrono::Duration,
}

struct Permit(Arc<AtomicUsize>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl CityEventHandle {
    /// Starts a supervised actor on `arbiter`; `status` is the city event's sales status until
    /// the actor has read it from the database.
    pub fn start(offer: Offer, status: &str, pool: AsyncPool, settings: ActorSettings, arbiter: &actix_rt::ArbiterHandle) -> Self {
        let id = offer.id;
        let offer: SharedOffer = Arc::new(RwLock::new(Arc::new(offer)));
        let snapshot = Arc::new(SeatSnapshot::default());
        snapshot.set_status(status);
        let max_inflight = settings.max_inflight;
        let hold_ttl = settings.hold_ttl;
        let actor = CityEventActor {
            id,
            status: status_name(status),
            offer: offer.clone(),
            pool,
            settings,
            seats: None,
            pending: Vec::new(),
            in_flight: 0,
            exclusive_in_flight: false,
            rebuild_after_flight: false,
            restart_requested: false,
            generation: 0,
            load_epoch: 0,
            snapshot: snapshot.clone(),
        };
        let addr = Supervisor::start_in_arbiter(arbiter, move |_| actor);
        Self { id, offer, addr, snapshot, inflight: Arc::new(AtomicUsize::new(0)), max_inflight, hold_ttl }
    }

    pub fn id(&self) -> CityEventId {
        self.id
    }

    /// What is sold and at which price now.
    pub fn offer(&self) -> Arc<Offer> {
        read_offer(&self.offer)
    }

    /// New prices (or city code) for holds prepared from now on; seats are not affected.
    pub fn set_offer(&self, offer: Offer) {
        *self.offer.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(offer);
    }

    /// The sales status as the actor last published it.
    pub fn status(&self) -> String {
        self.snapshot.status()
    }

    /// Counts from the actor's memory; `None` while it loads.
    pub fn availability(&self) -> Option<Availability> {
        self.snapshot.get()
    }

    /// Requests queued or in flight right now.
    pub fn queue_depth(&self) -> usize {
        self.inflight.load(Ordering::Acquire)
    }

    fn permit(&self) -> Result<Permit, ReservationError> {
        let before = self.inflight.fetch_add(1, Ordering::AcqRel);
        let permit = Permit(self.inflight.clone());
        if before >= self.max_inflight {
            return Err(ReservationError::Busy { retry_after_secs: 1 });
        }
        Ok(permit)
    }

    async fn ask<T, M>(&self, make: impl FnOnce(Reply<T>) -> M) -> Result<T, ReservationError>
    where
        M: Message<Result = ()> + Send + 'static,
        CityEventActor: Handler<M>,
    {
        let _permit = self.permit()?;
        let (tx, rx) = oneshot::channel();
        self.addr.do_send(make(tx));
        // A dropped sender means the actor stopped before answering.
        rx.await.unwrap_or(Err(ReservationError::Unavailable { retry_after_secs: 1 }))
    }

    /// Prices the request and builds its rows on the caller's thread, then asks the actor.
    /// Refuses at once, without queueing, when the snapshot already shows too few seats.
    pub async fn hold(&self, request: &BookingRequest, discount: Option<Discount>) -> Result<HoldReceipt, ReservationError> {
        let status = self.snapshot.status();
        if status != "on_sale" {
            return Err(ReservationError::SalesClosed { status });
        }
        let qty = request.quantity.as_i32();
        if let Some(a) = self.snapshot.get() {
            if a.available < qty {
                return Err(if a.available <= 0 {
                    ReservationError::SoldOut
                } else {
                    ReservationError::NotEnoughSeats { available: a.available }
                });
            }
        }
        let prepared = prepare_hold(&self.offer(), request, discount, Utc::now(), self.hold_ttl);
        self.ask(|reply| Hold { prepared, reply }).await
    }

    /// Holds rows prepared by the caller (a move copies its booking): the actor decides as for
    /// any hold.
    pub async fn hold_prepared(&self, prepared: PreparedHold) -> Result<HoldReceipt, ReservationError> {
        self.ask(|reply| Hold { prepared, reply }).await
    }

    pub async fn set_capacity(&self, capacity: i32) -> Result<(), ReservationError> {
        self.ask(|reply| SetCapacity { capacity, reply }).await
    }

    /// `on_sale` or `closed`.
    pub async fn set_status(&self, status: &'static str) -> Result<(), ReservationError> {
        self.ask(|reply| SetStatus { status, reply }).await
    }

    pub async fn join_waitlist(&self, entry: NewWaitlistEntry) -> Result<i64, ReservationError> {
        self.ask(|reply| JoinWaitlist { entry, reply }).await
    }

    pub async fn remove_waiting(&self, entry_id: i64) -> Result<(), ReservationError> {
        self.ask(|reply| RemoveWaiting { entry_id, reply }).await
    }

    /// Step 2 of a move (see `admin::bookings`): `booking_id` becomes `moved`, pointing at `to`
    /// (already held by the target's actor); its seats come back here once written.
    pub async fn move_out(&self, booking_id: BookingId, quantity: i32, to: BookingId) -> Result<(), ReservationError> {
        self.ask(|reply| MoveOut { booking_id, quantity, to, reply }).await
    }

    pub async fn confirm(&self, booking_id: BookingId, quantity: i32) -> Result<(), ReservationError> {
        self.ask(|reply| Confirm { booking_id, quantity, reply }).await
    }

    pub async fn cancel(&self, booking_id: BookingId) -> Result<(), ReservationError> {
        self.ask(|reply| Release { booking_id, quantity: 0, kind: ReleaseKind::Cancel, reply }).await
    }

    pub async fn refund(&self, booking_id: BookingId, quantity: i32) -> Result<(), ReservationError> {
        self.ask(|reply| Release { booking_id, quantity, kind: ReleaseKind::Refund, reply }).await
    }

    /// Stops the actor after its current commit; the supervisor starts it again from the database.
    pub fn restart(&self) {
        self.addr.do_send(Restart);
    }

    pub fn is_running(&self) -> bool {
        self.addr.connected()
    }
}
