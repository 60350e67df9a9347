//! The e-mail queue: claims (one row per booking, kind and address, under a unique constraint),
//! taking rows to send without two senders taking the same one, and their outcomes.

use crate::domain::BookingId;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{AttendeeRow, BookingRow, EmailCampaignRow, NewEmailCampaign};
use super::schema::*;
use super::time_zone::ZoneName;
use crate::domain::{BookingStatus, EmailStatus};

/// Confirmed bookings of city events starting between `from` and `to`, with the event's start
/// and time zone.
pub async fn confirmed_bookings_starting_between(
    conn: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<(BookingRow, DateTime<Utc>, Tz)>> {
    let rows: Vec<(BookingRow, DateTime<Utc>, ZoneName)> = bookings::table
        .inner_join(city_events::table)
        .filter(bookings::status.eq(BookingStatus::Confirmed))
        // An erased booking has no address left to write to.
        .filter(bookings::anonymised_at.is_null())
        .filter(city_events::starts_at.between(from, to))
        .select((BookingRow::as_select(), city_events::starts_at, city_events::time_zone))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|(booking, starts_at, zone)| (booking, starts_at, zone.into())).collect())
}

/// A date's confirmed bookings that can still be written to.
pub async fn confirmed_bookings_of(conn: &mut AsyncPgConnection, city_event_id: i64) -> QueryResult<Vec<BookingRow>> {
    bookings::table
        .filter(bookings::city_event_id.eq(city_event_id))
        .filter(bookings::status.eq(BookingStatus::Confirmed))
        .filter(bookings::anonymised_at.is_null())
        .select(BookingRow::as_select())
        .load(conn)
        .await
}

pub async fn attendees_of(conn: &mut AsyncPgConnection, booking_ids: &[BookingId]) -> QueryResult<Vec<AttendeeRow>> {
    attendees::table
        .filter(attendees::booking_id.eq_any(booking_ids))
        .select(AttendeeRow::as_select())
        .order((attendees::booking_id, attendees::position))
        .load(conn)
        .await
}

/// Claims mails; a (booking, kind, address) already claimed is left alone. Returns how many are new.
pub async fn claim(conn: &mut AsyncPgConnection, rows: &[NewEmailCampaign]) -> QueryResult<usize> {
    let mut inserted = 0;
    // Bounded statements: 7 binds a row stay far below PostgreSQL's 65,535 parameters.
    for chunk in rows.chunks(1000) {
        inserted += diesel::insert_into(email_campaigns::table)
            .values(chunk)
            .on_conflict((
                email_campaigns::booking_id,
                email_campaigns::kind,
                email_campaigns::recipient_email,
                email_campaigns::occurrence,
            ))
            .do_nothing()
            .execute(conn)
            .await?;
    }
    Ok(inserted)
}

/// Rows a crashed sender left in `sending` go back to the queue.
pub async fn release_stuck(conn: &mut AsyncPgConnection, claimed_before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(
        email_campaigns::table
            .filter(email_campaigns::status.eq(EmailStatus::Sending))
            .filter(email_campaigns::claimed_at.lt(claimed_before)),
    )
    .set(email_campaigns::status.eq(EmailStatus::Pending))
    .execute(conn)
    .await
}

/// Takes up to `limit` mails due by `now` for this sender: `FOR UPDATE SKIP LOCKED` so two
/// senders (two scheduler runs, two instances) never take the same row.
pub async fn take_sendable(conn: &mut AsyncPgConnection, now: DateTime<Utc>, limit: i64) -> QueryResult<Vec<EmailCampaignRow>> {
    diesel::sql_query(
        "UPDATE email_campaigns SET status = 'sending', claimed_at = now(), attempts = attempts + 1
         WHERE id IN (SELECT id FROM email_campaigns WHERE status = 'pending' AND next_attempt_at <= $1
                      ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id, booking_id, attendee_id, kind, recipient_email, language, status, attempts, last_error,
                   scheduled_for, sent_at, opened_at, clicked_at, occurrence",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
    .await
}

pub async fn mark_sent(conn: &mut AsyncPgConnection, id: i64, at: DateTime<Utc>, provider_id: &str, transport: &str) -> QueryResult<()> {
    diesel::update(email_campaigns::table.find(id))
        .set((
            email_campaigns::status.eq(EmailStatus::Sent),
            email_campaigns::sent_at.eq(at),
            email_campaigns::provider_message_id.eq(provider_id),
            email_campaigns::transport.eq(transport),
            email_campaigns::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_retry(conn: &mut AsyncPgConnection, id: i64, next_attempt_at: DateTime<Utc>, error: &str) -> QueryResult<()> {
    diesel::update(email_campaigns::table.find(id))
        .set((
            email_campaigns::status.eq(EmailStatus::Pending),
            email_campaigns::next_attempt_at.eq(next_attempt_at),
            email_campaigns::last_error.eq(error),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// `failed` (permanent, visible to the organiser) or `skipped` (nothing to send any more).
pub async fn mark_final(conn: &mut AsyncPgConnection, id: i64, status: EmailStatus, reason: &str) -> QueryResult<()> {
    diesel::update(email_campaigns::table.find(id))
        .set((email_campaigns::status.eq(status), email_campaigns::last_error.eq(reason)))
        .execute(conn)
        .await?;
    Ok(())
}

/// First open wins; `false` if there is no such mail.
pub async fn record_open(conn: &mut AsyncPgConnection, id: i64, at: DateTime<Utc>) -> QueryResult<bool> {
    let n = diesel::sql_query("UPDATE email_campaigns SET opened_at = COALESCE(opened_at, $2) WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(id)
        .bind::<diesel::sql_types::Timestamptz, _>(at)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// A click is also an open (images are often blocked).
pub async fn record_click(conn: &mut AsyncPgConnection, id: i64, at: DateTime<Utc>) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "UPDATE email_campaigns SET clicked_at = COALESCE(clicked_at, $2), opened_at = COALESCE(opened_at, $2) WHERE id = $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(id)
    .bind::<diesel::sql_types::Timestamptz, _>(at)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

pub async fn campaign(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<EmailCampaignRow>> {
    email_campaigns::table.find(id).select(EmailCampaignRow::as_select()).first(conn).await.optional()
}
