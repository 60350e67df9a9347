//! Personal data (Québec Law 25, PIPEDA): a buyer can read everything held about their booking and
//! have it erased; and nothing personal is kept longer than `RETENTION_DAYS` after the city event
//! ended. Erasing replaces names, e-mail addresses and phone numbers with placeholders and keeps
//! amounts, taxes and payments, which the accounts must keep.

use chrono::{DateTime, Duration, Utc};

use crate::db::{self, AsyncPool, DbError};

/// At most this many bookings per transaction, so a first pass over years of data does not hold
/// locks for long.
const BATCH: i64 = 500;

/// Anonymises every booking whose city event ended more than `retention_days` before `now`.
/// Returns how many bookings were anonymised. Safe to run again: done bookings are skipped.
pub async fn purge(pool: &AsyncPool, now: DateTime<Utc>, retention_days: i64) -> Result<usize, DbError> {
    let ended_before = now - Duration::days(retention_days);
    let mut total = 0;
    loop {
        let mut conn = db::connection(pool).await?;
        let due = db::privacy::due_for_retention(&mut conn, ended_before, BATCH).await?;
        if due.is_empty() {
            break;
        }
        let done = db::privacy::anonymise(&mut conn, &due).await?;
        total += done.len();
        if done.len() < due.len() {
            // Rows changed under us (another pass): stop rather than loop on them.
            break;
        }
    }
    if total > 0 {
        tracing::info!(bookings = total, retention_days, "personal data of past events anonymised");
    }
    Ok(total)
}
