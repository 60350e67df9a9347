//! `billetterie [serve|migrate|seed]`. `serve` is the default.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "billetterie", version, about = "Seats for the ACT masterclass tour: website, booking API, city-event actors.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site and the API (default). Migrates first; seeds the demo in development.
    Serve {
        /// Address to listen on (overrides BIND).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Insert the demo catalogue (idempotent) and exit.
    Seed,
    /// E-mail operations.
    Emails {
        #[command(subcommand)]
        command: EmailsCommand,
    },
    /// Payment operations.
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
    /// Personal data (Law 25 / PIPEDA).
    Privacy {
        #[command(subcommand)]
        command: PrivacyCommand,
    },
    /// Refund a paid booking through Stripe (full by default); a full refund releases its seats.
    Refund {
        /// The booking reference, e.g. TOR-7KQ2-M9XD.
        reference: String,
        /// Refund only this many cents (a partial refund keeps the seats).
        #[arg(long)]
        amount_cents: Option<i64>,
    },
    /// Back-office operations.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an organiser account for /admin (or set a new password for an existing one). The
    /// password is asked for on the terminal, or read from standard input when it is not one.
    CreateUser {
        /// The account's e-mail address (their login).
        email: String,
        /// `owner` (everything) or `staff` (the check-in at the door, nothing else).
        #[arg(long, default_value = "owner", value_parser = ["owner", "staff"])]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// One reconciliation pass now: ask Stripe about intents left open and apply its answers.
    Reconcile {
        /// Only intents open for longer than this: `15m`, `2h`, `30s`, `0` for every open one
        /// (default: RECONCILE_AFTER_MINUTES).
        #[arg(long)]
        older_than: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum EmailsCommand {
    /// Claim and send every mail due at an instant (default: now): catch up after an outage, or
    /// travel in time in tests.
    RunDue {
        /// RFC 3339 instant, e.g. 2027-03-17T13:00:00Z.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
    /// Print a mail rendered from sample data.
    Preview {
        /// confirmation, j_minus_30, j_minus_14, j_minus_7, j_minus_1, j_plus_1 or refund_notice
        kind: String,
        #[arg(long, default_value = "fr")]
        lang: String,
        /// Print the HTML part instead of the text part.
        #[arg(long)]
        html: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Anonymise the bookings of city events that ended more than RETENTION_DAYS ago (the nightly
    /// pass, run now or as of another instant).
    Purge {
        /// RFC 3339 instant, e.g. 2028-01-01T00:00:00Z (default: now).
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
}
