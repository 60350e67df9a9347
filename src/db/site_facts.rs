//! The facts every page prints, held in memory so that rendering a page during an on-sale burst
//! reads no extra rows: loaded at start, reloaded by this instance at once after a back-office
//! edit, and every few seconds to follow an edit made on another instance.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::facts::{self, DateFacts, FeaturedDate};
use super::schema::{masterclass_events, venues};
use crate::domain::facts::{MasterclassFacts, Organiser, Policies, ProgrammeItem, VenueFacts};

/// How stale another instance's edit may be on this one's pages.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A snapshot of every fact.
#[derive(Debug, Clone, Default)]
pub struct SiteFacts {
    pub organiser: Organiser,
    masterclasses: HashMap<i64, (Policies, Vec<ProgrammeItem>, MasterclassFacts)>,
    venues: HashMap<i64, VenueFacts>,
    /// The masterclass the general pages speak of: the next date's on sale, else the first.
    pub featured: Option<i64>,
    /// The next date on sale (the general pages' hours of the day).
    pub featured_date: Option<FeaturedDate>,
    /// Unique to this snapshot in the process: what renderings derived from it are keyed by.
    pub generation: u64,
}

impl SiteFacts {
    pub async fn load(conn: &mut AsyncPgConnection) -> QueryResult<Self> {
        let organiser = facts::organiser(conn).await?;
        let mut masterclasses = HashMap::new();
        let ids: Vec<i64> = masterclass_events::table.select(masterclass_events::id).load(conn).await?;
        for id in ids {
            let policies = facts::policies(conn, id).await?.unwrap_or_default();
            let about = facts::masterclass(conn, id).await?.unwrap_or_default();
            masterclasses.insert(id, (policies, facts::programme(conn, id).await?, about));
        }
        let mut by_venue = HashMap::new();
        let ids: Vec<i64> = venues::table.select(venues::id).load(conn).await?;
        for id in ids {
            by_venue.insert(id, facts::venue(conn, id).await?);
        }
        let featured_date = facts::featured_date(conn).await?;
        let featured = match featured_date {
            Some(d) => Some(d.masterclass_id),
            None => facts::first_masterclass(conn).await?,
        };
        let generation = GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        Ok(Self { organiser, masterclasses, venues: by_venue, featured, featured_date, generation })
    }

    pub fn policies(&self, masterclass_id: i64) -> Policies {
        self.masterclasses.get(&masterclass_id).map(|m| m.0).unwrap_or_default()
    }

    pub fn programme(&self, masterclass_id: i64) -> &[ProgrammeItem] {
        self.masterclasses.get(&masterclass_id).map_or(&[], |m| m.1.as_slice())
    }

    /// The featured masterclass's own facts (title, presenter, photo); defaults on an empty catalogue.
    pub fn featured_masterclass(&self) -> MasterclassFacts {
        self.featured.and_then(|id| self.masterclasses.get(&id)).map(|m| m.2.clone()).unwrap_or_default()
    }

    /// The featured masterclass's policies and programme (defaults on an empty catalogue).
    pub fn featured_policies(&self) -> Policies {
        self.featured.map(|id| self.policies(id)).unwrap_or_default()
    }

    pub fn for_date(&self, masterclass_id: i64, venue_id: i64) -> DateFacts {
        DateFacts {
            organiser: self.organiser.clone(),
            masterclass: self.masterclasses.get(&masterclass_id).map(|m| m.2.clone()).unwrap_or_default(),
            policies: self.policies(masterclass_id),
            programme: self.programme(masterclass_id).to_vec(),
            venue: self.venues.get(&venue_id).cloned().unwrap_or_default(),
        }
    }
}

/// The current snapshot, swapped whole on reload.
#[derive(Debug, Default)]
pub struct FactsCache {
    current: RwLock<Arc<SiteFacts>>,
}

impl FactsCache {
    pub fn get(&self) -> Arc<SiteFacts> {
        self.current.read().map(|g| Arc::clone(&g)).unwrap_or_default()
    }

    pub async fn reload(&self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        let fresh = Arc::new(SiteFacts::load(conn).await?);
        if let Ok(mut g) = self.current.write() {
            *g = fresh;
        }
        Ok(())
    }
}
