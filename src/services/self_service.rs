//! The buyer's own cancellation, from the API and from the "my booking" page: a held booking's
//! hold is released; a paid one is refunded in full through Stripe inside the refund window
//! (`domain::refund_window`), by the same `Payments::refund` as the organiser's, so the seats come
//! back through the city event's actor and the refund mail is asked for once.

use std::time::Duration;

use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};

use crate::db;
use crate::db::models::{AttendeeRow, BookingRow};
use crate::domain::refund_window::{name_change_deadline, refund_deadline, refund_window_open};
use crate::domain::tokens::booking_key_matches;
use crate::domain::{BookingReference, BookingStatus, CityEventId, Email};
use crate::http::error::{ApiError, ApiResult};
use crate::payments::PaymentError;
use crate::services::attendees::{self, AttendeeEdit};
use crate::state::AppState;

/// What the caller shows to prove the booking is theirs.
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    /// The `k` of the booking's signed link (every mail carries it).
    Key(&'a str),
    /// The buyer's address: enough to release a hold, not to be refunded.
    Email(&'a str),
}

fn not_found() -> ApiError {
    ApiError::not_found("booking_not_found", "No booking matches this reference and e-mail address.")
}

/// The booking if the proof holds; the same 404 for an unknown reference and a wrong proof, so
/// nothing is learnt about references without it.
pub async fn owned(state: &AppState, reference: &str, proof: Proof<'_>) -> ApiResult<(BookingRow, Vec<AttendeeRow>)> {
    let reference = BookingReference::parse(reference).map_err(|_| not_found())?;
    if let Proof::Key(k) = proof {
        if !booking_key_matches(state.settings.secret_key.expose(), reference.as_str(), k) {
            return Err(not_found());
        }
    }
    let mut conn = db::connection(&state.pool).await?;
    let (booking, people) = db::bookings::by_reference(&mut conn, reference.as_str()).await?.ok_or_else(not_found)?;
    if let Proof::Email(e) = proof {
        let email = Email::parse(e).map_err(|_| not_found())?;
        if booking.buyer_email != email.as_str() {
            return Err(not_found());
        }
    }
    Ok((booking, people))
}

/// When the buyer may still cancel a paid booking: the deadline, and whether it is still ahead.
pub async fn refund_deadline_of(state: &AppState, booking: &BookingRow, now: DateTime<Utc>) -> ApiResult<(DateTime<Utc>, bool)> {
    let mut conn = db::connection(&state.pool).await?;
    let details = db::catalogue::city_event(&mut conn, booking.city_event_id).await?.ok_or_else(not_found)?;
    // The policy as stored now (not a page's cached copy): it decides a refund.
    let days = db::facts::policies(&mut conn, details.event.masterclass_event_id).await?.unwrap_or_default().refund_window_days;
    let (start, zone) = (details.event.starts_at, details.event.time_zone);
    Ok((refund_deadline(start, zone, days), refund_window_open(start, zone, days, now)))
}

fn not_cancellable(status: BookingStatus) -> ApiError {
    ApiError::conflict("not_cancellable", format!("This booking cannot be cancelled: it is {}.", status.as_str()))
        .with_status(status.as_str())
}

/// Cancels the booking as its buyer: returns its status afterwards (`cancelled` or `refunded`).
pub async fn cancel(state: &AppState, booking: &BookingRow, proof: Proof<'_>) -> ApiResult<BookingStatus> {
    match booking.status {
        BookingStatus::Held => release_hold(state, booking, proof).await,
        BookingStatus::Confirmed => {
            if matches!(proof, Proof::Email(_)) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "token_required",
                    "Refunding a paid booking needs the token of the booking's link (in every e-mail).",
                ));
            }
            let (deadline, open) = refund_deadline_of(state, booking, Utc::now()).await?;
            if !open {
                let support = state.facts.get().organiser.support_email.clone();
                return Err(ApiError::conflict(
                    "refund_window_closed",
                    format!("The refund window closed on {}; write to {support} for help.", deadline.format("%Y-%m-%d %H:%M UTC")),
                )
                .with_status(BookingStatus::Confirmed.as_str()));
            }
            // On a task of its own: the advisory lock is released even if the client goes away.
            let (state2, booking2) = (state.clone(), booking.clone());
            actix_rt::spawn(async move { refund_once(&state2, &booking2).await }).await.map_err(|_| ApiError::internal())?
        }
        // Asking again after the refund is not an error: the answer is the same.
        BookingStatus::Refunded => Ok(BookingStatus::Refunded),
        other => Err(not_cancellable(other)),
    }
}

