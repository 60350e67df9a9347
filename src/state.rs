//! What every handler can reach: the pools, the actors' addresses, the settings. Handlers of the
//! API, the site and the back office all reach down to this one struct (as crates.io's `App`),
//! never into each other; `app` builds it at start-up.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::actors::payment::PaymentActor;
use crate::actors::Registry;
use crate::config::Settings;
use crate::db::AsyncPool;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: AsyncPool,
    pub registry: Arc<Registry>,
    pub settings: Arc<Settings>,
    pub payments: Arc<crate::actors::payment::Payments>,
    pub payment_actor: actix::Addr<PaymentActor>,
    /// Test cards, when the local Stripe stand-in plays Stripe (offline demo, tests); `None` with
    /// real Stripe keys.
    pub test_cards: Option<Arc<dyn TestCards>>,
    pub email_dispatcher: actix::Addr<crate::actors::email::EmailDispatcher>,
    /// Availability views for the back office's funnel (counted in memory, written in batches).
    pub views: Arc<crate::funnel::ViewCounter>,
    /// Booking creations per client IP (`RATE_LIMIT_BOOKINGS_PER_MINUTE`); the site's booking
    /// form shares it with the API.
    pub booking_limiter: Arc<crate::rate_limit::RateLimiter>,
    /// The organiser's, the masterclasses' and the venues' facts the pages print.
    pub facts: Arc<crate::db::site_facts::FactsCache>,
    /// The catalogue and the busiest pages, rendered once between changes (`web::page_cache`);
    /// the back office invalidates it after every change it makes.
    pub pages: Arc<crate::page_store::PageStore>,
    /// The database's last answer to the health probe, refreshed in the background.
    pub health: Arc<crate::db::probe::HealthProbe>,
}

/// Confirms a payment intent with a test card number, as Stripe.js would in a browser. Only the
/// local Stripe stand-in offers this (the offline demo's "pay with a test card" form); the
/// product knows it through this trait, never the stand-in itself.
pub trait TestCards: Send + Sync {
    /// The stand-in's answer: HTTP status and Stripe's JSON body (a PaymentIntent, or an error
    /// carrying one).
    fn confirm_card<'a>(
        &'a self,
        payment_intent_id: &'a str,
        card_number: &'a str,
    ) -> Pin<Box<dyn Future<Output = (u16, serde_json::Value)> + Send + 'a>>;
}
