//! The batched commit (group commit): the changes decided in memory wait in `pending`; each batch
//! is written in one transaction (up to `batches_in_flight` of seats at once, on their own
//! connections), and only when it has ended is every request of the batch answered (success
//! after durability, or a refusal after the tentative seats went back).

use crate::domain::BookingId;
use std::time::Instant;

use actix::prelude::*;
use tracing::{info_span, warn, Instrument};

use super::actor::CityEventActor;
use super::messages::{HoldReceipt, Reply};
use super::prepare::PreparedHold;
use super::seats::Waiting;
use crate::actors::ReservationError;
use crate::db::bookings::{BatchOutcome, BatchWrite, Transition};
use crate::db::models::{NewEmailCampaign, NewWaitlistEntry};
use crate::db::{self, DbError};

/// One change decided in memory and waiting to be written, with whom to answer.
pub(super) enum Op {
    Hold {
        prepared: Box<PreparedHold>,
        reply: Reply<HoldReceipt>,
    },
    ConfirmHeld {
        id: BookingId,
        qty: i32,
        reply: Reply<()>,
    },
    ConfirmLate {
        id: BookingId,
        qty: i32,
        reply: Reply<()>,
    },
    Release {
        id: BookingId,
        qty: i32,
        transition: Transition,
        reply: Option<Reply<()>>,
    },
    /// A seat held for the first person waiting (no one to answer: the mail tells them).
    Offer {
        prepared: Box<PreparedHold>,
        entry: i64,
        email: Box<NewEmailCampaign>,
    },
    Join {
        entry: Box<NewWaitlistEntry>,
        reply: Reply<i64>,
    },
    Remove {
        entry: i64,
        reply: Reply<()>,
    },
    /// `previous` is restored if the database refuses (a decrease is applied at once).
    Capacity {
        capacity: i32,
        previous: i32,
        reply: Reply<()>,
    },
    Status {
        status: &'static str,
        reply: Reply<()>,
    },
    MoveOut {
        id: BookingId,
        qty: i32,
        was_held: bool,
        to: BookingId,
        reply: Reply<()>,
    },
}

impl Op {
    /// Capacity and status changes go one per batch (a batch writes at most one of each).
    pub(super) fn is_setting(&self) -> bool {
        matches!(self, Op::Capacity { .. } | Op::Status { .. })
    }

    /// Holds and seat transitions: what a batch may write while another is in flight.
    fn is_seats(&self) -> bool {
        matches!(self, Op::Hold { .. } | Op::ConfirmHeld { .. } | Op::ConfirmLate { .. } | Op::Release { .. })
    }
}

