//! Payments: Stripe PaymentIntents for held bookings, webhook events applied exactly once in
//! effect, reconciliation for lost webhooks, refunds.
//!
//! Who moves seats: inside the server, the city event's actor (`SeatKeeper::Actors`); from the
//! command line, which has no actors, the database itself (`SeatKeeper::Database`), whose triggers
//! and CHECK constraint arbitrate, and the owning server's actor notices the change at its next
//! drift check and reloads.

pub mod signature;
pub mod stand_in;
pub mod stripe_client;

use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use crate::actors::{Registry, ReservationError};
use crate::db::bookings::{BatchWrite, Transition};
use crate::db::models::BookingRow;
use crate::db::{self, AsyncPool, DbError};
use crate::domain::PaymentStatus;
use crate::domain::{BookingStatus, CityEventId};
use stripe_client::{Charge, PaymentIntent, StripeClient, StripeError};

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("no such booking")]
    BookingNotFound,
    #[error("the booking is {}", .0.as_str())]
    NotPayable(BookingStatus),
    #[error("a waiting-list offer is paid once claimed")]
    OfferNotClaimed,
    #[error("the booking is {}: only a confirmed booking can be refunded", .0.as_str())]
    NotRefundable(BookingStatus),
    #[error("{0}")]
    InvalidAmount(String),
    #[error(transparent)]
    Stripe(#[from] StripeError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("seats: {0}")]
    Seats(ReservationError),
}

impl From<diesel::result::Error> for PaymentError {
    fn from(e: diesel::result::Error) -> Self {
        PaymentError::Db(e.into())
    }
}

/// What create-intent answers.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IntentView {
    pub payment_intent_id: String,
    pub client_secret: String,
    pub publishable_key: String,
    pub amount_cents: i64,
    #[schema(example = "CAD")]
    pub currency: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReconcileReport {
    pub intents_checked: usize,
    pub intents_failed: usize,
    pub events_applied: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RefundOutcome {
    pub refund_id: String,
    pub amount_cents: i64,
    pub total_refunded_cents: i64,
    pub booking_status: BookingStatus,
}

/// Who moves seats (see the module comment).
#[derive(Clone)]
pub enum SeatKeeper {
    Actors(Arc<Registry>),
    Database,
}

pub struct Payments {
    pool: AsyncPool,
    stripe: StripeClient,
    publishable_key: String,
    seats: SeatKeeper,
}

fn is_oversell(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::CheckViolation, info)
        if info.constraint_name() == Some("city_events_no_oversell"))
}

impl Payments {
    pub fn new(pool: AsyncPool, stripe: StripeClient, publishable_key: String, seats: SeatKeeper) -> Self {
        Self { pool, stripe, publishable_key, seats }
    }

    async fn conn(&self) -> Result<db::AsyncConn, PaymentError> {
        Ok(db::connection(&self.pool).await?)
    }

