//! Payments, Stripe events, and the mails payments ask for.

use crate::domain::BookingId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{BookingRow, PaymentRow};
use super::schema::*;
use crate::domain::{BookingStatus, PaymentStatus};

/// Records a webhook event; `false` when its id was already recorded (a replay).
pub async fn record_event(conn: &mut AsyncPgConnection, id: &str, kind: &str, payload: &serde_json::Value) -> QueryResult<bool> {
    let n = diesel::insert_into(stripe_events::table)
        .values((stripe_events::id.eq(id), stripe_events::kind.eq(kind), stripe_events::payload.eq(payload)))
        .on_conflict(stripe_events::id)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Events not yet applied, oldest first.
pub async fn unprocessed_events(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<(String, serde_json::Value)>> {
    stripe_events::table
        .filter(stripe_events::processed_at.is_null())
        .order(stripe_events::received_at)
        .select((stripe_events::id, stripe_events::payload))
        .limit(limit)
        .load(conn)
        .await
}

pub async fn mark_event(conn: &mut AsyncPgConnection, id: &str, error: Option<&str>) -> QueryResult<()> {
    let target = stripe_events::table.find(id);
    match error {
        None => diesel::update(target).set(stripe_events::processed_at.eq(Utc::now())).execute(conn).await?,
        Some(e) => {
            diesel::update(target)
                .set((stripe_events::attempts.eq(stripe_events::attempts + 1), stripe_events::last_error.eq(e)))
                .execute(conn)
                .await?
        }
    };
    Ok(())
}

pub async fn booking(conn: &mut AsyncPgConnection, id: BookingId) -> QueryResult<Option<BookingRow>> {
    bookings::table.find(id).select(BookingRow::as_select()).first(conn).await.optional()
}

/// The booking's intent that can still take money, if any.
pub async fn live_payment(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .filter(payments::booking_id.eq(booking_id))
        .filter(payments::status.ne(PaymentStatus::Canceled))
        .select(PaymentRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn payment_by_intent(conn: &mut AsyncPgConnection, intent_id: &str) -> QueryResult<Option<PaymentRow>> {
    payments::table.filter(payments::payment_intent_id.eq(intent_id)).select(PaymentRow::as_select()).first(conn).await.optional()
}

pub async fn count_canceled(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<i64> {
    payments::table
        .filter(payments::booking_id.eq(booking_id))
        .filter(payments::status.eq(PaymentStatus::Canceled))
        .count()
        .get_result(conn)
        .await
}

/// Inserts the intent's row, or brings its status up to date. `succeeded` and `canceled` are
/// final: a late `payment_failed` never overwrites them.
pub async fn upsert_payment(
    conn: &mut AsyncPgConnection,
    booking_id: BookingId,
    intent_id: &str,
    amount: i64,
    currency: &str,
    status: &str,
    last_error: Option<&str>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO payments (booking_id, payment_intent_id, amount_cents, currency, status, last_error)
         VALUES ($1, $2, $3, upper($4), $5, $6)
         ON CONFLICT (payment_intent_id) DO UPDATE
            SET status = CASE WHEN payments.status IN ('succeeded', 'canceled') THEN payments.status ELSE EXCLUDED.status END,
                amount_cents = EXCLUDED.amount_cents,
                last_error = COALESCE(EXCLUDED.last_error, payments.last_error),
                updated_at = now()",
    )
    .bind::<diesel::sql_types::Uuid, _>(booking_id)
    .bind::<diesel::sql_types::Text, _>(intent_id)
    .bind::<diesel::sql_types::BigInt, _>(amount)
    .bind::<diesel::sql_types::Text, _>(currency)
    .bind::<diesel::sql_types::Text, _>(status)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(last_error)
    .execute(conn)
    .await?;
    Ok(())
}

/// Refunds only ever grow: an older `charge.refunded` arriving late changes nothing.
pub async fn record_refunded(conn: &mut AsyncPgConnection, intent_id: &str, amount_refunded: i64) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE payments SET amount_refunded_cents = LEAST(amount_cents, GREATEST(amount_refunded_cents, $2)), updated_at = now()
         WHERE payment_intent_id = $1",
    )
    .bind::<diesel::sql_types::Text, _>(intent_id)
    .bind::<diesel::sql_types::BigInt, _>(amount_refunded)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a payment for the organiser's attention (amount mismatch, refunded for lack of seats…).
pub async fn flag(conn: &mut AsyncPgConnection, intent_id: &str, reason: &str) -> QueryResult<()> {
    diesel::update(payments::table.filter(payments::payment_intent_id.eq(intent_id)))
        .set((payments::flagged_reason.eq(reason), payments::flagged_at.eq(Utc::now()), payments::updated_at.eq(Utc::now())))
        .execute(conn)
        .await?;
    Ok(())
}

/// Intents created before `before` that have no final state and whose booking is not settled:
/// what reconciliation asks Stripe about.
pub async fn open_payments(conn: &mut AsyncPgConnection, before: DateTime<Utc>, limit: i64) -> QueryResult<Vec<PaymentRow>> {
    payments::table
        .inner_join(bookings::table)
        .filter(payments::created_at.lt(before))
        .filter(payments::status.ne_all([PaymentStatus::Succeeded, PaymentStatus::Canceled]).or(
            payments::status.eq(PaymentStatus::Succeeded).and(bookings::status.eq_any([
                BookingStatus::Held,
                BookingStatus::Expired,
                BookingStatus::Cancelled,
            ])),
        ))
        .filter(payments::flagged_reason.is_null())
        .select(PaymentRow::as_select())
        .order(payments::created_at)
        .limit(limit)
        .load(conn)
        .await
}

/// Asks the e-mail side for a mail to the buyer (`confirmation`, `refund_notice`): one per
/// booking, kind and occurrence, whatever the number of callers. A partial refund's notice has
/// the occurrence `refund:<amount in cents>:<Stripe refund id>` (see `partial_refund_occurrence`):
/// one mail per refund, and a retried refund (same Stripe id) mails once.
pub async fn request_buyer_email(conn: &mut AsyncPgConnection, booking: &BookingRow, kind: &str, occurrence: &str) -> QueryResult<()> {
    diesel::insert_into(email_campaigns::table)
        .values((
            email_campaigns::occurrence.eq(occurrence),
            email_campaigns::booking_id.eq(booking.id),
            email_campaigns::kind.eq(kind),
            email_campaigns::recipient_email.eq(&booking.buyer_email),
            email_campaigns::language.eq(&booking.language),
            email_campaigns::scheduled_for.eq(Utc::now()),
        ))
        .on_conflict((email_campaigns::booking_id, email_campaigns::kind, email_campaigns::recipient_email, email_campaigns::occurrence))
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// The occurrence of a partial refund's notice, and back.
pub fn partial_refund_occurrence(amount_cents: i64, refund_id: &str) -> String {
    format!("refund:{amount_cents}:{refund_id}")
}

pub fn partial_refund_amount(occurrence: &str) -> Option<i64> {
    occurrence.strip_prefix("refund:")?.split(':').next()?.parse().ok()
}
