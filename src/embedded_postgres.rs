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

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use diesel::pg::PgConnection;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel::{Connection, RunQueryDsl};

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

/// What `resolve` found or started.
///
/// Keep it alive for as long as the database is used: dropping it stops the private cluster
/// when this process started that cluster.
pub struct ResolvedDatabase {
    /// Full postgres URL to the application database.
    pub url: String,
    /// Where the URL came from, for logging.
    pub origin: DatabaseOrigin,
    guard: Option<PrivateCluster>,
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

/// Stops the private cluster on drop, but only one this process started: a cluster that was
/// already running belongs to whoever started it (another instance may still be using it).
#[derive(Debug)]
struct PrivateCluster {
    tools: PgTools,
    pgdata: PathBuf,
    stop_on_drop: bool,
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if !self.stop_on_drop {
            tracing::info!(pgdata = %self.pgdata.display(), "leaving the private PostgreSQL cluster running (this process did not start it)");
            return;
        }
        tracing::info!(pgdata = %self.pgdata.display(), "stopping the private PostgreSQL cluster");
        let args: Vec<OsString> = vec!["stop".into(), "-D".into(), (&self.pgdata).into(), "-m".into(), "fast".into(), "-w".into()];
        match self.tools.output("pg_ctl", &args) {
            Ok(out) if out.status.success() => tracing::info!("private PostgreSQL cluster stopped"),
            Ok(out) => tracing::warn!(status = %out.status, output = %describe_output(&out), "pg_ctl stop failed"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not run pg_ctl stop"),
        }
    }
}

/// Connects to the local server, or says why not (the reason is only logged: failing here is normal).
fn connect_local(url: &str) -> std::result::Result<PgConnection, String> {
    if let Some((host, port)) = tcp_host_port(url) {
        if !tcp_reachable(&host, port) {
            return Err(format!("nothing accepts connections on {host}:{port}"));
        }
    }
    PgConnection::establish(&with_query_param(url, "connect_timeout", CONNECT_TIMEOUT_SECS)).map_err(|e| e.to_string().trim().to_owned())
}

fn start_private_cluster(local_url: &str, data_dir: &Path, port: u16, db_name: &str) -> Result<ResolvedDatabase> {
    let candidates = candidate_bin_dirs();
    if candidates.is_empty() {
        bail!(no_binaries_message(local_url));
    }

    fs::create_dir_all(data_dir).with_context(|| format!("could not create the data directory {}", data_dir.display()))?;
    // Absolute, because the server and `pg_ctl` resolve paths from their own working directory.
    let data_dir = fs::canonicalize(data_dir).with_context(|| format!("could not resolve {}", data_dir.display()))?;
    let pgdata = data_dir.join("postgres");
    let cluster_major = fs::read_to_string(pgdata.join("PG_VERSION")).ok().map(|v| v.trim().to_owned());

    let (bin_dir, binaries_major) = choose_bin_dir(&candidates, cluster_major.as_deref());
    if let (Some(cluster), Some(binaries)) = (&cluster_major, &binaries_major) {
        if cluster != binaries {
            bail!(
                "The private cluster in {} was created by PostgreSQL {cluster}, but the PostgreSQL binaries found ({}) are version {binaries}. \
                 Install PostgreSQL {cluster} as well, or move {} away to start over with an empty database.",
                pgdata.display(),
                bin_dir.display(),
                pgdata.display()
            );
        }
    }
    let tools = PgTools::detect(bin_dir)?;
    tracing::info!(
        bin_dir = %tools.bin_dir.display(),
        version = binaries_major.as_deref().unwrap_or("unknown"),
        pgdata = %pgdata.display(),
        as_postgres_user = tools.switch_user.is_some(),
        "using a private PostgreSQL cluster"
    );

    let (port, started_here) = match find_running_cluster(&tools, &pgdata)? {
        Some(running_port) => {
            if running_port != port {
                tracing::warn!(
                    configured = port,
                    running = running_port,
                    "the private cluster is already running on another port; using that one"
                );
            }
            (running_port, false)
        }
        None => {
            if cluster_major.is_none() {
                init_cluster(&tools, &pgdata)?;
            } else {
                tools.ensure_owner(&pgdata)?;
            }
            if tcp_reachable("127.0.0.1", port) {
                if !started_elsewhere(port, &pgdata) {
                    bail!(
                        "Port {port} on 127.0.0.1 is already used by another program, so the private PostgreSQL cluster cannot start there. \
                         Stop that program, choose another embedded_postgres_port, or set DATABASE_URL."
                    );
                }
                // Our cluster, started by another process meanwhile: not ours to stop.
                (port, false)
            } else {
                match start_cluster(&tools, &pgdata, port) {
                    Ok(()) => (port, true),
                    // Another instance of the application may have started it at the same moment.
                    Err(_) if started_elsewhere(port, &pgdata) => (port, false),
                    Err(e) => return Err(e),
                }
            }
        }
    };
    // From here on the guard owns the cluster, so an early return below still stops what we started.
    let guard = PrivateCluster { tools, pgdata: pgdata.clone(), stop_on_drop: started_here };

    let admin_url = format!("postgres://{SUPERUSER}@127.0.0.1:{port}/postgres");
    let mut conn = connect_with_retry(&admin_url, Duration::from_secs(10))?;
    ensure_database(&mut conn, db_name).with_context(|| format!("could not prepare database `{db_name}` in the private cluster"))?;
    drop(conn);

    let url = format!("postgres://{SUPERUSER}@127.0.0.1:{port}/{db_name}");
    tracing::info!(%url, started_here, "database ready");
    Ok(ResolvedDatabase { url, origin: DatabaseOrigin::PrivateCluster { data_dir: pgdata, port }, guard: Some(guard) })
}

/// Returns the port of a cluster already running from `pgdata`, after making sure it answers.
///
/// A leftover `postmaster.pid` is common (killed process, container restart), so the file alone
/// proves nothing: we ask the server itself which data directory it serves.
fn find_running_cluster(tools: &PgTools, pgdata: &Path) -> Result<Option<u16>> {
    let pid_file = pgdata.join("postmaster.pid");
    let Ok(text) = fs::read_to_string(&pid_file) else { return Ok(None) };
    // A half-written file: a server is starting or stopping; `pg_ctl start` sorts that out.
    let Some((pid, port)) = parse_postmaster_pid(&text) else { return Ok(None) };
    if cluster_answers(port, pgdata) {
        tracing::info!(pid, port, "the private PostgreSQL cluster is already running; reusing it");
        return Ok(Some(port));
    }

    // After a kill or a container restart the recorded PID may be a zombie or an unrelated process;
    // both `pg_ctl status` and the server itself would then take the old server for alive.
    if pid_is_stale(pid, pgdata) {
        tracing::warn!(pid, file = %pid_file.display(), "postmaster.pid names a process that is no longer this cluster's server; removing stale lock files");
        remove_stale_lock_files(pgdata, pid)?;
        return Ok(None);
    }

    let args: Vec<OsString> = vec!["status".into(), "-D".into(), pgdata.into()];
    let status = tools.output("pg_ctl", &args)?;
    match status.status.code() {
        // Not running: the stale postmaster.pid is removed by the server when it starts.
        Some(3) => Ok(None),
        Some(0) => {
            // Alive but not answering yet: starting up or replaying WAL after a crash.
            tracing::info!(pid, port, "the private PostgreSQL cluster is running but not ready yet; waiting");
            let deadline = Instant::now() + START_TIMEOUT;
            while Instant::now() < deadline {
                thread::sleep(Duration::from_millis(250));
                if cluster_answers(port, pgdata) {
                    return Ok(Some(port));
                }
                if pid_is_stale(pid, pgdata) {
                    remove_stale_lock_files(pgdata, pid)?;
                    return Ok(None);
                }
            }
            bail!(
                "The private PostgreSQL cluster in {} is running (pid {pid}) but did not accept connections on 127.0.0.1:{port} within {}s.\n\
                 Last lines of {}:\n{}",
                pgdata.display(),
                START_TIMEOUT.as_secs(),
                server_log(pgdata).display(),
                file_tail(&server_log(pgdata))
            )
        }
        _ => bail!("`pg_ctl status` failed for {} ({}):\n{}", pgdata.display(), status.status, describe_output(&status)),
    }
}

fn init_cluster(tools: &PgTools, pgdata: &Path) -> Result<()> {
    fs::create_dir_all(pgdata).with_context(|| format!("could not create {}", pgdata.display()))?;
    tools.ensure_owner(pgdata)?;
    tracing::info!(pgdata = %pgdata.display(), "creating the private PostgreSQL cluster (initdb)");
    let args: Vec<OsString> = vec![
        "-D".into(),
        pgdata.into(),
        "-U".into(),
        SUPERUSER.into(),
        // No password to generate, store or show: the server listens only on 127.0.0.1 and a socket
        // inside PGDATA. The price: any local user can connect as superuser (fine for development).
        "-A".into(),
        "trust".into(),
        "-E".into(),
        "UTF8".into(),
        // The C locale exists everywhere; LANG may name a locale that is not installed.
        "--no-locale".into(),
    ];
    let out = tools.output("initdb", &args)?;
    if !out.status.success() {
        let hint = if tools.switch_user.is_some() {
            format!(
                "\nHint: initdb refuses to run as root, so it ran as the `{SUPERUSER}` user, which must be able to enter every parent folder of {}.",
                pgdata.display()
            )
        } else {
            String::new()
        };
        bail!("initdb failed for {} ({}):\n{}{hint}", pgdata.display(), out.status, describe_output(&out));
    }
    Ok(())
}

fn start_cluster(tools: &PgTools, pgdata: &Path, port: u16) -> Result<()> {
    let log = server_log(pgdata);
    // `-o` goes through /bin/sh inside pg_ctl, hence the quoting.
    let mut options = format!("-p {port} -c listen_addresses=127.0.0.1");
    match unix_socket_dir(pgdata, port) {
        Some(dir) => options.push_str(&format!(" -c unix_socket_directories={}", shell_quote(&dir.to_string_lossy()))),
        None => {
            tracing::info!(pgdata = %pgdata.display(), "path too long for a unix socket in the data directory; TCP only");
            options.push_str(" -c unix_socket_directories=''");
        }
    }
    tracing::info!(port, log = %log.display(), "starting the private PostgreSQL cluster");
    let args: Vec<OsString> = vec![
        "start".into(),
        "-D".into(),
        pgdata.into(),
        "-l".into(),
        (&log).into(),
        "-w".into(),
        "-t".into(),
        START_TIMEOUT.as_secs().to_string().into(),
        "-o".into(),
        options.into(),
    ];
    let out = tools.output("pg_ctl", &args)?;
    if !out.status.success() {
        bail!(
            "pg_ctl could not start the private PostgreSQL cluster in {} on port {port} ({}):\n{}\nLast lines of {}:\n{}",
            pgdata.display(),
            out.status,
            describe_output(&out),
            log.display(),
            file_tail(&log)
        );
    }
    Ok(())
}

fn server_log(pgdata: &Path) -> PathBuf {
    pgdata.join("server.log")
}

/// True when something on 127.0.0.1:`port` is a PostgreSQL server serving `pgdata`, so that a
/// different server that happens to use the port is never mistaken for ours.
fn cluster_answers(port: u16, pgdata: &Path) -> bool {
    if !tcp_reachable("127.0.0.1", port) {
        return false;
    }
    let url = format!("postgres://{SUPERUSER}@127.0.0.1:{port}/postgres?connect_timeout={CONNECT_TIMEOUT_SECS}");
    let Ok(mut conn) = PgConnection::establish(&url) else { return false };
    let Ok(served) = diesel::select(diesel::dsl::sql::<Text>("current_setting('data_directory')")).get_result::<String>(&mut conn) else {
        return false;
    };
    same_path(Path::new(&served), pgdata)
}

/// Another instance of the application may be starting this cluster right now (it owns the
/// postmaster.pid): then its server is waited for rather than reported as a foreign program.
fn started_elsewhere(port: u16, pgdata: &Path) -> bool {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if cluster_answers(port, pgdata) {
            return true;
        }
        let live_server = fs::read_to_string(pgdata.join("postmaster.pid"))
            .ok()
            .and_then(|text| parse_postmaster_pid(&text))
            .is_some_and(|(pid, _)| !pid_is_stale(pid, pgdata));
        if !live_server || Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(250));
    }
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// True when `pid` is certainly not a live server for `pgdata`: gone, a zombie, or a process
/// whose working directory is elsewhere (the postmaster and its children chdir into PGDATA).
/// Reads /proc, so elsewhere (macOS) it cannot tell and answers false.
fn pid_is_stale(pid: u32, pgdata: &Path) -> bool {
    if !Path::new("/proc/self/stat").exists() {
        return false;
    }
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return true };
    if matches!(process_state(&stat), Some('Z' | 'X')) {
        return true;
    }
    match fs::read_link(format!("/proc/{pid}/cwd")) {
        Ok(cwd) => !same_path(&cwd, pgdata),
        Err(_) => false,
    }
}

