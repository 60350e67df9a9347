//! Who came: finding a ticket by its code (or a voided one), marking an attendee present once,
//! the door's counts and its search by reference or name.
//!
//! Marking present is one conditional `UPDATE … WHERE checked_in_at IS NULL`: of two phones
//! scanning the same ticket at once, PostgreSQL lets exactly one win, and the other reads the
//! winner's time.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{attendees, bookings, city_events, voided_tickets};
use crate::domain::{AttendeeId, BookingStatus};

/// An attendee as the door sees them.
#[derive(Debug, Clone, Queryable)]
pub struct AtDoor {
    pub attendee_id: AttendeeId,
    pub position: i32,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub reference: String,
    pub status: BookingStatus,
    pub city_event_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: String,
    pub checked_in_at: Option<DateTime<Utc>>,
}

/// What a ticket code is.
#[derive(Debug, Clone)]
pub enum Found {
    Ticket(Box<AtDoor>),
    /// Replaced by a newer ticket (a name change) at this time.
    Voided(DateTime<Utc>),
    Unknown,
}

type DoorColumns = (
    attendees::id,
    attendees::position,
    attendees::first_name,
    attendees::last_name,
    bookings::reference,
    bookings::status,
    bookings::city_event_id,
    city_events::starts_at,
    city_events::ends_at,
    city_events::time_zone,
    attendees::checked_in_at,
);

const DOOR: DoorColumns = (
    attendees::id,
    attendees::position,
    attendees::first_name,
    attendees::last_name,
    bookings::reference,
    bookings::status,
    bookings::city_event_id,
    city_events::starts_at,
    city_events::ends_at,
    city_events::time_zone,
    attendees::checked_in_at,
);

pub async fn by_code(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Found> {
    let found: Option<AtDoor> = attendees::table
        .inner_join(bookings::table.inner_join(city_events::table))
        .filter(attendees::ticket_code.eq(code))
        .select(DOOR)
        .first(conn)
        .await
        .optional()?;
    if let Some(a) = found {
        return Ok(Found::Ticket(Box::new(a)));
    }
    let voided: Option<DateTime<Utc>> = voided_tickets::table.find(code).select(voided_tickets::voided_at).first(conn).await.optional()?;
    Ok(voided.map_or(Found::Unknown, Found::Voided))
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: AttendeeId) -> QueryResult<Option<AtDoor>> {
    attendees::table
        .inner_join(bookings::table.inner_join(city_events::table))
        .filter(attendees::id.eq(id))
        .select(DOOR)
        .first(conn)
        .await
        .optional()
}

/// Marks the attendee present unless they already are; `(when, already)`.
pub async fn mark_present(
    conn: &mut AsyncPgConnection,
    id: AttendeeId,
    by_admin: i64,
    now: DateTime<Utc>,
) -> QueryResult<(DateTime<Utc>, bool)> {
    let first: Option<DateTime<Utc>> = diesel::update(attendees::table.find(id).filter(attendees::checked_in_at.is_null()))
        .set((attendees::checked_in_at.eq(now), attendees::checked_in_by.eq(by_admin)))
        .returning(attendees::checked_in_at.assume_not_null())
        .get_result(conn)
        .await
        .optional()?;
    if let Some(at) = first {
        return Ok((at, false));
    }
    let at: Option<DateTime<Utc>> = attendees::table.find(id).select(attendees::checked_in_at).first(conn).await?;
    Ok((at.unwrap_or(now), true))
}

/// `(expected, present)` on a date: the seats of its confirmed bookings, and those checked in.
pub async fn counts(conn: &mut AsyncPgConnection, city_event_id: i64) -> QueryResult<(i64, i64)> {
    let (expected, present): (i64, i64) = attendees::table
        .inner_join(bookings::table)
        .filter(bookings::city_event_id.eq(city_event_id))
        .filter(bookings::status.eq(BookingStatus::Confirmed))
        .select((diesel::dsl::count_star(), diesel::dsl::count(attendees::checked_in_at)))
        .first(conn)
        .await?;
    Ok((expected, present))
}

/// The door's search: a date's confirmed attendees whose booking reference or name contains
/// `query` (case and accents as typed), at most `limit`.
pub async fn search(conn: &mut AsyncPgConnection, city_event_id: i64, query: &str, limit: i64) -> QueryResult<Vec<AtDoor>> {
    let pattern = format!("%{}%", query.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let name =
        diesel::dsl::sql::<diesel::sql_types::Text>("coalesce(attendees.first_name, '') || ' ' || coalesce(attendees.last_name, '')");
    attendees::table
        .inner_join(bookings::table.inner_join(city_events::table))
        .filter(bookings::city_event_id.eq(city_event_id))
        .filter(bookings::status.eq(BookingStatus::Confirmed))
        .filter(bookings::reference.ilike(pattern.clone()).or(name.ilike(pattern)))
        .order((attendees::last_name, attendees::first_name, bookings::reference, attendees::position))
        .select(DOOR)
        .limit(limit)
        .load(conn)
        .await
}
