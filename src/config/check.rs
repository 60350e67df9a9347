//! What the settings must hold before the server starts. Every problem is collected, not only the
//! first: an operator fixing a production deployment sees the whole list in one attempt instead of
//! restarting once per missing variable.
//!
//! Production refuses what would make it *silently* not work: mails written to files and never
//! sent, the demo's contact details printed in every mail, Stripe left unconfigured, links to this
//! machine. Stripe test keys are allowed (a rehearsal of the real tour is a production deployment).

use super::{AppEnv, EmailTransportKind, HoldStrategy, Settings};
use crate::domain::{Email, Phone};

/// One thing wrong with the settings: the environment variable that sets it, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The setting's environment variable (`SUPPORT_EMAIL`), or a short phrase for a combination.
    pub setting: &'static str,
    pub message: String,
}

/// The settings cannot be used: every problem found, in the order of the settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidSettings {
    pub app_env: AppEnv,
    pub problems: Vec<Problem>,
}

impl InvalidSettings {
    /// Whether `setting` (an environment variable's name) is among the problems.
    pub fn names(&self, setting: &str) -> bool {
        self.problems.iter().any(|p| p.setting == setting)
    }
}

impl std::fmt::Display for InvalidSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let env = match self.app_env {
            AppEnv::Development => "development",
            AppEnv::Test => "test",
            AppEnv::Production => "production",
        };
        let n = self.problems.len();
        write!(f, "refusing to start ({env}): {n} problem{} in the configuration", if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            write!(f, "\n  - {}: {}", p.setting, p.message)?;
        }
        Ok(())
    }
}

/// The development key shipped in `config/default.toml`: long enough, and public.
const DEVELOPMENT_SECRET_KEY: &str = "development-secret-key-not-for-production-use-000";

/// The demo's venue facts shipped in `config/default.toml` (a unit test keeps this list in step
/// with the file): in production they would be printed in every J-7 and J-1 mail.
const DEMO_VALUES: &[&str] =
    &["ACT-Masterclass", "flexibilite2027", "hexaflex-mtl", "hexaflex-qc", "hexaflex-to", "hexaflex-van", "hexaflex-yyc", "hexaflex-hfx"];

/// Words that mark a value nobody filled in (compared without case). None can occur by chance in
/// a random key: Stripe's are base62, without `_` or `-` after their prefix.
const PLACEHOLDER_WORDS: &[&str] = &["changeme", "change-me", "change_me", "placeholder", "your_", "your-"];

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn ensure(&mut self, ok: bool, setting: &'static str, message: impl Into<String>) {
        if !ok {
            self.0.push(Problem { setting, message: message.into() });
        }
    }

    fn push(&mut self, setting: &'static str, message: impl Into<String>) {
        self.ensure(false, setting, message);
    }
}

/// Every problem with `s`; empty when it can be used.
pub(super) fn problems(s: &Settings) -> Vec<Problem> {
    let mut p = Problems::default();
    p.ensure(s.hold_ttl_seconds >= 1, "HOLD_TTL_SECONDS", "must be at least 1");
    p.ensure(s.actor_max_batch >= 1, "ACTOR_MAX_BATCH", "must be at least 1");
    p.ensure(s.actor_max_inflight >= 1, "ACTOR_MAX_INFLIGHT", "must be at least 1");
    p.ensure(s.database_pool_size >= 2, "DATABASE_POOL_SIZE", "must be at least 2");
    p.ensure(s.retention_days >= 1, "RETENTION_DAYS", "must be at least 1");
    p.ensure(s.email_send_hour < 24, "EMAIL_SEND_HOUR", "is an hour of the day (0–23)");
    transport(s, &mut p);
    if s.app_env == AppEnv::Production {
        production(s, &mut p);
    }
    p.0
}

