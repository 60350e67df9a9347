//! Check-in at the door: a scanned ticket (the QR's signed token) or an attendee picked from the
//! door's search is marked present once; the answer says who, whether they already were (and
//! since when, in the venue's time), and the date's counts. Owners and staff both reach it.
//!
//! `POST /api/v1/admin/check-in` `{"token"}` or `{"attendee_id"}`, optionally `"city_event_id"`
//! (the date the door is for: a ticket for another date is refused, not checked in);
//! `GET /api/v1/admin/check-in/{city_event_id}` the counts; `…/search?q=` the door's search.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::session::AdminSession;
use crate::db::check_in::{self, AtDoor, Found};
use crate::db::{self};
use crate::domain::tokens::{verify_ticket_token, TicketTokenError};
use crate::domain::{AttendeeId, BookingStatus, Language};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// Tickets scan from the day before (early arrivals, a set-up evening) until the day after.
const OPENS_BEFORE: Duration = Duration::hours(24);
const CLOSES_AFTER: Duration = Duration::hours(24);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInRequest {
    /// The QR code's content.
    pub token: Option<String>,
    /// Or an attendee found by the door's search.
    pub attendee_id: Option<i64>,
    /// The date this door is for.
    pub city_event_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DoorAttendee {
    pub attendee_id: i64,
    /// `None` while the buyer has not named the seat.
    pub name: Option<String>,
    pub position: i32,
    pub booking_reference: String,
    pub city_event_id: i64,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// `8:41` / `8 h 41`, in the venue's zone.
    pub checked_in_at_local: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct DoorCounts {
    pub expected: i64,
    pub present: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInResult {
    pub attendee: DoorAttendee,
    /// `true` when an earlier scan had already checked them in (nothing changed).
    pub already_checked_in: bool,
    pub counts: DoorCounts,
}

fn door_attendee(a: &AtDoor, lang: Language) -> DoorAttendee {
    let local = a.checked_in_at.and_then(|at| {
        let tz = crate::domain::parse_time_zone(&a.time_zone).ok()?;
        let l = crate::i18n::locale(lang).ok()?;
        Some(l.time(at.with_timezone(&tz).time()))
    });
    DoorAttendee {
        attendee_id: a.attendee_id.0,
        name: match (&a.first_name, &a.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            _ => None,
        },
        position: a.position,
        booking_reference: a.reference.clone(),
        city_event_id: a.city_event_id,
        checked_in_at: a.checked_in_at,
        checked_in_at_local: local,
    }
}

/// Checks someone in; every refusal changes nothing.
pub async fn check_in(state: &AppState, who: &AdminSession, input: &CheckInRequest, lang: Language) -> ApiResult<CheckInResult> {
    let mut conn = db::connection(&state.pool).await?;
    let found = match (input.token.as_deref(), input.attendee_id) {
        (Some(token), _) => {
            let code = verify_ticket_token(state.settings.secret_key.expose(), token).map_err(|e| match e {
                TicketTokenError::Malformed => ApiError::unprocessable("not_a_ticket", "token", "This code is not a Billetterie ticket."),
                TicketTokenError::Forged => ApiError::unprocessable(
                    "ticket_forged",
                    "token",
                    "This ticket was not issued by this server: its signature does not match.",
                ),
            })?;
            match check_in::by_code(&mut conn, code).await? {
                Found::Ticket(a) => *a,
                Found::Voided(at) => {
                    return Err(ApiError::new(
                        actix_web::http::StatusCode::GONE,
                        "ticket_voided",
                        format!(
                            "This ticket was replaced by a newer one on {} (a name change): ask for the new ticket.",
                            at.format("%Y-%m-%d")
                        ),
                    )
                    .field("token"))
                }
                Found::Unknown => return Err(ApiError::not_found("ticket_unknown", "No seat holds this ticket.").field("token")),
            }
        }
        (None, Some(id)) => check_in::by_id(&mut conn, AttendeeId(id))
            .await?
            .ok_or_else(|| ApiError::not_found("attendee_not_found", "No attendee has this id.").field("attendee_id"))?,
        (None, None) => return Err(ApiError::unprocessable("missing_field", "token", "Give the ticket's token or an attendee_id.")),
    };
    if let Some(expected) = input.city_event_id {
        if expected != found.city_event_id {
            return Err(ApiError::conflict("wrong_date", "This ticket is for another date.").field("city_event_id"));
        }
    }
    if found.status != BookingStatus::Confirmed {
        return Err(ApiError::conflict("booking_not_confirmed", format!("This booking is {}: it admits nobody.", found.status)));
    }
    let now = Utc::now();
    if now < found.starts_at - OPENS_BEFORE {
        return Err(ApiError::conflict("too_early", "The check-in for this date opens the day before."));
    }
    if now > found.ends_at + CLOSES_AFTER {
        return Err(ApiError::new(actix_web::http::StatusCode::GONE, "ticket_expired", "This date is over: its tickets no longer admit."));
    }
    let (at, already) = check_in::mark_present(&mut conn, found.attendee_id, who.user_id, now).await?;
    let (expected, present) = check_in::counts(&mut conn, found.city_event_id).await?;
    if !already {
        tracing::info!(attendee = found.attendee_id.0, city_event = found.city_event_id, "checked in");
    }
    let attendee = AtDoor { checked_in_at: Some(at), ..found };
    Ok(CheckInResult { attendee: door_attendee(&attendee, lang), already_checked_in: already, counts: DoorCounts { expected, present } })
}

pub async fn counts(state: &AppState, city_event_id: i64) -> ApiResult<DoorCounts> {
    let mut conn = db::connection(&state.pool).await?;
    db::catalogue::city_event(&mut conn, city_event_id)
        .await?
        .ok_or_else(|| ApiError::not_found("city_event_not_found", "No date has this id."))?;
    let (expected, present) = check_in::counts(&mut conn, city_event_id).await?;
    Ok(DoorCounts { expected, present })
}

pub async fn search(state: &AppState, city_event_id: i64, query: &str, lang: Language) -> ApiResult<Vec<DoorAttendee>> {
    let q = query.trim();
    if q.chars().count() < 2 || q.chars().count() > 100 {
        return Err(ApiError::unprocessable("invalid_query", "q", "Type 2 to 100 characters of a name or booking reference."));
    }
    let mut conn = db::connection(&state.pool).await?;
    Ok(check_in::search(&mut conn, city_event_id, q, 20).await?.iter().map(|a| door_attendee(a, lang)).collect())
}

/// Closes a date's day: its J+1 mails (thanks, resources, feedback, the certificates of those
/// who came) leave now instead of tomorrow; `(mails claimed)`. Owners only (not under /check-in).
pub async fn close_day(state: &AppState, city_event_id: i64) -> ApiResult<usize> {
    let mut conn = db::connection(&state.pool).await?;
    let d = db::catalogue::city_event(&mut conn, city_event_id)
        .await?
        .ok_or_else(|| ApiError::not_found("city_event_not_found", "No date has this id."))?;
    if Utc::now() < d.event.starts_at {
        return Err(ApiError::conflict("day_not_started", "The day has not started: it can be closed once it has."));
    }
    let bookings = db::emails::confirmed_bookings_of(&mut conn, city_event_id).await?;
    let ids: Vec<_> = bookings.iter().map(|b| b.id).collect();
    let people = db::emails::attendees_of(&mut conn, &ids).await?;
    let rows = crate::email::dispatch::closing_mails(&bookings, &people, Utc::now());
    let claimed = db::emails::claim(&mut conn, &rows).await?;
    state.email_dispatcher.do_send(crate::actors::email::Dispatch);
    tracing::info!(city_event = city_event_id, claimed, "day closed");
    Ok(claimed)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayClosed {
    /// J+1 mails written now (0 when the day was already closed).
    pub mails: usize,
}

#[utoipa::path(post, path = "/api/v1/admin/city-events/{id}/close-day", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = DayClosed), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.close_day", skip_all)]
pub async fn post_close_day(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(no_store(DayClosed { mails: close_day(&state, *path).await? }))
}

// -- JSON API ------------------------------------------------------------------------------------------

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/check-in", web::post().to(post_check_in))
        .route("/check-in/{city_event_id}", web::get().to(get_counts))
        .route("/check-in/{city_event_id}/search", web::get().to(get_search))
        .route("/city-events/{id}/close-day", web::post().to(post_close_day));
}

fn no_store<T: Serialize>(body: T) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

#[utoipa::path(post, path = "/api/v1/admin/check-in", tag = "back office", security(("admin_session" = [])),
    request_body = CheckInRequest,
    responses((status = 200, body = CheckInResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.check_in", skip_all)]
pub async fn post_check_in(
    state: web::Data<AppState>,
    who: AdminSession,
    req: actix_web::HttpRequest,
    body: ApiJson<CheckInRequest>,
) -> ApiResult<HttpResponse> {
    let lang = crate::http::language::language_of(&req);
    Ok(no_store(check_in(&state, &who, &body.0, lang).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/check-in/{city_event_id}", tag = "back office", security(("admin_session" = [])),
    params(("city_event_id" = i64, Path)),
    responses((status = 200, body = DoorCounts), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.check_in_counts", skip_all)]
pub async fn get_counts(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(no_store(counts(&state, *path).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of a name or booking reference.
    pub q: String,
}

#[utoipa::path(get, path = "/api/v1/admin/check-in/{city_event_id}/search", tag = "back office", security(("admin_session" = [])),
    params(("city_event_id" = i64, Path), SearchQuery),
    responses((status = 200, body = [DoorAttendee]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.check_in_search", skip_all)]
pub async fn get_search(
    state: web::Data<AppState>,
    _who: AdminSession,
    req: actix_web::HttpRequest,
    path: web::Path<i64>,
    query: web::Query<SearchQuery>,
) -> ApiResult<HttpResponse> {
    let lang = crate::http::language::language_of(&req);
    Ok(no_store(search(&state, *path, &query.q, lang).await?))
}

#[derive(OpenApi)]
#[openapi(
    paths(post_check_in, get_counts, get_search, post_close_day),
    components(schemas(CheckInRequest, CheckInResult, DoorAttendee, DoorCounts, DayClosed))
)]
pub struct CheckInApiDoc;
