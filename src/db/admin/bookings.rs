//! The back office's booking queries: search, a booking's payments and mails, its attendees,
//! a confirmation sent again, and the database's part of a move.

use crate::domain::BookingId;
use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::models::*;
use crate::db::schema::*;

#[derive(Debug, Default, Clone)]
pub struct BookingFilter {
    /// A reference, an e-mail address or part of a name (buyer's or attendee's).
    pub q: Option<String>,
    pub city_event_id: Option<i64>,
    pub status: Option<String>,
}

pub async fn search_bookings(conn: &mut AsyncPgConnection, f: &BookingFilter, limit: i64, offset: i64) -> QueryResult<Vec<BookingRow>> {
    let mut q = bookings::table.select(BookingRow::as_select()).order((bookings::created_at.desc(), bookings::id)).into_boxed();
    if let Some(id) = f.city_event_id {
        q = q.filter(bookings::city_event_id.eq(id));
    }
    if let Some(status) = &f.status {
        q = q.filter(bookings::status.eq(status.clone()));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let upper = text.to_uppercase();
        let lower = text.to_lowercase();
        let pattern = format!("%{}%", lower.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let by_attendee = attendees::table
            .filter(
                attendees::email
                    .eq(lower.clone())
                    .or(diesel::dsl::sql::<Bool>("lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) LIKE ")
                        .bind::<Text, _>(pattern.clone())),
            )
            .select(attendees::booking_id);
        q = q.filter(
            bookings::reference
                .eq(upper)
                .or(bookings::buyer_email.eq(lower))
                .or(diesel::dsl::sql::<Bool>("lower(buyer_first_name || ' ' || buyer_last_name) LIKE ").bind::<Text, _>(pattern))
                .or(bookings::id.eq_any(by_attendee)),
        );
    }
    q.limit(limit).offset(offset).load(conn).await
}

pub async fn booking_payments(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<Vec<PaymentRow>> {
    payments::table.filter(payments::booking_id.eq(booking_id)).select(PaymentRow::as_select()).order(payments::id).load(conn).await
}

pub async fn booking_emails(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<Vec<EmailCampaignRow>> {
    email_campaigns::table
        .filter(email_campaigns::booking_id.eq(booking_id))
        .select(EmailCampaignRow::as_select())
        .order(email_campaigns::id)
        .load(conn)
        .await
}

pub async fn reference_of(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<Option<String>> {
    bookings::table.find(booking_id).select(bookings::reference).first(conn).await.optional()
}

/// Sends a booking's confirmation again: the existing claim goes back to the queue (or is made).
pub async fn requeue_confirmation(conn: &mut AsyncPgConnection, booking: &BookingRow) -> QueryResult<()> {
    let now = Utc::now();
    let n = diesel::update(
        email_campaigns::table
            .filter(email_campaigns::booking_id.eq(booking.id))
            .filter(email_campaigns::kind.eq("confirmation"))
            .filter(email_campaigns::recipient_email.eq(&booking.buyer_email))
            .filter(email_campaigns::status.ne("sending")),
    )
    .set((
        email_campaigns::status.eq("pending"),
        email_campaigns::attempts.eq(0),
        email_campaigns::next_attempt_at.eq(now),
        email_campaigns::last_error.eq(None::<String>),
    ))
    .execute(conn)
    .await?;
    if n == 0 {
        crate::db::payments::request_buyer_email(conn, booking, "confirmation", "").await?;
    }
    Ok(())
}

/// Sets one attendee's name and address; `false` if the booking has no such seat.
pub async fn set_attendee(
    conn: &mut AsyncPgConnection,
    booking_id: BookingId,
    position: i32,
    name: Option<(&str, &str)>,
    email: Option<&str>,
) -> QueryResult<bool> {
    let n = diesel::update(attendees::table.filter(attendees::booking_id.eq(booking_id)).filter(attendees::position.eq(position)))
        .set((attendees::first_name.eq(name.map(|n| n.0)), attendees::last_name.eq(name.map(|n| n.1)), attendees::email.eq(email)))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Step 2 of a move when the source city event has no actor: the database decides.
pub async fn set_moved_from(conn: &mut AsyncPgConnection, to: BookingId, from: BookingId) -> QueryResult<()> {
    diesel::update(bookings::table.find(to)).set(bookings::moved_from.eq(from)).execute(conn).await?;
    Ok(())
}