/// What the chosen transport needs, in every environment (it would fail on the first mail).
fn transport(s: &Settings, p: &mut Problems) {
    match s.email_transport {
        EmailTransportKind::Outbox => {}
        EmailTransportKind::Sendgrid => {
            p.ensure(!s.sendgrid_api_key.expose().trim().is_empty(), "SENDGRID_API_KEY", "must be set with EMAIL_TRANSPORT=sendgrid");
        }
        EmailTransportKind::Smtp => {
            p.ensure(!s.smtp_host.trim().is_empty(), "SMTP_HOST", "must be set with EMAIL_TRANSPORT=smtp (the relay's host name)");
            p.ensure(s.smtp_port != Some(0), "SMTP_PORT", "must be a port (1–65535), or unset for the usual port of SMTP_TLS");
            p.ensure(
                s.smtp_username.trim().is_empty() || !s.smtp_password.is_empty(),
                "SMTP_PASSWORD",
                "must be set when SMTP_USERNAME is",
            );
        }
    }
    // Production checks the sender more closely (placeholders too), naming it once.
    if s.email_transport != EmailTransportKind::Outbox && s.app_env != AppEnv::Production {
        if let Err(e) = Email::parse(&s.sendgrid_from_email) {
            p.push("SENDGRID_FROM_EMAIL", format!("the sender of every mail is not an address ({})", e.message));
        }
    }
}

fn production(s: &Settings, p: &mut Problems) {
    match s.database_url.as_ref().map(|u| u.expose().trim()) {
        None | Some("") => p.push("DATABASE_URL", "must be set (production never uses the embedded database)"),
        Some(_) => {}
    }
    let key = s.secret_key.expose();
    if key == DEVELOPMENT_SECRET_KEY {
        p.push("SECRET_KEY", "is the public development key from config/default.toml: set a random one of 32+ characters");
    } else if key.chars().count() < 32 {
        p.push("SECRET_KEY", format!("must be 32 characters or more (it has {})", key.chars().count()));
    } else if is_placeholder(key) {
        p.push("SECRET_KEY", "is a placeholder: set a random one of 32+ characters");
    }
    p.ensure(s.hold_strategy == HoldStrategy::Actor, "HOLD_STRATEGY", "row_lock is a benchmark baseline, not for production");
    p.ensure(!s.seed_demo, "SEED_DEMO", "the demo catalogue is never seeded in production");
    p.ensure(
        !is_local_url(&s.frontend_url),
        "FRONTEND_URL",
        format!("{:?} points to this machine: every link in the mails would be dead", s.frontend_url),
    );

    stripe_key(p, "STRIPE_SECRET_KEY", s.stripe_secret_key.expose(), &["sk_", "rk_"], "sk_live_…, sk_test_… or a restricted rk_…");
    stripe_key(p, "STRIPE_PUBLISHABLE_KEY", &s.stripe_publishable_key, &["pk_"], "pk_live_… or pk_test_…");
    stripe_key(p, "STRIPE_WEBHOOK_SECRET", s.stripe_webhook_secret.expose(), &["whsec_"], "whsec_…, from the webhook's page in Stripe");

    if s.email_transport == EmailTransportKind::Outbox {
        p.push("EMAIL_TRANSPORT", "outbox writes mails to files and never sends them: use smtp or sendgrid");
    }
    address(p, "SENDGRID_FROM_EMAIL", &s.sendgrid_from_email, "the sender of every mail");
    let token = s.metrics_token.expose();
    if token.chars().count() < 24 || is_placeholder(token) {
        p.push("METRICS_TOKEN", "must be a random token of 24+ characters: /metrics shows sales; Prometheus sends it as its bearer token");
    }
}

/// The Stripe settings that would be silently replaced by the stand-in's: with no
/// `STRIPE_SECRET_KEY` the local stand-in plays Stripe with keys of its own, so a webhook secret or
/// publishable key the operator did set would be ignored. In any environment, refused.
pub fn stripe_without_secret_key(s: &Settings) -> Option<String> {
    if !s.stripe_secret_key.is_empty() {
        return None;
    }
    let set: Vec<&str> =
        [("STRIPE_WEBHOOK_SECRET", !s.stripe_webhook_secret.is_empty()), ("STRIPE_PUBLISHABLE_KEY", !s.stripe_publishable_key.is_empty())]
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect();
    (!set.is_empty()).then(|| {
        format!(
            "{} set without STRIPE_SECRET_KEY: the local Stripe stand-in would replace {}; set STRIPE_SECRET_KEY too, or unset {} to use the stand-in",
            set.join(" and "),
            if set.len() == 1 { "it" } else { "them" },
            if set.len() == 1 { "it" } else { "them" },
        )
    })
}

