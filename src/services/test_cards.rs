//! The offline demo's test cards: a booking paid as a browser would pay it with Stripe.js, through
//! whatever plays Stripe (`state::TestCards`; only the local stand-in does).

use utoipa::ToSchema;

use crate::http::error::{ApiError, ApiResult};
use crate::state::{AppState, TestCards};

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct TestCardResult {
    pub payment_intent_id: String,
    /// Stripe's status for the intent: `succeeded`, `requires_payment_method` (declined), `requires_action`.
    pub status: String,
    /// Why the card was declined, if it was.
    pub decline_message: Option<String>,
    /// Stripe's machine-readable reason (`insufficient_funds`, `generic_decline`…), for text of our own.
    pub decline_code: Option<String>,
}

/// Pays the booking's intent with a test card, as Stripe.js would; shared by the API's test-card
/// endpoint and the website's test-card form.
pub async fn pay(
    state: &AppState,
    cards: &dyn TestCards,
    booking: &crate::db::models::BookingRow,
    card_number: &str,
) -> ApiResult<TestCardResult> {
    let digits: String = card_number.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if digits.len() < 12 || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::unprocessable("invalid_card_number", "card_number", "Enter a test card number such as 4242 4242 4242 4242."));
    }
    let intent = state.payments.create_intent(booking).await?;
    let (status, answer) = cards.confirm_card(&intent.payment_intent_id, &digits).await;
    let pi = if status == 200 { &answer } else { &answer["error"]["payment_intent"] };
    if pi.is_null() {
        let message = answer["error"]["message"].as_str().unwrap_or("This test card is not accepted.").to_owned();
        return Err(ApiError::unprocessable("invalid_card_number", "card_number", message));
    }
    Ok(TestCardResult {
        payment_intent_id: intent.payment_intent_id,
        status: pi["status"].as_str().unwrap_or_default().to_owned(),
        decline_message: pi["last_payment_error"]["message"].as_str().map(str::to_owned),
        decline_code: pi["last_payment_error"]["decline_code"].as_str().map(str::to_owned),
    })
}
