//! Builds everything in order: database (resolved, migrated, seeded), pools, actors, then the
//! HTTP server. `Application::build` binds the port (0 = any) before returning, so tests can read
//! `port()` and talk to it at once.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use diesel::Connection;

use crate::actors::email::EmailDispatcher;
use crate::actors::payment::{PaymentActor, Payments, SeatKeeper};
use crate::actors::{ActorSettings, Registry};
use crate::config::Settings;
use crate::db::{self, AsyncPool};
use crate::email::dispatch::{transport_from_settings, EmailService, EmailSettings};
use crate::embedded_postgres::{self, ResolvedDatabase};
use crate::payments::stripe_client::StripeClient;
use crate::stand_ins::stripe::{StandInConfig, StripeStandIn};
use crate::state::AppState;

mod facts_check;
mod jobs;
mod routes;

pub use routes::openapi_document;

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    arbiter: actix_rt::Arbiter,
    database: ResolvedDatabase,
    stand_in: Option<StripeStandIn>,
    scheduler: Option<tokio_cron_scheduler::JobScheduler>,
}

/// The Stripe client the settings describe.
pub fn stripe_client(settings: &Settings) -> StripeClient {
    StripeClient::new(
        &settings.stripe_api_base,
        settings.stripe_secret_key.clone(),
        std::time::Duration::from_millis(settings.stripe_timeout_ms.max(100)),
        settings.stripe_max_attempts,
    )
}

/// Migrates (and seeds when asked) through a plain connection: blocking work, run off the runtime.
pub fn prepare_database(url: &str, seed: bool) -> anyhow::Result<()> {
    let mut conn = diesel::pg::PgConnection::establish(url)?;
    let applied = db::run_migrations(&mut conn)?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "migrations applied");
    }
    if seed && db::seed::is_empty(&mut conn)? {
        db::seed::seed_demo(&mut conn)?;
        tracing::info!("demo catalogue seeded");
    }
    Ok(())
}

/// The database URL the settings lead to (configured, a local server, or a private cluster).
pub async fn resolve_database(settings: &Settings) -> anyhow::Result<ResolvedDatabase> {
    let s = settings.clone();
    tokio::task::spawn_blocking(move || {
        embedded_postgres::resolve(
            s.database_url.as_ref().map(|u| u.expose()),
            &s.local_postgres_url,
            &s.data_dir,
            s.embedded_postgres_port,
            "billetterie",
        )
    })
    .await?
}