/// What a stored fact must be in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactKind {
    Address,
    Phone,
    Text,
}

/// Why a fact the organiser stored (in the back office) would print wrong in production: empty,
/// a placeholder, a fictional 555 number, a reserved example address; `None` when it is fine.
pub fn fact_problem(kind: FactKind, value: &str, what: &str) -> Option<String> {
    let mut p = Problems::default();
    match kind {
        FactKind::Address => address(&mut p, "fact", value, what),
        FactKind::Phone => phone_fact(&mut p, "fact", value, what),
        FactKind::Text => venue_fact(&mut p, "fact", value, what),
    }
    p.0.into_iter().next().map(|p| p.message)
}

fn stripe_key(p: &mut Problems, setting: &'static str, value: &str, prefixes: &[&str], expected: &str) {
    let value = value.trim();
    if value.is_empty() {
        p.push(setting, "must be set (the local Stripe stand-in is for the demo only)");
    } else if is_placeholder(value) {
        p.push(setting, format!("is a placeholder: expected {expected}"));
    } else if !prefixes.iter().any(|prefix| value.starts_with(prefix)) {
        p.push(setting, format!("is not this kind of Stripe key: expected {expected}"));
    }
}

fn address(p: &mut Problems, setting: &'static str, value: &str, what: &str) {
    match Email::parse(value) {
        Err(e) if value.trim().is_empty() => p.push(setting, format!("must be set: {what} ({})", e.message)),
        Err(e) => p.push(setting, format!("{what} is not an address: {}", e.message)),
        Ok(email) if is_placeholder_address(email.as_str()) => {
            p.push(setting, format!("{:?} is a placeholder (a reserved example domain): {what}", value.trim()))
        }
        Ok(_) => {}
    }
}

fn phone_fact(p: &mut Problems, setting: &'static str, value: &str, what: &str) {
    if value.trim().is_empty() {
        p.push(setting, format!("must be set: {what}"));
    } else if let Err(e) = Phone::parse(value) {
        p.push(setting, format!("{what} is not a phone number: {}", e.message));
    } else if is_fictional_phone(value) || is_placeholder(value) {
        p.push(setting, format!("{:?} is a placeholder (555 numbers are fictional): {what}", value.trim()));
    }
}

fn venue_fact(p: &mut Problems, setting: &'static str, value: &str, what: &str) {
    let value = value.trim();
    if value.is_empty() {
        p.push(setting, format!("must be set: {what}"));
    } else if DEMO_VALUES.iter().any(|demo| demo.eq_ignore_ascii_case(value)) {
        p.push(setting, format!("{value:?} is the demo's value from config/default.toml: {what}"));
    } else if is_placeholder(value) {
        p.push(setting, format!("{value:?} is a placeholder: {what}"));
    }
}

/// A value nobody filled in: a placeholder word, or a demo value.
fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    let lower = value.to_lowercase();
    // `sk_test_XXXXXXXX`, `<secret>`: by chance, six x's in a row are less than one in 10¹⁰ per position in base62.
    let filler = value.contains("XXXXXX") || value.contains("xxxxxx") || (value.starts_with('<') && value.ends_with('>'));
    filler || PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) || DEMO_VALUES.iter().any(|d| d.eq_ignore_ascii_case(value))
}

/// An address at a domain reserved for examples (RFC 2606, RFC 6761: `example`, `example.com`,
/// `*.example`, `*.test`, `*.invalid`, `*.localhost`), or at any `example.*` domain.
fn is_placeholder_address(address: &str) -> bool {
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or(address).to_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last().copied().unwrap_or_default();
    labels.contains(&"example") || matches!(tld, "test" | "invalid" | "localhost" | "local") || is_placeholder(address)
}

