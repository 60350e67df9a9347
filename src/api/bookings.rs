use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::views::{BookingCreated, BookingView};
use crate::actors::city_event::HoldReceipt;
use crate::db;
use crate::db::models::{AttendeeRow, BookingRow};
use crate::domain::booking_request::{BookingRequest, RawBookingRequest};
use crate::domain::{BookingReference, BookingStatus, Email};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::services::bookings;
use crate::state::AppState;

/// Hold seats for a new booking. Answers after the hold is committed.
#[utoipa::path(post, path = "/api/v1/bookings/create", tag = "bookings", request_body = RawBookingRequest,
    responses(
        (status = 201, body = BookingCreated),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "Unknown city event", body = ErrorBody),
        (status = 409, description = "sold_out, not_enough_seats or sales_closed", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "A field is missing or invalid", body = ErrorBody),
        (status = 429, description = "busy: too many requests for this city event, or rate_limited: too many from this address; see Retry-After", body = ErrorBody),
        (status = 503, description = "Briefly unavailable; see Retry-After", body = ErrorBody)))]
#[tracing::instrument(name = "bookings.create", skip_all, fields(city_event_id, quantity))]
pub async fn create(state: web::Data<AppState>, req: HttpRequest, body: ApiJson<RawBookingRequest>) -> ApiResult<HttpResponse> {
    count_hold(create_booking(&state, &req, body.0).await)
}

#[tracing::instrument(name = "api.bookings.create_booking", skip_all)]
async fn create_booking(state: &AppState, req: &HttpRequest, body: RawBookingRequest) -> ApiResult<HttpResponse> {
    let request = parse_booking(state, req, body)?;
    let receipt = bookings::hold(state, &request).await?;
    Ok(created(&request, &receipt))
}

/// Counts a creation's outcome (`holds_total{outcome}`) and passes it on.
pub fn count_hold(result: ApiResult<HttpResponse>) -> ApiResult<HttpResponse> {
    let outcome = match &result {
        Ok(_) => "held",
        Err(e) => e.detail.code,
    };
    // Codes are a closed set chosen by the server, so the label's cardinality stays small.
    crate::metrics::metrics().holds.with_label_values(&[outcome]).inc();
    result
}

/// The client's rate, then the body parsed into a request (recorded on the request's span).
pub fn parse_booking(state: &AppState, req: &HttpRequest, body: RawBookingRequest) -> ApiResult<BookingRequest> {
    bookings::check_booking_rate(state, req)?;
    let request = body.parse(state.settings.max_quantity_per_booking)?;
    tracing::Span::current().record("city_event_id", request.city_event_id.0).record("quantity", request.quantity.get());
    Ok(request)
}

