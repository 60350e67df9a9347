//! What the actor shares with its handle without messages: the offer (prices, read when a hold is
//! prepared) and the seat snapshot (counts and sales status, written only by the actor).

use std::sync::{Arc, Mutex, RwLock};

use crate::actors::Availability;
use crate::domain::pricing::PriceRules;
use crate::domain::taxes::TaxRate;
use crate::domain::CityEventId;

/// What is sold and at which price. The organiser may change prices: the handle and the actor
/// share it (`SharedOffer`), and a hold is priced with what it reads when it is prepared.
#[derive(Debug, Clone)]
pub struct Offer {
    pub id: CityEventId,
    pub city_code: String,
    pub prices: PriceRules,
    pub taxes: Vec<TaxRate>,
}

pub(super) type SharedOffer = Arc<RwLock<Arc<Offer>>>;

pub(super) fn read_offer(offer: &SharedOffer) -> Arc<Offer> {
    offer.read().unwrap_or_else(|p| p.into_inner()).clone()
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

    pub(super) fn set(&self, value: Option<Availability>) {
        *self.counts.lock().unwrap_or_else(|p| p.into_inner()) = value;
    }

    /// `on_sale`, `closed`, `draft` or `cancelled`.
    pub fn status(&self) -> String {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(super) fn set_status(&self, status: &str) {
        status.clone_into(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }
}
