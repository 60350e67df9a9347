//! The actor itself: its state, its start (timers, first load), its supervision, and the helpers
//! every handler shares (admission, publishing the snapshot, the waiting list's turn).

use std::sync::Arc;

use actix::prelude::*;
use chrono::Utc;

use super::batch::Op;
use super::messages::Tick;
use super::prepare::prepare_offer;
use super::seats::Seats;
use super::shared::{read_offer, SeatSnapshot, SharedOffer};
use crate::actors::ActorSettings;
use crate::actors::{Availability, ReservationError};
use crate::db::models::NewEmailCampaign;
use crate::db::AsyncPool;
use crate::domain::CityEventId;

pub struct CityEventActor {
    pub(super) id: CityEventId,
    pub(super) offer: SharedOffer,
    /// Sales status: holds are taken only `on_sale`; confirmations, releases and moves always.
    pub(super) status: &'static str,
    pub(super) pool: AsyncPool,
    pub(super) settings: ActorSettings,
    pub(super) seats: Option<Seats>,
    pub(super) pending: Vec<Op>,
    /// Batches being written now, and whether one of them must be alone.
    pub(super) in_flight: usize,
    pub(super) exclusive_in_flight: bool,
    /// A batch failed (or memory disagreed) while others were in flight: rebuild once they end.
    pub(super) rebuild_after_flight: bool,
    pub(super) restart_requested: bool,
    /// Batches completed; a drift check started before a commit ended is discarded.
    pub(super) generation: u64,
    /// Reloads started; only the latest one may install its state.
    pub(super) load_epoch: u64,
    pub(super) snapshot: Arc<SeatSnapshot>,
}

impl Actor for CityEventActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Requests arrive by `do_send`, which ignores actix's mailbox capacity: admission is
        // bounded by `CityEventHandle`'s permits instead, so a full mailbox never blocks a worker.
        ctx.run_interval(self.settings.expiry_tick, |_, ctx| ctx.notify(Tick));
        ctx.run_interval(self.settings.resync_every, |act, ctx| act.check_drift(ctx));
        if self.seats.is_none() {
            self.reload(ctx);
        }
    }
}

impl Supervised for CityEventActor {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        tracing::info!(city_event_id = %self.id, "city event actor restarting");
        self.fail_pending(ReservationError::Unavailable { retry_after_secs: 1 });
        self.seats = None;
        self.in_flight = 0;
        self.exclusive_in_flight = false;
        self.rebuild_after_flight = false;
        self.restart_requested = false;
        self.snapshot.set(None);
    }
}

impl CityEventActor {
    pub(super) fn publish(&self) {
        self.snapshot.set_status(self.status);
        self.snapshot.set(self.seats.as_ref().map(|s| Availability {
            city_event_id: self.id.0,
            available: s.available(),
            total: s.capacity,
            held: s.held,
            sold: s.sold,
        }));
    }

    pub(super) fn fail_pending(&mut self, err: ReservationError) {
        for op in self.pending.drain(..) {
            op.fail(err.clone());
        }
    }

    /// Offers every free seat to the people waiting, in order: each offer is a one-seat hold made
    /// for them now, in the actor's turn, so a seat is never offered twice nor sold meanwhile.
    pub(super) fn offer_free_seats(&mut self) {
        if self.status != "on_sale" {
            return;
        }
        let Some(seats) = self.seats.as_mut() else { return };
        if seats.waiting.is_empty() || seats.available() < 1 {
            return;
        }
        let offer = read_offer(&self.offer);
        let now = Utc::now();
        while seats.available() >= 1 {
            let Some(person) = seats.waiting.pop_front() else { break };
            let prepared = prepare_offer(&offer, &person, now, self.settings.offer_ttl);
            let email = NewEmailCampaign {
                booking_id: prepared.booking.id,
                attendee_id: None,
                kind: "waitlist_offer",
                recipient_email: person.email.clone(),
                language: person.language.clone(),
                scheduled_for: now,
                next_attempt_at: now,
            };
            seats.held += 1;
            tracing::info!(city_event_id = %self.id, entry = person.id, "seat offered to the waiting list");
            self.pending.push(Op::Offer { prepared: Box::new(prepared), entry: person.id, email: Box::new(email) });
        }
    }

    pub(super) fn admit(&self) -> Result<(), ReservationError> {
        if self.seats.is_none() || self.restart_requested || self.rebuild_after_flight {
            return Err(ReservationError::Unavailable { retry_after_secs: 1 });
        }
        Ok(())
    }
}
