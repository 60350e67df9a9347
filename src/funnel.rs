//! Availability views, counted cheaply: each request adds one to an in-memory counter per city
//! event and hour; a task adds the counters to `availability_views` every few seconds in one
//! statement. A page view therefore costs a mutex increment, never a database write, and the
//! on-sale burst (tens of thousands of availability reads a second) does not queue on one hot
//! row. What a crash loses is the last few seconds of counts: acceptable for a funnel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::db::{self, AsyncPool, DbError};

#[derive(Debug, Default)]
pub struct ViewCounter {
    pending: Mutex<HashMap<(i64, DateTime<Utc>), i64>>,
}

impl ViewCounter {
    pub fn record(&self, city_event_id: i64) {
        let hour = db::admin::hour_of(Utc::now());
        *self.pending.lock().unwrap_or_else(|p| p.into_inner()).entry((city_event_id, hour)).or_insert(0) += 1;
    }

    fn take(&self) -> Vec<(i64, DateTime<Utc>, i64)> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.drain().map(|((id, hour), n)| (id, hour, n)).collect()
    }

    /// Writes what was counted; on failure the counts go back for the next flush.
    pub async fn flush(&self, pool: &AsyncPool) -> Result<(), DbError> {
        let rows = self.take();
        if rows.is_empty() {
            return Ok(());
        }
        let result = async {
            let mut conn = db::connection(pool).await?;
            db::admin::add_views(&mut conn, &rows).await.map_err(DbError::from)
        }
        .await;
        if result.is_err() {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (id, hour, n) in rows {
                *pending.entry((id, hour)).or_insert(0) += n;
            }
        }
        result
    }

    /// Flushes every `every` while the counter is alive (the application holds it).
    pub fn spawn_flusher(counter: &Arc<Self>, pool: AsyncPool, every: Duration) {
        let weak: Weak<Self> = Arc::downgrade(counter);
        actix_rt::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(counter) = weak.upgrade() else { return };
                if let Err(e) = counter.flush(&pool).await {
                    tracing::warn!(error = %e, "availability views not written yet; kept for the next flush");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_add_up_per_city_event_and_hour() {
        let c = ViewCounter::default();
        for _ in 0..3 {
            c.record(7);
        }
        c.record(8);
        let mut rows = c.take();
        rows.sort();
        assert_eq!(rows.iter().map(|r| (r.0, r.2)).collect::<Vec<_>>(), vec![(7, 3), (8, 1)]);
        assert!(c.take().is_empty());
    }
}
