//! The attendees' feedback: one answer per seat (the table's UNIQUE decides, not a read before
//! the write), and a date's answers for the organiser.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::*;
use crate::domain::BookingStatus;

/// The rated questions, in the form's order; each is a column of `feedback_answers`.
pub const QUESTIONS: [&str; 4] = ["overall", "content", "presenter", "venue"];

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = feedback_answers)]
pub struct NewFeedback {
    pub attendee_id: i64,
    pub city_event_id: i64,
    pub language: String,
    pub overall: i32,
    pub content: i32,
    pub presenter: i32,
    pub venue: i32,
    pub would_recommend: bool,
    pub comments: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = feedback_answers, check_for_backend(diesel::pg::Pg))]
pub struct FeedbackRow {
    pub id: i64,
    pub language: String,
    pub overall: i32,
    pub content: i32,
    pub presenter: i32,
    pub venue: i32,
    pub would_recommend: bool,
    pub comments: String,
    pub created_at: DateTime<Utc>,
}

/// Stores the answer; `false` when this seat had already answered (nothing written).
pub async fn insert(conn: &mut AsyncPgConnection, answer: &NewFeedback) -> QueryResult<bool> {
    let written = diesel::insert_into(feedback_answers::table)
        .values(answer)
        .on_conflict(feedback_answers::attendee_id)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(written == 1)
}

pub async fn answered(conn: &mut AsyncPgConnection, attendee_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(feedback_answers::table.filter(feedback_answers::attendee_id.eq(attendee_id))))
        .get_result(conn)
        .await
}

/// A date's answers, oldest first.
pub async fn of_city_event(conn: &mut AsyncPgConnection, city_event_id: i64) -> QueryResult<Vec<FeedbackRow>> {
    feedback_answers::table
        .filter(feedback_answers::city_event_id.eq(city_event_id))
        .order((feedback_answers::created_at, feedback_answers::id))
        .select(FeedbackRow::as_select())
        .load(conn)
        .await
}

/// The seats of a date's confirmed bookings: who could answer.
pub async fn attendees_of(conn: &mut AsyncPgConnection, city_event_id: i64) -> QueryResult<i64> {
    attendees::table
        .inner_join(bookings::table)
        .filter(bookings::city_event_id.eq(city_event_id))
        .filter(bookings::status.eq(BookingStatus::Confirmed))
        .count()
        .get_result(conn)
        .await
}
