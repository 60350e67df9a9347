//! `CityEventActor`: the authority on one city event's seats.
//!
//! Decisions are made in memory, synchronously, inside `handle`, so no two messages interleave.
//! A hold that fits reserves its seats at once (tentatively) and joins the `pending` batch; a hold
//! that does not fit is refused at once, with no I/O. One batch at a time is written in one
//! transaction; when it ends, every request of the batch is answered: success only after the
//! commit. Requests that arrive during a commit form the next batch, so under light load a batch
//! is one request and under a burst batches grow by themselves (group commit).
//!
//! Seats are taken away from availability before the commit (holds, late confirmations) and given
//! back only after it (cancellations, expiries, refunds): whatever the outcome of a commit, memory
//! never shows more free seats than the database has. If a commit fails, or its outcome is unknown,
//! the batch and everything queued is refused and the actor rebuilds its memory from the database.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use tracing::{info_span, warn, Instrument};
use uuid::Uuid;

use super::{Availability, ReservationError};
use crate::db::bookings::{BatchOutcome, BatchWrite, Transition};
use crate::db::models::{NewAttendee, NewBooking, NewEmailCampaign, NewWaitlistEntry};
use crate::db::{self, AsyncPool, DbError};
use crate::domain::booking_request::BookingRequest;
use crate::domain::pricing::{PriceRules, Quote};
use crate::domain::taxes::TaxRate;
use crate::domain::BookingStatus;
use crate::domain::{BookingReference, Cents, CityEventId};

/// Tunables, from configuration.
#[derive(Debug, Clone)]
pub struct ActorSettings {
    pub hold_ttl: chrono::Duration,
    /// Most changes written in one transaction.
    pub max_batch: usize,
    /// Most requests queued or in flight for one city event; past it, `Busy` at once.
    pub max_inflight: usize,
    pub expiry_tick: Duration,
    /// A commit taking longer than this is abandoned and treated as failed.
    pub commit_timeout: Duration,
    /// How often an idle actor compares its counts with the database (drift check).
    pub resync_every: Duration,
    /// How long a seat offered to the waiting list stays held for its person.
    pub offer_ttl: chrono::Duration,
}

/// What is sold and at which price. The organiser may change prices: the handle and the actor
/// share it (`SharedOffer`), and a hold is priced with what it reads when it is prepared.
#[derive(Debug, Clone)]
pub struct Offer {
    pub id: CityEventId,
    pub city_code: String,
    pub prices: PriceRules,
    pub taxes: Vec<TaxRate>,
}

type SharedOffer = Arc<RwLock<Arc<Offer>>>;

