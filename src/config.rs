//! Typed settings, layered: `config/default.toml` < `config/{APP_ENV}.toml` < environment variables
//! (the deployment's names: `DATABASE_URL`, `SECRET_KEY`, `FRONTEND_URL`, `HOLD_TTL_SECONDS`, …;
//! each key below in upper case). Secrets never appear in `Debug` output or logs.

use std::path::{Path, PathBuf};

use serde::Deserialize;

mod check;

pub use check::{fact_problem, stripe_without_secret_key, FactKind, InvalidSettings, Problem};

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
    /// Seats-only batches an actor writes at once, each on its own connection (1: one at a time).
    pub actor_batches_in_flight: usize,
    /// How long a rendered page and the catalogue are kept at most (changes made through this
    /// instance's back office clear them at once); 0 renders every page from the database.
    pub page_cache_ttl_ms: u64,
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
    /// The bearer token Prometheus sends for `/metrics` (sales, batch sizes and webhook lag are
    /// business data). Empty: `/metrics` answers loopback clients only; production requires one.
    #[serde(default)]
    pub metrics_token: Secret,
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
    /// `outbox` (default: `.eml` files, never sent; production refuses it), `smtp` or `sendgrid`.
    pub email_transport: EmailTransportKind,
    pub email_outbox_dir: PathBuf,
    /// Where the masterclasses' uploaded resources are stored (one file per SHA-256).
    pub resources_dir: PathBuf,
    /// The largest resource the back office accepts, in bytes.
    pub resources_max_bytes: u64,
    #[serde(default)]
    pub sendgrid_api_key: Secret,
    pub sendgrid_api_base: String,
    /// Base64 DER public key of SendGrid's signed Event Webhook; empty: the webhook is off.
    #[serde(default)]
    pub sendgrid_webhook_public_key: String,
    /// The sender of every mail, whatever the transport (the name predates SMTP; kept so existing
    /// deployments keep working).
    pub sendgrid_from_email: String,
    /// The SMTP relay of `EMAIL_TRANSPORT=smtp` (the organiser's provider, or a local relay).
    #[serde(default)]
    pub smtp_host: String,
    /// Unset: the usual port of `smtp_tls` (587 for `starttls`, 465 for `tls`, 25 for `none`).
    #[serde(default)]
    pub smtp_port: Option<u16>,
    /// Empty: no authentication (a relay that trusts this machine).
    #[serde(default)]
    pub smtp_username: String,
    #[serde(default)]
    pub smtp_password: Secret,
    pub smtp_tls: SmtpTls,
    pub email_from_name: String,
    /// Reminders leave at this hour, local to the venue.
    pub email_send_hour: u32,
    /// Cron expression (with seconds) of the pass that finds due mails.
    pub email_cron: String,
    pub email_max_attempts: i32,
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
    Smtp,
    Sendgrid,
}

/// How the SMTP connection is secured. `none` sends the password and the mails in clear: only for
/// a relay on this machine or a private network (and the tests' local server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection.
    None,
    /// Plain connection upgraded with `STARTTLS`, which the server must offer (submission, 587).
    Starttls,
    /// TLS from the first byte (implicit TLS, 465).
    Tls,
}

