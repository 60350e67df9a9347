//! The actor's memory of one city event: capacity, held and sold counts, the holds and their
//! expiries, and the waiting list. Only the actor touches it, inside its turn.

use crate::domain::BookingId;
use std::collections::{BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, Utc};

pub(super) struct Seats {
    pub(super) capacity: i32,
    /// Includes tentative holds (not yet committed) and holds being released (not yet committed).
    pub(super) held: i32,
    pub(super) sold: i32,
    /// Committed holds and their expiry.
    pub(super) holds: HashMap<BookingId, (i32, DateTime<Utc>)>,
    pub(super) expiries: BTreeSet<(DateTime<Utc>, BookingId)>,
    /// Holds leaving (`Cancel` / expiry) in a batch not yet committed.
    pub(super) releasing: HashMap<BookingId, i32>,
    /// The waiting list, first come first served: entries not yet offered a seat.
    pub(super) waiting: VecDeque<Waiting>,
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
    pub(super) fn available(&self) -> i32 {
        self.capacity - self.held - self.sold
    }

    pub(super) fn take_hold(&mut self, id: &BookingId) -> Option<i32> {
        let (qty, expires) = self.holds.remove(id)?;
        self.expiries.remove(&(expires, *id));
        Some(qty)
    }
}