fn read_offer(offer: &SharedOffer) -> Arc<Offer> {
    offer.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// A hold that succeeded.
#[derive(Debug, Clone)]
pub struct HoldReceipt {
    pub booking_id: Uuid,
    pub reference: String,
    pub quote: Quote,
    pub expires_at: DateTime<Utc>,
}

/// The counts readers see without asking the actor (availability pages, fast refusals), and the
/// city event's sales status. Written only by the actor, after every change.
#[derive(Debug, Default)]
pub struct SeatSnapshot {
    counts: Mutex<Option<Availability>>,
    status: Mutex<String>,
}

impl SeatSnapshot {
    /// `None` while the actor is (re)loading its state from the database.
    pub fn get(&self) -> Option<Availability> {
        *self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, value: Option<Availability>) {
        *self.counts.lock().unwrap_or_else(|p| p.into_inner()) = value;
    }

    /// `on_sale`, `closed`, `draft` or `cancelled`.
    pub fn status(&self) -> String {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_status(&self, status: &str) {
        status.clone_into(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

// ---------------------------------------------------------------------------------------------
// Messages

type Reply<T> = oneshot::Sender<Result<T, ReservationError>>;

/// Hold seats for a new booking. The rows are prepared by the caller; the actor decides.
struct Hold {
    prepared: PreparedHold,
    reply: Reply<HoldReceipt>,
}

impl Message for Hold {
    type Result = ();
}

/// Turn a booking into a sale (its payment succeeded). A booking whose hold already ended is
/// confirmed only if seats remain.
struct Confirm {
    booking_id: Uuid,
    quantity: i32,
    reply: Reply<()>,
}

impl Message for Confirm {
    type Result = ();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReleaseKind {
    /// The buyer cancels a hold.
    Cancel,
    /// A confirmed booking is refunded.
    Refund,
}

/// Give seats back.
struct Release {
    booking_id: Uuid,
    quantity: i32,
    kind: ReleaseKind,
    reply: Reply<()>,
}

impl Message for Release {
    type Result = ();
}

/// The organiser changes the capacity. Decided here, in turn with holds: never below the seats
/// taken (held, sold, and holds not yet written).
struct SetCapacity {
    capacity: i32,
    reply: Reply<()>,
}

impl Message for SetCapacity {
    type Result = ();
}

/// The organiser opens (`on_sale`) or closes (`closed`) sales.
struct SetStatus {
    status: &'static str,
    reply: Reply<()>,
}

impl Message for SetStatus {
    type Result = ();
}

/// Someone joins the waiting list; accepted only while no seat is free (a free seat is for sale).
struct JoinWaitlist {
    entry: NewWaitlistEntry,
    reply: Reply<i64>,
}

impl Message for JoinWaitlist {
    type Result = ();
}

/// The organiser takes someone off the waiting list (before any offer).
struct RemoveWaiting {
    entry_id: i64,
    reply: Reply<()>,
}

impl Message for RemoveWaiting {
    type Result = ();
}

/// A booking leaves for another city event, whose actor already holds its replacement `to`.
struct MoveOut {
    booking_id: Uuid,
    quantity: i32,
    to: Uuid,
    reply: Reply<()>,
}

impl Message for MoveOut {
    type Result = ();
}

/// Stop and start again from the database (after an operator change, or to recover).
struct Restart;

impl Message for Restart {
    type Result = ();
}

/// Periodic: expire due holds.
struct Tick;

impl Message for Tick {
    type Result = ();
}

// ---------------------------------------------------------------------------------------------
// State

struct Seats {
    capacity: i32,
    /// Includes tentative holds (not yet committed) and holds being released (not yet committed).
    held: i32,
    sold: i32,
    /// Committed holds and their expiry.
    holds: HashMap<Uuid, (i32, DateTime<Utc>)>,
    expiries: BTreeSet<(DateTime<Utc>, Uuid)>,
    /// Holds leaving (`Cancel` / expiry) in a batch not yet committed.
    releasing: HashMap<Uuid, i32>,
    /// The waiting list, first come first served: entries not yet offered a seat.
    waiting: VecDeque<Waiting>,
}

/// A person on the waiting list, as the actor needs them to make an offer.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub language: String,
}

impl Seats {
    fn available(&self) -> i32 {
        self.capacity - self.held - self.sold
    }

    fn take_hold(&mut self, id: &Uuid) -> Option<i32> {
        let (qty, expires) = self.holds.remove(id)?;
        self.expiries.remove(&(expires, *id));
        Some(qty)
    }
}

/// A hold as prepared by the caller: the rows to insert and the receipt to give back.
pub struct PreparedHold {
    booking: NewBooking,
    attendees: Vec<NewAttendee>,
    quote: Quote,
}

enum Op {
    Hold {
        prepared: Box<PreparedHold>,
        reply: Reply<HoldReceipt>,
    },
    ConfirmHeld {
        id: Uuid,
        qty: i32,
        reply: Reply<()>,
    },
    ConfirmLate {
        id: Uuid,
        qty: i32,
        reply: Reply<()>,
    },
    Release {
        id: Uuid,
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
        id: Uuid,
        qty: i32,
        was_held: bool,
        to: Uuid,
        reply: Reply<()>,
    },
}

impl Op {
    /// Capacity and status changes go one per batch (a batch writes at most one of each).
    fn is_setting(&self) -> bool {
        matches!(self, Op::Capacity { .. } | Op::Status { .. })
    }
}

pub struct CityEventActor {
    id: CityEventId,
    offer: SharedOffer,
    /// Sales status: holds are taken only `on_sale`; confirmations, releases and moves always.
    status: &'static str,
    pool: AsyncPool,
    settings: ActorSettings,
    seats: Option<Seats>,
    pending: Vec<Op>,
    flushing: bool,
    restart_requested: bool,
    /// Batches completed; a drift check started before a commit ended is discarded.
    generation: u64,
    /// Reloads started; only the latest one may install its state.
    load_epoch: u64,
    snapshot: Arc<SeatSnapshot>,
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
        self.flushing = false;
        self.restart_requested = false;
        self.snapshot.set(None);
    }
}

impl CityEventActor {
    fn publish(&self) {
        self.snapshot.set_status(self.status);
        self.snapshot.set(self.seats.as_ref().map(|s| Availability {
            city_event_id: self.id.0,
            available: s.available(),
            total: s.capacity,
            held: s.held,
            sold: s.sold,
        }));
    }

    fn fail_pending(&mut self, err: ReservationError) {
        for op in self.pending.drain(..) {
            op.fail(err.clone());
        }
    }

    /// Rebuild memory from the database, retrying with back-off until it answers.
    ///
    /// The first attempt holds the mailbox (for at most `FIRST_LOAD_WAIT`): with a healthy
    /// database it takes milliseconds, and requests sent meanwhile are served rather than refused.
    /// If it fails, the retries run beside message handling, so while the database is down
    /// requests are refused at once with `Unavailable` (503 + Retry-After) instead of queueing
    /// until it is back.
    fn reload(&mut self, ctx: &mut Context<Self>) {
        const FIRST_LOAD_WAIT: Duration = Duration::from_millis(500);
        self.seats = None;
        self.publish();
        // A newer reload supersedes an older one still retrying.
        self.load_epoch += 1;
        let epoch = self.load_epoch;
        let pool = self.pool.clone();
        let id = self.id;
        let first = async move { tokio::time::timeout(FIRST_LOAD_WAIT, load_seats(&pool, id)).await }
            .instrument(info_span!("city_event.load", city_event_id = %id));
        ctx.wait(first.into_actor(self).map(move |loaded, act, ctx| match loaded {
            Ok(Ok(seats)) => act.install(seats, epoch, ctx),
            Ok(Err(e)) => {
                warn!(city_event_id = %id, error = %e, "cannot load city event state; retrying");
                act.reload_in_background(epoch, ctx);
            }
            Err(_) => {
                warn!(city_event_id = %id, "loading city event state is slow; retrying");
                act.reload_in_background(epoch, ctx);
            }
        }));
    }

    fn reload_in_background(&mut self, epoch: u64, ctx: &mut Context<Self>) {
        let pool = self.pool.clone();
        let id = self.id;
        let fut = async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                tokio::time::sleep(backoff).await;
                match load_seats(&pool, id).await {
                    Ok(loaded) => return loaded,
                    Err(e) => {
                        warn!(city_event_id = %id, error = %e, "cannot load city event state; retrying");
                        backoff = (backoff * 2).min(Duration::from_secs(2));
                    }
                }
            }
        }
        .instrument(info_span!("city_event.load", city_event_id = %id));
        ctx.spawn(fut.into_actor(self).map(move |seats, act, ctx| act.install(seats, epoch, ctx)));
    }

    fn install(&mut self, (seats, status): (Seats, &'static str), epoch: u64, ctx: &mut Context<Self>) {
        if self.load_epoch != epoch {
            return;
        }
        self.seats = Some(seats);
        self.status = status;
        // Seats may have come back while no actor was watching (holds expired during a restart, a
        // capacity raised from the command line): the waiting list comes first.
        self.offer_free_seats();
        self.publish();
        self.flush(ctx);
    }

    fn idle(&self) -> bool {
        self.seats.is_some() && !self.flushing && self.pending.is_empty() && !self.restart_requested
    }

    /// Another writer (the command line, an operator's SQL) may have changed this city event's
    /// seats in the database. When idle, compare the counters and reload on any difference; the
    /// database is the arbiter.
    fn check_drift(&mut self, ctx: &mut Context<Self>) {
        if !self.idle() {
            return;
        }
        let generation = self.generation;
        let pool = self.pool.clone();
        let id = self.id;
        let fut = async move {
            let mut conn = db::connection(&pool).await.ok()?;
            db::catalogue::seat_counters(&mut conn, id.0).await.ok()
        };
        ctx.spawn(fut.into_actor(self).map(move |counters, act, ctx| {
            let Some((capacity, held, sold)) = counters else { return };
            if act.generation != generation || !act.idle() {
                return;
            }
            let Some(seats) = act.seats.as_ref() else { return };
            if (seats.capacity, seats.held, seats.sold) != (capacity, held, sold) {
                warn!(city_event_id = %act.id, memory = ?(seats.capacity, seats.held, seats.sold), database = ?(capacity, held, sold),
                    "seat counts changed outside this actor; reloading");
                act.reload(ctx);
            }
        }));
    }

    /// Start writing the next batch unless one is being written.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.flushing || self.pending.is_empty() || self.seats.is_none() {
            return;
        }
        let mut n = self.pending.len().min(self.settings.max_batch);
        if let Some(second) = self.pending.iter().enumerate().filter(|(_, op)| op.is_setting()).nth(1).map(|(i, _)| i) {
            n = n.min(second);
        }
        let mut ops: Vec<Op> = self.pending.drain(..n).collect();
        let mut write = BatchWrite::default();
        let id = self.id.0;
        for op in &mut ops {
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
        self.flushing = true;
        let pool = self.pool.clone();
        let timeout = self.settings.commit_timeout;
        let batch_len = ops.len();
        let span = info_span!("city_event.commit", city_event_id = %self.id, batch = batch_len);
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
                    act.flushing = false;
                    act.generation += 1;
                    act.complete(ops, result, ctx);
                    if act.restart_requested {
                        ctx.stop();
                    } else {
                        act.flush(ctx);
                    }
                }),
        );
    }

    /// Apply a batch's outcome to memory and answer its requests.
    fn complete(&mut self, ops: Vec<Op>, result: Result<BatchOutcome, DbError>, ctx: &mut Context<Self>) {
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(e) => {
                warn!(city_event_id = %self.id, error = %e, batch = ops.len(), "batch commit failed; rebuilding from the database");
                let err = ReservationError::Unavailable { retry_after_secs: 1 };
                for op in ops {
                    op.fail(err.clone());
                }
                self.fail_pending(err);
                self.reload(ctx);
                return;
            }
        };
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
            self.fail_pending(ReservationError::Unavailable { retry_after_secs: 1 });
            self.reload(ctx);
        }
    }

    /// Offers every free seat to the people waiting, in order: each offer is a one-seat hold made
    /// for them now, in the actor's turn, so a seat is never offered twice nor sold meanwhile.
    fn offer_free_seats(&mut self) {
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

    fn admit(&self) -> Result<(), ReservationError> {
        if self.seats.is_none() || self.restart_requested {
            return Err(ReservationError::Unavailable { retry_after_secs: 1 });
        }
        Ok(())
    }
}

