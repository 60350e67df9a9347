use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::bookings::owned_booking_row;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::payments::IntentView;
use crate::services::test_cards::{self, TestCardResult};
use crate::state::AppState;

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
        (status = 502, description = "payment_provider_error: Stripe refused the request", body = ErrorBody),
        (status = 503, description = "Stripe or the database is unavailable; see Retry-After", body = ErrorBody)))]
#[tracing::instrument(name = "payments.create_intent", skip_all)]
pub async fn create_intent(state: web::Data<AppState>, body: ApiJson<CreateIntentRequest>) -> ApiResult<HttpResponse> {
    let (booking, _) = owned_booking_row(&state, &body.0.reference, &body.0.email).await?;
    let view = state.payments.create_intent(&booking).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCardRequest {
    pub reference: String,
    pub email: String,
    /// One of Stripe's test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 9995 is declined
    /// (insufficient funds), 4000 0025 0000 3155 requires authentication.
    #[schema(example = "4242 4242 4242 4242")]
    pub card_number: String,
}

/// **Offline demo and tests only** (404 when real Stripe keys are configured): pays a booking's
/// intent with a Stripe test card through the local Stripe stand-in, as Stripe.js would. The
/// booking is then confirmed by the signed webhook, exactly as with Stripe.
#[utoipa::path(post, path = "/api/v1/payments/test-card", tag = "payments", request_body = TestCardRequest,
    responses((status = 200, body = TestCardResult), (status = 404, body = ErrorBody), (status = 409, description = "not_payable", body = ErrorBody),
        (status = 422, description = "invalid_card_number or an invalid body", body = ErrorBody),
        (status = 502, description = "payment_provider_error", body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "api.payments.test_card", skip_all)]
pub async fn test_card(state: web::Data<AppState>, body: ApiJson<TestCardRequest>) -> ApiResult<HttpResponse> {
    let Some(cards) = state.test_cards.as_deref() else {
        return Err(ApiError::not_found("route_not_found", "Test cards are only accepted by the offline demo."));
    };
    let (booking, _) = owned_booking_row(&state, &body.0.reference, &body.0.email).await?;
    let result = test_cards::pay(&state, cards, &booking, &body.0.card_number).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(result))
}
