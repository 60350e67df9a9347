//! A whole date at once: the organiser's broadcasts to everyone booked on it and its
//! cancellation job. Recipients and claims are chosen in SQL, in one statement each, so a
//! message reaches each address once and a rerun claims nothing twice.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::models::BookingRow;
use crate::db::schema::*;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = broadcasts)]
pub struct NewBroadcast {
    pub city_event_id: i64,
    pub subject_fr: String,
    pub subject_en: String,
    pub body_fr: String,
    pub body_en: String,
    pub sent_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = broadcasts, check_for_backend(diesel::pg::Pg))]
pub struct BroadcastRow {
    pub id: i64,
    pub city_event_id: i64,
    pub subject_fr: String,
    pub subject_en: String,
    pub body_fr: String,
    pub body_en: String,
    pub sent_by: String,
    pub recipients: i32,
    pub created_at: DateTime<Utc>,
}

/// Everyone booked on a date (paid bookings): each buyer and each attendee with an address, an
/// address once, in the language of a booking it made itself if any (the language it chose),
/// else of the earliest booking it is an attendee of.
const PEOPLE: &str = "
    WITH people AS (
        SELECT b.id AS booking_id, NULL::BIGINT AS attendee_id, lower(b.buyer_email) AS email, b.language, b.created_at, 0 AS pos
          FROM bookings b WHERE b.city_event_id = $1 AND b.status = 'confirmed'
        UNION ALL
        SELECT b.id, a.id, lower(a.email), b.language, b.created_at, a.position + 1
          FROM attendees a JOIN bookings b ON b.id = a.booking_id
         WHERE b.city_event_id = $1 AND b.status = 'confirmed' AND coalesce(a.email, '') <> ''
    ), once AS (
        SELECT DISTINCT ON (email) * FROM people ORDER BY email, pos > 0, created_at, pos
    )";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many addresses a broadcast to the date would reach now.
pub async fn broadcast_audience(conn: &mut AsyncPgConnection, city_event_id: i64) -> QueryResult<i64> {
    let row: Count =
        diesel::sql_query(format!("{PEOPLE} SELECT count(*) AS n FROM once")).bind::<BigInt, _>(city_event_id).get_result(conn).await?;
    Ok(row.n)
}

/// Records the message and claims one mail per address, in one transaction; its id and count.
pub async fn send_broadcast(conn: &mut AsyncPgConnection, b: &NewBroadcast) -> QueryResult<(i64, i64)> {
    let b = b.clone();
    conn.transaction(async |conn| {
        let id: i64 = diesel::insert_into(broadcasts::table).values(&b).returning(broadcasts::id).get_result(conn).await?;
        let claimed = diesel::sql_query(format!(
            "{PEOPLE}
             INSERT INTO email_campaigns (booking_id, attendee_id, kind, recipient_email, language, scheduled_for, next_attempt_at, occurrence)
             SELECT booking_id, attendee_id, 'broadcast', email, language, now(), now(), $2 FROM once
             ON CONFLICT DO NOTHING"
        ))
        .bind::<BigInt, _>(b.city_event_id)
        .bind::<Text, _>(format!("broadcast:{id}"))
        .execute(conn)
        .await?;
        diesel::update(broadcasts::table.find(id)).set(broadcasts::recipients.eq(claimed as i32)).execute(conn).await?;
        Ok((id, claimed as i64))
    })
    .await
}

/// A date's broadcasts, newest first, each with how many of its mails have gone out.
pub async fn broadcasts_of(conn: &mut AsyncPgConnection, city_event_id: i64) -> QueryResult<Vec<(BroadcastRow, i64)>> {
    let rows: Vec<BroadcastRow> = broadcasts::table
        .filter(broadcasts::city_event_id.eq(city_event_id))
        .select(BroadcastRow::as_select())
        .order(broadcasts::id.desc())
        .load(conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let sent: i64 = email_campaigns::table
            .filter(email_campaigns::occurrence.eq(format!("broadcast:{}", row.id)))
            .filter(email_campaigns::status.eq("sent"))
            .count()
            .get_result(conn)
            .await?;
        out.push((row, sent));
    }
    Ok(out)
}

pub async fn broadcast(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<BroadcastRow>> {
    broadcasts::table.find(id).select(BroadcastRow::as_select()).first(conn).await.optional()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = date_cancellations, check_for_backend(diesel::pg::Pg))]
pub struct CancellationRow {
    pub city_event_id: i64,
    pub reason_fr: String,
    pub reason_en: String,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Starts a date's cancellation (once: a second start keeps the first's reasons) and claims the
