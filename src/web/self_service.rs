//! The buyer's cancellation on the "my booking" page (the confirmation page of the signed link in
//! every mail): the Cancel button inside the refund window, why not and whom to write to outside
//! it, and the button's form (CSRF, no JavaScript needed). The work is `services::self_service`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};

use super::booking_form::FormValues;
use super::checkout::KeyQuery;
use super::i18n;
use super::page::PageError;
use crate::db::catalogue::CityEventDetails;
use crate::db::models::{AttendeeRow, BookingRow};
use crate::domain::refund_window::{name_change_deadline, refund_deadline, refund_window_open};
use crate::domain::Language;
use crate::http::csrf;
use crate::http::redirect::see_other;
use crate::services::self_service::{self, Proof, SeatNames};
use crate::state::AppState;

/// The cancel address of a booking's page.
pub fn cancel_path(reference: &str, key: &str, lang: Language) -> String {
    format!("/{}/confirmation/{reference}/cancel?k={key}", lang.as_str())
}

/// What the confirmed booking's page says about cancelling: `open` (with the form's action) and
/// the sentence with the deadline in the venue's time, or why not and whom to write to.
pub fn cancel_section(
    state: &AppState,
    lang: Language,
    booking: &BookingRow,
    details: &CityEventDetails,
    key: &str,
) -> Result<Value, PageError> {
    let facts = state.facts.get();
    let days = facts.policies(details.event.masterclass_event_id).refund_window_days;
    let (start, zone) = (details.event.starts_at, details.event.time_zone);
    let deadline = refund_deadline(start, zone, days).with_timezone(&zone);
    let when = i18n::formats(lang)?.date_time(&deadline);
    let days_text = days.to_string();
    let support = facts.organiser.support_email.as_str();
    let vars = [("deadline", when.as_str()), ("days", days_text.as_str()), ("support_email", support)];
    Ok(if refund_window_open(start, zone, days, Utc::now()) {
        json!({
            "open": true,
            "action": cancel_path(&booking.reference, key, lang),
            "text": i18n::text(lang, "confirmation.cancel_text", &vars),
        })
    } else {
        json!({ "open": false, "text": i18n::text(lang, "confirmation.cancel_closed", &vars), "support_email": support })
    })
}

/// The Cancel button: releases or refunds, then back to the booking's page, which shows the
/// outcome (refunded, or why it could not be).
#[tracing::instrument(name = "web.self_service.cancel", skip_all)]
pub async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    query: web::Query<KeyQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let values = FormValues::parse(&body).unwrap_or_default();
    if csrf::verify(&req, state.settings.secret_key.expose(), values.get(csrf::FIELD)).is_err() {
        return Err(PageError { lang, status: StatusCode::FORBIDDEN, retry_after: None });
    }
    let proof = Proof::Key(query.key());
    let (booking, _) = self_service::owned(&state, &path.0, proof).await.map_err(|_| PageError::not_found(lang))?;
    match self_service::cancel(&state, &booking, proof).await {
        // A conflict (window closed, already cancelled) is what the page explains.
        Ok(_) => {}
        Err(e) if e.status == StatusCode::CONFLICT => {}
        Err(e) => return Err(PageError::from_api(lang, e)),
    }
    Ok(see_other(super::paths::confirmation(&booking.reference, query.key(), lang)))
}

/// The name-change address of a booking's page.
pub fn names_path(reference: &str, key: &str, lang: Language) -> String {
    format!("/{}/confirmation/{reference}/attendees?k={key}", lang.as_str())
}

/// The notices the name form's redirect may ask for; anything else shows nothing.
const NAME_NOTICES: [&str; 3] = ["names_saved", "names_refused", "names_closed"];

/// What the confirmed booking's page says about attendee names: the form (one line per seat)
/// until the deadline, or until when they could be changed and whom to write to.
pub fn names_section(
    state: &AppState,
    lang: Language,
    booking: &BookingRow,
    people: &[AttendeeRow],
    details: &CityEventDetails,
    query: &KeyQuery,
) -> Result<Value, PageError> {
    let facts = state.facts.get();
    let days = facts.policies(details.event.masterclass_event_id).name_change_days;
    let deadline = name_change_deadline(details.event.starts_at, details.event.time_zone, days);
    let when = i18n::formats(lang)?.date_time(&deadline.with_timezone(&details.event.time_zone));
    let days_text = days.to_string();
    let support = facts.organiser.support_email.as_str();
    let vars = [("deadline", when.as_str()), ("days", days_text.as_str()), ("support_email", support)];
    let notice = query.notice().filter(|n| NAME_NOTICES.contains(n)).map(|n| match (n, query.seat()) {
        // The seat whose names were refused, in the page's language.
        ("names_refused", Some(seat)) => i18n::text(lang, "confirmation.names_refused_seat", &[("seat", seat.to_string().as_str())]),
        _ => i18n::text(lang, &format!("confirmation.{n}"), &[]),
    });
    Ok(if Utc::now() < deadline {
        let seats: Vec<Value> = people
            .iter()
            .enumerate()
            .map(|(i, a)| json!({"n": i + 1, "i": i, "first_name": a.first_name, "last_name": a.last_name}))
            .collect();
        json!({
            "open": true,
            "action": names_path(&booking.reference, query.key(), lang),
            "text": i18n::text(lang, "confirmation.names_text", &vars),
            "seats": seats,
            "notice": notice,
        })
    } else {
        json!({
            "open": false,
            "text": i18n::text(lang, "confirmation.names_closed_text", &vars),
            "support_email": support,
            "notice": notice,
        })
    })
}

/// The name form's Save: writes every line or none, then back to the booking's page with a
/// notice (saved, refused, too late).
#[tracing::instrument(name = "web.self_service.rename", skip_all)]
pub async fn rename(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    query: web::Query<KeyQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let values = FormValues::parse(&body).unwrap_or_default();
    if csrf::verify(&req, state.settings.secret_key.expose(), values.get(csrf::FIELD)).is_err() {
        return Err(PageError { lang, status: StatusCode::FORBIDDEN, retry_after: None });
    }
    let proof = Proof::Key(query.key());
    let (booking, people) = self_service::owned(&state, &path.0, proof).await.map_err(|_| PageError::not_found(lang))?;
    let seats: Vec<SeatNames> = (0..people.len())
        .map(|i| SeatNames {
            first_name: values.get(&format!("first_name_{i}")).to_owned(),
            last_name: values.get(&format!("last_name_{i}")).to_owned(),
            email: None,
        })
        .collect();
    let notice = match self_service::rename(&state, &booking, &people, &seats).await {
        Ok(()) => "names_saved".to_owned(),
        Err(e) if e.status == StatusCode::CONFLICT => "names_closed".to_owned(),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            // `attendees[1].last_name` → seat 2.
            let seat = e.detail.field.as_deref().and_then(|f| f.strip_prefix("attendees[")?.split(']').next()?.parse::<u32>().ok());
            match seat {
                Some(n) => format!("names_refused&seat={}", n + 1),
                None => "names_refused".to_owned(),
            }
        }
        Err(e) => return Err(PageError::from_api(lang, e)),
    };
    let back = super::paths::confirmation(&booking.reference, query.key(), lang);
    Ok(see_other(format!("{back}&notice={notice}#attendee-names")))
}
