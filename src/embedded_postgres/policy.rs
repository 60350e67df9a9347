//! Which database to use: `DATABASE_URL` as is, else a local server that answers, else the
//! private cluster; and the application database, created when missing.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use diesel::pg::PgConnection;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel::{Connection, RunQueryDsl};

use super::cluster::{start_cluster, start_private_cluster, PrivateCluster};
use super::tools::describe_output;
use super::url::{mask_password, replace_database, tcp_host_port, tcp_reachable, with_query_param};
use super::CONNECT_TIMEOUT_SECS;

/// What `resolve` found or started.
///
/// Keep it alive for as long as the database is used: dropping it stops the private cluster
/// when this process started that cluster.
pub struct ResolvedDatabase {
    /// Full postgres URL to the application database.
    pub url: String,
    /// Where the URL came from, for logging.
    pub origin: DatabaseOrigin,
    pub(super) guard: Option<PrivateCluster>,
}

impl ResolvedDatabase {
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn origin(&self) -> &DatabaseOrigin {
        &self.origin
    }

    /// Stops the private cluster this process started, leaving its data in place (the tests of a
    /// database outage). Refused for any other database: nobody else's server is ever stopped.
    pub fn stop_private_cluster(&self) -> Result<()> {
        let (guard, _) = self.own_cluster()?;
        let args: Vec<OsString> = vec!["stop".into(), "-D".into(), (&guard.pgdata).into(), "-m".into(), "fast".into(), "-w".into()];
        let out = guard.tools.output("pg_ctl", &args)?;
        if !out.status.success() {
            bail!("pg_ctl stop failed ({}):\n{}", out.status, describe_output(&out));
        }
        Ok(())
    }

    /// Starts again, on the same port, a private cluster stopped by [`Self::stop_private_cluster`].
    pub fn start_private_cluster(&self) -> Result<()> {
        let (guard, port) = self.own_cluster()?;
        start_cluster(&guard.tools, &guard.pgdata, port)
    }

    fn own_cluster(&self) -> Result<(&PrivateCluster, u16)> {
        match (&self.guard, &self.origin) {
            (Some(guard), DatabaseOrigin::PrivateCluster { port, .. }) if guard.stop_on_drop => Ok((guard, *port)),
            _ => bail!("only a private cluster started by this process can be stopped or started"),
        }
    }
}

/// Written by hand so that a password in the URL never reaches a log through `{:?}`.
impl fmt::Debug for ResolvedDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolvedDatabase")
            .field("url", &mask_password(&self.url))
            .field("origin", &self.origin)
            .field("stops_cluster_on_drop", &self.guard.as_ref().is_some_and(|g| g.stop_on_drop))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseOrigin {
    /// `DATABASE_URL` was set.
    Configured,
    /// A PostgreSQL server was already answering at the local URL.
    LocalServer,
    /// A cluster private to this application, in `data_dir` (its PGDATA), on 127.0.0.1:`port`.
    PrivateCluster { data_dir: PathBuf, port: u16 },
}

impl fmt::Display for DatabaseOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseOrigin::Configured => f.write_str("DATABASE_URL"),
            DatabaseOrigin::LocalServer => f.write_str("local PostgreSQL server"),
            DatabaseOrigin::PrivateCluster { data_dir, port } => {
                write!(f, "private PostgreSQL cluster in {} on 127.0.0.1:{port}", data_dir.display())
            }
        }
    }
}

