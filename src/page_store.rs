//! What the busiest pages are kept as between changes: the catalogue they are built from, and
//! each page already rendered, cut where the parts that differ per visitor or per seat go.
//! `web::page_cache` fills and serves it; the back office (a peer of `web`) only says "something
//! changed" through [`PageStore::invalidate`], which is why this sits below both.
//!
//! An entry is good while nothing was changed through this instance since it was made (the
//! generation), for at most `ttl` (changes made elsewhere: the CLI, another instance, a price
//! that moves at midnight), and while the seats it shows are in the same band (the cache's
//! signature); the seat numbers themselves are filled in from the actors at every request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::db::catalogue::CityEventDetails;

/// Pages kept at most (paths × consent choices); past it, the store starts again empty. The
/// pages cached are the catalogue's, so this is only a bound against surprises.
const MAX_PAGES: usize = 512;

/// A piece of a stored page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    /// The visitor's CSRF token.
    Csrf,
    /// Seats left of a city event, read from its actor when the page is served.
    Available(i64),
    /// Seats taken (held or sold) of a city event, likewise.
    Taken(i64),
}

/// The city events the site shows, and the generation they were read under: a page built from
/// them is stored under that generation, so an edit committed while it was rendered makes it
/// stale at once.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub generation: u64,
    pub events: Arc<Vec<CityEventDetails>>,
}

impl std::ops::Deref for Catalogue {
    type Target = [CityEventDetails];

    fn deref(&self) -> &Self::Target {
        &self.events
    }
}

/// A rendered page and what it was rendered from.
#[derive(Debug)]
pub struct StoredPage {
    pub generation: u64,
    pub stored_at: Instant,
    pub signature: Vec<i64>,
    pub parts: Vec<Part>,
    /// The response's headers, but for cookies (set per visitor).
    pub headers: Vec<(String, String)>,
}

/// The catalogue and the rendered pages of one running application.
#[derive(Debug)]
pub struct PageStore {
    ttl: Duration,
    generation: AtomicU64,
    catalogue: RwLock<Option<(Instant, Catalogue)>>,
    /// Held by the one request reloading the catalogue; the crowd waits for it instead of
    /// querying the database all at once when the catalogue expires.
    reloading: tokio::sync::Mutex<()>,
    pages: RwLock<HashMap<String, Arc<StoredPage>>>,
}

impl PageStore {
    /// A zero `ttl` keeps nothing: every page is rendered from the database (the benchmark's
    /// baseline).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            catalogue: RwLock::new(None),
            reloading: tokio::sync::Mutex::new(()),
            pages: RwLock::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// Something the pages show changed (a back-office edit): nothing stored before is served.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn fresh(&self, generation: u64, stored_at: Instant) -> bool {
        self.enabled() && generation == self.generation() && stored_at.elapsed() < self.ttl
    }

    /// The city events as last loaded, while still good.
    pub fn catalogue(&self) -> Option<Catalogue> {
        let guard = self.catalogue.read().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().filter(|(at, c)| self.fresh(c.generation, *at)).map(|(_, c)| c.clone())
    }

    /// The right to reload the catalogue, if no one else is reloading it.
    pub fn try_reload_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        self.reloading.try_lock().ok()
    }

    /// Waits for whoever is reloading the catalogue (then `catalogue()` again).
    pub async fn reload_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.reloading.lock().await
    }

    /// The catalogue past its time but of the current generation (nothing was edited through
    /// this instance since): good enough while another request reloads it. Waiting in line for
    /// the reload instead would wake the crowd one by one, hundreds of milliseconds in all.
    pub fn expired_catalogue(&self) -> Option<Catalogue> {
        let guard = self.catalogue.read().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().filter(|(_, c)| self.enabled() && c.generation == self.generation()).map(|(_, c)| c.clone())
    }

    /// Keeps a catalogue loaded when the generation was `catalogue.generation` (an edit made
    /// during the load makes it stale at once).
    pub fn store_catalogue(&self, catalogue: &Catalogue) {
        if self.enabled() {
            *self.catalogue.write().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), catalogue.clone()));
        }
    }

    /// The page stored under `key`, if it is still good for `signature`.
    pub fn page(&self, key: &str, signature: &[i64]) -> Option<Arc<StoredPage>> {
        let guard = self.pages.read().unwrap_or_else(|p| p.into_inner());
        guard.get(key).filter(|p| self.fresh(p.generation, p.stored_at) && p.signature == signature).cloned()
    }

    pub fn store_page(&self, key: String, page: StoredPage) {
        if !self.enabled() {
            return;
        }
        let mut guard = self.pages.write().unwrap_or_else(|p| p.into_inner());
        if guard.len() >= MAX_PAGES && !guard.contains_key(&key) {
            guard.clear();
        }
        guard.insert(key, Arc::new(page));
    }

    /// Pages stored now (for tests and the metrics).
    pub fn len(&self) -> usize {
        self.pages.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(generation: u64, signature: Vec<i64>) -> StoredPage {
        StoredPage { generation, stored_at: Instant::now(), signature, parts: vec![Part::Text("x".into())], headers: vec![] }
    }

    #[test]
    fn a_page_is_served_only_for_its_signature_and_until_an_edit() {
        let store = PageStore::new(Duration::from_secs(60));
        store.store_page("/fr/".into(), page(store.generation(), vec![1, -1]));
        assert!(store.page("/fr/", &[1, -1]).is_some());
        assert!(store.page("/fr/", &[1, 7]).is_none(), "seats in another band: rendered again");
        store.invalidate();
        assert!(store.page("/fr/", &[1, -1]).is_none(), "an edit makes every stored page stale");
    }

    #[test]
    fn nothing_is_kept_when_disabled_or_past_the_ttl() {
        let off = PageStore::new(Duration::ZERO);
        off.store_page("/fr/".into(), page(0, vec![]));
        assert!(off.is_empty());
        let short = PageStore::new(Duration::from_millis(1));
        short.store_page("/fr/".into(), page(0, vec![]));
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.page("/fr/", &[]).is_none());
    }

    #[test]
    fn an_expired_catalogue_is_kept_for_the_crowd_but_never_after_an_edit() {
        let store = PageStore::new(Duration::from_millis(1));
        store.store_catalogue(&Catalogue { generation: store.generation(), events: Arc::new(vec![]) });
        std::thread::sleep(Duration::from_millis(5));
        assert!(store.catalogue().is_none(), "past its time");
        assert!(store.expired_catalogue().is_some(), "good enough while one request reloads it");
        store.invalidate();
        assert!(store.expired_catalogue().is_none(), "an edit: everyone waits for the reload");
    }

    #[test]
    fn the_store_is_bounded() {
        let store = PageStore::new(Duration::from_secs(60));
        for i in 0..(MAX_PAGES * 2) {
            store.store_page(format!("/fr/{i}"), page(0, vec![]));
        }
        assert!(store.len() <= MAX_PAGES);
    }
}
