//! PaymentIntent endpoints: create, confirm (test cards decide), cancel.

use actix_web::http::StatusCode;
use serde_json::json;

use super::form::{bool_param, check_known, enum_param, int_param, metadata_param, missing, str_param, Params};
use super::objects::{
    new_id, now_unix, payment_method_json, random_alnum, test_card_number, test_payment_method, to_json, BillingDetails, CardBehaviour,
    Charge, IntentStatus, PaymentIntent,
};
use super::router::{no_such, no_such_intent, unexpected_state, Reply};
use super::state::{Inner, Origin};

/// Stripe's limits, enforced so the app finds out here rather than in production.
pub(super) const MAX_AMOUNT: i64 = 99_999_999;

pub(super) fn create_intent(inner: &mut Inner, params: &Params, origin: &Origin) -> Reply {
    let known = [
        "amount",
        "currency",
        "metadata",
        "description",
        "receipt_email",
        "automatic_payment_methods",
        "payment_method_types",
        "capture_method",
        "statement_descriptor_suffix",
        "expand",
    ];
    let parsed = (|| {
        check_known(params, &known)?;
        let amount = int_param(params, "amount")?.ok_or_else(|| missing("amount"))?;
        if amount < 1 {
            return Err(Reply::invalid(
                Some("parameter_invalid_integer"),
                Some("amount"),
                "This value must be greater than or equal to 1.",
            ));
        }
        if amount > MAX_AMOUNT {
            return Err(Reply::invalid(Some("amount_too_large"), Some("amount"), format!("Amount must be no more than {MAX_AMOUNT}.")));
        }
        let currency = str_param(params, &["currency"])?.ok_or_else(|| missing("currency"))?.to_ascii_lowercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(Reply::invalid(None, Some("currency"), format!("Invalid currency: {currency}.")));
        }
        let receipt_email = str_param(params, &["receipt_email"])?.map(str::to_owned);
        if let Some(email) = &receipt_email {
            if !email.contains('@') {
                return Err(Reply::invalid(Some("email_invalid"), Some("receipt_email"), format!("Invalid email address: {email}")));
            }
        }
        let automatic = bool_param(params, &["automatic_payment_methods", "enabled"])?;
        if automatic == Some(true) && params.contains_key("payment_method_types") {
            return Err(Reply::invalid(
                Some("parameters_exclusive"),
                Some("payment_method_types"),
                "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
            ));
        }
        let capture_method = str_param(params, &["capture_method"])?.unwrap_or("automatic");
        if !matches!(capture_method, "automatic" | "automatic_async") {
            return Err(Reply::invalid(
                None,
                Some("capture_method"),
                "The Stripe stand-in only supports capture_method=automatic (or automatic_async).",
            ));
        }
        Ok(PaymentIntent {
            id: String::new(),
            object: "payment_intent",
            amount,
            amount_capturable: 0,
            amount_received: 0,
            automatic_payment_methods: automatic.map(|enabled| json!({"enabled": enabled, "allow_redirects": "always"})),
            canceled_at: None,
            cancellation_reason: None,
            capture_method: capture_method.to_owned(),
            client_secret: String::new(),
            confirmation_method: "automatic",
            created: now_unix(),
            currency,
            description: str_param(params, &["description"])?.map(str::to_owned),
            last_payment_error: None,
            latest_charge: None,
            livemode: false,
            metadata: metadata_param(params)?,
            next_action: None,
            payment_method: None,
            payment_method_types: vec!["card".to_owned()],
            receipt_email,
            status: IntentStatus::RequiresPaymentMethod,
        })
    })();
    let mut intent = match parsed {
        Ok(intent) => intent,
        Err(reply) => return reply,
    };
    intent.id = new_id("pi");
    intent.client_secret = format!("{}_secret_{}", intent.id, random_alnum(25));
    let json = to_json(&intent);
    inner.intent_index.insert(intent.id.clone(), inner.intents.len());
    inner.intents.push(intent);
    inner.emit("payment_intent.created", json.clone(), origin);
    Reply::ok(json)
}