impl Op {
    pub(super) fn fail(self, err: ReservationError) {
        match self {
            Op::Hold { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            Op::ConfirmHeld { reply, .. } | Op::ConfirmLate { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            Op::Release { reply, .. } => {
                if let Some(r) = reply {
                    let _ = r.send(Err(err));
                }
            }
            Op::Offer { .. } => {}
            Op::Join { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            Op::Remove { reply, .. } | Op::Capacity { reply, .. } | Op::Status { reply, .. } | Op::MoveOut { reply, .. } => {
                let _ = reply.send(Err(err));
            }
        }
    }
}

impl CityEventActor {
    /// Start writing the next batches, up to `batches_in_flight` at once. Only batches of seats
    /// (holds, confirmations, releases) overlap: each is decided in memory before it starts, and
    /// its commit proves it on its own (the CHECK constraint, the status filters of its updates),
    /// so two in flight cannot sell a seat twice. A batch with anything else (the waiting list,
    /// a move, capacity, status) is written alone.
    pub(super) fn flush(&mut self, ctx: &mut Context<Self>) {
        while self.start_batch(ctx) {}
    }

    /// Starts one batch if one may start now; false when none did.
    fn start_batch(&mut self, ctx: &mut Context<Self>) -> bool {
        if self.pending.is_empty() || self.seats.is_none() || self.rebuild_after_flight {
            return false;
        }
        if self.in_flight > 0 && (self.exclusive_in_flight || self.in_flight >= self.settings.batches_in_flight) {
            return false;
        }
        let mut n = self.pending.len().min(self.settings.max_batch);
        if let Some(second) = self.pending.iter().enumerate().filter(|(_, op)| op.is_setting()).nth(1).map(|(i, _)| i) {
            n = n.min(second);
        }
        let seats_only = self.pending[..n].iter().all(Op::is_seats);
        if !seats_only && self.in_flight > 0 {
            return false;
        }
        // The batch gets its own span, the commit task below a child span of it (`city_event.commit`).
        let flush_span = info_span!("city_event.flush", city_event_id = %self.id, batch = n, in_flight = self.in_flight);
        let _entered = flush_span.enter();
        let mut ops: Vec<Op> = self.pending.drain(..n).collect();
        let write = self.batch_write(&mut ops);
        self.in_flight += 1;
        self.exclusive_in_flight = !seats_only;
        let pool = self.pool.clone();
        let timeout = self.settings.commit_timeout;
        let batch_len = ops.len();
        let span = info_span!(parent: &flush_span, "city_event.commit", city_event_id = %self.id, batch = batch_len);
        // The write runs as its own task: if the actor stops meanwhile, the transaction still ends
        // cleanly instead of being dropped half-way.
        let task = actix_rt::spawn(
            async move {
                let started = Instant::now();
                let result = tokio::time::timeout(timeout, async {
                    let mut conn = db::connection(&pool).await?;
                    db::bookings::write_batch(&mut conn, &write).await.map_err(DbError::from)
                })
                .await
                .unwrap_or_else(|_| Err(DbError::Unavailable("commit timed out".into())));
                tracing::debug!(elapsed_us = started.elapsed().as_micros() as u64, ok = result.is_ok(), "batch written");
                let m = crate::metrics::metrics();
                m.actor_batch_size.observe(batch_len as f64);
                m.actor_commit_seconds.observe(started.elapsed().as_secs_f64());
                result
            }
            .instrument(span),
        );
        ctx.spawn(
            async move { task.await.unwrap_or_else(|e| Err(DbError::Unavailable(format!("commit task failed: {e}")))) }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    act.in_flight -= 1;
                    act.exclusive_in_flight = false;
                    act.generation += 1;
                    act.complete(ops, result, ctx);
                    if act.in_flight > 0 {
                        act.flush(ctx);
                    } else if act.restart_requested {
                        ctx.stop();
                    } else if act.rebuild_after_flight {
                        act.rebuild_after_flight = false;
                        act.reload(ctx);
                    } else {
                        act.flush(ctx);
                    }
                }),
        );
        true
    }

    /// What a batch writes, gathered from its ops (the new rows move out of them).
    fn batch_write(&self, ops: &mut [Op]) -> BatchWrite {
        let mut write = BatchWrite::default();
        let id = self.id.0;
        for op in ops {
            match op {
                Op::Hold { prepared, .. } => {
                    write.new_bookings.push(prepared.booking.clone());
                    write.new_attendees.append(&mut prepared.attendees);
                }
                Op::ConfirmHeld { id, .. } => write.transitions.push((*id, Transition::ConfirmHeld)),
                Op::ConfirmLate { id, .. } => write.transitions.push((*id, Transition::ConfirmLate)),
                Op::Release { id, transition, .. } => write.transitions.push((*id, *transition)),
                Op::Offer { prepared, entry, email } => {
                    write.new_bookings.push(prepared.booking.clone());
                    write.new_attendees.append(&mut prepared.attendees);
                    write.offers.push((*entry, prepared.booking.id));
                    write.emails.push((**email).clone());
                }
                Op::Join { entry, .. } => write.new_waitlist_entries.push((**entry).clone()),
                Op::Remove { entry, .. } => write.removed_waitlist_entries.push(*entry),
                Op::Capacity { capacity, .. } => write.capacity = Some((id, *capacity)),
                Op::Status { status, .. } => write.status = Some((id, *status)),
                Op::MoveOut { id, was_held, to, .. } => write.moves.push((*id, if *was_held { "held" } else { "confirmed" }, *to)),
            }
        }
        write
    }

    /// Memory can no longer be trusted: refuse what waits, and rebuild from the database once
    /// no batch is being written (a batch still in flight answers from its own commit).
    fn rebuild(&mut self, ctx: &mut Context<Self>) {
        self.fail_pending(ReservationError::Unavailable { retry_after_secs: 1 });
        if self.in_flight == 0 {
            self.rebuild_after_flight = false;
            self.reload(ctx);
        } else {
            self.rebuild_after_flight = true;
        }
    }

    /// Apply a batch's outcome to memory and answer its requests.
    pub(super) fn complete(&mut self, ops: Vec<Op>, result: Result<BatchOutcome, DbError>, ctx: &mut Context<Self>) {
        let _span = info_span!("city_event.complete", city_event_id = %self.id, batch = ops.len(), ok = result.is_ok()).entered();
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(e) => {
                warn!(city_event_id = %self.id, error = %e, batch = ops.len(), "batch commit failed; rebuilding from the database");
                let err = ReservationError::Unavailable { retry_after_secs: 1 };
                for op in ops {
                    op.fail(err.clone());
                }
                self.rebuild(ctx);
                return;
            }
        };
        if self.rebuild_after_flight || self.seats.is_none() {
            // Another batch failed while this one was written: memory is rebuilt from the
            // database once both have ended, so this one only answers from its own commit.
            answer_from_outcome(ops, outcome);
            return;
        }
        let Some(seats) = self.seats.as_mut() else { return };
        let mut diverged = false;
        let mut changed = outcome.changed;
        // Answers go out after the snapshot shows the batch: a client that reads availability
        // right after its 201 sees its own hold.
        let mut receipts: Vec<(Reply<HoldReceipt>, HoldReceipt)> = Vec::new();
        let mut answers: Vec<(Reply<()>, Result<(), ReservationError>)> = Vec::new();
        for op in ops {
            match op {
                Op::Hold { prepared, reply } => {
                    let id = prepared.booking.id;
                    let qty = prepared.booking.quantity;
                    let expires_at = prepared.booking.hold_expires_at;
                    seats.holds.insert(id, (qty, expires_at));
                    seats.expiries.insert((expires_at, id));
                    let reference = outcome.new_references.get(&id).cloned().unwrap_or(prepared.booking.reference);
                    receipts.push((reply, HoldReceipt { booking_id: id, reference, quote: prepared.quote, expires_at }));
                }
                Op::ConfirmHeld { id, qty, reply } => {
                    if changed.remove(&(id, Transition::ConfirmHeld)) {
                        seats.held -= qty;
                        seats.sold += qty;
                        answers.push((reply, Ok(())));
                    } else {
                        diverged = true;
                        answers.push((reply, Err(ReservationError::WrongStatus { expected: "held" })));
                    }
                }
                Op::ConfirmLate { id, qty, reply } => {
                    if changed.remove(&(id, Transition::ConfirmLate)) {
                        answers.push((reply, Ok(())));
                    } else {
                        seats.sold -= qty;
                        answers.push((reply, Err(ReservationError::WrongStatus { expected: "expired or cancelled" })));
                    }
                }
                Op::Release { id, qty, transition, reply } => {
                    let held_before = transition != Transition::RefundConfirmed;
                    if held_before {
                        seats.releasing.remove(&id);
                    }
                    let result = if changed.remove(&(id, transition)) {
                        if held_before {
                            seats.held -= qty;
                        } else {
                            seats.sold -= qty;
                        }
                        Ok(())
                    } else {
                        // A hold memory believed in was not held in the database.
                        diverged |= held_before;
                        Err(ReservationError::WrongStatus { expected: if held_before { "held" } else { "confirmed" } })
                    };
                    if let Some(r) = reply {
                        answers.push((r, result));
                    }
                }
                Op::Offer { prepared, .. } => {
                    let id = prepared.booking.id;
                    let expires_at = prepared.booking.hold_expires_at;
                    seats.holds.insert(id, (prepared.booking.quantity, expires_at));
                    seats.expiries.insert((expires_at, id));
                }
                Op::Join { entry, reply } => match outcome.joined.get(&entry.email) {
                    Some(&entry_id) => {
                        seats.waiting.push_back(Waiting {
                            id: entry_id,
                            first_name: entry.first_name,
                            last_name: entry.last_name,
                            email: entry.email,
                            language: entry.language,
                        });
                        let _ = reply.send(Ok(entry_id));
                    }
                    None => {
                        let _ = reply.send(Err(ReservationError::AlreadyWaiting));
                    }
                },
                Op::Remove { entry, reply } => {
                    if outcome.removed.contains(&entry) {
                        seats.waiting.retain(|w| w.id != entry);
                        answers.push((reply, Ok(())));
                    } else {
                        answers.push((reply, Err(ReservationError::WrongStatus { expected: "waiting" })));
                    }
                }
                Op::Capacity { capacity, previous, reply } => {
                    if outcome.capacity_set {
                        seats.capacity = capacity;
                        answers.push((reply, Ok(())));
                    } else {
                        // Memory allowed it and the database did not: memory is wrong.
                        seats.capacity = previous;
                        diverged = true;
                        answers.push((reply, Err(ReservationError::CapacityBelowTaken { taken: seats.held + seats.sold })));
                    }
                }
                Op::Status { status, reply } => {
                    self.status = status;
                    answers.push((reply, Ok(())));
                }
                Op::MoveOut { id, qty, was_held, reply, .. } => {
                    if was_held {
                        seats.releasing.remove(&id);
                    }
                    if outcome.moved.contains(&id) {
                        if was_held {
                            seats.held -= qty;
                        } else {
                            seats.sold -= qty;
                        }
                        answers.push((reply, Ok(())));
                    } else {
                        diverged |= was_held;
                        answers.push((reply, Err(ReservationError::WrongStatus { expected: if was_held { "held" } else { "confirmed" } })));
                    }
                }
            }
        }
        if !diverged {
            // Before the snapshot and the answers: a seat that came back goes to the waiting list
            // first, in this same turn, so no public hold can take it in between.
            self.offer_free_seats();
            self.publish();
        }
        for (reply, receipt) in receipts {
            let _ = reply.send(Ok(receipt));
        }
        for (reply, result) in answers {
            let _ = reply.send(result);
        }
        if diverged {
            warn!(city_event_id = %self.id, "memory and database disagreed; rebuilding from the database");
            self.rebuild(ctx);
        }
    }
}