/// Follows edits made on other instances (this one reloads at once after its own).
fn spawn_facts_reloader(facts: &Arc<crate::db::site_facts::FactsCache>, pool: AsyncPool) {
    let facts = Arc::downgrade(facts);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(crate::db::site_facts::RELOAD_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(facts) = facts.upgrade() else { return };
            match db::connection(&pool).await {
                Ok(mut conn) => {
                    if let Err(e) = facts.reload(&mut conn).await {
                        tracing::warn!(error = %e, "could not reload the site's facts; keeping the last ones");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not reload the site's facts; keeping the last ones"),
            }
        }
    });
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let database = resolve_database(&settings).await?;
        let url = database.url().to_owned();
        let seed = settings.seed_demo;
        tokio::task::spawn_blocking(move || prepare_database(&url, seed)).await??;
        let pool = db::async_pool(database.url(), settings.database_pool_size)?;
        Self::build_with_pool(settings, pool, database).await
    }

    async fn build_with_pool(mut settings: Settings, pool: AsyncPool, database: ResolvedDatabase) -> anyhow::Result<Self> {
        if let Some(refusal) = crate::config::stripe_without_secret_key(&settings) {
            anyhow::bail!("refusing to start: {refusal}");
        }
        // No Stripe keys: the local stand-in plays Stripe (demo, tests, offline machines).
        let stand_in = if settings.stripe_secret_key.is_empty() {
            let stand_in = StripeStandIn::start(StandInConfig::generated())?;
            let keys = stand_in.config();
            settings.stripe_secret_key = crate::config::Secret::new(keys.secret_key);
            settings.stripe_publishable_key = keys.publishable_key;
            settings.stripe_webhook_secret = crate::config::Secret::new(keys.webhook_secret);
            settings.stripe_api_base = stand_in.base_url();
            tracing::info!(base = %settings.stripe_api_base, "no STRIPE_SECRET_KEY: using the local Stripe stand-in (test cards only)");
            Some(stand_in)
        } else {
            None
        };
        // Actors live on their own thread so HTTP work and commits do not share a run queue.
        let arbiter = actix_rt::Arbiter::new();
        let registry = Registry::start(pool.clone(), ActorSettings::from_settings(&settings), arbiter.handle()).await?;
        if !registry.wait_ready(std::time::Duration::from_secs(30)).await {
            tracing::warn!("some city event actors are still loading; they refuse holds until ready");
        }
        let payments = Arc::new(Payments::new(
            pool.clone(),
            stripe_client(&settings),
            settings.stripe_publishable_key.clone(),
            SeatKeeper::Actors(registry.clone()),
        ));
        let payment_actor =
            PaymentActor::start(payments.clone(), chrono::Duration::minutes(settings.reconcile_after_minutes), &arbiter.handle());
        let email_service = Arc::new(EmailService::new(pool.clone(), transport_from_settings(&settings)?, EmailSettings::from(&settings))?);
        tracing::info!(transport = email_service.transport_name(), "e-mail transport");
        let email_dispatcher = EmailDispatcher::start(email_service, std::time::Duration::from_secs(5), &arbiter.handle());
        let scheduler = Some(jobs::schedule(&settings, payment_actor.clone(), email_dispatcher.clone(), pool.clone()).await?);
        let listener = TcpListener::bind(&settings.bind)?;
        let port = listener.local_addr()?.port();
        if let Some(s) = &stand_in {
            s.set_webhook_url(&format!("http://127.0.0.1:{port}/api/v1/webhooks/stripe"));
        }
        let views = Arc::new(crate::funnel::ViewCounter::default());
        crate::funnel::ViewCounter::spawn_flusher(&views, pool.clone(), std::time::Duration::from_secs(5));
        let booking_limiter = Arc::new(crate::rate_limit::RateLimiter::per_minute(settings.rate_limit_bookings_per_minute));
        let facts = Arc::new(crate::db::site_facts::FactsCache::default());
        {
            let mut conn = db::connection(&pool).await?;
            facts.reload(&mut conn).await?;
            if settings.app_env == crate::config::AppEnv::Production {
                facts_check::check(&mut conn, &facts.get()).await?;
            }
        }
        spawn_facts_reloader(&facts, pool.clone());
        let pages = Arc::new(crate::page_store::PageStore::new(std::time::Duration::from_millis(settings.page_cache_ttl_ms)));
        let state = AppState {
            pages,
            health: Arc::default(),
            facts,
            views,
            pool,
            registry,
            settings: Arc::new(settings),
            payments,
            payment_actor,
            test_cards: stand_in.clone().map(|s| Arc::new(s) as Arc<dyn crate::state::TestCards>),
            email_dispatcher,
            booking_limiter,
        };
        // A date cancellation a crash or a stop left half done is finished now, in the background.
        actix_rt::spawn(crate::admin::date_operations::resume_cancellations(state.clone()));
        crate::web::page::remember_settings(&state.settings, &state.facts);
        crate::web::page::check_templates().map_err(anyhow::Error::msg)?;
        let routes = routes::Routes::new(&state);
        let s = &state.settings;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(crate::http::limits::header_limit))
                .wrap(actix_web::middleware::from_fn(crate::http::security::headers))
                .wrap(actix_web::middleware::Compress::default())
                // Inside the logger: the request id it assigns is there to be returned.
                .wrap(actix_web::middleware::from_fn(crate::metrics::track))
                .wrap(tracing_actix_web::TracingLogger::<crate::telemetry::PrivateRootSpan>::new())
                .configure(|cfg| routes.configure(cfg))
                .default_service(web::to(crate::web::not_found))
        })
        // Slow clients hold a connection only this long.
        .keep_alive(std::time::Duration::from_secs(s.http_keep_alive_secs))
        .client_request_timeout(std::time::Duration::from_millis(s.http_client_request_timeout_ms))
        .client_disconnect_timeout(std::time::Duration::from_millis(s.http_client_disconnect_timeout_ms))
        .shutdown_timeout(15)
        .listen(listener)?
        .run();
        Ok(Self { port, server, state, arbiter, database, stand_in, scheduler })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn database_url(&self) -> &str {
        self.database.url()
    }

    pub fn registry(&self) -> Arc<Registry> {
        self.state.registry.clone()
    }

    pub fn server_handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The local Stripe stand-in, when the settings had no Stripe keys.
    pub fn stripe_stand_in(&self) -> Option<StripeStandIn> {
        self.stand_in.clone()
    }

    pub fn actor_arbiter(&self) -> actix_rt::ArbiterHandle {
        self.arbiter.handle()
    }

    /// Serves until the server stops (SIGINT/SIGTERM: stop accepting, finish in-flight requests),
    /// then stops the actors and, if this process started one, the private PostgreSQL cluster.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self { server, arbiter, database, stand_in, scheduler, state, .. } = self;
        let result = server.await;
        // Every request was answered, so no hold waits on an actor; give commits still running
        // (expiries) a moment to end before the actors' thread stops.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while state.registry.handles().iter().any(|h| h.queue_depth() > 0) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if let Some(mut scheduler) = scheduler {
            let _ = scheduler.shutdown().await;
        }
        if let Some(s) = stand_in {
            s.stop().await;
        }
        arbiter.stop();
        drop(database);
        result
    }
}
