//! Loading the city event's state from the database: at start (the actor takes no traffic
//! before), after a failed or diverged commit, and when an idle actor finds that another writer
//! changed the counters (drift check). The database is the arbiter.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use actix::prelude::*;
use tracing::{info_span, warn, Instrument};

use super::actor::CityEventActor;
use super::seats::{Seats, Waiting};
use crate::db::{self, AsyncPool, DbError};
use crate::domain::CityEventId;

impl CityEventActor {
    /// Rebuild memory from the database, retrying with back-off until it answers.
    ///
    /// The first attempt holds the mailbox (for at most `FIRST_LOAD_WAIT`): with a healthy
    /// database it takes milliseconds, and requests sent meanwhile are served rather than refused.
    /// If it fails, the retries run beside message handling, so while the database is down
    /// requests are refused at once with `Unavailable` (503 + Retry-After) instead of queueing
    /// until it is back.
    pub(super) fn reload(&mut self, ctx: &mut Context<Self>) {
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

    pub(super) fn reload_in_background(&mut self, epoch: u64, ctx: &mut Context<Self>) {
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

    pub(super) fn install(&mut self, (seats, status): (Seats, &'static str), epoch: u64, ctx: &mut Context<Self>) {
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

    pub(super) fn idle(&self) -> bool {
        self.seats.is_some() && self.in_flight == 0 && self.pending.is_empty() && !self.restart_requested
    }

    /// Another writer (the command line, an operator's SQL) may have changed this city event's
    /// seats in the database. When idle, compare the counters and reload on any difference; the
    /// database is the arbiter.
    pub(super) fn check_drift(&mut self, ctx: &mut Context<Self>) {
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
}

pub(super) async fn load_seats(pool: &AsyncPool, id: CityEventId) -> Result<(Seats, &'static str), DbError> {
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
pub(super) fn status_name(s: &str) -> &'static str {
    match s {
        "on_sale" => "on_sale",
        "draft" => "draft",
        "cancelled" => "cancelled",
        _ => "closed",
    }
}
