//! The PostgreSQL binaries: where they are (newest version first, or the one an existing cluster
//! needs), and how they are run (as the `postgres` user when we are root), with their output
//! kept short enough to show a user.

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{anyhow, bail, Context, Result};

use super::url::mask_password;
use super::{SUPERUSER, TAIL_LINES};

/// How the PostgreSQL binaries are run: directly, or as the `postgres` user when we are root,
/// because `initdb`, `pg_ctl` and the server all refuse to run as root.
#[derive(Debug, Clone)]
pub(super) struct PgTools {
    pub(super) bin_dir: PathBuf,
    pub(super) switch_user: Option<SwitchUser>,
}

#[derive(Debug, Clone)]
pub(super) struct SwitchUser {
    /// `runuser` (util-linux) when present; `su` otherwise.
    via: SwitchCommand,
    postgres_uid: u32,
}

#[derive(Debug, Clone)]
pub(super) enum SwitchCommand {
    Runuser(PathBuf),
    Su(PathBuf),
}

impl PgTools {
    pub(super) fn detect(bin_dir: PathBuf) -> Result<Self> {
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

    pub(super) fn command(&self, program: &str, args: &[OsString]) -> Command {
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

    pub(super) fn output(&self, program: &str, args: &[OsString]) -> Result<Output> {
        self.command(program, args).output().with_context(|| format!("could not run {program} from {}", self.bin_dir.display()))
    }

    /// As root, hands `pgdata` to the `postgres` user, which must own it to run the server.
    pub(super) fn ensure_owner(&self, pgdata: &Path) -> Result<()> {
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
pub(super) fn owner_uid(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).ok().map(|m| m.uid())
}

#[cfg(not(unix))]
pub(super) fn owner_uid(_path: &Path) -> Option<u32> {
    None
}

/// Effective UID from /proc (no libc dependency), else from `id -u` (macOS).
pub(super) fn running_as_root() -> bool {
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
pub(super) fn effective_uid_from_status(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Directories that hold `initdb`, `pg_ctl` and `postgres`, best first and without duplicates.
///
/// `pg_config` knows where its own installation is; the versioned folders catch Debian/Ubuntu
/// (whose server binaries are not on PATH) and Homebrew's keg-only `postgresql@N`.
pub(super) fn candidate_bin_dirs() -> Vec<PathBuf> {
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
pub(super) fn versioned_bin_dirs(parent: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else { return Vec::new() };
    let labelled = entries.filter_map(|e| {
        let name = e.ok()?.file_name().into_string().ok()?;
        let version = name.strip_prefix(prefix)?.to_owned();
        Some((version, parent.join(&name).join("bin")))
    });
    newest_first(labelled)
}

/// Orders by numeric version ("9.6" < "10" < "15"), dropping labels that are not versions.
pub(super) fn newest_first(labelled: impl IntoIterator<Item = (String, PathBuf)>) -> Vec<PathBuf> {
    let mut versions: Vec<(Vec<u32>, PathBuf)> =
        labelled.into_iter().filter_map(|(label, dir)| Some((version_key(&label)?, dir))).collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

pub(super) fn version_key(label: &str) -> Option<Vec<u32>> {
    label.split('.').map(|part| part.parse().ok()).collect()
}

pub(super) fn has_server_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"].iter().all(|name| dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)).is_file())
}

/// Picks the first candidate, except that an existing cluster can only be run by its own major
/// version, so a candidate of that version wins when there is one. Returns the major version too.
pub(super) fn choose_bin_dir(candidates: &[PathBuf], cluster_major: Option<&str>) -> (PathBuf, Option<String>) {
    let first = || (candidates[0].clone(), binaries_major_version(&candidates[0]));
    let Some(wanted) = cluster_major else { return first() };
    candidates
        .iter()
        .map(|dir| (dir.clone(), binaries_major_version(dir)))
        .find(|(_, major)| major.as_deref() == Some(wanted))
        .unwrap_or_else(first)
}

pub(super) fn binaries_major_version(bin_dir: &Path) -> Option<String> {
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
pub(super) fn major_version(version_output: &str) -> Option<String> {
    let version = version_output.split_whitespace().find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = version.split('.').map(|p| p.chars().take_while(char::is_ascii_digit).collect::<String>());
    let first = parts.next().filter(|p| !p.is_empty())?;
    if first.parse::<u32>().ok()? >= 10 {
        return Some(first);
    }
    let second = parts.next().filter(|p| !p.is_empty())?;
    Some(format!("{first}.{second}"))
}

pub(super) fn no_binaries_message(local_url: &str) -> String {
    format!(
        "No PostgreSQL server answered at {} and no PostgreSQL binaries were found. \
         Install PostgreSQL (Debian/Ubuntu: `sudo apt-get install postgresql`; Fedora: `sudo dnf install postgresql-server`; \
         macOS: `brew install postgresql@16`) or set DATABASE_URL to a running server.",
        mask_password(local_url)
    )
}

/// PATH, plus the sbin folders that a non-login root shell may lack (where `runuser` lives).
pub(super) fn find_executable(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
        .find(|candidate| candidate.is_file())
}

/// Single-quotes for /bin/sh unless the word is plainly safe (keeps logged commands readable).
pub(super) fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

pub(super) fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The end of a log that may have grown over many runs; reads at most the last 64 KiB.
pub(super) fn file_tail(path: &Path) -> String {
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

pub(super) fn describe_output(out: &Output) -> String {
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
