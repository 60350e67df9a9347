//! The only place SQL lives. Two pools on purpose:
//! - `AsyncPool` (diesel-async on deadpool) for everything on the request path and in the actors;
//! - `SyncPool` (diesel + r2d2) for the command line and blocking start-up work (migrations, seed),
//!   where an async runtime would add nothing.

pub mod admin;
pub mod bookings;
pub mod catalogue;
pub mod check_in;
pub mod emails;
pub mod facts;
pub mod feedback;
mod ids;
pub mod invoices;
pub mod models;
pub mod payments;
pub mod privacy;
pub mod probe;
pub mod resources;
pub mod schema;
pub mod seed;
pub mod site_facts;
mod status;
pub mod time_zone;
pub mod waitlist;

use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool as R2d2Pool};
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub type AsyncPool = Pool<AsyncPgConnection>;
pub type AsyncConn = Object<AsyncPgConnection>;
pub type SyncPool = R2d2Pool<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a request waits for a pooled connection before it is told to come back (503).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Its causes are in the message: diesel says only "Error deserializing field 'time_zone'" and
    /// keeps the reason (the value it could not read) in its source.
    #[error("{}", with_causes(.0))]
    Query(#[from] diesel::result::Error),
}

/// `error: cause: cause…`
fn with_causes(e: &diesel::result::Error) -> String {
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

impl DbError {
    /// True when retrying later may succeed (connection lost, pool exhausted, server restarting).
    pub fn is_transient(&self) -> bool {
        match self {
            DbError::Unavailable(_) => true,
            DbError::Query(diesel::result::Error::DatabaseError(kind, _)) => {
                matches!(
                    kind,
                    diesel::result::DatabaseErrorKind::ClosedConnection | diesel::result::DatabaseErrorKind::SerializationFailure
                )
            }
            DbError::Query(diesel::result::Error::BrokenTransactionManager) => true,
            DbError::Query(_) => false,
        }
    }
}

pub fn async_pool(database_url: &str, max_size: usize) -> anyhow::Result<AsyncPool> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(database_url);
    Ok(Pool::builder(manager).max_size(max_size).build()?)
}

/// A connection from the pool, or `Unavailable` after `ACQUIRE_TIMEOUT` (the database is down or
/// every connection is busy): the caller answers 503 instead of hanging.
pub async fn connection(pool: &AsyncPool) -> Result<AsyncConn, DbError> {
    match tokio::time::timeout(ACQUIRE_TIMEOUT, pool.get()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(DbError::Unavailable(e.to_string())),
        Err(_) => Err(DbError::Unavailable("timed out waiting for a database connection".into())),
    }
}

pub fn sync_pool(database_url: &str, max_size: u32) -> anyhow::Result<SyncPool> {
    let manager = ConnectionManager::<PgConnection>::new(database_url);
    Ok(R2d2Pool::builder().max_size(max_size).connection_timeout(Duration::from_secs(10)).build(manager)?)
}

/// Applies every pending migration; returns the versions applied.
pub fn run_migrations(conn: &mut PgConnection) -> anyhow::Result<Vec<String>> {
    let applied = conn.run_pending_migrations(MIGRATIONS).map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}
