//! Personal data: what we hold about one booking, and replacing it with placeholders.

use crate::domain::BookingId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// Placeholders that satisfy the table constraints and identify no one. The e-mail placeholders
/// are random per row, so nobody can use a placeholder as the proof of ownership of a booking.
const ERASED_NAME: &str = "[erased]";
const ERASED_PHONE: &str = "+10000000000";

#[derive(Debug, Clone, QueryableByName, serde::Serialize, utoipa::ToSchema)]
pub struct MailRecord {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub recipient_email: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub sent_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub opened_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub clicked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, QueryableByName, serde::Serialize, utoipa::ToSchema)]
pub struct PaymentRecord {
    #[diesel(sql_type = Text)]
    pub payment_intent_id: String,
    #[diesel(sql_type = BigInt)]
    pub amount_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub amount_refunded_cents: i64,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

pub async fn mails_of(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<Vec<MailRecord>> {
    diesel::sql_query(
        "SELECT kind, recipient_email, status, sent_at, opened_at, clicked_at FROM email_campaigns WHERE booking_id = $1 ORDER BY id",
    )
    .bind::<SqlUuid, _>(booking_id)
    .load(conn)
    .await
}

pub async fn payments_of(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<Vec<PaymentRecord>> {
    diesel::sql_query(
        "SELECT payment_intent_id, amount_cents, amount_refunded_cents, status, created_at FROM payments WHERE booking_id = $1 ORDER BY id",
    )
    .bind::<SqlUuid, _>(booking_id)
    .load(conn)
    .await
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: BookingId,
}

/// Anonymises these bookings (those not held and not already anonymised), their attendees, the
/// addresses their mails went to, and the Stripe events already applied for them. Amounts, taxes,
/// statuses and payments stay. One transaction; returns the bookings changed.
pub async fn anonymise(conn: &mut AsyncPgConnection, ids: &[BookingId]) -> QueryResult<Vec<BookingId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    conn.transaction(async |conn| {
        {
            // A held booking belongs to its city event's actor until it is paid, cancelled or expired.
            let done: Vec<Id> = diesel::sql_query(
                "UPDATE bookings SET buyer_first_name = $2, buyer_last_name = $2,
                        buyer_email = 'erased-' || md5(random()::text || id::text) || '@erased.invalid',
                        buyer_phone = $3, billing_address = NULL, anonymised_at = now(), updated_at = now()
                 WHERE id = ANY($1) AND anonymised_at IS NULL AND status <> 'held'
                 RETURNING id",
            )
            .bind::<Array<SqlUuid>, _>(ids)
            .bind::<Text, _>(ERASED_NAME)
            .bind::<Text, _>(ERASED_PHONE)
            .load(&mut *conn)
            .await?;
            let done: Vec<BookingId> = done.into_iter().map(|r| r.id).collect();
            if done.is_empty() {
                return Ok(done);
            }
            diesel::sql_query("UPDATE attendees SET first_name = NULL, last_name = NULL, email = NULL, licence_number = NULL WHERE booking_id = ANY($1)")
                .bind::<Array<SqlUuid>, _>(&done)
                .execute(&mut *conn)
                .await?;
            // Mails not yet sent will not be: there is no one left to write to.
            diesel::sql_query(
                "UPDATE email_campaigns SET recipient_email = 'erased-' || id || '@erased.invalid', last_error = NULL,
                        status = CASE WHEN status IN ('pending', 'sending') THEN 'skipped' ELSE status END
                 WHERE booking_id = ANY($1)",
            )
            .bind::<Array<SqlUuid>, _>(&done)
            .execute(&mut *conn)
            .await?;
            // The back office's records of these bookings: an offer's waiting-list entry, and the
            // audit log's snapshots (who acted and what stay; the names go).
            diesel::sql_query(
                "UPDATE waitlist_entries SET first_name = $2, last_name = $2, email = 'erased-' || id || '@erased.invalid'
                 WHERE offer_booking_id = ANY($1)",
            )
            .bind::<Array<SqlUuid>, _>(&done)
            .bind::<Text, _>(ERASED_NAME)
            .execute(&mut *conn)
            .await?;
            diesel::sql_query(
                "UPDATE audit_log SET before = CASE WHEN before IS NULL THEN NULL ELSE '{\"redacted\": true}'::jsonb END,
                                      after = CASE WHEN after IS NULL THEN NULL ELSE '{\"redacted\": true}'::jsonb END
                 WHERE (target_type = 'booking' AND target_id IN (SELECT reference FROM bookings WHERE id = ANY($1)))
                    OR (target_type = 'waitlist_entry' AND target_id IN (SELECT id::text FROM waitlist_entries WHERE offer_booking_id = ANY($1)))",
            )
            .bind::<Array<SqlUuid>, _>(&done)
            .execute(&mut *conn)
            .await?;
            diesel::sql_query("UPDATE payments SET last_error = NULL WHERE booking_id = ANY($1)")
                .bind::<Array<SqlUuid>, _>(&done)
                .execute(&mut *conn)
                .await?;
            // Stripe's events can carry billing names and addresses; applied ones are kept only as
            // the record that they were received.
            let patterns: Vec<String> = done.iter().map(|id| format!("%{id}%")).collect();
            diesel::sql_query(
                "UPDATE stripe_events SET payload = jsonb_build_object('id', payload->'id', 'type', payload->'type',
                        'created', payload->'created', 'redacted', true)
                 WHERE processed_at IS NOT NULL AND payload::text LIKE ANY($1)",
            )
            .bind::<Array<Text>, _>(&patterns)
            .execute(&mut *conn)
            .await?;
            Ok::<_, diesel::result::Error>(done)
        }
    })
    .await
}

/// Bookings whose city event ended before `ended_before` and still hold personal data.
pub async fn due_for_retention(conn: &mut AsyncPgConnection, ended_before: DateTime<Utc>, limit: i64) -> QueryResult<Vec<BookingId>> {
    let rows: Vec<Id> = diesel::sql_query(
        "SELECT b.id FROM bookings b JOIN city_events ce ON ce.id = b.city_event_id
         WHERE b.anonymised_at IS NULL AND b.status <> 'held' AND ce.ends_at < $1
         ORDER BY ce.ends_at LIMIT $2",
    )
    .bind::<Timestamptz, _>(ended_before)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
