//! The Stripe objects the stand-in keeps (PaymentIntent, Charge, Refund) as their JSON has them,
//! the test payment methods and card numbers, and Stripe-shaped ids.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::distr::Alphanumeric;
use rand::Rng;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum IntentStatus {
    RequiresPaymentMethod,
    RequiresAction,
    Succeeded,
    Canceled,
}

impl IntentStatus {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::RequiresPaymentMethod => "requires_payment_method",
            Self::RequiresAction => "requires_action",
            Self::Succeeded => "succeeded",
            Self::Canceled => "canceled",
        }
    }
}

#[derive(Clone, Serialize)]
pub(super) struct PaymentIntent {
    pub(super) id: String,
    pub(super) object: &'static str,
    pub(super) amount: i64,
    pub(super) amount_capturable: i64,
    pub(super) amount_received: i64,
    pub(super) automatic_payment_methods: Option<Value>,
    pub(super) canceled_at: Option<i64>,
    pub(super) cancellation_reason: Option<String>,
    pub(super) capture_method: String,
    pub(super) client_secret: String,
    pub(super) confirmation_method: &'static str,
    pub(super) created: i64,
    pub(super) currency: String,
    pub(super) description: Option<String>,
    pub(super) last_payment_error: Option<Value>,
    pub(super) latest_charge: Option<String>,
    pub(super) livemode: bool,
    pub(super) metadata: Map<String, Value>,
    pub(super) next_action: Option<Value>,
    pub(super) payment_method: Option<String>,
    pub(super) payment_method_types: Vec<String>,
    pub(super) receipt_email: Option<String>,
    pub(super) status: IntentStatus,
}

#[derive(Clone, Serialize)]
pub(super) struct Charge {
    pub(super) id: String,
    pub(super) object: &'static str,
    pub(super) amount: i64,
    pub(super) amount_captured: i64,
    pub(super) amount_refunded: i64,
    /// Stripe always sends it, every field null when the card form asked for none.
    pub(super) billing_details: BillingDetails,
    pub(super) captured: bool,
    pub(super) created: i64,
    pub(super) currency: String,
    pub(super) description: Option<String>,
    pub(super) disputed: bool,
    pub(super) livemode: bool,
    pub(super) metadata: Map<String, Value>,
    pub(super) paid: bool,
    pub(super) payment_intent: String,
    pub(super) payment_method: String,
    pub(super) receipt_email: Option<String>,
    pub(super) refunded: bool,
    pub(super) status: &'static str,
}

#[derive(Clone, Default, Serialize)]
pub(super) struct BillingDetails {
    pub(super) address: Option<Value>,
    pub(super) email: Option<String>,
    pub(super) name: Option<String>,
    pub(super) phone: Option<String>,
}

#[derive(Clone, Serialize)]
pub(super) struct Refund {
    pub(super) id: String,
    pub(super) object: &'static str,
    pub(super) amount: i64,
    pub(super) charge: String,
    pub(super) created: i64,
    pub(super) currency: String,
    pub(super) metadata: Map<String, Value>,
    pub(super) payment_intent: String,
    pub(super) reason: Option<String>,
    pub(super) status: &'static str,
}

pub(super) fn to_json<T: Serialize>(value: &T) -> Value {
    // Plain structs with string keys: serialization cannot fail.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// What a test payment method does when confirmed, per Stripe's testing documentation.
#[derive(Clone, Copy)]
pub(super) enum CardBehaviour {
    Succeeds,
    Declines { decline_code: &'static str, message: &'static str },
    RequiresAuthentication,
}

pub(super) const GENERIC_DECLINE: CardBehaviour =
    CardBehaviour::Declines { decline_code: "generic_decline", message: "Your card was declined." };
pub(super) const INSUFFICIENT_FUNDS: CardBehaviour =
    CardBehaviour::Declines { decline_code: "insufficient_funds", message: "Your card has insufficient funds." };

pub(super) fn test_payment_method(id: &str) -> Option<CardBehaviour> {
    Some(match id {
        "pm_card_visa" | "pm_card_mastercard" | "pm_card_amex" | "pm_card_visa_debit" => CardBehaviour::Succeeds,
        "pm_card_chargeDeclined" | "pm_card_visa_chargeDeclined" => GENERIC_DECLINE,
        "pm_card_chargeDeclinedInsufficientFunds" | "pm_card_visa_chargeDeclinedInsufficientFunds" => INSUFFICIENT_FUNDS,
        "pm_card_authenticationRequired" | "pm_card_threeDSecure2Required" => CardBehaviour::RequiresAuthentication,
        _ => return None,
    })
}

pub(super) fn test_card_number(number: &str) -> Option<CardBehaviour> {
    Some(match number {
        "4242424242424242" | "5555555555554444" | "4000056655665556" => CardBehaviour::Succeeds,
        "4000000000000002" => GENERIC_DECLINE,
        "4000000000009995" => INSUFFICIENT_FUNDS,
        "4000002500003155" | "4000002760003184" => CardBehaviour::RequiresAuthentication,
        _ => return None,
    })
}

/// A test card's PaymentMethod as Stripe shows it (in `last_payment_error`): the card's brand and
/// last four digits, no billing details asked.
pub(super) fn payment_method_json(id: &str) -> Value {
    let last4 = match id {
        "pm_card_chargeDeclined" | "pm_card_visa_chargeDeclined" => "0002",
        "pm_card_chargeDeclinedInsufficientFunds" | "pm_card_visa_chargeDeclinedInsufficientFunds" => "9995",
        "pm_card_authenticationRequired" | "pm_card_threeDSecure2Required" => "3155",
        _ => "4242",
    };
    serde_json::json!({
        "id": id,
        "object": "payment_method",
        "type": "card",
        "billing_details": to_json(&BillingDetails::default()),
        "card": {"brand": "visa", "exp_month": 12, "exp_year": 2034, "funding": "credit", "last4": last4, "country": "US"},
        "created": now_unix(),
        "livemode": false,
        "metadata": {},
    })
}

pub(super) fn random_alnum(len: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// Stripe-shaped identifiers: a type prefix and 24 random alphanumerics.
pub(super) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_alnum(24))
}

pub(super) fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
