//! The waiting list: who waits for which city event, and the offers made to them. Changes go
//! through the city event's actor (`db::bookings::write_batch`); this module reads.

use crate::domain::BookingId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::WaitlistEntryRow;
use super::schema::*;
use crate::domain::{BookingStatus, WaitlistStatus};

/// Entries still waiting for an offer, first come first served.
pub async fn waiting(conn: &mut AsyncPgConnection, city_event_id: i64) -> QueryResult<Vec<WaitlistEntryRow>> {
    waitlist_entries::table
        .filter(waitlist_entries::city_event_id.eq(city_event_id))
        .filter(waitlist_entries::status.eq(WaitlistStatus::Waiting))
        .order(waitlist_entries::id)
        .select(WaitlistEntryRow::as_select())
        .load(conn)
        .await
}

/// One line of the organiser's view: the entry and, once offered, its booking's reference,
/// status and deadline.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WaitlistLine {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub language: String,
    /// `waiting`, `offered` (the seat is held for them), `booked` (they paid), `lapsed` (the offer
    /// expired or was cancelled) or `removed`.
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub offered_at: Option<DateTime<Utc>>,
    pub offer_reference: Option<String>,
    pub offer_expires_at: Option<DateTime<Utc>>,
}

/// What an entry's state is: its own status, and for an offer its booking's.
pub fn state_of(entry_status: WaitlistStatus, booking_status: Option<BookingStatus>) -> &'static str {
    use BookingStatus as B;
    match (entry_status, booking_status) {
        (WaitlistStatus::Waiting, _) => "waiting",
        (WaitlistStatus::Removed, _) => "removed",
        (_, Some(B::Held)) => "offered",
        (_, Some(B::Confirmed | B::Refunded | B::Moved)) => "booked",
        _ => "lapsed",
    }
}

/// The whole list of a city event, in order.
pub async fn lines(conn: &mut AsyncPgConnection, city_event_id: i64) -> QueryResult<Vec<WaitlistLine>> {
    type Offer = (String, BookingStatus, DateTime<Utc>);
    let rows: Vec<(WaitlistEntryRow, Option<Offer>)> = waitlist_entries::table
        .left_join(bookings::table.on(bookings::id.nullable().eq(waitlist_entries::offer_booking_id)))
        .filter(waitlist_entries::city_event_id.eq(city_event_id))
        .order(waitlist_entries::id)
        .select((WaitlistEntryRow::as_select(), (bookings::reference, bookings::status, bookings::hold_expires_at).nullable()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(e, b)| {
            let state = state_of(e.status, b.as_ref().map(|(_, s, _)| *s));
            WaitlistLine {
                id: e.id,
                first_name: e.first_name,
                last_name: e.last_name,
                email: e.email,
                language: e.language,
                state: state.to_owned(),
                created_at: e.created_at,
                offered_at: e.offered_at,
                offer_reference: b.as_ref().map(|(r, _, _)| r.clone()),
                offer_expires_at: b.filter(|_| state == "offered").map(|(_, _, at)| at),
            }
        })
        .collect())
}

/// The entry an offer booking was made for.
pub async fn entry_of_offer(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<Option<WaitlistEntryRow>> {
    waitlist_entries::table
        .filter(waitlist_entries::offer_booking_id.eq(booking_id))
        .select(WaitlistEntryRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The person claims their offer: their phone number and ACT experience complete the held
/// booking, which can then be paid. Only while it is held, unclaimed and not past its deadline.
pub async fn claim_offer(
    conn: &mut AsyncPgConnection,
    booking_id: BookingId,
    phone: &str,
    act_experience: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(
        bookings::table
            .find(booking_id)
            .filter(bookings::status.eq(BookingStatus::Held))
            .filter(bookings::buyer_phone.eq(""))
            .filter(bookings::hold_expires_at.gt(now)),
    )
    .set((bookings::buyer_phone.eq(phone), bookings::act_experience.eq(act_experience)))
    .execute(conn)
    .await?;
    Ok(n == 1)
}
