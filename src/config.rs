//! Typed settings, layered: `config/default.toml` < `config/{APP_ENV}.toml` < environment variables
//! (the deployment's names: `DATABASE_URL`, `SECRET_KEY`, `FRONTEND_URL`, `HOLD_TTL_SECONDS`, …;
//! each key below in upper case). Secrets never appear in `Debug` output or logs.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// How holds are taken. `row_lock` is the naive per-request transaction (`SELECT … FOR UPDATE`),
/// kept only as the baseline the benchmarks compare the actors against; production refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldStrategy {
    Actor,
    RowLock,
}

/// A string that never prints.
#[derive(Clone, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"[redacted]\"" })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub app_env: AppEnv,
    pub bind: String,
    /// Unset: the embedded default (a local PostgreSQL, or a private cluster; see `embedded_postgres`).
    #[serde(default)]
    pub database_url: Option<Secret>,
    /// Where the embedded default looks for a running PostgreSQL first.
    pub local_postgres_url: String,
    /// Port of the private cluster the embedded default starts when no PostgreSQL answers.
    pub embedded_postgres_port: u16,
    /// Folder for the private cluster and other local state.
    pub data_dir: PathBuf,
    pub database_pool_size: usize,
    pub secret_key: Secret,
    pub frontend_url: String,
    pub log_format: LogFormat,
    pub seed_demo: bool,
    pub hold_ttl_seconds: u64,
    pub hold_expiry_tick_ms: u64,
    pub max_quantity_per_booking: u16,
    pub actor_max_batch: usize,
    pub actor_max_inflight: usize,
    pub commit_timeout_ms: u64,
    pub actor_resync_interval_ms: u64,
    pub hold_strategy: HoldStrategy,
    /// Booking creations allowed per client IP and minute (a burst of that many, then evenly); 0 = no limit.
    pub rate_limit_bookings_per_minute: u32,
    /// Slow clients: how long a connection may stay idle between requests, how long a client has
    /// to send its request head, and to acknowledge the close.
    pub http_keep_alive_secs: u64,
    pub http_client_request_timeout_ms: u64,
    pub http_client_disconnect_timeout_ms: u64,
    /// Cron expression (with seconds) of the pass that anonymises the bookings of past events.
    pub privacy_cron: String,
    /// Personal data is kept this many days after a city event ends, then anonymised.
    pub retention_days: i64,
    /// Error reporting to Sentry; empty = off.
    #[serde(default)]
    pub sentry_dsn: Secret,
    /// Empty: the demo starts the local Stripe stand-in and uses its keys.
    #[serde(default)]
    pub stripe_secret_key: Secret,
    #[serde(default)]
    pub stripe_publishable_key: String,
    #[serde(default)]
    pub stripe_webhook_secret: Secret,
    pub stripe_api_base: String,
    pub stripe_timeout_ms: u64,
    pub stripe_max_attempts: u32,
    /// Cron expression (with seconds) of the reconciliation pass.
    pub reconcile_cron: String,
    /// Intents older than this without a final state are asked about.
    pub reconcile_after_minutes: i64,
    /// `outbox` (default: `.eml` files) or `sendgrid`.
    pub email_transport: EmailTransportKind,
    pub email_outbox_dir: PathBuf,
    #[serde(default)]
    pub sendgrid_api_key: Secret,
    pub sendgrid_api_base: String,
    /// Base64 DER public key of SendGrid's signed Event Webhook; empty: the webhook is off.
    #[serde(default)]
    pub sendgrid_webhook_public_key: String,
    /// The sender of every mail (SendGrid or outbox).
    pub sendgrid_from_email: String,
    pub email_from_name: String,
    /// Reminders leave at this hour, local to the venue.
    pub email_send_hour: u32,
    /// Cron expression (with seconds) of the pass that finds due mails.
    pub email_cron: String,
    pub email_max_attempts: i32,
    pub support_email: String,
    pub emergency_phone: String,
    pub wifi_network: String,
    pub wifi_password: String,
    /// Google Analytics measurement id; empty = no analytics at all. Even when set, the tag loads
    /// only for visitors who accepted it in the consent banner.
    #[serde(default)]
    pub ga_id: String,
    /// How long a seat offered to the waiting list stays held for its person.
    #[serde(default = "default_offer_ttl")]
    pub waitlist_offer_ttl_seconds: u64,
    /// How long an organiser's session lasts without being used, and at most.
    #[serde(default = "default_admin_idle")]
    pub admin_session_idle_minutes: i64,
    #[serde(default = "default_admin_max")]
    pub admin_session_max_hours: i64,
}

fn default_offer_ttl() -> u64 {
    86_400
}

fn default_admin_idle() -> i64 {
    60
}