pub(super) fn confirm_intent(inner: &mut Inner, id: &str, params: &Params, origin: &Origin) -> Reply {
    let known = ["payment_method", "payment_method_data", "return_url", "receipt_email", "off_session", "use_stripe_sdk", "expand"];
    let requested = (|| {
        check_known(params, &known)?;
        let receipt_email = str_param(params, &["receipt_email"])?.map(str::to_owned);
        if let Some(pm) = str_param(params, &["payment_method"])? {
            let behaviour =
                test_payment_method(pm).ok_or_else(|| no_such("PaymentMethod", pm, StatusCode::BAD_REQUEST, "payment_method"))?;
            return Ok((Some((pm.to_owned(), behaviour)), receipt_email));
        }
        if let Some(number) = str_param(params, &["payment_method_data", "card", "number"])? {
            let number: String = number.chars().filter(|c| !c.is_whitespace()).collect();
            let behaviour = test_card_number(&number).ok_or_else(|| {
                Reply::invalid(
                    Some("incorrect_number"),
                    Some("payment_method_data[card][number]"),
                    "The Stripe stand-in only knows Stripe's test card numbers (4242424242424242, 4000000000000002, \
                     4000000000009995, 4000002500003155, …).",
                )
            })?;
            return Ok((Some((new_id("pm"), behaviour)), receipt_email));
        }
        Ok((None, receipt_email))
    })();
    let (payment_method, receipt_email) = match requested {
        Ok(requested) => requested,
        Err(reply) => return reply,
    };
    let Some(intent) = inner.intent_mut(id) else {
        return no_such_intent(id, StatusCode::NOT_FOUND, "intent");
    };
    match intent.status {
        IntentStatus::Succeeded => {
            let message = "You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.";
            return unexpected_state(message.to_owned(), intent);
        }
        IntentStatus::Canceled => {
            let message = "You cannot confirm this PaymentIntent because it has a status of canceled. Only a PaymentIntent with one of \
                           the following statuses may be confirmed: requires_confirmation, requires_payment_method, requires_action.";
            return unexpected_state(message.to_owned(), intent);
        }
        IntentStatus::RequiresPaymentMethod | IntentStatus::RequiresAction => {}
    }
    // Confirming again without a payment method while authentication is pending stands for the
    // customer completing 3D Secure.
    let (payment_method, behaviour) = match (payment_method, intent.status, intent.payment_method.clone()) {
        (Some(requested), _, _) => requested,
        (None, IntentStatus::RequiresAction, Some(pending)) => (pending, CardBehaviour::Succeeds),
        (None, _, _) => {
            let message = "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent \
                           with a payment method, pass `payment_method`.";
            return unexpected_state(message.to_owned(), intent);
        }
    };
    if receipt_email.is_some() {
        intent.receipt_email = receipt_email;
    }
    match behaviour {
        CardBehaviour::Succeeds => {
            let charge = Charge {
                id: new_id("ch"),
                object: "charge",
                amount: intent.amount,
                amount_captured: intent.amount,
                amount_refunded: 0,
                billing_details: BillingDetails::default(),
                captured: true,
                created: now_unix(),
                currency: intent.currency.clone(),
                description: intent.description.clone(),
                disputed: false,
                livemode: false,
                metadata: intent.metadata.clone(),
                paid: true,
                payment_intent: intent.id.clone(),
                payment_method: payment_method.clone(),
                receipt_email: intent.receipt_email.clone(),
                refunded: false,
                status: "succeeded",
            };
            intent.status = IntentStatus::Succeeded;
            intent.amount_received = intent.amount;
            intent.payment_method = Some(payment_method);
            intent.latest_charge = Some(charge.id.clone());
            intent.last_payment_error = None;
            intent.next_action = None;
            let intent_json = to_json(intent);
            let charge_json = to_json(&charge);
            inner.charges.insert(charge.id.clone(), charge);
            inner.emit("charge.succeeded", charge_json, origin);
            inner.emit("payment_intent.succeeded", intent_json.clone(), origin);
            Reply::ok(intent_json)
        }
        CardBehaviour::Declines { decline_code, message } => {
            // As Stripe does, the failed method moves to `last_payment_error` and the intent waits
            // for another one.
            let card_error = json!({
                "type": "card_error",
                "code": "card_declined",
                "decline_code": decline_code,
                "message": message,
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                "payment_method": payment_method_json(&payment_method),
            });
            intent.status = IntentStatus::RequiresPaymentMethod;
            intent.payment_method = None;
            intent.next_action = None;
            intent.last_payment_error = Some(card_error);
            let intent_json = to_json(intent);
            inner.emit("payment_intent.payment_failed", intent_json.clone(), origin);
            Reply::error(StatusCode::PAYMENT_REQUIRED, "card_error", Some("card_declined"), message, None)
                .with("decline_code", json!(decline_code))
                .with("payment_intent", intent_json)
        }
        CardBehaviour::RequiresAuthentication => {
            intent.status = IntentStatus::RequiresAction;
            intent.payment_method = Some(payment_method);
            intent.last_payment_error = None;
            intent.next_action = Some(json!({
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {
                    "type": "three_d_secure_redirect",
                    "stripe_js": format!("https://hooks.stripe.com/redirect/authenticate/src_{}", random_alnum(24)),
                    "source": format!("src_{}", random_alnum(24)),
                },
            }));
            // Stripe sends `payment_intent.requires_action` here; the brief for this stand-in is
            // to stay silent, which is also what a client must cope with (events are optional).
            Reply::ok(to_json(intent))
        }
    }
}

pub(super) fn cancel_intent(inner: &mut Inner, id: &str, params: &Params, origin: &Origin) -> Reply {
    let reason = match check_known(params, &["cancellation_reason", "expand"])
        .and_then(|()| enum_param(params, "cancellation_reason", &["duplicate", "fraudulent", "requested_by_customer", "abandoned"]))
    {
        Ok(reason) => reason,
        Err(reply) => return reply,
    };
    let Some(intent) = inner.intent_mut(id) else {
        return no_such_intent(id, StatusCode::NOT_FOUND, "intent");
    };
    if matches!(intent.status, IntentStatus::Succeeded | IntentStatus::Canceled) {
        let message = format!(
            "You cannot cancel this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following \
             statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.",
            intent.status.as_str()
        );
        return unexpected_state(message, intent);
    }
    intent.status = IntentStatus::Canceled;
    intent.canceled_at = Some(now_unix());
    intent.cancellation_reason = reason;
    intent.next_action = None;
    let json = to_json(intent);
    inner.emit("payment_intent.canceled", json.clone(), origin);
    Reply::ok(json)
}