    /// The intent for a held booking: the existing one if it can still take money, else a new one
    /// keyed on the booking, so concurrent or retried calls get the same intent and one charge.
    pub async fn create_intent(&self, booking: &BookingRow) -> Result<IntentView, PaymentError> {
        let status = BookingStatus::parse(booking.status.as_str()).unwrap_or(BookingStatus::Cancelled);
        if status == BookingStatus::Held && booking.hold_expires_at <= Utc::now() {
            return Err(PaymentError::NotPayable(BookingStatus::Expired));
        }
        if status != BookingStatus::Held {
            return Err(PaymentError::NotPayable(status));
        }
        // A confirmed booking must have a phone number (the database says so): an offer's is
        // given when it is claimed.
        if booking.buyer_phone.is_empty() {
            return Err(PaymentError::OfferNotClaimed);
        }
        if let Some(view) = self.existing_intent(booking.id).await? {
            return Ok(view);
        }
        let generation = {
            let mut conn = self.conn().await?;
            db::payments::count_canceled(&mut conn, booking.id).await?
        };
        let key = format!("billetterie-booking-{}-{generation}", booking.id);
        let metadata = [
            ("booking_id", booking.id.to_string()),
            ("reference", booking.reference.clone()),
            ("city_event_id", booking.city_event_id.to_string()),
        ];
        let description = format!("ACT masterclass, booking {}", booking.reference);
        let pi = self.stripe.create_payment_intent(booking.total_cents, &booking.currency, &description, &metadata, &key).await?;
        let mut conn = self.conn().await?;
        match db::payments::upsert_payment(&mut conn, booking.id, &pi.id, pi.amount, &pi.currency, &pi.status, None).await {
            Ok(()) => self.view(&pi),
            // Another live intent was recorded for this booking meanwhile (an idempotency key
            // Stripe had forgotten): answer with that one, so the buyer pays once.
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
                drop(conn);
                self.existing_intent(booking.id).await?.ok_or(PaymentError::Seats(ReservationError::Unavailable { retry_after_secs: 1 }))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The booking's recorded intent, if Stripe says it can still take money.
    async fn existing_intent(&self, booking_id: Uuid) -> Result<Option<IntentView>, PaymentError> {
        let existing = {
            let mut conn = self.conn().await?;
            db::payments::live_payment(&mut conn, booking_id).await?
        };
        let Some(existing) = existing else { return Ok(None) };
        let pi = self.stripe.retrieve_payment_intent(&existing.payment_intent_id).await?;
        if pi.status == "canceled" {
            return Ok(None);
        }
        self.view(&pi).map(Some)
    }

    fn view(&self, pi: &PaymentIntent) -> Result<IntentView, PaymentError> {
        Ok(IntentView {
            payment_intent_id: pi.id.clone(),
            client_secret: pi.client_secret.clone().unwrap_or_default(),
            publishable_key: self.publishable_key.clone(),
            amount_cents: pi.amount,
            currency: pi.currency.to_uppercase(),
        })
    }

    /// Applies one recorded webhook event. Safe to repeat: every step checks the state it moves from.
    pub async fn apply_event(&self, payload: &serde_json::Value) -> Result<(), PaymentError> {
        let kind = payload["type"].as_str().unwrap_or_default();
        let object = &payload["data"]["object"];
        match kind {
            "payment_intent.succeeded"
            | "payment_intent.payment_failed"
            | "payment_intent.canceled"
            | "payment_intent.processing"
            | "payment_intent.requires_action" => match serde_json::from_value::<PaymentIntent>(object.clone()) {
                Ok(pi) => self.apply_intent(&pi).await,
                Err(e) => {
                    tracing::warn!(kind, error = %e, "event with an unexpected payment intent; ignored");
                    Ok(())
                }
            },
            "charge.refunded" => match serde_json::from_value::<Charge>(object.clone()) {
                Ok(charge) => self.apply_charge(&charge).await,
                Err(e) => {
                    tracing::warn!(kind, error = %e, "event with an unexpected charge; ignored");
                    Ok(())
                }
            },
            other => {
                tracing::info!(kind = other, "Stripe event type not acted on");
                Ok(())
            }
        }
    }

    /// Brings a booking in line with what Stripe says of its intent (webhook or reconciliation).
    pub async fn apply_intent(&self, pi: &PaymentIntent) -> Result<(), PaymentError> {
        let mut conn = self.conn().await?;
        let booking_id = match pi.metadata.get("booking_id").and_then(|s| s.parse::<Uuid>().ok()) {
            Some(id) => Some(id),
            None => db::payments::payment_by_intent(&mut conn, &pi.id).await?.map(|p| p.booking_id),
        };
        let mut booking = match booking_id {
            Some(id) => db::payments::booking(&mut conn, id).await?,
            None => None,
        };
        // The organiser moved the booking: its payment belongs to the booking it became.
        for _ in 0..8 {
            match booking.as_ref().and_then(|b| b.moved_to) {
                Some(next) => booking = db::payments::booking(&mut conn, next).await?,
                None => break,
            }
        }
        let Some(booking) = booking else {
            tracing::warn!(intent = %pi.id, "payment intent for no known booking; ignored");
            return Ok(());
        };
        let error = pi.last_payment_error.as_ref().and_then(|e| e["message"].as_str().or(e["code"].as_str())).map(str::to_owned);
        db::payments::upsert_payment(&mut conn, booking.id, &pi.id, pi.amount, &pi.currency, &pi.status, error.as_deref()).await?;
        drop(conn);
        match pi.status.as_str() {
            "succeeded" => self.settle_success(&booking, pi).await,
            "canceled" if booking.status == BookingStatus::Held => match self.seats_cancel(&booking).await {
                Ok(()) | Err(ReservationError::WrongStatus { .. }) => Ok(()),
                Err(e) => Err(PaymentError::Seats(e)),
            },
            // payment_failed and the rest: recorded; the hold stays until it expires.
            _ => Ok(()),
        }
    }

    async fn settle_success(&self, booking: &BookingRow, pi: &PaymentIntent) -> Result<(), PaymentError> {
        if !pi.currency.eq_ignore_ascii_case(&booking.currency) || pi.amount_received != booking.total_cents {
            let reason = format!(
                "amount_mismatch: received {} {}, booking total {} {}",
                pi.amount_received,
                pi.currency.to_uppercase(),
                booking.total_cents,
                booking.currency
            );
            tracing::error!(booking = %booking.reference, intent = %pi.id, %reason, "payment flagged, booking not confirmed");
            let mut conn = self.conn().await?;
            db::payments::flag(&mut conn, &pi.id, &reason).await?;
            return Ok(());
        }
        let mut conn = self.conn().await?;
        let payment = db::payments::payment_by_intent(&mut conn, &pi.id).await?;
        drop(conn);
        if payment.as_ref().is_some_and(|p| p.amount_refunded_cents >= p.amount_cents) {
            // The refund was seen first: nothing to confirm.
            return Ok(());
        }
        if matches!(booking.status.as_str(), "confirmed" | "refunded") {
            return Ok(());
        }
        match self.seats_confirm(booking).await {
            Ok(()) => {
                let mut conn = self.conn().await?;
                db::payments::request_buyer_email(&mut conn, booking, "confirmation").await?;
                tracing::info!(booking = %booking.reference, "booking confirmed");
                Ok(())
            }
            Err(ReservationError::SoldOut | ReservationError::NotEnoughSeats { .. }) => self.refund_for_no_seat(booking, pi).await,
            Err(ReservationError::SalesClosed { status }) => {
                let mut conn = self.conn().await?;
                db::payments::flag(&mut conn, &pi.id, &format!("paid while sales are {status}")).await?;
                Ok(())
            }
            Err(ReservationError::WrongStatus { .. }) => {
                let mut conn = self.conn().await?;
                match db::payments::booking(&mut conn, booking.id).await? {
                    Some(b) if b.status == BookingStatus::Confirmed => Ok(()),
                    _ => Err(PaymentError::Seats(ReservationError::WrongStatus { expected: "confirmable" })),
                }
            }
            Err(e) => Err(PaymentError::Seats(e)),
        }
    }

    /// The payment succeeded after the hold ended and no seat is left: give the money back and
    /// tell the buyer why.
    async fn refund_for_no_seat(&self, booking: &BookingRow, pi: &PaymentIntent) -> Result<(), PaymentError> {
        let key = format!("billetterie-no-seat-{}", booking.id);
        let metadata = [("booking_id", booking.id.to_string()), ("reason", "no_seat_after_hold_expired".to_owned())];
        let refund = self.stripe.create_refund(&pi.id, None, &metadata, &key).await?;
        let mut conn = self.conn().await?;
        db::payments::record_refunded(&mut conn, &pi.id, refund.amount).await?;
        db::payments::flag(&mut conn, &pi.id, "refunded_no_seat: the payment succeeded after the hold expired and the city event was full")
            .await?;
        db::payments::request_buyer_email(&mut conn, booking, "refund_notice").await?;
        tracing::warn!(booking = %booking.reference, "paid after the hold expired with no seat left: refunded");
        Ok(())
    }

    /// A refund seen on a charge: recorded; a full refund of a confirmed booking frees its seats.
    pub async fn apply_charge(&self, charge: &Charge) -> Result<(), PaymentError> {
        let Some(intent) = charge.payment_intent.as_deref() else { return Ok(()) };
        let mut conn = self.conn().await?;
        let Some(payment) = db::payments::payment_by_intent(&mut conn, intent).await? else {
            tracing::warn!(intent, "refund for an unknown intent; ignored");
            return Ok(());
        };
        db::payments::record_refunded(&mut conn, intent, charge.amount_refunded).await?;
        if !charge.refunded {
            return Ok(());
        }
        let Some(booking) = db::payments::booking(&mut conn, payment.booking_id).await? else { return Ok(()) };
        drop(conn);
        if booking.status == BookingStatus::Confirmed {
            match self.seats_refund(&booking).await {
                Ok(()) | Err(ReservationError::WrongStatus { .. }) => {}
                Err(e) => return Err(PaymentError::Seats(e)),
            }
        }
        Ok(())
    }

    /// Refunds a confirmed booking, fully (seats released) or partly (seats kept).
    pub async fn refund(&self, booking: &BookingRow, amount_cents: Option<i64>) -> Result<RefundOutcome, PaymentError> {
        let status = BookingStatus::parse(booking.status.as_str()).unwrap_or(BookingStatus::Cancelled);
        if status != BookingStatus::Confirmed {
            return Err(PaymentError::NotRefundable(status));
        }
        let mut conn = self.conn().await?;
        let payment = db::payments::live_payment(&mut conn, booking.id)
            .await?
            .filter(|p| p.status == PaymentStatus::Succeeded)
            .ok_or(PaymentError::NotRefundable(status))?;
        drop(conn);
        let remaining = payment.amount_cents - payment.amount_refunded_cents;
        let amount = amount_cents.unwrap_or(remaining);
        if amount < 1 || amount > remaining {
            return Err(PaymentError::InvalidAmount(format!("the amount must be between 1 and {remaining} cents")));
        }
        // Keyed on what is refunded already: a retried command refunds once, a second partial
        // refund is a new request.
        let key = format!("billetterie-refund-{}-{}-{amount}", booking.id, payment.amount_refunded_cents);
        let metadata = [("booking_id", booking.id.to_string()), ("reference", booking.reference.clone())];
        let refund = self.stripe.create_refund(&payment.payment_intent_id, Some(amount), &metadata, &key).await?;
        let total = payment.amount_refunded_cents + refund.amount;
        let mut conn = self.conn().await?;
        db::payments::record_refunded(&mut conn, &payment.payment_intent_id, total).await?;
        drop(conn);
        let mut booking_status = BookingStatus::Confirmed;
        if total >= payment.amount_cents {
            match self.seats_refund(booking).await {
                Ok(()) | Err(ReservationError::WrongStatus { .. }) => booking_status = BookingStatus::Refunded,
                Err(e) => return Err(PaymentError::Seats(e)),
            }
        }
        Ok(RefundOutcome { refund_id: refund.id, amount_cents: refund.amount, total_refunded_cents: total, booking_status })
    }

    /// Applies recorded webhook events not yet applied, oldest first. A failure leaves the event
    /// for the next pass.
    pub async fn process_pending_events(&self) -> Result<usize, PaymentError> {
        let mut conn = self.conn().await?;
        let events = db::payments::unprocessed_events(&mut conn, 200).await?;
        drop(conn);
        let mut applied = 0;
        for (id, payload) in events {
            let span = tracing::info_span!("stripe.event", event_id = %id, kind = payload["type"].as_str().unwrap_or_default());
            let result = tracing::Instrument::instrument(self.apply_event(&payload), span).await;
            let mut conn = self.conn().await?;
            match result {
                Ok(()) => {
                    db::payments::mark_event(&mut conn, &id, None).await?;
                    applied += 1;
                }
                Err(e) => {
                    tracing::warn!(event_id = %id, error = %e, "Stripe event not applied yet; will retry");
                    db::payments::mark_event(&mut conn, &id, Some(&e.to_string())).await?;
                }
            }
        }
        Ok(applied)
    }

    /// Asks Stripe about intents left open longer than `older_than` and applies its answer, so a
    /// lost webhook never leaves a paid buyer without a seat.
    pub async fn reconcile(&self, older_than: chrono::Duration) -> Result<ReconcileReport, PaymentError> {
        let mut report = ReconcileReport { events_applied: self.process_pending_events().await?, ..Default::default() };
        let mut conn = self.conn().await?;
        let open = db::payments::open_payments(&mut conn, Utc::now() - older_than, 500).await?;
        drop(conn);
        for p in open {
            report.intents_checked += 1;
            let result = match self.stripe.retrieve_payment_intent(&p.payment_intent_id).await {
                Ok(pi) => self.apply_intent(&pi).await,
                Err(e) => Err(e.into()),
            };
            if let Err(e) = result {
                report.intents_failed += 1;
                tracing::warn!(intent = %p.payment_intent_id, error = %e, "reconciliation could not settle an intent");
            }
        }
        Ok(report)
    }

    // -- seats ---------------------------------------------------------------------------------

    fn handle(&self, booking: &BookingRow) -> Option<crate::actors::CityEventHandle> {
        match &self.seats {
            SeatKeeper::Actors(registry) => registry.handle(CityEventId(booking.city_event_id)).ok(),
            SeatKeeper::Database => None,
        }
    }

    async fn seats_confirm(&self, booking: &BookingRow) -> Result<(), ReservationError> {
        if let Some(h) = self.handle(booking) {
            return h.confirm(booking.id, booking.quantity).await;
        }
        self.in_database(booking, &[Transition::ConfirmHeld, Transition::ConfirmLate]).await
    }

    async fn seats_cancel(&self, booking: &BookingRow) -> Result<(), ReservationError> {
        if let Some(h) = self.handle(booking) {
            return h.cancel(booking.id).await;
        }
        self.in_database(booking, &[Transition::CancelHeld]).await
    }

    async fn seats_refund(&self, booking: &BookingRow) -> Result<(), ReservationError> {
        if let Some(h) = self.handle(booking) {
            return h.refund(booking.id, booking.quantity).await;
        }
        self.in_database(booking, &[Transition::RefundConfirmed]).await
    }

    /// Without an actor (command line, or a city event no longer on sale): the database decides.
    async fn in_database(&self, booking: &BookingRow, transitions: &[Transition]) -> Result<(), ReservationError> {
        let unavailable = ReservationError::Unavailable { retry_after_secs: 5 };
        let mut conn = db::connection(&self.pool).await.map_err(|_| unavailable.clone())?;
        let batch = BatchWrite { transitions: transitions.iter().map(|t| (booking.id, *t)).collect(), ..Default::default() };
        match db::bookings::write_batch(&mut conn, &batch).await {
            Ok(outcome) if transitions.iter().any(|t| outcome.changed.contains(&(booking.id, *t))) => Ok(()),
            Ok(_) => Err(ReservationError::WrongStatus { expected: "in a state this change applies to" }),
            Err(e) if is_oversell(&e) => Err(ReservationError::SoldOut),
            Err(e) => {
                tracing::warn!(error = %e, "seat change in the database failed");
                Err(unavailable)
            }
        }
    }
}
