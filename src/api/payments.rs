use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::bookings::owned_booking_row;
use super::extract::ApiJson;
use super::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::payments::IntentView;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIntentRequest {
    #[schema(example = "HAL-7KQ2-M9XD")]
    pub reference: String,
    /// The buyer's e-mail: the proof of ownership.
    pub email: String,
}

/// The Stripe PaymentIntent for a held booking (created once; the same one on every call).
#[utoipa::path(post, path = "/api/v1/payments/create-intent", tag = "payments", request_body = CreateIntentRequest,
    responses(
        (status = 200, body = IntentView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not_payable: the booking is expired, cancelled or already paid (see `status`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "Stripe or the database is unavailable; see Retry-After", body = ErrorBody)))]
#[tracing::instrument(name = "payments.create_intent", skip_all)]
pub async fn create_intent(state: web::Data<AppState>, body: ApiJson<CreateIntentRequest>) -> ApiResult<HttpResponse> {
    let (booking, _) = owned_booking_row(&state, &body.0.reference, &body.0.email).await?;
    let view = state.payments.create_intent(&booking).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(view))
}