/// Answers a committed batch's requests from what the database did, memory aside.
fn answer_from_outcome(ops: Vec<Op>, mut outcome: BatchOutcome) {
    let wrong = |expected| Err(ReservationError::WrongStatus { expected });
    for op in ops {
        match op {
            Op::Hold { prepared, reply } => {
                let id = prepared.booking.id;
                let reference = outcome.new_references.get(&id).cloned().unwrap_or(prepared.booking.reference);
                let expires_at = prepared.booking.hold_expires_at;
                let _ = reply.send(Ok(HoldReceipt { booking_id: id, reference, quote: prepared.quote, expires_at }));
            }
            Op::ConfirmHeld { id, reply, .. } => {
                let _ = reply.send(if outcome.changed.remove(&(id, Transition::ConfirmHeld)) { Ok(()) } else { wrong("held") });
            }
            Op::ConfirmLate { id, reply, .. } => {
                let ok = outcome.changed.remove(&(id, Transition::ConfirmLate));
                let _ = reply.send(if ok { Ok(()) } else { wrong("expired or cancelled") });
            }
            Op::Release { id, transition, reply, .. } => {
                let ok = outcome.changed.remove(&(id, transition));
                let expected = if transition == Transition::RefundConfirmed { "confirmed" } else { "held" };
                if let Some(r) = reply {
                    let _ = r.send(if ok { Ok(()) } else { wrong(expected) });
                }
            }
            // Only seats batches overlap another; the rest is written alone.
            other => other.fail(ReservationError::Unavailable { retry_after_secs: 1 }),
        }
    }
}