impl SmtpTls {
    /// The port used when `smtp_port` is unset.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }
    }
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
    "actor_batches_in_flight",
    "page_cache_ttl_ms",
    "hold_strategy",
    "rate_limit_bookings_per_minute",
    "http_keep_alive_secs",
    "http_client_request_timeout_ms",
    "http_client_disconnect_timeout_ms",
    "privacy_cron",
    "retention_days",
    "sentry_dsn",
    "metrics_token",
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
    "resources_dir",
    "resources_max_bytes",
    "sendgrid_api_key",
    "sendgrid_api_base",
    "sendgrid_webhook_public_key",
    "sendgrid_from_email",
    "smtp_host",
    "smtp_port",
    "smtp_username",
    "smtp_password",
    "smtp_tls",
    "email_from_name",
    "email_send_hour",
    "email_cron",
    "email_max_attempts",
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

    /// Every problem at once (see `check`): one clear refusal rather than one per restart.
    fn check(&self) -> Result<(), InvalidSettings> {
        let problems = check::problems(self);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InvalidSettings { app_env: self.app_env, problems })
        }
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

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// A production deployment with every setting it needs (Stripe test keys are allowed).
    const PRODUCTION: &[(&str, &str)] = &[
        ("APP_ENV", "production"),
        ("DATABASE_URL", "postgres://billetterie@db.internal/billetterie"),
        ("SECRET_KEY", "k3Jx9QpL2vR8sT4wY7zA1bC5dE6fG0hM"),
        ("FRONTEND_URL", "https://billets.actcanada.ca"),
        ("STRIPE_SECRET_KEY", "sk_test_51NqLmZ8vTbW3rY"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_51NqLmZ8vTbW3rY"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_9fK2mQ7xL4pR"),
        ("EMAIL_TRANSPORT", "smtp"),
        ("SMTP_HOST", "smtp.fournisseur.ca"),
        ("SMTP_USERNAME", "billets@actcanada.ca"),
        ("SMTP_PASSWORD", "mot-de-passe-smtp"),
        ("SENDGRID_FROM_EMAIL", "billets@actcanada.ca"),
        ("SUPPORT_EMAIL", "aide@actcanada.ca"),
        ("EMERGENCY_PHONE", "+1 514 872 1111"),
        ("WIFI_NETWORK", "Palais-Invites"),
        ("WIFI_PASSWORD", "soleil-d-avril"),
        ("METRICS_TOKEN", "prom-7Hq2LxV9sK4mN8pR3tW6yZ1b"),
    ];

    #[test]
    fn a_complete_production_configuration_loads() {
        let s = Settings::load_from(&dir(), &env(PRODUCTION)).unwrap();
        assert_eq!(s.app_env, AppEnv::Production);
        assert_eq!(s.email_transport, EmailTransportKind::Smtp);
        assert_eq!((s.smtp_host.as_str(), s.smtp_port, s.smtp_tls), ("smtp.fournisseur.ca", None, SmtpTls::Starttls));
        assert_eq!(s.smtp_tls.default_port(), 587);
        assert_eq!(s.smtp_password.expose(), "mot-de-passe-smtp");
        assert!(!format!("{s:?}").contains("mot-de-passe-smtp"), "the SMTP password never prints");

        // The first value of a name wins: overrides go before the complete list.
        let tls = env(&[&[("SMTP_TLS", "tls"), ("SMTP_PORT", "2465")], PRODUCTION].concat());
        let s = Settings::load_from(&dir(), &tls).unwrap();
        assert_eq!((s.smtp_tls, s.smtp_port), (SmtpTls::Tls, Some(2465)));
        let sendgrid = env(&[&[("EMAIL_TRANSPORT", "sendgrid"), ("SENDGRID_API_KEY", "SG.real-key")], PRODUCTION].concat());
        assert_eq!(Settings::load_from(&dir(), &sendgrid).unwrap().email_transport, EmailTransportKind::Sendgrid);
    }

    /// Nothing but `APP_ENV=production` and a few bad choices: every problem is named, each on a
    /// line of its own, in one error.
    #[test]
    fn production_lists_every_problem_at_once() {
        let bad = env(&[
            ("APP_ENV", "production"),
            ("HOLD_STRATEGY", "row_lock"),
            ("SEED_DEMO", "true"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_changeme"),
            ("STRIPE_WEBHOOK_SECRET", "sk_test_51NqLmZ8vTbW3rY"),
        ]);
        let err = Settings::load_from(&dir(), &bad).unwrap_err();
        let invalid = err.downcast_ref::<InvalidSettings>().unwrap_or_else(|| panic!("a typed error: {err:#}"));
        let expected = [
            "DATABASE_URL",
            "SECRET_KEY",
            "HOLD_STRATEGY",
            "SEED_DEMO",
            "FRONTEND_URL",
            "STRIPE_SECRET_KEY",
            "STRIPE_PUBLISHABLE_KEY",
            "STRIPE_WEBHOOK_SECRET",
            "EMAIL_TRANSPORT",
            "SENDGRID_FROM_EMAIL",
            "METRICS_TOKEN",
        ];
        let named: Vec<&str> = invalid.problems.iter().map(|p| p.setting).collect();
        assert_eq!(named, expected, "{invalid}");
        let text = err.to_string();
        assert!(text.starts_with("refusing to start (production): 11 problems in the configuration\n"), "{text}");
        for setting in expected {
            assert_eq!(text.lines().filter(|l| l.starts_with(&format!("  - {setting}: "))).count(), 1, "{setting} on one line: {text}");
        }
        assert!(text.contains("outbox writes mails to files and never sends them"), "{text}");
        assert!(text.contains("STRIPE_WEBHOOK_SECRET: is not this kind of Stripe key"), "{text}");

        // The SMTP transport's own needs; the rest of the deployment is fine.
        let smtp = env(&[&[("SMTP_HOST", " "), ("SMTP_PASSWORD", ""), ("SENDGRID_FROM_EMAIL", "billets")], PRODUCTION].concat());
        let err = Settings::load_from(&dir(), &smtp).unwrap_err();
        let invalid = err.downcast_ref::<InvalidSettings>().unwrap();
        let named: Vec<&str> = invalid.problems.iter().map(|p| p.setting).collect();
        assert_eq!(named, ["SMTP_HOST", "SMTP_PASSWORD", "SENDGRID_FROM_EMAIL"], "{invalid}");
    }

    #[test]
    fn every_environment_checks_the_transport_and_limits() {
        let err = Settings::load_from(&dir(), &env(&[("EMAIL_TRANSPORT", "smtp"), ("HOLD_TTL_SECONDS", "0")])).unwrap_err();
        let invalid = err.downcast_ref::<InvalidSettings>().unwrap();
        assert_eq!(invalid.app_env, AppEnv::Development);
        assert!(invalid.names("HOLD_TTL_SECONDS") && invalid.names("SMTP_HOST"), "{invalid}");
        assert!(!invalid.names("SUPPORT_EMAIL"), "the demo's contacts are fine outside production: {invalid}");
        assert!(Settings::load_from(&dir(), &env(&[("EMAIL_TRANSPORT", "smtp"), ("SMTP_HOST", "127.0.0.1"), ("SMTP_TLS", "none")])).is_ok());
    }

    #[test]
    fn secrets_do_not_print() {
        let env = vec![("SECRET_KEY".to_string(), "super-secret-value".to_string())];
        let s = Settings::load_from(&dir(), &env).unwrap();
        assert!(!format!("{s:?}").contains("super-secret-value"));
    }
}