async fn release_hold(state: &AppState, booking: &BookingRow, proof: Proof<'_>) -> ApiResult<BookingStatus> {
    let handle = state.registry.handle(CityEventId(booking.city_event_id))?;
    match handle.cancel(booking.id).await {
        Ok(()) => Ok(BookingStatus::Cancelled),
        // The hold ended between the read and the actor's turn: report what it is now.
        Err(crate::actors::ReservationError::WrongStatus { .. }) => {
            let (now, _) = owned(state, &booking.reference, proof).await?;
            Err(not_cancellable(now.status))
        }
        Err(e) => Err(e.into()),
    }
}

/// One refund per booking however many ask at once: the holder of the booking's advisory lock
/// refunds; the others wait (without a connection) for the status it leaves.
async fn refund_once(state: &AppState, booking: &BookingRow) -> ApiResult<BookingStatus> {
    let mut conn = db::connection(&state.pool).await?;
    if db::bookings::try_lock_refund(&mut conn, booking.id).await? {
        let result = refund(state, booking).await;
        let unlocked = db::bookings::unlock_refund(&mut conn, booking.id).await;
        let status = result?;
        unlocked?;
        return Ok(status);
    }
    drop(conn);
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        match current_status(state, booking).await? {
            BookingStatus::Confirmed => {}
            status => return Ok(status),
        }
    }
    Err(ApiError::conflict("refund_in_progress", "A refund of this booking is under way; look again in a moment."))
}

async fn refund(state: &AppState, booking: &BookingRow) -> ApiResult<BookingStatus> {
    // Read again under the lock: an earlier holder may have refunded it already.
    let booking = match db::payments::booking(&mut *db::connection(&state.pool).await?, booking.id).await? {
        Some(b) if b.status == BookingStatus::Confirmed => b,
        Some(b) if b.status == BookingStatus::Refunded => return Ok(BookingStatus::Refunded),
        Some(b) => return Err(not_cancellable(b.status)),
        None => return Err(not_found()),
    };
    match state.payments.refund(&booking, None).await {
        Ok(outcome) => Ok(outcome.booking_status),
        // Refunded at Stripe already (another process, the dashboard): the status says the rest.
        Err(PaymentError::NotRefundable(_) | PaymentError::InvalidAmount(_)) => current_status(state, &booking).await,
        Err(e) => Err(e.into()),
    }
}

async fn current_status(state: &AppState, booking: &BookingRow) -> ApiResult<BookingStatus> {
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::payments::booking(&mut conn, booking.id).await?.map_or(BookingStatus::Cancelled, |b| b.status))
}

/// One seat's names as the buyer gives them, in seat order (no positions: one line per seat).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatNames {
    pub first_name: String,
    pub last_name: String,
    /// Left out: the seat keeps its address.
    #[serde(default)]
    pub email: Option<String>,
}

/// When the buyer may still change attendee names: the deadline, and whether it is still ahead.
pub async fn name_change_deadline_of(state: &AppState, booking: &BookingRow, now: DateTime<Utc>) -> ApiResult<(DateTime<Utc>, bool)> {
    let mut conn = db::connection(&state.pool).await?;
    let details = db::catalogue::city_event(&mut conn, booking.city_event_id).await?.ok_or_else(not_found)?;
    let days = db::facts::policies(&mut conn, details.event.masterclass_event_id).await?.unwrap_or_default().name_change_days;
    let deadline = name_change_deadline(details.event.starts_at, details.event.time_zone, days);
    Ok((deadline, now < deadline))
}

/// Renames a confirmed booking's attendees until the name-change deadline; every line is checked
/// (by the organiser's rules) before anything is written.
pub async fn rename(state: &AppState, booking: &BookingRow, people: &[AttendeeRow], seats: &[SeatNames]) -> ApiResult<()> {
    if booking.status != BookingStatus::Confirmed {
        return Err(
            ApiError::conflict("not_editable", "Only a confirmed booking's names can be changed.").with_status(booking.status.as_str())
        );
    }
    if seats.len() != people.len() {
        return Err(ApiError::unprocessable(
            "wrong_count",
            "attendees",
            format!("Give one line per seat: this booking has {}.", people.len()),
        ));
    }
    let (deadline, open) = name_change_deadline_of(state, booking, Utc::now()).await?;
    if !open {
        let support = state.facts.get().organiser.support_email.clone();
        return Err(ApiError::conflict(
            "name_change_closed",
            format!("Names could be changed until {}; write to {support} for help.", deadline.format("%Y-%m-%d %H:%M UTC")),
        )
        .with_status(booking.status.as_str()));
    }
    let edits: Vec<AttendeeEdit> = people
        .iter()
        .zip(seats)
        .map(|(a, s)| AttendeeEdit {
            position: a.position,
            first_name: Some(s.first_name.clone()),
            last_name: Some(s.last_name.clone()),
            email: s.email.clone().or_else(|| a.email.clone()),
        })
        .collect();
    let changes = attendees::check(people, &edits, true)?;
    attendees::write(&mut *db::connection(&state.pool).await?, booking.id, &changes).await
}