fn default_admin_max() -> i64 {
    12
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransportKind {
    Outbox,
    Sendgrid,
}

/// Environment variables that override the files, by setting name.
const ENV_KEYS: &[&str] = &[
    "app_env",
    "bind",
    "database_url",
    "local_postgres_url",
    "embedded_postgres_port",
    "data_dir",
    "database_pool_size",
    "secret_key",
    "frontend_url",
    "log_format",
    "seed_demo",
    "hold_ttl_seconds",
    "hold_expiry_tick_ms",
    "max_quantity_per_booking",
    "actor_max_batch",
    "actor_max_inflight",
    "commit_timeout_ms",
    "actor_resync_interval_ms",
    "hold_strategy",
    "rate_limit_bookings_per_minute",
    "http_keep_alive_secs",
    "http_client_request_timeout_ms",
    "http_client_disconnect_timeout_ms",
    "privacy_cron",
    "retention_days",
    "sentry_dsn",
    "stripe_secret_key",
    "stripe_publishable_key",
    "stripe_webhook_secret",
    "stripe_api_base",
    "stripe_timeout_ms",
    "stripe_max_attempts",
    "reconcile_cron",
    "reconcile_after_minutes",
    "email_transport",
    "email_outbox_dir",
    "sendgrid_api_key",
    "sendgrid_api_base",
    "sendgrid_webhook_public_key",
    "sendgrid_from_email",
    "email_from_name",
    "email_send_hour",
    "email_cron",
    "email_max_attempts",
    "support_email",
    "emergency_phone",
    "wifi_network",
    "wifi_password",
    "ga_id",
    "waitlist_offer_ttl_seconds",
    "admin_session_idle_minutes",
    "admin_session_max_hours",
];

/// The folder that holds `default.toml`: `APP_CONFIG_DIR`, else `./config`, else the one beside
/// the sources (so `cargo run` works from any folder of the checkout).
pub fn config_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("APP_CONFIG_DIR") {
        return PathBuf::from(dir);
    }
    let local = Path::new("config");
    if local.join("default.toml").exists() {
        return local.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

impl Settings {
    /// Files and the process environment.
    pub fn load() -> anyhow::Result<Self> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(&config_dir(), &env)
    }

    /// Files in `dir` and the given environment (tests pass their own).
    pub fn load_from(dir: &Path, env: &[(String, String)]) -> anyhow::Result<Self> {
        let lookup = |k: &str| env.iter().find(|(name, _)| name.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());
        let app_env = lookup("APP_ENV").unwrap_or_else(|| "development".into());
        let mut builder = config::Config::builder()
            .add_source(config::File::from(dir.join("default.toml")).required(true))
            .add_source(config::File::from(dir.join(format!("{app_env}.toml"))).required(false))
            .set_override("app_env", app_env.clone())?;
        for key in ENV_KEYS {
            if let Some(v) = lookup(key) {
                builder = builder.set_override(*key, v)?;
            }
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.app_env == AppEnv::Production {
            anyhow::ensure!(self.database_url.is_some(), "DATABASE_URL must be set in production");
            anyhow::ensure!(self.secret_key.expose().len() >= 32, "SECRET_KEY must be set (32 characters or more) in production");
            anyhow::ensure!(
                self.hold_strategy == HoldStrategy::Actor,
                "HOLD_STRATEGY=row_lock is a benchmark baseline, not for production"
            );
            anyhow::ensure!(!self.seed_demo, "SEED_DEMO cannot be on in production");
            anyhow::ensure!(
                !self.stripe_secret_key.is_empty() && !self.stripe_webhook_secret.is_empty() && !self.stripe_publishable_key.is_empty(),
                "STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET must be set in production"
            );
        }
        anyhow::ensure!(self.hold_ttl_seconds >= 1, "HOLD_TTL_SECONDS must be at least 1");
        anyhow::ensure!(self.actor_max_batch >= 1 && self.actor_max_inflight >= 1, "actor limits must be at least 1");
        anyhow::ensure!(self.database_pool_size >= 2, "DATABASE_POOL_SIZE must be at least 2");
        anyhow::ensure!(self.retention_days >= 1, "RETENTION_DAYS must be at least 1");
        anyhow::ensure!(self.email_send_hour < 24, "EMAIL_SEND_HOUR is an hour of the day (0–23)");
        if self.email_transport == EmailTransportKind::Sendgrid {
            anyhow::ensure!(!self.sendgrid_api_key.is_empty(), "EMAIL_TRANSPORT=sendgrid needs SENDGRID_API_KEY");
        }
        Ok(())
    }
}

impl Settings {
    pub fn hold_ttl(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.hold_ttl_seconds.min(i64::MAX as u64) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
    }

    #[test]
    fn environment_overrides_files() {
        let env = vec![("HOLD_TTL_SECONDS".to_string(), "60".to_string()), ("DATABASE_URL".into(), "postgres://x/y".into())];
        let s = Settings::load_from(&dir(), &env).unwrap();
        assert_eq!(s.hold_ttl_seconds, 60);
        assert_eq!(s.app_env, AppEnv::Development);
        assert_eq!(s.database_url.unwrap().expose(), "postgres://x/y");
    }

    #[test]
    fn env_file_overrides_default() {
        let s = Settings::load_from(&dir(), &[("APP_ENV".into(), "test".into())]).unwrap();
        assert!(!s.seed_demo, "config/test.toml turns the demo seed off");
    }

    #[test]
    fn production_refuses_missing_secrets() {
        let err = Settings::load_from(&dir(), &[("APP_ENV".into(), "production".into())]).unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }

    #[test]
    fn secrets_do_not_print() {
        let env = vec![("SECRET_KEY".to_string(), "super-secret-value".to_string())];
        let s = Settings::load_from(&dir(), &env).unwrap();
        assert!(!format!("{s:?}").contains("super-secret-value"));
    }
}