/// The state letter follows the command name, which is in parentheses and may itself contain ") ".
fn process_state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// `postmaster.pid`, and the `.s.PGSQL.<port>.lock` files that name the same dead server: the
/// server refuses to start while either names a PID that still exists.
fn remove_stale_lock_files(pgdata: &Path, pid: u32) -> Result<()> {
    let mut stale = vec![pgdata.join("postmaster.pid")];
    if let Ok(entries) = fs::read_dir(pgdata) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let names_pid =
                || fs::read_to_string(entry.path()).ok().and_then(|t| t.lines().next()?.trim().parse::<u32>().ok()) == Some(pid);
            if name.starts_with(".s.PGSQL.") && name.ends_with(".lock") && names_pid() {
                stale.push(entry.path());
            }
        }
    }
    for file in stale {
        match fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("could not remove stale {}", file.display())),
        }
    }
    Ok(())
}

/// Even right after `pg_ctl start -w`, the first connection can race the end of startup.
fn connect_with_retry(url: &str, timeout: Duration) -> Result<PgConnection> {
    let deadline = Instant::now() + timeout;
    loop {
        match PgConnection::establish(&with_query_param(url, "connect_timeout", CONNECT_TIMEOUT_SECS)) {
            Ok(conn) => return Ok(conn),
            Err(e) if Instant::now() >= deadline => {
                return Err(anyhow!("could not connect to {}: {}", mask_password(url), e.to_string().trim()));
            }
            Err(_) => thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Creates `db_name` unless it exists. Checking first means an existing database needs no
/// CREATEDB privilege; checking again after a failure absorbs a concurrent creation whatever
/// language the server reports "already exists" in.
fn ensure_database(conn: &mut PgConnection, db_name: &str) -> Result<()> {
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

fn database_exists(conn: &mut PgConnection, db_name: &str) -> Result<bool> {
    let exists =
        diesel::select(diesel::dsl::sql::<Bool>("EXISTS (SELECT 1 FROM pg_database WHERE datname = ").bind::<Text, _>(db_name).sql(")"))
            .get_result(conn)
            .context("could not list databases")?;
    Ok(exists)
}

/// The name is interpolated into `CREATE DATABASE` (identifiers cannot be bound) and into URLs.
fn validate_db_name(db_name: &str) -> Result<()> {
    let valid =
        !db_name.is_empty() && db_name.len() <= 63 && db_name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        bail!("invalid database name `{db_name}`: use 1 to 63 characters among a-z, 0-9 and _");
    }
    Ok(())
}

/// How the PostgreSQL binaries are run: directly, or as the `postgres` user when we are root,
/// because `initdb`, `pg_ctl` and the server all refuse to run as root.
#[derive(Debug, Clone)]
struct PgTools {
    bin_dir: PathBuf,
    switch_user: Option<SwitchUser>,
}

#[derive(Debug, Clone)]
struct SwitchUser {
    /// `runuser` (util-linux) when present; `su` otherwise.
    via: SwitchCommand,
    postgres_uid: u32,
}

#[derive(Debug, Clone)]
enum SwitchCommand {
    Runuser(PathBuf),
    Su(PathBuf),
}

impl PgTools {
    fn detect(bin_dir: PathBuf) -> Result<Self> {
        if !running_as_root() {
            return Ok(Self { bin_dir, switch_user: None });
        }
        let postgres_uid = Command::new("id")
            .args(["-u", SUPERUSER])
            .stdin(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<u32>().ok())
            .ok_or_else(|| {
                anyhow!(
                    "Running as root, and PostgreSQL refuses to run as root, but there is no `{SUPERUSER}` user to run it as. \
                     Create one (e.g. `useradd --system {SUPERUSER}`), run as a normal user, or set DATABASE_URL."
                )
            })?;
        let via = if let Some(runuser) = find_executable("runuser") {
            SwitchCommand::Runuser(runuser)
        } else if let Some(su) = find_executable("su") {
            SwitchCommand::Su(su)
        } else {
            bail!("Running as root, and neither `runuser` nor `su` was found to run PostgreSQL as the `{SUPERUSER}` user.");
        };
        Ok(Self { bin_dir, switch_user: Some(SwitchUser { via, postgres_uid }) })
    }

    fn command(&self, program: &str, args: &[OsString]) -> Command {
        let program = self.bin_dir.join(format!("{program}{}", std::env::consts::EXE_SUFFIX));
        let mut cmd = match &self.switch_user {
            None => {
                let mut cmd = Command::new(&program);
                cmd.args(args);
                cmd
            }
            Some(SwitchUser { via: SwitchCommand::Runuser(runuser), .. }) => {
                let mut cmd = Command::new(runuser);
                cmd.args(["-u", SUPERUSER, "--"]).arg(&program).args(args);
                cmd
            }
            Some(SwitchUser { via: SwitchCommand::Su(su), .. }) => {
                let line = std::iter::once(program.as_os_str())
                    .chain(args.iter().map(|a| a.as_os_str()))
                    .map(|a| shell_quote(&a.to_string_lossy()))
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut cmd = Command::new(su);
                cmd.args([SUPERUSER, "-s", "/bin/sh", "-c"]).arg(line);
                cmd
            }
        };
        // All paths are absolute; the `postgres` user may not be allowed into our working directory.
        cmd.current_dir("/").stdin(Stdio::null());
        cmd
    }

    fn output(&self, program: &str, args: &[OsString]) -> Result<Output> {
        self.command(program, args).output().with_context(|| format!("could not run {program} from {}", self.bin_dir.display()))
    }

    /// As root, hands `pgdata` to the `postgres` user, which must own it to run the server.
    fn ensure_owner(&self, pgdata: &Path) -> Result<()> {
        let Some(switch) = &self.switch_user else { return Ok(()) };
        if owner_uid(pgdata) == Some(switch.postgres_uid) {
            return Ok(());
        }
        tracing::info!(pgdata = %pgdata.display(), "running as root: giving the cluster directory to the `postgres` user");
        let out =
            Command::new("chown").arg("-R").arg(SUPERUSER).arg(pgdata).stdin(Stdio::null()).output().context("could not run chown")?;
        if !out.status.success() {
            bail!("chown -R {SUPERUSER} {} failed ({}):\n{}", pgdata.display(), out.status, describe_output(&out));
        }
        Ok(())
    }
}

#[cfg(unix)]
fn owner_uid(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).ok().map(|m| m.uid())
}

#[cfg(not(unix))]
fn owner_uid(_path: &Path) -> Option<u32> {
    None
}

/// Effective UID from /proc (no libc dependency), else from `id -u` (macOS).
fn running_as_root() -> bool {
    if !cfg!(unix) {
        return false;
    }
    if let Some(uid) = fs::read_to_string("/proc/self/status").ok().and_then(|s| effective_uid_from_status(&s)) {
        return uid == 0;
    }
    Command::new("id")
        .arg("-u")
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The `Uid:` line lists real, effective, saved and filesystem UIDs; initdb checks the effective one.
fn effective_uid_from_status(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Directories that hold `initdb`, `pg_ctl` and `postgres`, best first and without duplicates.
///
/// `pg_config` knows where its own installation is; the versioned folders catch Debian/Ubuntu
/// (whose server binaries are not on PATH) and Homebrew's keg-only `postgresql@N`.
fn candidate_bin_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(pg_config) = find_executable("pg_config") {
        if let Ok(out) = Command::new(pg_config).arg("--bindir").stdin(Stdio::null()).output() {
            if out.status.success() {
                dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
            }
        }
    }
    dirs.extend(versioned_bin_dirs(Path::new("/usr/lib/postgresql"), ""));
    dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
    dirs.extend(versioned_bin_dirs(Path::new("/opt/homebrew/opt"), "postgresql@"));
    dirs.extend(versioned_bin_dirs(Path::new("/usr/local/opt"), "postgresql@"));
    if let Some(initdb) = find_executable("initdb") {
        // Through symlinks, so that pg_ctl and postgres are looked for beside the real initdb.
        if let Some(dir) = fs::canonicalize(&initdb).ok().as_deref().and_then(Path::parent) {
            dirs.push(dir.to_path_buf());
        }
    }

    let mut seen = Vec::new();
    dirs.into_iter()
        .filter(|d| has_server_binaries(d))
        .filter(|d| {
            let key = fs::canonicalize(d).unwrap_or_else(|_| d.clone());
            let new = !seen.contains(&key);
            seen.push(key);
            new
        })
        .collect()
}

/// `parent/<prefix><version>/bin` for every entry whose version parses, newest first.
fn versioned_bin_dirs(parent: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else { return Vec::new() };
    let labelled = entries.filter_map(|e| {
        let name = e.ok()?.file_name().into_string().ok()?;
        let version = name.strip_prefix(prefix)?.to_owned();
        Some((version, parent.join(&name).join("bin")))
    });
    newest_first(labelled)
}

/// Orders by numeric version ("9.6" < "10" < "15"), dropping labels that are not versions.
fn newest_first(labelled: impl IntoIterator<Item = (String, PathBuf)>) -> Vec<PathBuf> {
    let mut versions: Vec<(Vec<u32>, PathBuf)> =
        labelled.into_iter().filter_map(|(label, dir)| Some((version_key(&label)?, dir))).collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

fn version_key(label: &str) -> Option<Vec<u32>> {
    label.split('.').map(|part| part.parse().ok()).collect()
}

fn has_server_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"].iter().all(|name| dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)).is_file())
}

/// Picks the first candidate, except that an existing cluster can only be run by its own major
/// version, so a candidate of that version wins when there is one. Returns the major version too.
fn choose_bin_dir(candidates: &[PathBuf], cluster_major: Option<&str>) -> (PathBuf, Option<String>) {
    let first = || (candidates[0].clone(), binaries_major_version(&candidates[0]));
    let Some(wanted) = cluster_major else { return first() };
    candidates
        .iter()
        .map(|dir| (dir.clone(), binaries_major_version(dir)))
        .find(|(_, major)| major.as_deref() == Some(wanted))
        .unwrap_or_else(first)
}

fn binaries_major_version(bin_dir: &Path) -> Option<String> {
    let out = Command::new(bin_dir.join(format!("postgres{}", std::env::consts::EXE_SUFFIX)))
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    major_version(&String::from_utf8_lossy(&out.stdout))
}

/// "postgres (PostgreSQL) 15.8 (Debian …)" -> "15"; before 10 the major had two parts: "9.6".
/// This is the form PG_VERSION uses, so the two can be compared.
fn major_version(version_output: &str) -> Option<String> {
    let version = version_output.split_whitespace().find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = version.split('.').map(|p| p.chars().take_while(char::is_ascii_digit).collect::<String>());
    let first = parts.next().filter(|p| !p.is_empty())?;
    if first.parse::<u32>().ok()? >= 10 {
        return Some(first);
    }
    let second = parts.next().filter(|p| !p.is_empty())?;
    Some(format!("{first}.{second}"))
}

fn no_binaries_message(local_url: &str) -> String {
    format!(
        "No PostgreSQL server answered at {} and no PostgreSQL binaries were found. \
         Install PostgreSQL (Debian/Ubuntu: `sudo apt-get install postgresql`; Fedora: `sudo dnf install postgresql-server`; \
         macOS: `brew install postgresql@16`) or set DATABASE_URL to a running server.",
        mask_password(local_url)
    )
}

/// PATH, plus the sbin folders that a non-login root shell may lack (where `runuser` lives).
fn find_executable(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
        .find(|candidate| candidate.is_file())
}

fn tcp_reachable(host: &str, port: u16) -> bool {
    let Ok(addrs) = (host, port).to_socket_addrs() else { return false };
    addrs.into_iter().any(|addr| TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).is_ok())
}

/// Port and the first line of the data directory's `postmaster.pid`: the PID, then the port on line 4.
fn parse_postmaster_pid(text: &str) -> Option<(u32, u16)> {
    let lines: Vec<&str> = text.lines().collect();
    let pid = lines.first()?.trim().parse().ok()?;
    let port = lines.get(3)?.trim().parse().ok()?;
    Some((pid, port))
}

/// The socket is `<dir>/.s.PGSQL.<port>`; PostgreSQL refuses to start when that path is too long.
fn unix_socket_dir(pgdata: &Path, port: u16) -> Option<&Path> {
    let socket = pgdata.join(format!(".s.PGSQL.{port}"));
    (socket.as_os_str().len() <= MAX_SOCKET_PATH).then_some(pgdata)
}

/// Byte offsets into a `scheme://authority/path?query` URL.
struct UrlParts {
    authority_start: usize,
    authority_end: usize,
    path_end: usize,
}

/// Only as much URL parsing as needed here (no `url` crate): a password containing an unencoded
/// `/`, `?` or `#` is not supported, but such a URL is invalid for libpq as well.
fn split_url(url: &str) -> Option<UrlParts> {
    let scheme_len = ["postgres://", "postgresql://"].iter().find(|s| url.starts_with(*s))?.len();
    let after = &url[scheme_len..];
    let authority_end = scheme_len + after.find(['/', '?', '#']).unwrap_or(after.len());
    let path_end = authority_end + url[authority_end..].find(['?', '#']).unwrap_or(url.len() - authority_end);
    Some(UrlParts { authority_start: scheme_len, authority_end, path_end })
}

/// The same server and credentials, another database; query parameters are kept.
fn replace_database(url: &str, db_name: &str) -> Result<String> {
    let parts = split_url(url).ok_or_else(|| anyhow!("local PostgreSQL URL `{}` is not a postgres:// URL", mask_password(url)))?;
    Ok(format!("{}/{db_name}{}", &url[..parts.authority_end], &url[parts.path_end..]))
}

/// Adds `key=value` to the query unless the URL already sets that key.
fn with_query_param(url: &str, key: &str, value: &str) -> String {
    let Some(parts) = split_url(url) else { return url.to_owned() };
    let (query, fragment) = url[parts.path_end..].split_once('#').map_or((&url[parts.path_end..], ""), |(q, f)| (q, f));
    let already = query.trim_start_matches('?').split('&').any(|pair| pair.split('=').next() == Some(key));
    if already {
        return url.to_owned();
    }
    let separator = match query {
        "" => "?",
        "?" => "",
        _ => "&",
    };
    let fragment = if fragment.is_empty() { String::new() } else { format!("#{fragment}") };
    format!("{}{query}{separator}{key}={value}{fragment}", &url[..parts.path_end])
}

/// Host and port to probe with TCP, or None when the URL points at a unix socket (empty host or
/// a path), in which case libpq is asked directly. Only the first of several hosts is probed.
fn tcp_host_port(url: &str) -> Option<(String, u16)> {
    let parts = split_url(url)?;
    let authority = &url[parts.authority_start..parts.authority_end];
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, hosts)| hosts);
    let first = hosts.split(',').next()?;
    let (host, port) = if let Some(bracketed) = first.strip_prefix('[') {
        let (host, rest) = bracketed.split_once(']')?;
        (host, rest.strip_prefix(':'))
    } else {
        match first.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (first, None),
        }
    };
    if host.is_empty() || host.starts_with('/') || host.to_ascii_lowercase().starts_with("%2f") {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => 5432,
    };
    Some((host.to_owned(), port))
}

