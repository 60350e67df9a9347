//! A buyer's rights over their booking's personal data: read it all, or erase it.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::bookings::{owned_booking_row, EmailProof, EmailQuery};
use super::views::{AttendeeView, BuyerView};
use crate::db;
use crate::db::privacy::{MailRecord, PaymentRecord};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// Everything held about a booking that concerns a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalData {
    pub reference: String,
    pub generated_at: DateTime<Utc>,
    pub buyer: BuyerView,
    /// Self-assessed experience with ACT, asked to adapt the day.
    pub act_experience: String,
    pub language: String,
    pub attendees: Vec<AttendeeView>,
    /// Mails sent or planned for this booking, with opens and clicks when tracked.
    pub emails: Vec<MailRecord>,
    /// Payment records (held by Stripe: card details never reach us).
    pub payments: Vec<PaymentRecord>,
    /// Why the data is held and for how long.
    pub purposes: String,
    pub retention: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Erased {
    pub reference: String,
    pub erased: bool,
    /// What was kept, and why.
    pub kept: String,
}

/// All personal data held about a booking (the buyer's e-mail is the proof of ownership).
#[utoipa::path(get, path = "/api/v1/bookings/{reference}/personal-data", tag = "privacy",
    params(("reference" = String, Path, example = "TOR-7KQ2-M9XD"), EmailQuery),
    responses((status = 200, body = PersonalData), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "api.privacy.personal_data", skip_all)]
pub async fn personal_data(state: web::Data<AppState>, path: web::Path<String>, query: web::Query<EmailQuery>) -> ApiResult<HttpResponse> {
    let (booking, people) = owned_booking_row(&state, &path, &query.email).await?;
    let mut conn = db::connection(&state.pool).await?;
    let emails = db::privacy::mails_of(&mut conn, booking.id).await?;
    let payments = db::privacy::payments_of(&mut conn, booking.id).await?;
    let body = PersonalData {
        reference: booking.reference,
        generated_at: Utc::now(),
        buyer: BuyerView {
            first_name: booking.buyer_first_name,
            last_name: booking.buyer_last_name,
            email: booking.buyer_email,
            phone: booking.buyer_phone,
        },
        act_experience: booking.act_experience,
        language: booking.language,
        attendees: people
            .into_iter()
            .map(|a| AttendeeView { position: a.position, first_name: a.first_name, last_name: a.last_name, email: a.email })
            .collect(),
        emails,
        payments,
        purposes: "To hold and sell seats, take payment, send the booking's confirmation, reminders and follow-up, and welcome \
                   the attendees on the day."
            .into(),
        retention: format!(
            "Names, e-mail addresses and phone numbers are anonymised {} days after the event ends, or at once on request \
             (POST /api/v1/bookings/{{reference}}/erase). Amounts, taxes and payments are kept for the accounts.",
            state.settings.retention_days
        ),
    };
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(body))
}

/// Erase a booking's personal data: names, e-mail addresses and phone numbers become placeholders;
/// amounts, taxes and payments stay. A held booking must be cancelled (or expire) first.
#[utoipa::path(post, path = "/api/v1/bookings/{reference}/erase", tag = "privacy", request_body = EmailProof,
    params(("reference" = String, Path, example = "TOR-7KQ2-M9XD")),
    responses((status = 200, body = Erased), (status = 404, body = ErrorBody), (status = 409, description = "not_erasable: the booking is held", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "api.privacy.erase", skip_all)]
pub async fn erase(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: crate::http::extract::ApiJson<EmailProof>,
) -> ApiResult<HttpResponse> {
    let (booking, _) = owned_booking_row(&state, &path, &body.0.email).await?;
    let mut conn = db::connection(&state.pool).await?;
    let done = db::privacy::anonymise(&mut conn, &[booking.id]).await?;
    if done.is_empty() {
        return Err(ApiError::conflict("not_erasable", "This booking is still held: cancel it first, or wait until its hold ends.")
            .with_status("held"));
    }
    tracing::info!(booking = %booking.reference, "personal data erased on request");
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(Erased {
        reference: booking.reference,
        erased: true,
        kept: "Amounts, taxes, payment records and the booking's status, for the accounts.".into(),
    }))
}