/// cancellation mail of every booking held or paid now, in one transaction, before any booking
/// changes: a rerun after a crash finds the claims made and the bookings' states where it left.
pub async fn start_cancellation(
    conn: &mut AsyncPgConnection,
    city_event_id: i64,
    reason_fr: &str,
    reason_en: &str,
    by: &str,
) -> QueryResult<CancellationRow> {
    let (fr, en, by) = (reason_fr.to_owned(), reason_en.to_owned(), by.to_owned());
    conn.transaction(async |conn| {
        let inserted = diesel::insert_into(date_cancellations::table)
            .values((
                date_cancellations::city_event_id.eq(city_event_id),
                date_cancellations::reason_fr.eq(&fr),
                date_cancellations::reason_en.eq(&en),
                date_cancellations::started_by.eq(&by),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if inserted == 1 {
            diesel::sql_query(
                "INSERT INTO email_campaigns (booking_id, kind, recipient_email, language, scheduled_for, next_attempt_at)
                 SELECT id, 'date_cancelled', lower(buyer_email), language, now(), now()
                   FROM bookings WHERE city_event_id = $1 AND status IN ('held', 'confirmed')
                 ON CONFLICT DO NOTHING",
            )
            .bind::<BigInt, _>(city_event_id)
            .execute(conn)
            .await?;
            diesel::sql_query(
                "INSERT INTO email_campaigns (waitlist_entry_id, kind, recipient_email, language, scheduled_for, next_attempt_at, occurrence)
                 SELECT id, 'date_cancelled', lower(email), language, now(), now(), 'waitlist:' || id
                   FROM waitlist_entries WHERE city_event_id = $1 AND status = 'waiting'
                 ON CONFLICT DO NOTHING",
            )
            .bind::<BigInt, _>(city_event_id)
            .execute(conn)
            .await?;
        }
        date_cancellations::table.find(city_event_id).select(CancellationRow::as_select()).first(conn).await
    })
    .await
}

pub async fn cancellation(conn: &mut AsyncPgConnection, city_event_id: i64) -> QueryResult<Option<CancellationRow>> {
    date_cancellations::table.find(city_event_id).select(CancellationRow::as_select()).first(conn).await.optional()
}

pub async fn unfinished_cancellations(conn: &mut AsyncPgConnection) -> QueryResult<Vec<i64>> {
    date_cancellations::table.filter(date_cancellations::finished_at.is_null()).select(date_cancellations::city_event_id).load(conn).await
}

/// The bookings the cancellation is about (those it claimed a mail for), as they are now.
pub async fn cancellation_bookings(conn: &mut AsyncPgConnection, city_event_id: i64) -> QueryResult<Vec<BookingRow>> {
    let ids = email_campaigns::table.filter(email_campaigns::kind.eq("date_cancelled")).select(email_campaigns::booking_id);
    bookings::table
        .filter(bookings::city_event_id.eq(city_event_id))
        .filter(bookings::id.nullable().eq_any(ids))
        .select(BookingRow::as_select())
        .order(bookings::created_at)
        .load(conn)
        .await
}

/// How far it is: the cancellation's bookings by state, and its mails sent.
#[derive(Debug, Clone, Copy, Default, QueryableByName, serde::Serialize, utoipa::ToSchema)]
pub struct CancellationProgress {
    #[diesel(sql_type = BigInt)]
    pub bookings: i64,
    /// Held bookings released, paid ones refunded, still to do.
    #[diesel(sql_type = BigInt)]
    pub released: i64,
    #[diesel(sql_type = BigInt)]
    pub refunded: i64,
    #[diesel(sql_type = BigInt)]
    pub remaining: i64,
    #[diesel(sql_type = BigInt)]
    pub mailed: i64,
}

pub async fn cancellation_progress(conn: &mut AsyncPgConnection, city_event_id: i64) -> QueryResult<CancellationProgress> {
    diesel::sql_query(
        "SELECT count(*) AS bookings,
                count(*) FILTER (WHERE b.status IN ('cancelled', 'expired')) AS released,
                count(*) FILTER (WHERE b.status = 'refunded') AS refunded,
                count(*) FILTER (WHERE b.status IN ('held', 'confirmed')) AS remaining,
                count(*) FILTER (WHERE ec.status = 'sent') AS mailed
           FROM email_campaigns ec JOIN bookings b ON b.id = ec.booking_id
          WHERE ec.kind = 'date_cancelled' AND b.city_event_id = $1",
    )
    .bind::<BigInt, _>(city_event_id)
    .get_result(conn)
    .await
}

pub async fn finish_cancellation(conn: &mut AsyncPgConnection, city_event_id: i64, error: Option<&str>) -> QueryResult<()> {
    let finished = error.is_none().then(Utc::now);
    diesel::update(date_cancellations::table.find(city_event_id))
        .set((date_cancellations::finished_at.eq(finished), date_cancellations::last_error.eq(error)))
        .execute(conn)
        .await
        .map(drop)
}

/// Who a waiting-list mail is for: (city event, first name).
pub async fn waitlist_recipient(conn: &mut AsyncPgConnection, entry_id: i64) -> QueryResult<Option<(i64, String)>> {
    waitlist_entries::table
        .find(entry_id)
        .select((waitlist_entries::city_event_id, waitlist_entries::first_name))
        .first(conn)
        .await
        .optional()
}
