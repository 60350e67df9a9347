use anyhow::Context;
use billetterie::app::{self, Application};
use billetterie::cli::{AdminCommand, Cli, Command, EmailsCommand, PaymentsCommand, PrivacyCommand};
use billetterie::config::{AppEnv, Settings};
use billetterie::telemetry;
use clap::Parser;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings = Settings::load().context("loading configuration")?;
    // Before the logs: panics from here on are reported too. Flushes queued events when dropped.
    let sentry = telemetry::init_sentry(&settings)?;
    telemetry::init_with_sentry(settings.log_format, sentry.is_some());
    match cli.command.unwrap_or(Command::Serve { bind: None }) {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                settings.bind = bind;
            }
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "Billetterie is listening: http://127.0.0.1:{}/ (API under /api/v1)", app.port());
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let db = app::resolve_database(&settings).await?;
            let url = db.url().to_owned();
            tokio::task::spawn_blocking(move || app::prepare_database(&url, false)).await??;
            println!("Migrations are up to date.");
        }
        Command::Seed => {
            anyhow::ensure!(settings.app_env != AppEnv::Production, "the demo catalogue is never seeded in production");
            let db = app::resolve_database(&settings).await?;
            let url = db.url().to_owned();
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                use diesel::Connection;
                app::prepare_database(&url, false)?;
                let mut conn = diesel::pg::PgConnection::establish(&url)?;
                billetterie::db::seed::seed_demo(&mut conn)
            })
            .await??;
            println!("Demo catalogue seeded.");
        }
        Command::Emails { command: EmailsCommand::RunDue { now } } => {
            let db = app::resolve_database(&settings).await?;
            let pool = billetterie::db::async_pool(db.url(), 4)?;
            let service = billetterie::email::dispatch::EmailService::new(
                pool,
                billetterie::email::dispatch::transport_from_settings(&settings)?,
                billetterie::email::dispatch::EmailSettings::from(&settings),
            )?;
            let now = now.map(|t| t.with_timezone(&chrono::Utc)).unwrap_or_else(chrono::Utc::now);
            let r = service.run_due(now).await?;
            println!(
                "E-mails due at {}: {} claimed, {} sent, {} to retry, {} failed, {} skipped (transport: {}).",
                now.to_rfc3339(),
                r.claimed,
                r.sent,
                r.retried,
                r.failed,
                r.skipped,
                service.transport_name()
            );
        }
        Command::Emails { command: EmailsCommand::Preview { kind, lang, html } } => {
            let kind = billetterie::domain::EmailKind::parse(&kind).with_context(|| {
                let names: Vec<&str> = billetterie::domain::EmailKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown kind {kind:?}; one of: {}", names.join(", "))
            })?;
            let lang = match lang.as_str() {
                "fr" => billetterie::domain::Language::Fr,
                "en" => billetterie::domain::Language::En,
                other => anyhow::bail!("--lang is fr or en, not {other:?}"),
            };
            let mail = billetterie::email::dispatch::EmailService::preview(kind, lang)?;
            println!("Subject: {}\n", mail.subject);
            println!("{}", if html { mail.html } else { mail.text });
            for a in mail.attachments {
                println!("\n[attachment: {} ({}, {} bytes)]", a.filename, a.content_type, a.bytes.len());
            }
        }
        Command::Privacy { command: PrivacyCommand::Purge { now } } => {
            let db = app::resolve_database(&settings).await?;
            let pool = billetterie::db::async_pool(db.url(), 2)?;
            let now = now.map(|t| t.with_timezone(&chrono::Utc)).unwrap_or_else(chrono::Utc::now);
            let n = billetterie::privacy::purge(&pool, now, settings.retention_days).await?;
            println!(
                "Personal data anonymised in {n} bookings of city events that ended before {} ({} days of retention).",
                (now - chrono::Duration::days(settings.retention_days)).to_rfc3339(),
                settings.retention_days
            );
        }
        Command::Payments { command: PaymentsCommand::Reconcile { older_than } } => {
            let older_than = match older_than {
                Some(raw) => age(&raw)?,
                None => chrono::Duration::minutes(settings.reconcile_after_minutes),
            };
            let (payments, _pool, _db) = offline_payments(&settings).await?;
            let report = payments.reconcile(older_than).await?;
            println!(
                "Reconciliation: {} intents checked (open for more than {}), {} could not be settled, {} recorded events applied.",
                report.intents_checked,
                human(older_than),
                report.intents_failed,
                report.events_applied
            );
            if report.intents_skipped > 0 {
                println!(
                    "Skipped {} younger intents (their webhook may still be on its way); `--older-than 0` checks them too.",
                    report.intents_skipped
                );
            }
        }
        Command::Refund { reference, amount_cents } => {
            let (payments, pool, _db) = offline_payments(&settings).await?;
            let reference = billetterie::domain::BookingReference::parse(&reference)?;
            let mut conn = billetterie::db::connection(&pool).await?;
            let (booking, _) = billetterie::db::bookings::by_reference(&mut conn, reference.as_str())
                .await?
                .with_context(|| format!("no booking {reference}"))?;
            drop(conn);
            let outcome = payments.refund(&booking, amount_cents).await?;
            println!(
                "Refunded {} cents (refund {}); {} cents refunded in all; booking {} is {}.",
                outcome.amount_cents,
                outcome.refund_id,
                outcome.total_refunded_cents,
                reference,
                outcome.booking_status.as_str()
            );
        }
        Command::Admin { command: AdminCommand::CreateUser { email, role } } => {
            let role = billetterie::domain::AdminRole::parse(&role).ok_or_else(|| anyhow::anyhow!("--role is owner or staff"))?;
            let password = read_password()?;
            let db = app::resolve_database(&settings).await?;
            let url = db.url().to_owned();
            tokio::task::spawn_blocking(move || app::prepare_database(&url, false)).await??;
            let pool = billetterie::db::async_pool(db.url(), 2)?;
            let created = billetterie::admin::auth::create_user(&pool, &email, &password, role).await?;
            println!(
                "{} {} ({}): log in at {}/admin",
                if created { "Created" } else { "New password for" },
                email.trim().to_lowercase(),
                role.as_str(),
                settings.frontend_url
            );
        }
    }
    Ok(())
}

