//! The database when none is configured: so that `cargo run` works on a fresh machine without
//! any database setup, and without ever touching a server someone configured explicitly.
//!
//! Order of preference:
//! 1. `DATABASE_URL`, used as is.
//! 2. A PostgreSQL server already answering at `local_postgres_url` (the usual developer setup).
//! 3. A private cluster under the data directory, created and started with the PostgreSQL
//!    binaries installed on the machine, and stopped again when this process is done with it.
//!
//! Everything here blocks (network probes, `initdb`, `pg_ctl`): async callers use `spawn_blocking`.
//!
//! Files: `policy` (which database: the URL given, a local server answering, or a private
//! cluster; the application database created when missing), `cluster` (the private cluster:
//! initdb, start and stop, its data folder and stale locks), `tools` (finding the PostgreSQL
//! binaries and running them, as the `postgres` user when root), `url` (the little URL handling
//! needed: another database, a query parameter, the host to probe, passwords masked).

mod cluster;
mod policy;
#[cfg(test)]
mod tests;
mod tools;
mod url;

use std::time::Duration;

pub use policy::{resolve, DatabaseOrigin, ResolvedDatabase};

/// The role the private cluster is created with, and the OS user that runs it when we are root.
const SUPERUSER: &str = "postgres";
/// A closed port fails at once, but a filtered one would stall startup for minutes without this.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Given to libpq so that a server which accepts TCP but never answers cannot hang startup.
const CONNECT_TIMEOUT_SECS: &str = "5";
/// How long `pg_ctl` may wait for the server to accept connections (also covers crash recovery).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// `sun_path` is 108 bytes on Linux and 104 on macOS, NUL included: the smaller limit wins.
const MAX_SOCKET_PATH: usize = 103;
/// Enough of a log for a user to see why something failed, without burying the message.
const TAIL_LINES: usize = 30;
