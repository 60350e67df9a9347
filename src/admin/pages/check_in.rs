//! The door's pages, for a phone: pick the date, then scan tickets (the camera, through
//! `static/check-in.js`) or type a ticket, a booking reference or a name. Without JavaScript the
//! form still works: a ticket checks in, anything else searches, and each result has its button.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{after, api_error_page, language, render, render_status, text, text_with};
use crate::admin::check_in::{self, CheckInRequest, DoorAttendee};
use crate::admin::session::{AdminForm, AdminSession};
use crate::db;
use crate::domain::{Language, SalesStatus};
use crate::http::error::ApiError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/check-in", web::get().to(dates))
        .route("/check-in/{id}", web::get().to(door))
        .route("/check-in/{id}", web::post().to(typed))
        .route("/check-in/{id}/attendees/{attendee_id}", web::post().to(picked))
        .route("/city-events/{id}/close-day", web::post().to(close_day));
}

/// The dates a door may be open for: not cancelled, not over for more than a day.
#[tracing::instrument(name = "admin.pages.check_in.dates", skip_all)]
pub async fn dates(req: HttpRequest, state: web::Data<AppState>, who: AdminSession) -> HttpResponse {
    let lang = language(&req);
    let events = match db::connection(&state.pool).await {
        Ok(mut conn) => db::catalogue::city_events(&mut conn).await.map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    let events = match events {
        Ok(e) => e,
        Err(e) => return api_error_page(&req, &state, &who, e),
    };
    let since = Utc::now() - Duration::days(1);
    let mut open: Vec<_> = events.iter().filter(|d| d.event.status != SalesStatus::Cancelled && d.event.ends_at > since).collect();
    open.sort_by_key(|d| d.event.starts_at);
    let body = json!({
        "dates": open.iter().map(|d| json!({
            "id": d.event.id,
            "city": if lang == Language::En { &d.city.name_en } else { &d.city.name_fr },
            "venue": d.venue.name,
            "date": crate::i18n::locale(lang).map(|l| l.date(d.event.starts_at.with_timezone(&d.event.time_zone).date_naive())).unwrap_or_default(),
        })).collect::<Vec<_>>(),
    });
    render(&req, &state, Some(&who), "check_in_dates", "check_in", &text(lang, "check_in.title"), body)
}

/// What the door's page shows: the date, its counts, and the outcome of the last action.
async fn page(
    req: &HttpRequest,
    state: &AppState,
    who: &AdminSession,
    id: i64,
    status: StatusCode,
    outcome: Value,
    found: Vec<DoorAttendee>,
) -> HttpResponse {
    let lang = language(req);
    let details = match db::connection(&state.pool).await {
        Ok(mut conn) => db::catalogue::city_event(&mut conn, id).await.map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    let d = match details {
        Ok(Some(d)) => d,
        Ok(None) => return api_error_page(req, state, who, ApiError::not_found("city_event_not_found", "No date has this id.")),
        Err(e) => return api_error_page(req, state, who, e),
    };
    let counts = match check_in::counts(state, id).await {
        Ok(c) => c,
        Err(e) => return api_error_page(req, state, who, e),
    };
    let city = if lang == Language::En { &d.city.name_en } else { &d.city.name_fr };
    let date =
        crate::i18n::locale(lang).map(|l| l.date(d.event.starts_at.with_timezone(&d.event.time_zone).date_naive())).unwrap_or_default();
    let body = json!({
        "id": id,
        "city": city,
        "venue": d.venue.name,
        "date": date,
        "expected": counts.expected,
        "present": counts.present,
        "outcome": outcome,
        "has_outcome": !outcome.is_null(),
        "found": found.iter().map(|a| json!({
            "attendee_id": a.attendee_id,
            "name": a.name.clone().unwrap_or_else(|| text(lang, "check_in.name_to_come")),
            "reference": a.booking_reference,
            "position": a.position,
            "present": a.checked_in_at_local.clone().unwrap_or_default(),
            "is_present": a.checked_in_at.is_some(),
        })).collect::<Vec<_>>(),
        "searched": !found.is_empty(),
        "script": crate::http::assets::assets().url("check-in.js"),
        "decoder": crate::http::assets::assets().url("jsQR.js"),
    });
    let title = format!("{} — {city}", text(lang, "check_in.title"));
    render_status(req, state, Some(who), status, "check_in", "check_in", &title, body)
}

#[tracing::instrument(name = "admin.pages.check_in.door", skip_all)]
pub async fn door(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> HttpResponse {
    page(&req, &state, &who, *path, StatusCode::OK, Value::Null, Vec::new()).await
}

#[derive(Debug, Deserialize)]
pub struct Typed {
    #[serde(default)]
    q: String,
}

/// The outcome of a check-in, as the page words it.
fn outcome(lang: Language, result: &Result<check_in::CheckInResult, ApiError>) -> (StatusCode, Value) {
    match result {
        Ok(r) => {
            let name = r.attendee.name.clone().unwrap_or_else(|| text(lang, "check_in.name_to_come"));
            let time = r.attendee.checked_in_at_local.clone().unwrap_or_default();
            let (key, kind) = if r.already_checked_in { ("check_in.already", "already") } else { ("check_in.done", "done") };
            let vars = json!({ "name": name, "time": time, "reference": r.attendee.booking_reference });
            (StatusCode::OK, json!({ "kind": kind, "message": text_with(lang, key, &vars) }))
        }
        Err(e) => {
            e.log();
            let known = [
                "not_a_ticket",
                "ticket_forged",
                "ticket_voided",
                "ticket_unknown",
                "wrong_date",
                "booking_not_confirmed",
                "too_early",
                "ticket_expired",
            ];
            let message = if known.contains(&e.detail.code) {
                text(lang, &format!("check_in.refusals.{}", e.detail.code))
            } else {
                format!("{} ({})", text(lang, "errors.generic"), e.detail.code)
            };
            (e.status, json!({ "kind": "refused", "message": message }))
        }
    }
}

/// A typed ticket checks in; a reference or a name searches.
#[tracing::instrument(name = "admin.pages.check_in.typed", skip_all)]
pub async fn typed(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<i64>,
    form: AdminForm<Typed>,
) -> HttpResponse {
    let (lang, id, q) = (language(&req), *path, form.0.q.trim().to_owned());
    if q.starts_with("BLT1.") {
        let input = CheckInRequest { token: Some(q), attendee_id: None, city_event_id: Some(id) };
        let (status, o) = outcome(lang, &check_in::check_in(&state, &who, &input, lang).await);
        return page(&req, &state, &who, id, status, o, Vec::new()).await;
    }
    match check_in::search(&state, id, &q, lang).await {
        Ok(found) if found.is_empty() => {
            let o = json!({ "kind": "refused", "message": text_with(lang, "check_in.nobody", &json!({ "q": q })) });
            page(&req, &state, &who, id, StatusCode::OK, o, found).await
        }
        Ok(found) => page(&req, &state, &who, id, StatusCode::OK, Value::Null, found).await,
        Err(e) => {
            let o = json!({ "kind": "refused", "message": text(lang, "check_in.refusals.invalid_query") });
            page(&req, &state, &who, id, e.status, o, Vec::new()).await
        }
    }
}

/// An attendee picked from the search.
#[tracing::instrument(name = "admin.pages.check_in.picked", skip_all)]
pub async fn picked(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<(i64, i64)>,
    _form: AdminForm<super::Empty>,
) -> HttpResponse {
    let (lang, (id, attendee_id)) = (language(&req), path.into_inner());
    let input = CheckInRequest { token: None, attendee_id: Some(attendee_id), city_event_id: Some(id) };
    let (status, o) = outcome(lang, &check_in::check_in(&state, &who, &input, lang).await);
    page(&req, &state, &who, id, status, o, Vec::new()).await
}

/// The owner closes the day from the door's page: the J+1 mails leave now.
#[tracing::instrument(name = "admin.pages.check_in.close_day", skip_all)]
pub async fn close_day(
    state: web::Data<AppState>,
    _who: AdminSession,
    path: web::Path<i64>,
    _form: AdminForm<super::Empty>,
) -> HttpResponse {
    let id = *path;
    after(&format!("/admin/check-in/{id}"), check_in::close_day(&state, id).await.map(drop), "day_closed")
}