/// From the terminal without echo (twice, to catch typos), or the first line of standard input
/// (scripts, `echo … | billetterie admin create-user`).
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (12 characters or more): ")?;
        let again = rpassword::prompt_password("Same password again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// The payments service for a command-line process: no actors here, so seat changes go through
/// the database (the server's actor picks them up at its next drift check).
async fn offline_payments(
    settings: &Settings,
) -> anyhow::Result<(billetterie::actors::payment::Payments, billetterie::db::AsyncPool, billetterie::embedded_postgres::ResolvedDatabase)>
{
    anyhow::ensure!(
        !settings.stripe_secret_key.is_empty(),
        "set STRIPE_SECRET_KEY (and STRIPE_API_BASE for a stand-in): the demo's Stripe stand-in lives inside the server process"
    );
    let db = app::resolve_database(settings).await?;
    let pool = billetterie::db::async_pool(db.url(), 4)?;
    let payments = billetterie::actors::payment::Payments::new(
        pool.clone(),
        app::stripe_client(settings),
        settings.stripe_publishable_key.clone(),
        billetterie::actors::payment::SeatKeeper::Database,
    );
    Ok((payments, pool, db))
}

/// `15m`, `2h`, `30s`, or a bare number of minutes.
fn age(raw: &str) -> anyhow::Result<chrono::Duration> {
    let raw = raw.trim();
    let (digits, unit) = raw.find(|c: char| !c.is_ascii_digit()).map_or((raw, "m"), |i| raw.split_at(i));
    let n: i64 = digits.parse().map_err(|_| anyhow::anyhow!("--older-than {raw:?}: a number with s, m or h (e.g. 15m)"))?;
    match unit {
        "s" => Ok(chrono::Duration::seconds(n)),
        "m" | "min" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        _ => anyhow::bail!("--older-than {raw:?}: the unit is s, m or h (e.g. 15m)"),
    }
}

fn human(d: chrono::Duration) -> String {
    match d.num_seconds() {
        s if s % 3600 == 0 && s > 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}