/// Finds or starts the database; see the module documentation for the order.
///
/// * `configured_url`: `DATABASE_URL`; when set it is returned as is and nothing else is tried,
///   so a deployment never silently falls back to a local database (empty is an error).
/// * `local_postgres_url`: a `postgres://` URL to a maintenance database of a server that may be
///   running locally, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
/// * `data_dir`: the application's data folder; the private cluster lives in `data_dir/postgres`.
/// * `port`: the private cluster's port on 127.0.0.1.
/// * `db_name`: the application database, created when missing; must match `[a-z0-9_]+`.
pub fn resolve(
    configured_url: Option<&str>,
    local_postgres_url: &str,
    data_dir: &Path,
    port: u16,
    db_name: &str,
) -> Result<ResolvedDatabase> {
    if let Some(url) = configured_url {
        // An empty value would reach libpq as "all defaults" and fail far from its cause; and
        // falling back to the embedded default could hide a broken deployment setting.
        if url.trim().is_empty() {
            bail!("DATABASE_URL is set but empty: give it a postgres:// URL, or unset it to use the embedded default");
        }
        tracing::info!(url = %mask_password(url), "using the configured DATABASE_URL");
        return Ok(ResolvedDatabase { url: url.to_owned(), origin: DatabaseOrigin::Configured, guard: None });
    }
    validate_db_name(db_name)?;

    let local_app_url = replace_database(local_postgres_url, db_name)?;
    match connect_local(local_postgres_url) {
        Ok(mut conn) => {
            tracing::info!(server = %mask_password(local_postgres_url), "a local PostgreSQL server answered; using it");
            ensure_database(&mut conn, db_name)
                .with_context(|| format!("could not prepare database `{db_name}` on {}", mask_password(local_postgres_url)))?;
            tracing::info!(url = %mask_password(&local_app_url), "database ready");
            return Ok(ResolvedDatabase { url: local_app_url, origin: DatabaseOrigin::LocalServer, guard: None });
        }
        Err(reason) => {
            tracing::info!(server = %mask_password(local_postgres_url), %reason, "no usable local PostgreSQL server; using a private cluster")
        }
    }

    start_private_cluster(local_postgres_url, data_dir, port, db_name)
}

/// Connects to the local server, or says why not (the reason is only logged: failing here is normal).
pub(super) fn connect_local(url: &str) -> std::result::Result<PgConnection, String> {
    if let Some((host, port)) = tcp_host_port(url) {
        if !tcp_reachable(&host, port) {
            return Err(format!("nothing accepts connections on {host}:{port}"));
        }
    }
    PgConnection::establish(&with_query_param(url, "connect_timeout", CONNECT_TIMEOUT_SECS)).map_err(|e| e.to_string().trim().to_owned())
}

/// Creates `db_name` unless it exists. Checking first means an existing database needs no
/// CREATEDB privilege; checking again after a failure absorbs a concurrent creation whatever
/// language the server reports "already exists" in.
pub(super) fn ensure_database(conn: &mut PgConnection, db_name: &str) -> Result<()> {
    validate_db_name(db_name)?;
    if !database_exists(conn, db_name)? {
        match diesel::sql_query(format!("CREATE DATABASE \"{db_name}\"")).execute(conn) {
            Ok(_) => tracing::info!(database = db_name, "database created"),
            Err(_) if database_exists(conn, db_name)? => {
                tracing::info!(database = db_name, "database created concurrently by another process")
            }
            Err(e) => return Err(e).with_context(|| format!("CREATE DATABASE {db_name} failed")),
        }
    }
    let encoding = diesel::select(
        diesel::dsl::sql::<Nullable<Text>>("(SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = ")
            .bind::<Text, _>(db_name)
            .sql(")"),
    )
    .get_result::<Option<String>>(conn)?;
    if let Some(encoding) = encoding.filter(|e| e != "UTF8") {
        tracing::warn!(database = db_name, %encoding, "the database is not UTF8; non-ASCII text may be rejected");
    }
    Ok(())
}

pub(super) fn database_exists(conn: &mut PgConnection, db_name: &str) -> Result<bool> {
    let exists =
        diesel::select(diesel::dsl::sql::<Bool>("EXISTS (SELECT 1 FROM pg_database WHERE datname = ").bind::<Text, _>(db_name).sql(")"))
            .get_result(conn)
            .context("could not list databases")?;
    Ok(exists)
}

/// The name is interpolated into `CREATE DATABASE` (identifiers cannot be bound) and into URLs.
pub(super) fn validate_db_name(db_name: &str) -> Result<()> {
    let valid =
        !db_name.is_empty() && db_name.len() <= 63 && db_name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        bail!("invalid database name `{db_name}`: use 1 to 63 characters among a-z, 0-9 and _");
    }
    Ok(())
}
