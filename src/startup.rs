//! Builds everything in order: database (resolved, migrated, seeded), pools, actors, then the
//! HTTP server. `Application::build` binds the port (0 = any) before returning, so tests can read
//! `port()` and talk to it at once.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use diesel::Connection;
use tracing_actix_web::TracingLogger;

use crate::actors::Registry;
use crate::api::{self, AppState};
use crate::config::Settings;
use crate::db::{self, AsyncPool};
use crate::embedded_postgres::{self, ResolvedDatabase};

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    arbiter: actix_rt::Arbiter,
    database: ResolvedDatabase,
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

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let database = resolve_database(&settings).await?;
        let url = database.url().to_owned();
        let seed = settings.seed_demo;
        tokio::task::spawn_blocking(move || prepare_database(&url, seed)).await??;
        let pool = db::async_pool(database.url(), settings.database_pool_size)?;
        Self::build_with_pool(settings, pool, database).await
    }

    async fn build_with_pool(settings: Settings, pool: AsyncPool, database: ResolvedDatabase) -> anyhow::Result<Self> {
        // Actors live on their own thread so HTTP work and commits do not share a run queue.
        let arbiter = actix_rt::Arbiter::new();
        let registry = Registry::start(pool.clone(), settings.actor_settings(), arbiter.handle()).await?;
        if !registry.wait_ready(std::time::Duration::from_secs(30)).await {
            tracing::warn!("some city event actors are still loading; they refuse holds until ready");
        }
        let listener = TcpListener::bind(&settings.bind)?;
        let port = listener.local_addr()?.port();
        let state = AppState { pool, registry, settings: Arc::new(settings) };
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(TracingLogger::default())
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(api::extract::JSON_LIMIT))
                .configure(api::routes)
                .configure(crate::web::routes)
        })
        .shutdown_timeout(15)
        .listen(listener)?
        .run();
        Ok(Self { port, server, state, arbiter, database })
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

    pub fn actor_arbiter(&self) -> actix_rt::ArbiterHandle {
        self.arbiter.handle()
    }

    /// Serves until the server stops (SIGINT/SIGTERM: stop accepting, finish in-flight requests),
    /// then stops the actors and, if this process started one, the private PostgreSQL cluster.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self { server, arbiter, database, .. } = self;
        let result = server.await;
        arbiter.stop();
        drop(database);
        result
    }
}
