//! One `Handler` per message. Each decides synchronously, in the actor's turn, against memory:
//! a refusal is answered at once with no I/O; an accepted change reserves its seats in memory,
//! joins the pending batch and is answered once that batch is written (see `batch`).

use crate::domain::BookingId;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use tracing::info_span;

use super::actor::CityEventActor;
use super::batch::Op;
use super::messages::*;
use crate::actors::ReservationError;
use crate::db::bookings::Transition;

impl Handler<Hold> for CityEventActor {
    type Result = ();

    #[tracing::instrument(name = "city_event.hold", skip_all, fields(city_event_id = %self.id, quantity = msg.prepared.booking.quantity))]
    fn handle(&mut self, msg: Hold, ctx: &mut Context<Self>) {
        if let Err(e) = self.admit() {
            let _ = msg.reply.send(Err(e));
            return;
        }
        if self.status != "on_sale" {
            let _ = msg.reply.send(Err(ReservationError::SalesClosed { status: self.status.to_owned() }));
            return;
        }
        let seats = self.seats.as_mut().expect("admitted");
        let qty = msg.prepared.booking.quantity;
        let available = seats.available();
        if available < qty {
            let err = if available <= 0 { ReservationError::SoldOut } else { ReservationError::NotEnoughSeats { available } };
            let _ = msg.reply.send(Err(err));
            return;
        }
        seats.held += qty;
        self.pending.push(Op::Hold { prepared: Box::new(msg.prepared), reply: msg.reply });
        self.publish();
        self.flush(ctx);
    }
}

impl Handler<Confirm> for CityEventActor {
    type Result = ();

    #[tracing::instrument(name = "city_event.confirm", skip_all, fields(city_event_id = %self.id, booking_id = %msg.booking_id))]
    fn handle(&mut self, msg: Confirm, ctx: &mut Context<Self>) {
        if let Err(e) = self.admit() {
            let _ = msg.reply.send(Err(e));
            return;
        }
        let seats = self.seats.as_mut().expect("admitted");
        if let Some(qty) = seats.take_hold(&msg.booking_id) {
            // Seats move from held to sold after the commit; availability does not change.
            self.pending.push(Op::ConfirmHeld { id: msg.booking_id, qty, reply: msg.reply });
        } else {
            // The hold ended (or is ending in the batch being written, whose seats count as ours).
            let qty = msg.quantity;
            let own = seats.releasing.get(&msg.booking_id).copied().unwrap_or(0);
            if seats.available() + own < qty {
                let _ = msg.reply.send(Err(ReservationError::SoldOut));
                return;
            }
            seats.sold += qty;
            self.pending.push(Op::ConfirmLate { id: msg.booking_id, qty, reply: msg.reply });
        }
        self.publish();
        self.flush(ctx);
    }
}

impl Handler<Release> for CityEventActor {
    type Result = ();

    #[tracing::instrument(name = "city_event.release", skip_all, fields(city_event_id = %self.id, booking_id = %msg.booking_id))]
    fn handle(&mut self, msg: Release, ctx: &mut Context<Self>) {
        if let Err(e) = self.admit() {
            let _ = msg.reply.send(Err(e));
            return;
        }
        let seats = self.seats.as_mut().expect("admitted");
        let op = match msg.kind {
            ReleaseKind::Cancel => match seats.take_hold(&msg.booking_id) {
                Some(qty) => {
                    seats.releasing.insert(msg.booking_id, qty);
                    Op::Release { id: msg.booking_id, qty, transition: Transition::CancelHeld, reply: Some(msg.reply) }
                }
                None => {
                    let _ = msg.reply.send(Err(ReservationError::WrongStatus { expected: "held" }));
                    return;
                }
            },
            ReleaseKind::Refund => {
                Op::Release { id: msg.booking_id, qty: msg.quantity, transition: Transition::RefundConfirmed, reply: Some(msg.reply) }
            }
        };
        self.pending.push(op);
        self.flush(ctx);
    }
}

impl Handler<Tick> for CityEventActor {
    type Result = ();

    // Every tick, so below the default level; the expiry itself has its own span when holds are due.
    #[tracing::instrument(name = "city_event.tick", level = "trace", skip_all, fields(city_event_id = %self.id))]
    fn handle(&mut self, _: Tick, ctx: &mut Context<Self>) {
        if self.admit().is_err() {
            return;
        }
        let now = Utc::now();
        let max = self.settings.max_batch;
        let seats = self.seats.as_mut().expect("admitted");
        let due: Vec<(DateTime<Utc>, BookingId)> = seats.expiries.iter().take_while(|(at, _)| *at <= now).take(max).copied().collect();
        if due.is_empty() {
            return;
        }
        let _span = info_span!("city_event.expire", city_event_id = %self.id, count = due.len()).entered();
        for (_, id) in due {
            if let Some(qty) = seats.take_hold(&id) {
                seats.releasing.insert(id, qty);
                self.pending.push(Op::Release { id, qty, transition: Transition::ExpireHeld, reply: None });
            }
        }
        self.flush(ctx);
    }
}

