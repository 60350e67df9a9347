//! The stand-in against async-stripe's generated types: what the product's client sends is
//! understood, and every object and event the stand-in answers or delivers parses as the type
//! Stripe's OpenAPI schema gives it. A field Stripe always sends that the stand-in forgot fails here.

use std::time::Duration;

use serde_json::Value;
use stripe_webhook::{EventObject, Webhook};

use super::{id, start};
use crate::config::Secret;
use crate::payments::stripe_client::{parse_object, StripeClient, StripeError};

fn client(stand_in: &super::StripeStandIn) -> StripeClient {
    StripeClient::new(&stand_in.base_url(), Secret::new(stand_in.config().secret_key), Duration::from_secs(5), 2)
}

#[actix_web::test]
async fn async_stripe_speaks_to_the_stand_in() {
    let (stand_in, api) = start();
    let stripe = client(&stand_in);
    let metadata = [("booking_id", "b-42".to_owned())];
    let pi = stripe.create_payment_intent(12_345, "CAD", "ACT masterclass", &metadata, "key-1").await.expect("created");
    assert_eq!((pi.amount, pi.currency.as_str(), pi.status.as_str()), (12_345, "cad", "requires_payment_method"));
    assert_eq!(pi.metadata.get("booking_id").map(String::as_str), Some("b-42"));
    assert!(pi.client_secret.as_deref().is_some_and(|s| s.starts_with(&format!("{}_secret_", pi.id))));
    let again = stripe.create_payment_intent(12_345, "CAD", "ACT masterclass", &metadata, "key-1").await.unwrap();
    assert_eq!(again.id, pi.id, "the Idempotency-Key reached the stand-in");
    assert_eq!(stand_in.intents().len(), 1);

    let (status, _) = api.confirm(&pi.id, "pm_card_chargeDeclined").await;
    assert_eq!(status, 402);
    let declined = stripe.retrieve_payment_intent(&pi.id).await.unwrap();
    assert_eq!(declined.status, "requires_payment_method");
    assert_eq!(declined.last_payment_error.as_deref(), Some("Your card was declined."));
    api.confirm(&pi.id, "pm_card_visa").await;
    assert_eq!(stripe.retrieve_payment_intent(&pi.id).await.unwrap().status, "succeeded");

    let refund = stripe.create_refund(&pi.id, Some(2_345), &[("reason", "test".into())], "refund-1").await.unwrap();
    assert_eq!((refund.amount, refund.status.as_str(), refund.payment_intent.as_deref()), (2_345, "succeeded", Some(pi.id.as_str())));
    let twice = stripe.create_refund(&pi.id, Some(2_345), &[("reason", "test".into())], "refund-1").await.unwrap();
    assert_eq!(twice.id, refund.id, "replayed, not refunded twice");
    match stripe.create_refund(&pi.id, Some(1_000_000), &[], "refund-2").await {
        Err(StripeError::Api { status: 400, code, .. }) => assert_eq!(code.as_deref(), Some("amount_too_large")),
        other => panic!("a refund over the charge is Stripe's 400: {other:?}"),
    }
    match stripe.retrieve_payment_intent("pi_nope").await {
        Err(StripeError::Api { status: 404, kind, .. }) => assert_eq!(kind, "invalid_request_error"),
        other => panic!("an unknown intent is Stripe's 404: {other:?}"),
    }
    stand_in.stop().await;
}

#[actix_web::test]
async fn every_object_and_event_the_stand_in_makes_parses_as_stripes_type() {
    let (stand_in, api) = start();
    for (amount, method) in [("1000", "pm_card_visa"), ("2000", "pm_card_chargeDeclined"), ("3000", "pm_card_authenticationRequired")] {
        let pi = api.create(amount).await;
        api.confirm(&id(&pi), method).await;
    }
    let paid = api.create("4000").await;
    api.confirm(&id(&paid), "pm_card_visa").await;
    let (status, refund) = api.post("/v1/refunds", &[("payment_intent", &id(&paid)), ("amount", "500")], None).await;
    assert_eq!(status, 200);
    parse_object::<stripe_shared::Refund>(&refund).expect("a refund");
    let cancelled = api.create("5000").await;
    api.post(&format!("/v1/payment_intents/{}/cancel", id(&cancelled)), &[], None).await;

    for intent in stand_in.intents() {
        parse_object::<stripe_shared::PaymentIntent>(&intent).unwrap_or_else(|e| panic!("{e}: {intent}"));
    }
    let secret = stand_in.config().webhook_secret;
    let events = stand_in.events();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    for expected in ["payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled", "charge.refunded"] {
        assert!(kinds.contains(&expected), "{expected} among {kinds:?}");
    }
    for event in &events {
        let body = event.to_string();
        let header = crate::payments::signature::sign(&secret, super::now_unix(), body.as_bytes());
        let parsed = Webhook::construct_event(&body, &header, &secret).unwrap_or_else(|e| panic!("{e}: {event}"));
        assert!(!matches!(parsed.data.object, EventObject::Unknown(_)), "typed, not unknown: {}", event["type"]);
        let object: &Value = &event["data"]["object"];
        assert_eq!(parsed.id.as_str(), event["id"].as_str().unwrap(), "{object}");
    }
    stand_in.stop().await;
}
