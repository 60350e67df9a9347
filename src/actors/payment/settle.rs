//! `Payments`: what a payment means for a booking's seats. Webhook events and reconciliation
//! passes are applied here, exactly once in effect: every step checks the state it moves from.
//! The Stripe side (intents, refunds, payment rows) is `payments::Gateway`; the seats move
//! through `Seats` (the city event's actor, or the database without one).

use chrono::Utc;

use super::seats::{SeatKeeper, Seats};
use crate::actors::ReservationError;
use crate::db::models::BookingRow;
use crate::db::AsyncPool;
use crate::domain::BookingStatus;
use crate::payments::stripe_client::{Charge, PaymentIntent, StripeClient};
use crate::payments::{parse_event, Gateway, IntentView, PaymentError, ReconcileReport, RefundOutcome, StripeEvent};

pub struct Payments {
    gateway: Gateway,
    seats: Seats,
}

impl Payments {
    pub fn new(pool: AsyncPool, stripe: StripeClient, publishable_key: String, seats: SeatKeeper) -> Self {
        Self { gateway: Gateway::new(pool.clone(), stripe, publishable_key), seats: Seats { keeper: seats, pool } }
    }

    /// The Stripe side, for what moves no seat.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// The intent for a held booking (see `Gateway::create_intent`): no seat moves until it succeeds.
    pub async fn create_intent(&self, booking: &BookingRow) -> Result<IntentView, PaymentError> {
        self.gateway.create_intent(booking).await
    }

    /// Applies one recorded webhook event. Safe to repeat: every step checks the state it moves from.
    pub async fn apply_event(&self, payload: &serde_json::Value) -> Result<(), PaymentError> {
        match parse_event(payload) {
            StripeEvent::Intent(pi) => self.apply_intent(&pi).await,
            StripeEvent::Charge(charge) => self.apply_charge(&charge).await,
            StripeEvent::Ignored => Ok(()),
        }
    }

    /// Brings a booking in line with what Stripe says of its intent (webhook or reconciliation).
    pub async fn apply_intent(&self, pi: &PaymentIntent) -> Result<(), PaymentError> {
        let Some(booking) = self.gateway.record_intent(pi).await? else { return Ok(()) };
        match pi.status.as_str() {
            "succeeded" => self.settle_success(&booking, pi).await,
            "canceled" if booking.status == BookingStatus::Held => match self.seats.cancel(&booking).await {
                Ok(()) | Err(ReservationError::WrongStatus { .. }) => Ok(()),
                Err(e) => Err(PaymentError::Seats(e)),
            },
            // payment_failed and the rest: recorded; the hold stays until it expires.
            _ => Ok(()),
        }
    }

    async fn settle_success(&self, booking: &BookingRow, pi: &PaymentIntent) -> Result<(), PaymentError> {
        if !self.gateway.should_confirm(booking, pi).await? {
            return Ok(());
        }
        match self.seats.confirm(booking).await {
            Ok(()) => {
                self.gateway.request_buyer_email(booking, "confirmation").await?;
                tracing::info!(booking = %booking.reference, "booking confirmed");
                Ok(())
            }
            Err(ReservationError::SoldOut | ReservationError::NotEnoughSeats { .. }) => self.gateway.refund_for_no_seat(booking, pi).await,
            Err(ReservationError::SalesClosed { status }) => self.gateway.flag(&pi.id, &format!("paid while sales are {status}")).await,
            Err(ReservationError::WrongStatus { .. }) => match self.gateway.booking(booking.id).await? {
                Some(b) if b.status == BookingStatus::Confirmed => Ok(()),
                _ => Err(PaymentError::Seats(ReservationError::WrongStatus { expected: "confirmable" })),
            },
            Err(e) => Err(PaymentError::Seats(e)),
        }
    }

    /// A refund seen on a charge: recorded; a full refund of a confirmed booking frees its seats.
    pub async fn apply_charge(&self, charge: &Charge) -> Result<(), PaymentError> {
        let Some(booking) = self.gateway.record_charge(charge).await? else { return Ok(()) };
        if booking.status == BookingStatus::Confirmed {
            match self.seats.refund(&booking).await {
                Ok(()) | Err(ReservationError::WrongStatus { .. }) => {}
                Err(e) => return Err(PaymentError::Seats(e)),
            }
            // A refund made at Stripe (its dashboard) is a refund too: the buyer is told, once.
            self.gateway.request_buyer_email(&booking, "refund_notice").await?;
        }
        Ok(())
    }

    /// Refunds a confirmed booking, fully (seats released) or partly (seats kept).
    pub async fn refund(&self, booking: &BookingRow, amount_cents: Option<i64>) -> Result<RefundOutcome, PaymentError> {
        let (mut outcome, fully) = self.gateway.refund_money(booking, amount_cents).await?;
        if fully {
            match self.seats.refund(booking).await {
                Ok(()) | Err(ReservationError::WrongStatus { .. }) => outcome.booking_status = BookingStatus::Refunded,
                Err(e) => return Err(PaymentError::Seats(e)),
            }
            // Whoever asked (the buyer, the organiser, the command line), the buyer is told; the
            // campaign is unique per booking and kind, so a repeated or concurrent refund mails once.
            self.gateway.request_buyer_email(booking, "refund_notice").await?;
        } else {
            // A partial refund keeps the seats; its notice says how much, one mail per refund.
            let occurrence = crate::db::payments::partial_refund_occurrence(outcome.amount_cents, &outcome.refund_id);
            self.gateway.request_buyer_email_for(booking, "refund_notice", &occurrence).await?;
        }
        Ok(outcome)
    }

    /// Applies recorded webhook events not yet applied, oldest first. A failure leaves the event
    /// for the next pass.
    pub async fn process_pending_events(&self) -> Result<usize, PaymentError> {
        let events = self.gateway.unprocessed_events(200).await?;
        let mut applied = 0;
        for (id, payload) in events {
            let span = tracing::info_span!("stripe.event", event_id = %id, kind = payload["type"].as_str().unwrap_or_default());
            let result = tracing::Instrument::instrument(self.apply_event(&payload), span).await;
            match result {
                Ok(()) => {
                    self.gateway.mark_event(&id, None).await?;
                    applied += 1;
                }
                Err(e) => {
                    tracing::warn!(event_id = %id, error = %e, "Stripe event not applied yet; will retry");
                    self.gateway.mark_event(&id, Some(&e.to_string())).await?;
                }
            }
        }
        Ok(applied)
    }

    /// Asks Stripe about intents left open longer than `older_than` and applies its answer, so a
    /// lost webhook never leaves a paid buyer without a seat.
    pub async fn reconcile(&self, older_than: chrono::Duration) -> Result<ReconcileReport, PaymentError> {
        let mut report = ReconcileReport { events_applied: self.process_pending_events().await?, ..Default::default() };
        let now = Utc::now();
        let open = self.gateway.open_payments(now - older_than, 500).await?;
        if older_than > chrono::Duration::zero() {
            report.intents_skipped = self.gateway.open_payments(now, 500).await?.len().saturating_sub(open.len());
        }
        for p in open {
            report.intents_checked += 1;
            let result = match self.gateway.retrieve_intent(&p.payment_intent_id).await {
                Ok(pi) => self.apply_intent(&pi).await,
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                report.intents_failed += 1;
                tracing::warn!(intent = %p.payment_intent_id, error = %e, "reconciliation could not settle an intent");
            }
        }
        Ok(report)
    }
}