/// Hides the password of a URL (`user:***@`) and any `password=` parameter, for logs and errors.
fn mask_password(url: &str) -> String {
    let mut masked = url.to_owned();
    if let Some(parts) = split_url(url) {
        let authority = &url[parts.authority_start..parts.authority_end];
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if let Some(colon) = userinfo.find(':') {
                let password_start = parts.authority_start + colon + 1;
                let password_end = parts.authority_start + userinfo.len();
                masked = format!("{}***{}", &url[..password_start], &url[password_end..]);
            }
        }
    }
    mask_password_params(&masked)
}

/// `password=...` in a URL query or a `key=value` connection string; a quoted value may hold spaces.
fn mask_password_params(text: &str) -> String {
    const KEY: &str = "password=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find(KEY) {
        let starts_param = found == 0 || matches!(rest.as_bytes()[found - 1], b'?' | b'&' | b' ' | b'\t' | b'\n');
        let value_start = found + KEY.len();
        out.push_str(&rest[..value_start]);
        rest = &rest[value_start..];
        if !starts_param {
            continue;
        }
        let value_len = if let Some(quoted) = rest.strip_prefix('\'') {
            let mut escaped = false;
            let close = quoted.char_indices().find(|&(_, c)| {
                let is_close = c == '\'' && !escaped;
                escaped = c == '\\' && !escaped;
                is_close
            });
            close.map_or(rest.len(), |(i, _)| i + 2)
        } else {
            rest.find(['&', ' ', '\t', '\n', '#']).unwrap_or(rest.len())
        };
        if value_len > 0 {
            out.push_str("***");
        }
        rest = &rest[value_len..];
    }
    out.push_str(rest);
    out
}

