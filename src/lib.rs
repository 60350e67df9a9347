//! Billetterie: seats for a one-day masterclass touring Canadian cities.

pub mod actors; // one actor per city event: holds, confirmations, releases, expiry
pub mod admin; // the organiser's back office and the public waiting list
pub mod api; // JSON API under /api/v1
pub mod app; // start-up wiring, the route table, periodic jobs
pub mod baseline; // the row-lock hold, for benchmarks only
pub mod calendar; // the .ics file of a booking's day (mail attachment, confirmation page)
pub mod cli; // command line
pub mod config; // layered settings
pub mod db; // schema, rows, queries, pools, migrations, seed
pub mod documents; // the PDFs of the day: tickets, invoices and credit notes, certificates
pub mod domain; // pure types and rules
pub mod email; // the mail sequence: rules, templates, transports, tracking
pub mod embedded_postgres; // the database when none is configured
pub mod funnel; // availability views, counted in memory, written in batches
pub mod http; // what every handler shares: errors → HTTP, extractors, CSRF, headers, limits
pub mod i18n; // the one locale store: strings and formats for pages, mails and the back office
pub mod metrics; // Prometheus metrics at /metrics
pub mod page_store; // the catalogue and the busiest pages between changes
pub mod payments; // Stripe: intents, webhooks, reconciliation, refunds
pub mod privacy; // personal data: export, erasure, retention
pub mod rate_limit; // per-client token buckets
pub mod services; // taking a booking, paying with a test card: shared by the API and the site
pub mod stand_ins; // local Stripe and SendGrid for the offline demo and tests; never imported by production paths
pub mod state; // what every handler can reach
pub mod telemetry; // tracing
#[cfg(any(test, feature = "test-support"))]
pub mod test_support; // throwaway databases for tests and benchmarks
pub mod web; // server-rendered pages
