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

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use tracing::{info_span, warn, Instrument};
use uuid::Uuid;

use super::{Availability, ReservationError};
use crate::db::bookings::{BatchOutcome, BatchWrite, Transition};
use crate::db::models::{NewAttendee, NewBooking};
use crate::db::{self, AsyncPool, DbError};
use crate::domain::booking_request::BookingRequest;
use crate::domain::pricing::{PriceRules, Quote};
use crate::domain::taxes::TaxRate;
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
}

/// What is sold and at which price: fixed for the life of an actor (a change restarts it).
#[derive(Debug, Clone)]
pub struct Offer {
    pub id: CityEventId,
    pub city_code: String,
    pub prices: PriceRules,
    pub taxes: Vec<TaxRate>,
}

/// A hold that succeeded.
#[derive(Debug, Clone)]
pub struct HoldReceipt {
    pub booking_id: Uuid,
    pub reference: String,
    pub quote: Quote,
    pub expires_at: DateTime<Utc>,
}

/// The counts readers see without asking the actor (availability pages, fast refusals). Written
/// only by the actor, after every change.
#[derive(Debug, Default)]
pub struct SeatSnapshot(Mutex<Option<Availability>>);

impl SeatSnapshot {
    /// `None` while the actor is (re)loading its state from the database.
    pub fn get(&self) -> Option<Availability> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, value: Option<Availability>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = value;
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
    Hold { prepared: Box<PreparedHold>, reply: Reply<HoldReceipt> },
    ConfirmHeld { id: Uuid, qty: i32, reply: Reply<()> },
    ConfirmLate { id: Uuid, qty: i32, reply: Reply<()> },
    Release { id: Uuid, qty: i32, transition: Transition, reply: Option<Reply<()>> },
}

pub struct CityEventActor {
    offer: Arc<Offer>,
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
        tracing::info!(city_event_id = %self.offer.id, "city event actor restarting");
        self.fail_pending(ReservationError::Unavailable { retry_after_secs: 1 });
        self.seats = None;
        self.flushing = false;
        self.restart_requested = false;
        self.snapshot.set(None);
    }
}

impl CityEventActor {
    fn publish(&self) {
        self.snapshot.set(self.seats.as_ref().map(|s| Availability {
            city_event_id: self.offer.id.0,
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
        let id = self.offer.id;
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
        let id = self.offer.id;
        let fut = async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                tokio::time::sleep(backoff).await;
                match load_seats(&pool, id).await {
                    Ok(seats) => return seats,
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

    fn install(&mut self, seats: Seats, epoch: u64, ctx: &mut Context<Self>) {
        if self.load_epoch != epoch {
            return;
        }
        self.seats = Some(seats);
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
        let id = self.offer.id;
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
                warn!(city_event_id = %act.offer.id, memory = ?(seats.capacity, seats.held, seats.sold), database = ?(capacity, held, sold),
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
        let n = self.pending.len().min(self.settings.max_batch);
        let mut ops: Vec<Op> = self.pending.drain(..n).collect();
        let mut write = BatchWrite::default();
        for op in &mut ops {
            match op {
                Op::Hold { prepared, .. } => {
                    write.new_bookings.push(prepared.booking.clone());
                    write.new_attendees.append(&mut prepared.attendees);
                }
                Op::ConfirmHeld { id, .. } => write.transitions.push((*id, Transition::ConfirmHeld)),
                Op::ConfirmLate { id, .. } => write.transitions.push((*id, Transition::ConfirmLate)),
                Op::Release { id, transition, .. } => write.transitions.push((*id, *transition)),
            }
        }
        self.flushing = true;
        let pool = self.pool.clone();
        let timeout = self.settings.commit_timeout;
        let batch_len = ops.len();
        let span = info_span!("city_event.commit", city_event_id = %self.offer.id, batch = batch_len);
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
                warn!(city_event_id = %self.offer.id, error = %e, batch = ops.len(), "batch commit failed; rebuilding from the database");
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
            }
        }
        if !diverged {
            self.publish();
        }
        for (reply, receipt) in receipts {
            let _ = reply.send(Ok(receipt));
        }
        for (reply, result) in answers {
            let _ = reply.send(result);
        }
        if diverged {
            warn!(city_event_id = %self.offer.id, "memory and database disagreed; rebuilding from the database");
            self.fail_pending(ReservationError::Unavailable { retry_after_secs: 1 });
            self.reload(ctx);
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
        }
    }
}

async fn load_seats(pool: &AsyncPool, id: CityEventId) -> Result<Seats, DbError> {
    let mut conn = db::connection(pool).await?;
    let details = db::catalogue::city_event(&mut conn, id.0).await?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
    let held_rows = db::catalogue::active_holds(&mut conn, id.0).await?;
    let mut seats = Seats {
        capacity: details.event.capacity,
        held: 0,
        sold: details.event.seats_sold,
        holds: HashMap::with_capacity(held_rows.len()),
        expiries: BTreeSet::new(),
        releasing: HashMap::new(),
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
    Ok(seats)
}

// ---------------------------------------------------------------------------------------------
// Handlers

impl Handler<Hold> for CityEventActor {
    type Result = ();

    fn handle(&mut self, msg: Hold, ctx: &mut Context<Self>) {
        let _span = info_span!("city_event.hold", city_event_id = %self.offer.id, quantity = msg.prepared.booking.quantity).entered();
        if let Err(e) = self.admit() {
            let _ = msg.reply.send(Err(e));
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
        let _span = info_span!("city_event.confirm", city_event_id = %self.offer.id, booking_id = %msg.booking_id).entered();
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
        let _span = info_span!("city_event.release", city_event_id = %self.offer.id, booking_id = %msg.booking_id).entered();
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
        let _span = info_span!("city_event.expire", city_event_id = %self.offer.id, count = due.len()).entered();
        for (_, id) in due {
            if let Some(qty) = seats.take_hold(&id) {
                seats.releasing.insert(id, qty);
                self.pending.push(Op::Release { id, qty, transition: Transition::ExpireHeld, reply: None });
            }
        }
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
    offer: Arc<Offer>,
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
    /// Starts a supervised actor on `arbiter`.
    pub fn start(offer: Offer, pool: AsyncPool, settings: ActorSettings, arbiter: &actix_rt::ArbiterHandle) -> Self {
        let offer = Arc::new(offer);
        let snapshot = Arc::new(SeatSnapshot::default());
        let max_inflight = settings.max_inflight;
        let hold_ttl = settings.hold_ttl;
        let actor = CityEventActor {
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
        Self { offer, addr, snapshot, inflight: Arc::new(AtomicUsize::new(0)), max_inflight, hold_ttl }
    }

    pub fn id(&self) -> CityEventId {
        self.offer.id
    }

    pub fn offer(&self) -> &Offer {
        &self.offer
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
        let prepared = prepare_hold(&self.offer, request, percent_off, Utc::now(), self.hold_ttl);
        self.ask(|reply| Hold { prepared, reply }).await
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
        status: "held",
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

impl PreparedHold {
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