/// A North American number in the 555 exchange (`+1 514 555 0100`): reserved for fiction.
fn is_fictional_phone(value: &str) -> bool {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let national = match digits.len() {
        11 if digits.starts_with('1') => &digits[1..],
        10 => &digits[..],
        _ => return false,
    };
    &national[3..6] == "555"
}

/// A URL whose host is this machine (`localhost`, `127.x`, `[::1]`, `0.0.0.0`).
fn is_local_url(url: &str) -> bool {
    let rest = url.trim().split_once("://").map(|(_, r)| r).unwrap_or(url.trim());
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let host = host.to_lowercase();
    let local_ip = host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    host.is_empty() || host == "localhost" || host.ends_with(".localhost") || local_ip
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_contacts_are_recognised() {
        for a in ["aide@billetterie.example", "bonjour@example.com", "x@mail.example.org", "a@b.test", "support@changeme.ca"] {
            assert!(is_placeholder_address(a), "{a}");
        }
        for a in ["aide@actcanada.ca", "billets@examples.ca", "support@mail.organisateur.com"] {
            assert!(!is_placeholder_address(a), "{a}");
        }
        for n in ["+1 514 555 0100", "(514) 555-0199", "15145550123", "514.555.1234"] {
            assert!(is_fictional_phone(n), "{n}");
        }
        for n in ["+1 514 872 1111", "+33 1 55 55 01 00", "911"] {
            assert!(!is_fictional_phone(n), "{n}");
        }
        assert!(is_placeholder("sk_test_XXXXXXXXXXXX") && is_placeholder("CHANGEME") && is_placeholder("<your key>"));
        assert!(!is_placeholder("sk_test_51Nq2kLmZ8vTbW3rY") && !is_placeholder("Mastodonte<2027>xX"));
    }

    #[test]
    fn local_urls_are_recognised() {
        for u in ["http://127.0.0.1:8080", "http://localhost:8080/", "https://[::1]/", "http://0.0.0.0", "http://app.localhost", ""] {
            assert!(is_local_url(u), "{u:?}");
        }
        for u in ["https://billetterie.actcanada.ca", "https://user@tickets.example.org:8443/x", "https://127.example.ca"] {
            assert!(!is_local_url(u), "{u:?}");
        }
    }

    /// Whatever `config/default.toml` ships as the sender is refused in production: if someone
    /// changes the demo value there, this fails until the checks follow.
    #[test]
    fn every_demo_value_of_the_default_file_is_refused() {
        let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml")).unwrap();
        let value_of = |key: &str| {
            let line =
                text.lines().find(|l| l.trim_start().starts_with(&format!("{key} ="))).unwrap_or_else(|| panic!("{key} in default.toml"));
            line.split_once('=').unwrap().1.trim().trim_matches('"').to_owned()
        };
        let mut p = Problems::default();
        address(&mut p, "SENDGRID_FROM_EMAIL", &value_of("sendgrid_from_email"), "sender");
        let named: Vec<&str> = p.0.iter().map(|p| p.setting).collect();
        assert_eq!(named, ["SENDGRID_FROM_EMAIL"], "{:?}", p.0);
        assert_eq!(value_of("secret_key"), DEVELOPMENT_SECRET_KEY);
    }

    /// The demo's facts (`db/seed.sql`) are refused as production facts.
    #[test]
    fn the_demo_facts_are_refused() {
        assert!(fact_problem(FactKind::Address, "aide@billetterie.example", "support").is_some());
        assert!(fact_problem(FactKind::Phone, "514 555-0199", "emergency").is_some());
        assert!(fact_problem(FactKind::Text, "hexaflex-mtl", "Wi-Fi").is_some());
        assert!(fact_problem(FactKind::Text, "  ", "Wi-Fi").is_some());
        assert_eq!(fact_problem(FactKind::Address, "aide@actcanada.ca", "support"), None);
        assert_eq!(fact_problem(FactKind::Phone, "514 861-2211", "emergency"), None);
    }
}
