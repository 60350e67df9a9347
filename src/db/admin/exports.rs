//! The exports, a page at a time with a keyset: attendee lists and accounting lines.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Int4, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// One attendee line: seat, names, addresses, the booking's reference, status and buyer.
#[derive(Debug, Clone, QueryableByName)]
pub struct AttendeeLine {
    #[diesel(sql_type = BigInt)]
    pub attendee_id: i64,
    #[diesel(sql_type = Text)]
    pub reference: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Int4)]
    pub position: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub first_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    #[diesel(sql_type = Text)]
    pub buyer_first_name: String,
    #[diesel(sql_type = Text)]
    pub buyer_last_name: String,
    #[diesel(sql_type = Text)]
    pub buyer_email: String,
    #[diesel(sql_type = Text)]
    pub language: String,
    #[diesel(sql_type = Text)]
    pub act_experience: String,
}

/// The attendees of the seats a city event has sold, a page at a time (keyset on the attendee id).
pub async fn attendee_page(conn: &mut AsyncPgConnection, city_event_id: i64, after: i64, limit: i64) -> QueryResult<Vec<AttendeeLine>> {
    diesel::sql_query(
        "SELECT a.id AS attendee_id, b.reference, b.status, a.position, a.first_name, a.last_name, a.email,
                b.buyer_first_name, b.buyer_last_name, b.buyer_email, b.language, b.act_experience
         FROM attendees a JOIN bookings b ON b.id = a.booking_id
         WHERE b.city_event_id = $1 AND b.status = 'confirmed' AND a.id > $2
         ORDER BY a.id LIMIT $3",
    )
    .bind::<BigInt, _>(city_event_id)
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// A booking line for accounting, with its city and the payment's refunds.
#[derive(Debug, Clone, QueryableByName)]
pub struct AccountingLine {
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub reference: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    pub city_event_id: i64,
    #[diesel(sql_type = Text)]
    pub city: String,
    #[diesel(sql_type = Text)]
    pub province: String,
    #[diesel(sql_type = Text)]
    pub buyer_name: String,
    #[diesel(sql_type = Text)]
    pub buyer_email: String,
    #[diesel(sql_type = Int4)]
    pub quantity: i32,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub unit_price_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub subtotal_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub discount_cents: i64,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub taxes: serde_json::Value,
    #[diesel(sql_type = BigInt)]
    pub tax_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub total_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub refunded_cents: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub payment_intent_id: Option<String>,
}

/// Paid bookings (confirmed, refunded, moved on), oldest first, a page at a time (keyset on
/// (created_at, reference)).
pub async fn accounting_page(
    conn: &mut AsyncPgConnection,
    city_event_id: Option<i64>,
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> QueryResult<Vec<AccountingLine>> {
    let (after_at, after_ref) = after.map_or((None, String::new()), |(a, r)| (Some(a), r));
    diesel::sql_query(
        "SELECT b.created_at, b.reference, b.status, b.confirmed_at, b.city_event_id, c.name_fr AS city, c.province::text AS province,
                b.buyer_first_name || ' ' || b.buyer_last_name AS buyer_name, b.buyer_email, b.quantity, b.unit_price_cents,
                b.subtotal_cents, b.discount_cents, b.taxes, b.tax_cents, b.total_cents,
                COALESCE((SELECT sum(p.amount_refunded_cents) FROM payments p WHERE p.booking_id = b.id), 0)::int8 AS refunded_cents,
                (SELECT p.payment_intent_id FROM payments p WHERE p.booking_id = b.id AND p.status = 'succeeded' LIMIT 1) AS payment_intent_id
         FROM bookings b JOIN city_events ce ON ce.id = b.city_event_id JOIN cities c ON c.id = ce.city_id
         WHERE b.confirmed_at IS NOT NULL AND b.status <> 'moved'
           AND ($1::int8 IS NULL OR b.city_event_id = $1)
           AND ($2::timestamptz IS NULL OR (b.created_at, b.reference) > ($2, $3))
         ORDER BY b.created_at, b.reference LIMIT $4",
    )
    .bind::<Nullable<BigInt>, _>(city_event_id)
    .bind::<Nullable<Timestamptz>, _>(after_at)
    .bind::<Text, _>(after_ref)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}
