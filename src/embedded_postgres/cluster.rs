//! The private cluster under the data folder: found running, or created (`initdb`) and started
//! (`pg_ctl`), stopped on drop only when this process started it, and cleared of stale locks.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::{Connection, RunQueryDsl};

use super::policy::{ensure_database, DatabaseOrigin, ResolvedDatabase};
use super::tools::{candidate_bin_dirs, choose_bin_dir, describe_output, file_tail, no_binaries_message, shell_quote, PgTools};
use super::url::{mask_password, tcp_reachable, with_query_param};
use super::{CONNECT_TIMEOUT_SECS, MAX_SOCKET_PATH, START_TIMEOUT, SUPERUSER};

/// Stops the private cluster on drop, but only one this process started: a cluster that was
/// already running belongs to whoever started it (another instance may still be using it).
#[derive(Debug)]
pub(super) struct PrivateCluster {
    pub(super) tools: PgTools,
    pub(super) pgdata: PathBuf,
    pub(super) stop_on_drop: bool,
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

pub(super) fn start_private_cluster(local_url: &str, data_dir: &Path, port: u16, db_name: &str) -> Result<ResolvedDatabase> {
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
pub(super) fn find_running_cluster(tools: &PgTools, pgdata: &Path) -> Result<Option<u16>> {
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

pub(super) fn init_cluster(tools: &PgTools, pgdata: &Path) -> Result<()> {
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

pub(super) fn start_cluster(tools: &PgTools, pgdata: &Path, port: u16) -> Result<()> {
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

pub(super) fn server_log(pgdata: &Path) -> PathBuf {
    pgdata.join("server.log")
}

/// True when something on 127.0.0.1:`port` is a PostgreSQL server serving `pgdata`, so that a
/// different server that happens to use the port is never mistaken for ours.
pub(super) fn cluster_answers(port: u16, pgdata: &Path) -> bool {
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
pub(super) fn started_elsewhere(port: u16, pgdata: &Path) -> bool {
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

pub(super) fn same_path(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// True when `pid` is certainly not a live server for `pgdata`: gone, a zombie, or a process
/// whose working directory is elsewhere (the postmaster and its children chdir into PGDATA).
/// Reads /proc, so elsewhere (macOS) it cannot tell and answers false.
pub(super) fn pid_is_stale(pid: u32, pgdata: &Path) -> bool {
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
pub(super) fn process_state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// `postmaster.pid`, and the `.s.PGSQL.<port>.lock` files that name the same dead server: the
/// server refuses to start while either names a PID that still exists.
pub(super) fn remove_stale_lock_files(pgdata: &Path, pid: u32) -> Result<()> {
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
pub(super) fn connect_with_retry(url: &str, timeout: Duration) -> Result<PgConnection> {
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

/// Port and the first line of the data directory's `postmaster.pid`: the PID, then the port on line 4.
pub(super) fn parse_postmaster_pid(text: &str) -> Option<(u32, u16)> {
    let lines: Vec<&str> = text.lines().collect();
    let pid = lines.first()?.trim().parse().ok()?;
    let port = lines.get(3)?.trim().parse().ok()?;
    Some((pid, port))
}

/// The socket is `<dir>/.s.PGSQL.<port>`; PostgreSQL refuses to start when that path is too long.
pub(super) fn unix_socket_dir(pgdata: &Path, port: u16) -> Option<&Path> {
    let socket = pgdata.join(format!(".s.PGSQL.{port}"));
    (socket.as_os_str().len() <= MAX_SOCKET_PATH).then_some(pgdata)
}
