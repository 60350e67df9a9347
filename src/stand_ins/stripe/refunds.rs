//! The refund endpoint: full or partial, by PaymentIntent or by charge.

use actix_web::http::StatusCode;

use super::form::{check_known, enum_param, int_param, metadata_param, str_param, Params};
use super::objects::{new_id, now_unix, to_json, IntentStatus, Refund};
use super::router::{no_such, no_such_intent, Reply};
use super::state::{Inner, Origin};

pub(super) fn create_refund(inner: &mut Inner, params: &Params, origin: &Origin) -> Reply {
    let known = ["payment_intent", "charge", "amount", "reason", "metadata", "expand"];
    let parsed = (|| {
        check_known(params, &known)?;
        let intent = str_param(params, &["payment_intent"])?;
        let charge = str_param(params, &["charge"])?;
        let amount = int_param(params, "amount")?;
        if amount.is_some_and(|a| a < 1) {
            return Err(Reply::invalid(Some("parameter_invalid_integer"), Some("amount"), "Invalid positive integer"));
        }
        let reason = enum_param(params, "reason", &["duplicate", "fraudulent", "requested_by_customer"])?;
        let metadata = metadata_param(params)?;
        Ok((intent, charge, amount, reason, metadata))
    })();
    let (intent_id, charge_id, amount, reason, metadata) = match parsed {
        Ok(parsed) => parsed,
        Err(reply) => return reply,
    };
    // Find the charge to refund: the intent's successful charge, or the one named.
    let charge_id = match (intent_id, charge_id) {
        (None, None) => {
            return Reply::invalid(
                Some("parameter_missing"),
                None,
                "One of the following params should be provided for this request: payment_intent or charge.",
            )
        }
        (Some(intent_id), named) => {
            let Some(intent) = inner.intent_index.get(intent_id).and_then(|&i| inner.intents.get(i)) else {
                return no_such_intent(intent_id, StatusCode::BAD_REQUEST, "payment_intent");
            };
            let latest = match (&intent.latest_charge, intent.status) {
                (Some(latest), IntentStatus::Succeeded) => latest.clone(),
                _ => {
                    let message = format!("This PaymentIntent ({intent_id}) does not have a successful charge to refund.");
                    return Reply::error(StatusCode::BAD_REQUEST, "invalid_request_error", Some("charge_not_refundable"), message, None);
                }
            };
            if let Some(named) = named.filter(|named| *named != latest) {
                let message = format!("The charge {named} does not belong to the PaymentIntent {intent_id}.");
                return Reply::invalid(None, Some("charge"), message);
            }
            latest
        }
        (None, Some(named)) => named.to_owned(),
    };
    let Some(charge) = inner.charges.get_mut(&charge_id) else {
        return no_such("charge", &charge_id, StatusCode::BAD_REQUEST, "charge");
    };
    let remaining = charge.amount - charge.amount_refunded;
    if remaining <= 0 {
        let message = format!("Charge {} has already been refunded.", charge.id);
        return Reply::error(StatusCode::BAD_REQUEST, "invalid_request_error", Some("charge_already_refunded"), message, None);
    }
    let amount = amount.unwrap_or(remaining);
    if amount > remaining {
        let message = format!(
            "Refund amount ({}) is greater than unrefunded amount on charge ({}).",
            format_money(amount, &charge.currency),
            format_money(remaining, &charge.currency)
        );
        return Reply::error(StatusCode::BAD_REQUEST, "invalid_request_error", Some("amount_too_large"), message, Some("amount"));
    }
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded == charge.amount;
    let refund = Refund {
        id: new_id("re"),
        object: "refund",
        amount,
        charge: charge.id.clone(),
        created: now_unix(),
        currency: charge.currency.clone(),
        metadata,
        payment_intent: charge.payment_intent.clone(),
        reason,
        status: "succeeded",
    };
    let charge_json = to_json(charge);
    let refund_json = to_json(&refund);
    inner.refunds.insert(refund.id.clone(), refund);
    inner.emit("charge.refunded", charge_json, origin);
    Reply::ok(refund_json)
}

pub(super) fn format_money(cents: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", cents / 100, cents % 100)
}
