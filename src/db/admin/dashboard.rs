//! The dashboard's figures: per city event, sales by day, and e-mail delivery.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Int4, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// One city event's figures for the dashboard. Revenue counts paid bookings (confirmed, later
/// refunded, or moved on with their payment); refunds are what Stripe gave back.
#[derive(Debug, Clone, QueryableByName)]
pub struct EventFigures {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub city_en: String,
    #[diesel(sql_type = Text)]
    pub city_fr: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub time_zone: String,
    #[diesel(sql_type = Int4)]
    pub capacity: i32,
    #[diesel(sql_type = Int4)]
    pub held: i32,
    #[diesel(sql_type = Int4)]
    pub sold: i32,
    #[diesel(sql_type = BigInt)]
    pub views: i64,
    #[diesel(sql_type = BigInt)]
    pub bookings_held: i64,
    #[diesel(sql_type = BigInt)]
    pub bookings_paid: i64,
    #[diesel(sql_type = BigInt)]
    pub waiting: i64,
}

pub async fn event_figures(conn: &mut AsyncPgConnection) -> QueryResult<Vec<EventFigures>> {
    // Revenue is not here: it is summed from the accounting export's own rows (admin::dashboard).
    diesel::sql_query(
        "SELECT ce.id, c.name_en AS city_en, c.name_fr AS city_fr, ce.status, ce.starts_at, ce.time_zone, ce.capacity,
                ce.seats_held AS held, ce.seats_sold AS sold,
                COALESCE(v.views, 0)::int8 AS views,
                COALESCE(f.held, 0)::int8 AS bookings_held, COALESCE(f.paid, 0)::int8 AS bookings_paid,
                COALESCE(w.n, 0)::int8 AS waiting
         FROM city_events ce
         JOIN cities c ON c.id = ce.city_id
         LEFT JOIN (SELECT city_event_id, sum(views) AS views FROM availability_views GROUP BY city_event_id) v ON v.city_event_id = ce.id
         LEFT JOIN (SELECT city_event_id, count(*) AS held, count(*) FILTER (WHERE confirmed_at IS NOT NULL) AS paid FROM bookings
                    WHERE moved_from IS NULL GROUP BY city_event_id) f ON f.city_event_id = ce.id
         LEFT JOIN (SELECT city_event_id, count(*) AS n FROM waitlist_entries WHERE status = 'waiting' GROUP BY city_event_id) w
                   ON w.city_event_id = ce.id
         ORDER BY ce.starts_at, ce.id",
    )
    .load(conn)
    .await
}

/// Seats sold per day (the day a booking was paid, in Eastern time, where the organiser works).
pub async fn sales_by_day(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(chrono::NaiveDate, i64, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Date)]
        day: chrono::NaiveDate,
        #[diesel(sql_type = BigInt)]
        seats: i64,
        #[diesel(sql_type = BigInt)]
        cents: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT (confirmed_at AT TIME ZONE 'America/Toronto')::date AS day, sum(quantity)::int8 AS seats, sum(total_cents)::int8 AS cents
         FROM bookings WHERE confirmed_at IS NOT NULL AND moved_from IS NULL GROUP BY 1 ORDER BY 1",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.day, r.seats, r.cents)).collect())
}

#[derive(Debug, Clone, QueryableByName, serde::Serialize, utoipa::ToSchema)]
pub struct EmailFigures {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = BigInt)]
    pub sent: i64,
    #[diesel(sql_type = BigInt)]
    pub opened: i64,
    #[diesel(sql_type = BigInt)]
    pub clicked: i64,
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
}

pub async fn email_figures(conn: &mut AsyncPgConnection) -> QueryResult<Vec<EmailFigures>> {
    diesel::sql_query(
        "SELECT kind, count(*)::int8 AS total,
                count(*) FILTER (WHERE status = 'sent')::int8 AS sent,
                count(*) FILTER (WHERE opened_at IS NOT NULL)::int8 AS opened,
                count(*) FILTER (WHERE clicked_at IS NOT NULL)::int8 AS clicked,
                count(*) FILTER (WHERE status = 'failed')::int8 AS failed,
                count(*) FILTER (WHERE status IN ('pending', 'sending'))::int8 AS pending
         FROM email_campaigns GROUP BY kind ORDER BY kind",
    )
    .load(conn)
    .await
}