impl Op {
    fn fail(self, err: ReservationError) {
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

async fn load_seats(pool: &AsyncPool, id: CityEventId) -> Result<(Seats, &'static str), DbError> {
    let mut conn = db::connection(pool).await?;
    let details = db::catalogue::city_event(&mut conn, id.0).await?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
    let held_rows = db::catalogue::active_holds(&mut conn, id.0).await?;
    let waiting = db::waitlist::waiting(&mut conn, id.0).await?;
    let mut seats = Seats {
        capacity: details.event.capacity,
        held: 0,
        sold: details.event.seats_sold,
        holds: HashMap::with_capacity(held_rows.len()),
        expiries: BTreeSet::new(),
        releasing: HashMap::new(),
        waiting: waiting
            .into_iter()
            .map(|w| Waiting { id: w.id, first_name: w.first_name, last_name: w.last_name, email: w.email, language: w.language })
            .collect(),
    };
    for (booking_id, qty, expires) in held_rows {
        seats.held += qty;
        seats.holds.insert(booking_id, (qty, expires));
        seats.expiries.insert((expires, booking_id));
    }
    if seats.held != details.event.seats_held {
        // Both come from the same rows (the counter by trigger); a difference means a concurrent
        // writer, which the one-owner-per-event rule forbids. Trust the rows.
        warn!(city_event_id = %id, counter = details.event.seats_held, rows = seats.held, "held counter differs from held rows");
    }
    Ok((seats, status_name(details.event.status.as_str())))
}

/// The status as a static name (the database CHECK allows these four).
fn status_name(s: &str) -> &'static str {
    match s {
        "on_sale" => "on_sale",
        "draft" => "draft",
        "cancelled" => "cancelled",
        _ => "closed",
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

impl Handler<Hold> for CityEventActor {
    type Result = ();

    fn handle(&mut self, msg: Hold, ctx: &mut Context<Self>) {
        let _span = info_span!("city_event.hold", city_event_id = %self.id, quantity = msg.prepared.booking.quantity).entered();
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

    fn handle(&mut self, msg: Confirm, ctx: &mut Context<Self>) {
        let _span = info_span!("city_event.confirm", city_event_id = %self.id, booking_id = %msg.booking_id).entered();
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

    fn handle(&mut self, msg: Release, ctx: &mut Context<Self>) {
        let _span = info_span!("city_event.release", city_event_id = %self.id, booking_id = %msg.booking_id).entered();
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

    fn handle(&mut self, _: Tick, ctx: &mut Context<Self>) {
        if self.admit().is_err() {
            return;
        }
        let now = Utc::now();
        let max = self.settings.max_batch;
        let seats = self.seats.as_mut().expect("admitted");
        let due: Vec<(DateTime<Utc>, Uuid)> = seats.expiries.iter().take_while(|(at, _)| *at <= now).take(max).copied().collect();
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

    fn handle(&mut self, msg: SetCapacity, ctx: &mut Context<Self>) {
        let _span = info_span!("city_event.capacity", city_event_id = %self.id, capacity = msg.capacity).entered();
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

    fn handle(&mut self, msg: SetStatus, ctx: &mut Context<Self>) {
        let _span = info_span!("city_event.status", city_event_id = %self.id, status = msg.status).entered();
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

    fn handle(&mut self, msg: MoveOut, ctx: &mut Context<Self>) {
        let _span = info_span!("city_event.move_out", city_event_id = %self.id, booking_id = %msg.booking_id).entered();
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

    fn handle(&mut self, _: Restart, ctx: &mut Context<Self>) {
        self.restart_requested = true;
        self.fail_pending(ReservationError::Unavailable { retry_after_secs: 1 });
        if !self.flushing {
            ctx.stop();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The handle the rest of the application holds

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
            flushing: false,
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
    pub async fn hold(&self, request: &BookingRequest, percent_off: Option<u8>) -> Result<HoldReceipt, ReservationError> {
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
        let prepared = prepare_hold(&self.offer(), request, percent_off, Utc::now(), self.hold_ttl);
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
    pub async fn move_out(&self, booking_id: Uuid, quantity: i32, to: Uuid) -> Result<(), ReservationError> {
        self.ask(|reply| MoveOut { booking_id, quantity, to, reply }).await
    }

    pub async fn confirm(&self, booking_id: Uuid, quantity: i32) -> Result<(), ReservationError> {
        self.ask(|reply| Confirm { booking_id, quantity, reply }).await
    }

    pub async fn cancel(&self, booking_id: Uuid) -> Result<(), ReservationError> {
        self.ask(|reply| Release { booking_id, quantity: 0, kind: ReleaseKind::Cancel, reply }).await
    }

    pub async fn refund(&self, booking_id: Uuid, quantity: i32) -> Result<(), ReservationError> {
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

/// Quote and rows for a hold. Pure but for the random id and reference.
pub fn prepare_hold(
    offer: &Offer,
    request: &BookingRequest,
    percent_off: Option<u8>,
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> PreparedHold {
    let quote = offer.prices.quote(request.quantity, now, percent_off, &offer.taxes);
    let id = Uuid::new_v4();
    let booking = NewBooking {
        id,
        reference: BookingReference::generate(&offer.city_code).as_str().to_owned(),
        city_event_id: offer.id.0,
        quantity: request.quantity.as_i32(),
        status: BookingStatus::Held,
        buyer_first_name: request.buyer.first_name.as_str().to_owned(),
        buyer_last_name: request.buyer.last_name.as_str().to_owned(),
        buyer_email: request.buyer.email.as_str().to_owned(),
        buyer_phone: request.buyer.phone.as_str().to_owned(),
        act_experience: request.act_experience.as_str(),
        language: request.language.as_str(),
        promo_code: request.promo_code.clone(),
        unit_price_cents: quote.unit_price.0,
        subtotal_cents: quote.subtotal.0,
        discount_cents: quote.discount.0,
        taxes: serde_json::to_value(&quote.taxes).unwrap_or_default(),
        tax_cents: quote.tax_total.0,
        total_cents: quote.total.0,
        hold_expires_at: now + ttl,
        created_at: now,
    };
    let attendees = request
        .attendees
        .iter()
        .enumerate()
        .map(|(i, a)| NewAttendee {
            booking_id: id,
            position: i as i32 + 1,
            first_name: a.name.as_ref().map(|(f, _)| f.as_str().to_owned()),
            last_name: a.name.as_ref().map(|(_, l)| l.as_str().to_owned()),
            email: a.email.as_ref().map(|e| e.as_str().to_owned()),
        })
        .collect();
    PreparedHold { booking, attendees, quote }
}

/// The one-seat hold made for a person from the waiting list: their name and address, the price
/// of one seat now; the phone number and ACT experience come when they claim it.
pub fn prepare_offer(offer: &Offer, person: &Waiting, now: DateTime<Utc>, ttl: chrono::Duration) -> PreparedHold {
    let one = crate::domain::Quantity::parse(1, 1).expect("1 is a valid quantity");
    let quote = offer.prices.quote(one, now, None, &offer.taxes);
    let id = Uuid::new_v4();
    let booking = NewBooking {
        id,
        reference: BookingReference::generate(&offer.city_code).as_str().to_owned(),
        city_event_id: offer.id.0,
        quantity: 1,
        status: BookingStatus::Held,
        buyer_first_name: person.first_name.clone(),
        buyer_last_name: person.last_name.clone(),
        buyer_email: person.email.clone(),
        buyer_phone: String::new(),
        act_experience: "none",
        language: if person.language == "en" { "en" } else { "fr" },
        promo_code: None,
        unit_price_cents: quote.unit_price.0,
        subtotal_cents: quote.subtotal.0,
        discount_cents: quote.discount.0,
        taxes: serde_json::to_value(&quote.taxes).unwrap_or_default(),
        tax_cents: quote.tax_total.0,
        total_cents: quote.total.0,
        hold_expires_at: now + ttl,
        created_at: now,
    };
    let attendees = vec![NewAttendee {
        booking_id: id,
        position: 1,
        first_name: Some(person.first_name.clone()),
        last_name: Some(person.last_name.clone()),
        email: Some(person.email.clone()),
    }];
    PreparedHold { booking, attendees, quote }
}

impl PreparedHold {
    /// Rows prepared elsewhere (a move copies a booking as it is, price and taxes included).
    pub fn from_rows(booking: NewBooking, attendees: Vec<NewAttendee>, quote: Quote) -> Self {
        Self { booking, attendees, quote }
    }

    pub fn booking(&self) -> &NewBooking {
        &self.booking
    }

    pub fn attendees(&self) -> &[NewAttendee] {
        &self.attendees
    }

    pub fn quote(&self) -> &Quote {
        &self.quote
    }

    pub fn total(&self) -> Cents {
        self.quote.total
    }
}