impl Handler<SetCapacity> for CityEventActor {
    type Result = ();

    #[tracing::instrument(name = "city_event.capacity", skip_all, fields(city_event_id = %self.id, capacity = msg.capacity))]
    fn handle(&mut self, msg: SetCapacity, ctx: &mut Context<Self>) {
        if let Err(e) = self.admit() {
            let _ = msg.reply.send(Err(e));
            return;
        }
        let seats = self.seats.as_mut().expect("admitted");
        let taken = seats.held + seats.sold;
        if msg.capacity < taken.max(1) {
            let _ = msg.reply.send(Err(ReservationError::CapacityBelowTaken { taken }));
            return;
        }
        let previous = seats.capacity;
        // Fewer seats at once (memory never shows more than the database); more only once written.
        if msg.capacity < previous {
            seats.capacity = msg.capacity;
        }
        self.pending.push(Op::Capacity { capacity: msg.capacity, previous, reply: msg.reply });
        self.publish();
        self.flush(ctx);
    }
}

impl Handler<SetStatus> for CityEventActor {
    type Result = ();

    #[tracing::instrument(name = "city_event.status", skip_all, fields(city_event_id = %self.id, status = msg.status))]
    fn handle(&mut self, msg: SetStatus, ctx: &mut Context<Self>) {
        if let Err(e) = self.admit() {
            let _ = msg.reply.send(Err(e));
            return;
        }
        // Closing takes effect for the very next hold; opening once written.
        if msg.status != "on_sale" {
            self.status = msg.status;
            self.publish();
        }
        self.pending.push(Op::Status { status: msg.status, reply: msg.reply });
        self.flush(ctx);
    }
}

impl Handler<JoinWaitlist> for CityEventActor {
    type Result = ();

    // The entry is a person (name, address): only the city event is recorded.
    #[tracing::instrument(name = "city_event.join_waitlist", skip_all, fields(city_event_id = %self.id))]
    fn handle(&mut self, msg: JoinWaitlist, ctx: &mut Context<Self>) {
        if let Err(e) = self.admit() {
            let _ = msg.reply.send(Err(e));
            return;
        }
        if self.status != "on_sale" {
            let _ = msg.reply.send(Err(ReservationError::SalesClosed { status: self.status.to_owned() }));
            return;
        }
        let seats = self.seats.as_ref().expect("admitted");
        if seats.waiting.iter().any(|w| w.email == msg.entry.email) {
            let _ = msg.reply.send(Err(ReservationError::AlreadyWaiting));
            return;
        }
        let available = seats.available();
        if available > 0 {
            let _ = msg.reply.send(Err(ReservationError::SeatsAvailable { available }));
            return;
        }
        self.pending.push(Op::Join { entry: Box::new(msg.entry), reply: msg.reply });
        self.flush(ctx);
    }
}

impl Handler<RemoveWaiting> for CityEventActor {
    type Result = ();

    #[tracing::instrument(name = "city_event.remove_waiting", skip_all, fields(city_event_id = %self.id, entry_id = msg.entry_id))]
    fn handle(&mut self, msg: RemoveWaiting, ctx: &mut Context<Self>) {
        if let Err(e) = self.admit() {
            let _ = msg.reply.send(Err(e));
            return;
        }
        let seats = self.seats.as_ref().expect("admitted");
        if !seats.waiting.iter().any(|w| w.id == msg.entry_id) {
            let _ = msg.reply.send(Err(ReservationError::WrongStatus { expected: "waiting" }));
            return;
        }
        self.pending.push(Op::Remove { entry: msg.entry_id, reply: msg.reply });
        self.flush(ctx);
    }
}

impl Handler<MoveOut> for CityEventActor {
    type Result = ();

    #[tracing::instrument(name = "city_event.move_out", skip_all, fields(city_event_id = %self.id, booking_id = %msg.booking_id))]
    fn handle(&mut self, msg: MoveOut, ctx: &mut Context<Self>) {
        if let Err(e) = self.admit() {
            let _ = msg.reply.send(Err(e));
            return;
        }
        let seats = self.seats.as_mut().expect("admitted");
        let (qty, was_held) = match seats.take_hold(&msg.booking_id) {
            Some(qty) => {
                seats.releasing.insert(msg.booking_id, qty);
                (qty, true)
            }
            None => (msg.quantity, false),
        };
        self.pending.push(Op::MoveOut { id: msg.booking_id, qty, was_held, to: msg.to, reply: msg.reply });
        self.flush(ctx);
    }
}

impl Handler<Restart> for CityEventActor {
    type Result = ();

    #[tracing::instrument(name = "city_event.restart", skip_all, fields(city_event_id = %self.id, in_flight = self.in_flight))]
    fn handle(&mut self, _: Restart, ctx: &mut Context<Self>) {
        self.restart_requested = true;
        self.fail_pending(ReservationError::Unavailable { retry_after_secs: 1 });
        if self.in_flight == 0 {
            ctx.stop();
        }
    }
}