/// Single-quotes for /bin/sh unless the word is plainly safe (keeps logged commands readable).
fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The end of a log that may have grown over many runs; reads at most the last 64 KiB.
fn file_tail(path: &Path) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = fs::File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) if text.trim().is_empty() => "(empty)".to_owned(),
        Ok(text) => tail_lines(&text, TAIL_LINES),
        Err(e) => format!("(could not read it: {e})"),
    }
}

fn describe_output(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut parts = Vec::new();
    if !stderr.trim().is_empty() {
        parts.push(tail_lines(stderr.trim_end(), TAIL_LINES));
    }
    if !stdout.trim().is_empty() {
        parts.push(tail_lines(stdout.trim_end(), TAIL_LINES));
    }
    if parts.is_empty() {
        "(no output)".to_owned()
    } else {
        parts.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_and_keeps_everything_else() {
        let db = |url| replace_database(url, "billetterie").unwrap();
        assert_eq!(db("postgres://postgres@127.0.0.1:5432/postgres"), "postgres://postgres@127.0.0.1:5432/billetterie");
        assert_eq!(db("postgresql://u:p@h/postgres?sslmode=disable"), "postgresql://u:p@h/billetterie?sslmode=disable");
        assert_eq!(db("postgres://h:5433"), "postgres://h:5433/billetterie");
        assert_eq!(db("postgres://h:5433/"), "postgres://h:5433/billetterie");
        assert_eq!(db("postgres://h?connect_timeout=2"), "postgres://h/billetterie?connect_timeout=2");
        assert_eq!(db("postgres:///postgres?host=/var/run/postgresql"), "postgres:///billetterie?host=/var/run/postgresql");
        assert!(replace_database("host=localhost dbname=postgres", "x").is_err());
    }

    #[test]
    fn masks_passwords_in_urls_and_parameters() {
        assert_eq!(mask_password("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(mask_password("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(mask_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(mask_password("postgres://h/db"), "postgres://h/db");
        assert_eq!(mask_password("postgres://u@h/db?password=secret&sslmode=require"), "postgres://u@h/db?password=***&sslmode=require");
        assert_eq!(mask_password("host=h password='a b\\' c' user=u"), "host=h password=*** user=u");
        assert_eq!(mask_password("host=h password=secret"), "host=h password=***");
        // Only a parameter named exactly `password`.
        assert_eq!(mask_password("postgres://h/db?old_password=x"), "postgres://h/db?old_password=x");
    }

    #[test]
    fn picks_the_newest_version_directory() {
        let dir = |v: &str| PathBuf::from(format!("/usr/lib/postgresql/{v}/bin"));
        let labelled = ["9.6", "15", "10", "common", "12", "16beta"].map(|v| (v.to_owned(), dir(v)));
        assert_eq!(newest_first(labelled), vec![dir("15"), dir("12"), dir("10"), dir("9.6")]);
        assert!(newest_first(Vec::new()).is_empty());
    }

    #[test]
    fn reads_major_versions_like_pg_version_does() {
        assert_eq!(major_version("postgres (PostgreSQL) 15.8 (Debian 15.8-1.pgdg120+1)\n").as_deref(), Some("15"));
        assert_eq!(major_version("postgres (PostgreSQL) 9.6.24").as_deref(), Some("9.6"));
        assert_eq!(major_version("postgres (PostgreSQL) 17beta1").as_deref(), Some("17"));
        assert_eq!(major_version("garbage"), None);
    }

    #[test]
    fn finds_the_host_to_probe() {
        assert_eq!(tcp_host_port("postgres://postgres@127.0.0.1:5432/postgres"), Some(("127.0.0.1".into(), 5432)));
        assert_eq!(tcp_host_port("postgres://u:p@localhost/db"), Some(("localhost".into(), 5432)));
        assert_eq!(tcp_host_port("postgres://[::1]:5433/db"), Some(("::1".into(), 5433)));
        assert_eq!(tcp_host_port("postgres://a:5433,b:5434/db"), Some(("a".into(), 5433)));
        assert_eq!(tcp_host_port("postgres:///db"), None);
        assert_eq!(tcp_host_port("postgres://%2Fvar%2Frun%2Fpostgresql/db"), None);
    }

    #[test]
    fn adds_query_parameters_once() {
        assert_eq!(with_query_param("postgres://h/db", "connect_timeout", "5"), "postgres://h/db?connect_timeout=5");
        assert_eq!(
            with_query_param("postgres://h/db?sslmode=disable", "connect_timeout", "5"),
            "postgres://h/db?sslmode=disable&connect_timeout=5"
        );
        assert_eq!(with_query_param("postgres://h/db?connect_timeout=9", "connect_timeout", "5"), "postgres://h/db?connect_timeout=9");
        assert_eq!(with_query_param("postgres://h/db?", "k", "v"), "postgres://h/db?k=v");
    }

    #[test]
    fn validates_database_names() {
        assert!(validate_db_name("billetterie").is_ok());
        assert!(validate_db_name("embedded_check_db2").is_ok());
        for bad in ["", "Billetterie", "a-b", "a\"; DROP DATABASE x; --", "é", &"a".repeat(64)] {
            assert!(validate_db_name(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("/usr/lib/postgresql/15/bin/pg_ctl"), "/usr/lib/postgresql/15/bin/pg_ctl");
        assert_eq!(shell_quote("-p 5 -c x=y"), "'-p 5 -c x=y'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn falls_back_to_tcp_only_for_long_paths() {
        assert_eq!(unix_socket_dir(Path::new("/tmp/x/postgres"), 54329), Some(Path::new("/tmp/x/postgres")));
        let long = PathBuf::from(format!("/{}/postgres", "d".repeat(90)));
        assert_eq!(unix_socket_dir(&long, 54329), None);
    }

    #[test]
    fn parses_proc_status_and_postmaster_pid() {
        let status = "Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
        assert_eq!(effective_uid_from_status(status), Some(0));
        assert_eq!(effective_uid_from_status("Name:\tx\n"), None);
        let pid = "4242\n/tmp/d/postgres\n1700000000\n54329\n/tmp/d/postgres\n127.0.0.1\n  1234  5678\nready   \n";
        assert_eq!(parse_postmaster_pid(pid), Some((4242, 54329)));
        assert_eq!(parse_postmaster_pid("4242\n/tmp/d\n"), None);
        assert_eq!(process_state("4242 (postgres) S 1 4242"), Some('S'));
        assert_eq!(process_state("4242 (odd) name) Z 1 4242"), Some('Z'));
    }

    #[test]
    fn keeps_the_end_of_long_output() {
        let text = (1..=100).map(|i| i.to_string()).collect::<Vec<_>>().join("\n");
        assert_eq!(tail_lines(&text, 3), "98\n99\n100");
        assert_eq!(tail_lines("a", 3), "a");
    }

    #[test]
    fn says_what_to_install() {
        let message = no_binaries_message("postgres://u:secret@127.0.0.1:5432/postgres");
        assert!(message.contains("postgres://u:***@127.0.0.1:5432/postgres"), "{message}");
        assert!(message.contains("apt-get install postgresql") && message.contains("DATABASE_URL"), "{message}");
    }

    #[test]
    fn an_empty_configured_url_is_an_error() {
        let err = resolve(Some(" "), "postgres://x/y", Path::new("/nonexistent"), 1, "app").unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL is set but empty"), "{err}");
    }

    #[test]
    fn configured_url_is_returned_untouched() {
        let resolved = resolve(Some("postgres://u:p@db.example/app"), "postgres://x/y", Path::new("/nonexistent"), 1, "INVALID!").unwrap();
        assert_eq!(resolved.url(), "postgres://u:p@db.example/app");
        assert_eq!(resolved.origin(), &DatabaseOrigin::Configured);
        assert!(!format!("{resolved:?}").contains(":p@"));
    }
}
