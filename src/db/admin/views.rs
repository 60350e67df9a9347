//! The availability-view counter: views counted in memory, added here by the hour.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Adds counted views: one statement for a whole batch of (city event, hour, views).
pub async fn add_views(conn: &mut AsyncPgConnection, rows: &[(i64, DateTime<Utc>, i64)]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO availability_views (city_event_id, hour, views)
         SELECT v.id, v.hour, v.n FROM UNNEST($1::int8[], $2::timestamptz[], $3::int8[]) AS v(id, hour, n)
         WHERE EXISTS (SELECT 1 FROM city_events ce WHERE ce.id = v.id)
         ON CONFLICT (city_event_id, hour) DO UPDATE SET views = availability_views.views + EXCLUDED.views",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind::<diesel::sql_types::Array<Timestamptz>, _>(rows.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind::<diesel::sql_types::Array<BigInt>, _>(rows.iter().map(|r| r.2).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// The start of the hour of an instant: the key views are counted under.
pub fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    let naive: NaiveDateTime = at.naive_utc();
    let truncated = naive.date().and_hms_opt(chrono::Timelike::hour(&naive.time()), 0, 0).expect("a valid hour");
    DateTime::from_naive_utc_and_offset(truncated, Utc)
}
