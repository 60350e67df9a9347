//! `city_event_id → actor`. Built at start from the database: one supervised actor per on-sale
//! city event; city events that are not on sale are remembered with their status so requests for
//! them get a clear answer instead of "not found". The back office adds city events and opens
//! sales at run time (`install`, `ensure_actor`); an actor whose sales close keeps running, so
//! confirmations, refunds and moves of its bookings still go through it, and refuses holds.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::Utc;

use super::city_event::Offer;
use super::settings::ActorSettings;
use super::{Availability, CityEventHandle, ReservationError};
use crate::db::catalogue::CityEventDetails;
use crate::db::{self, AsyncPool};
use crate::domain::pricing::PriceRules;
use crate::domain::SalesStatus;
use crate::domain::{Cents, CityEventId};

#[derive(Clone)]
enum Entry {
    OnSale(CityEventHandle),
    NotOnSale { status: SalesStatus, availability: Availability },
}

pub struct Registry {
    entries: RwLock<HashMap<CityEventId, Entry>>,
    arbiter: actix_rt::ArbiterHandle,
    pool: AsyncPool,
    settings: ActorSettings,
}

impl Registry {
    /// Loads every city event and starts an actor for each one on sale.
    #[tracing::instrument(name = "registry.start", skip_all)]
    pub async fn start(pool: AsyncPool, settings: ActorSettings, arbiter: actix_rt::ArbiterHandle) -> anyhow::Result<Arc<Self>> {
        let mut conn = db::connection(&pool).await?;
        let events = db::catalogue::city_events(&mut conn).await?;
        drop(conn);
        let registry = Arc::new(Self { entries: RwLock::new(HashMap::new()), arbiter, pool, settings });
        for details in events {
            registry.install(details);
        }
        Ok(registry)
    }

    /// Registers a city event (at start, or created by the organiser): an actor if it is on sale.
    #[tracing::instrument(name = "registry.install", skip_all, fields(city_event_id = details.event.id))]
    pub fn install(&self, details: CityEventDetails) {
        let id = CityEventId(details.event.id);
        let entry = if details.event.status == SalesStatus::OnSale {
            Entry::OnSale(CityEventHandle::start(
                offer_from(&details),
                details.event.status.as_str(),
                self.pool.clone(),
                self.settings.clone(),
                &self.arbiter,
            ))
        } else {
            let e = &details.event;
            Entry::NotOnSale {
                status: e.status,
                availability: Availability { city_event_id: e.id, available: 0, total: e.capacity, held: e.seats_held, sold: e.seats_sold },
            }
        };
        self.entries.write().unwrap_or_else(|p| p.into_inner()).insert(id, entry);
    }

    fn entry(&self, id: CityEventId) -> Option<Entry> {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).get(&id).cloned()
    }

    /// The running actor of a city event, whatever its sales status.
    pub fn actor(&self, id: CityEventId) -> Option<CityEventHandle> {
        match self.entry(id) {
            Some(Entry::OnSale(h)) => Some(h),
            _ => None,
        }
    }

    /// The city event's actor, started from the database if it has none yet (to open sales),
    /// once it has loaded its state.
    #[tracing::instrument(name = "registry.ensure_actor", skip_all, fields(city_event_id = %id))]
    pub async fn ensure_actor(&self, id: CityEventId) -> Result<CityEventHandle, ReservationError> {
        if let Some(h) = self.actor(id) {
            return Ok(h);
        }
        let unavailable = ReservationError::Unavailable { retry_after_secs: 1 };
        let mut conn = db::connection(&self.pool).await.map_err(|_| unavailable.clone())?;
        let details = db::catalogue::city_event(&mut conn, id.0).await.map_err(|_| unavailable.clone())?;
        drop(conn);
        let details = details.ok_or(ReservationError::UnknownCityEvent)?;
        let handle = {
            let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
            // Two organisers opening at once start one actor.
            if let Some(Entry::OnSale(h)) = entries.get(&id) {
                h.clone()
            } else {
                let h = CityEventHandle::start(
                    offer_from(&details),
                    details.event.status.as_str(),
                    self.pool.clone(),
                    self.settings.clone(),
                    &self.arbiter,
                );
                entries.insert(id, Entry::OnSale(h.clone()));
                h
            }
        };
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while handle.availability().is_none() {
            if tokio::time::Instant::now() >= deadline {
                return Err(unavailable);
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        Ok(handle)
    }

    /// After the organiser edits a city event: new prices for its actor, or the new figures of
    /// one that is not on sale.
    pub fn refresh(&self, details: CityEventDetails) {
        match self.entry(CityEventId(details.event.id)) {
            Some(Entry::OnSale(h)) => h.set_offer(offer_from(&details)),
            _ => self.install(details),
        }
    }

    /// The actor of an on-sale city event, or why there is none.
    pub fn handle(&self, id: CityEventId) -> Result<CityEventHandle, ReservationError> {
        match self.entry(id) {
            Some(Entry::OnSale(h)) => Ok(h),
            Some(Entry::NotOnSale { status, .. }) => Err(ReservationError::SalesClosed { status: status.to_string() }),
            None => Err(ReservationError::UnknownCityEvent),
        }
    }

    /// Seat counts from memory. A city event that is not on sale shows no available seat.
    pub fn availability(&self, id: CityEventId) -> Result<Availability, ReservationError> {
        match self.entry(id) {
            Some(Entry::OnSale(h)) => {
                let mut a = h.availability().ok_or(ReservationError::Unavailable { retry_after_secs: 1 })?;
                if h.status() != "on_sale" {
                    a.available = 0;
                }
                Ok(a)
            }
            Some(Entry::NotOnSale { availability, .. }) => Ok(availability),
            None => Err(ReservationError::UnknownCityEvent),
        }
    }

    pub fn handles(&self) -> Vec<CityEventHandle> {
        self.entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter_map(|e| match e {
                Entry::OnSale(h) => Some(h.clone()),
                Entry::NotOnSale { .. } => None,
            })
            .collect()
    }

    /// (actors running, actors with their state loaded, city events known)
    pub fn health(&self) -> (usize, usize, usize) {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let handles: Vec<&CityEventHandle> = entries
            .values()
            .filter_map(|e| match e {
                Entry::OnSale(h) => Some(h),
                Entry::NotOnSale { .. } => None,
            })
            .collect();
        let running = handles.iter().filter(|h| h.is_running()).count();
        let ready = handles.iter().filter(|h| h.availability().is_some()).count();
        (running, ready, entries.len())
    }

    /// Waits (up to `timeout`) until every actor has loaded its state.
    pub async fn wait_ready(&self, timeout: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let (_, ready, _) = self.health();
            if ready == self.handles().len() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

pub fn offer_from(details: &CityEventDetails) -> Offer {
    let e = &details.event;
    Offer {
        id: CityEventId(e.id),
        city_code: details.city.code.clone(),
        prices: PriceRules {
            regular: Cents(e.regular_price_cents),
            early_bird: e.early_bird_price_cents.zip(e.early_bird_until).map(|(p, u)| (Cents(p), u)),
            group: e.group_price_cents.zip(e.group_min_quantity).map(|(p, n)| (Cents(p), n.clamp(2, i32::from(u16::MAX)) as u16)),
        },
        taxes: details.taxes.clone(),
    }
}

/// Used by pages and the catalogue API to show the price that applies today.
pub fn current_unit_price(details: &CityEventDetails) -> Cents {
    let offer = offer_from(details);
    let one = crate::domain::Quantity::parse(1, 1).expect("1 is a valid quantity");
    offer.prices.unit_price(one, Utc::now()).1
}