/// `201 Created` with the hold's receipt.
pub fn created(request: &BookingRequest, receipt: &HoldReceipt) -> HttpResponse {
    let q = &receipt.quote;
    let tier = serde_json::to_value(q.tier).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    HttpResponse::Created().insert_header(("Cache-Control", "no-store")).json(BookingCreated {
        booking_id: receipt.booking_id,
        reference: receipt.reference.clone(),
        status: BookingStatus::Held,
        city_event_id: request.city_event_id.0,
        quantity: request.quantity.as_i32(),
        price_tier: tier,
        unit_price_cents: q.unit_price.0,
        subtotal_cents: q.subtotal.0,
        discount_cents: q.discount.0,
        taxes: q.taxes.clone(),
        total_cents: q.total.0,
        currency: "CAD".into(),
        hold_expires_at: receipt.expires_at,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmailQuery {
    /// The buyer's e-mail address: the proof of ownership.
    pub email: String,
}

/// The buyer's e-mail address in a body: the proof of ownership (erasure).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailProof {
    pub email: String,
}

/// The proof that the booking is the caller's: `token`, the `k` of the booking's link (in every
/// e-mail), for any cancellation; the buyer's `email` only releases a hold.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

fn not_found() -> ApiError {
    ApiError::not_found("booking_not_found", "No booking matches this reference and e-mail address.")
}

/// The booking if the reference exists and the e-mail is its buyer's; the same 404 otherwise, so
/// the endpoint reveals nothing about references it is not given the proof for.
pub(crate) async fn owned_booking_row(state: &AppState, reference: &str, email: &str) -> ApiResult<(BookingRow, Vec<AttendeeRow>)> {
    let reference = BookingReference::parse(reference).map_err(|_| not_found())?;
    let email = Email::parse(email).map_err(|_| not_found())?;
    let mut conn = db::connection(&state.pool).await?;
    let (booking, people) = db::bookings::by_reference(&mut conn, reference.as_str()).await?.ok_or_else(not_found)?;
    if booking.buyer_email != email.as_str() {
        return Err(not_found());
    }
    Ok((booking, people))
}

async fn owned_booking(state: &AppState, reference: &str, email: &str) -> ApiResult<BookingView> {
    let (booking, people) = owned_booking_row(state, reference, email).await?;
    Ok(BookingView::new(booking, people))
}

/// A booking and its status (`held`, `confirmed`, `cancelled`, `expired`, `refunded`).
#[utoipa::path(get, path = "/api/v1/bookings/{reference}", tag = "bookings",
    params(("reference" = String, Path, example = "TOR-7KQ2-M9XD"), EmailQuery),
    responses((status = 200, body = BookingView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "api.bookings.get", skip_all)]
pub async fn get(state: web::Data<AppState>, path: web::Path<String>, query: web::Query<EmailQuery>) -> ApiResult<HttpResponse> {
    let view = owned_booking(&state, &path, &query.email).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(view))
}

/// Cancel a booking as its buyer: a held booking's seats return at once; a paid one inside the
/// refund window (`refund_window_days` before the day, venue's time) is refunded in full through
/// Stripe and ends `refunded`. Asking again answers the same status and refunds nothing more.
#[utoipa::path(post, path = "/api/v1/bookings/{reference}/cancel", tag = "bookings", request_body = CancelRequest,
    params(("reference" = String, Path, example = "TOR-7KQ2-M9XD")),
    responses((status = 200, body = BookingView),
        (status = 403, description = "token_required: refunding a paid booking needs the link's token", body = ErrorBody),
        (status = 404, description = "booking_not_found: unknown reference or wrong proof (the same answer)", body = ErrorBody),
        (status = 409, description = "refund_window_closed, not_cancellable (cancelled or expired) or refund_in_progress", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, description = "busy: too many requests for this city event; see Retry-After", body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "api.bookings.cancel", skip_all)]
pub async fn cancel(state: web::Data<AppState>, path: web::Path<String>, body: ApiJson<CancelRequest>) -> ApiResult<HttpResponse> {
    use crate::services::self_service::{self, Proof};
    let proof = match (&body.0.token, &body.0.email) {
        (Some(t), _) => Proof::Key(t),
        (None, Some(e)) => Proof::Email(e),
        (None, None) => return Err(ApiError::unprocessable("missing_field", "token", "Give the token of the booking's link.")),
    };
    let (booking, _) = self_service::owned(&state, &path, proof).await?;
    self_service::cancel(&state, &booking, proof).await?;
    let (booking, people) = self_service::owned(&state, &path, proof).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(BookingView::new(booking, people)))
}

/// The buyer's new attendee names: `token` is the `k` of the booking's link, one line per seat.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    pub token: String,
    pub attendees: Vec<crate::services::self_service::SeatNames>,
}

/// Change the attendees' names (and addresses) of a confirmed booking as its buyer, until the
/// masterclass's `name_change_days` before the day (venue's time). Every line is checked before
/// anything is written.
#[utoipa::path(put, path = "/api/v1/bookings/{reference}/attendees", tag = "bookings", request_body = RenameRequest,
    params(("reference" = String, Path, example = "TOR-7KQ2-M9XD")),
    responses((status = 200, body = BookingView),
        (status = 404, description = "booking_not_found: unknown reference or wrong token (the same answer)", body = ErrorBody),
        (status = 409, description = "name_change_closed (past the deadline) or not_editable (not confirmed)", body = ErrorBody),
        (status = 422, description = "a name or address refused, naming the field (`attendees[1].last_name`), or not one line per seat", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "api.bookings.rename", skip_all)]
pub async fn rename(state: web::Data<AppState>, path: web::Path<String>, body: ApiJson<RenameRequest>) -> ApiResult<HttpResponse> {
    use crate::services::self_service::{self, Proof};
    let proof = Proof::Key(&body.0.token);
    let (booking, people) = self_service::owned(&state, &path, proof).await?;
    self_service::rename(&state, &booking, &people, &body.0.attendees).await?;
    let (booking, people) = self_service::owned(&state, &path, proof).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(BookingView::new(booking, people)))
}
