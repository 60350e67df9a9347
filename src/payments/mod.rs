//! Payments, the Stripe side: PaymentIntents for held bookings, what Stripe's events say, refunds,
//! and the payment rows all of them leave in the database (through `db`).
//!
//! What a payment means for a booking's seats — confirm on success, release on cancel or full
//! refund, refund when no seat is left, reconcile lost webhooks — is decided above, in
//! `actors::payment`, which drives the city events' actors: payments never imports the actors.

pub mod signature;
pub mod stripe_client;

use crate::domain::BookingId;
use chrono::Utc;
use uuid::Uuid;

use crate::db::models::{BookingRow, PaymentRow};
use crate::db::{self, AsyncPool, DbError};
use crate::domain::{BookingStatus, PaymentStatus, ReservationError};
use stripe_client::{Charge, PaymentIntent, Refund, StripeClient, StripeError};

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
    /// The seats could not move as the payment asks (from the settlement above).
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
    /// Open intents younger than the pass's age limit, left for a later pass (their webhook is
    /// probably still on its way).
    pub intents_skipped: usize,
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

/// A recorded webhook event, as far as Billetterie acts on it.
pub enum StripeEvent {
    Intent(PaymentIntent),
    Charge(Charge),
    /// A type not acted on, or an object of an unexpected shape (logged).
    Ignored,
}

/// Reads a recorded event with async-stripe's types; unknown types and objects that do not match
/// Stripe's schema are ignored (logged), as Stripe asks.
pub fn parse_event(payload: &serde_json::Value) -> StripeEvent {
    let kind = payload["type"].as_str().unwrap_or_default();
    let object = &payload["data"]["object"];
    match kind {
        "payment_intent.succeeded"
        | "payment_intent.payment_failed"
        | "payment_intent.canceled"
        | "payment_intent.processing"
        | "payment_intent.requires_action" => match stripe_client::parse_object::<stripe_shared::PaymentIntent>(object) {
            Ok(pi) => StripeEvent::Intent(pi.into()),
            Err(e) => {
                tracing::warn!(kind, error = %e, "event with an unexpected payment intent; ignored");
                StripeEvent::Ignored
            }
        },
        "charge.refunded" => match stripe_client::parse_object::<stripe_shared::Charge>(object) {
            Ok(charge) => StripeEvent::Charge(charge.into()),
            Err(e) => {
                tracing::warn!(kind, error = %e, "event with an unexpected charge; ignored");
                StripeEvent::Ignored
            }
        },
        other => {
            tracing::info!(kind = other, "Stripe event type not acted on");
            StripeEvent::Ignored
        }
    }
}

/// The Stripe account as Billetterie uses it, with the payment rows it keeps.
pub struct Gateway {
    pool: AsyncPool,
    stripe: StripeClient,
    publishable_key: String,
}

impl Gateway {
    pub fn new(pool: AsyncPool, stripe: StripeClient, publishable_key: String) -> Self {
        Self { pool, stripe, publishable_key }
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
    async fn existing_intent(&self, booking_id: BookingId) -> Result<Option<IntentView>, PaymentError> {
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

    /// Records what Stripe says of an intent on its booking (following the organiser's moves) and
    /// returns that booking; `None` when the intent belongs to no known booking.
    pub async fn record_intent(&self, pi: &PaymentIntent) -> Result<Option<BookingRow>, PaymentError> {
        let mut conn = self.conn().await?;
        let booking_id = match pi.metadata.get("booking_id").and_then(|s| s.parse::<Uuid>().ok().map(BookingId)) {
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
            return Ok(None);
        };
        let error = pi.last_payment_error.clone();
        db::payments::upsert_payment(&mut conn, booking.id, &pi.id, pi.amount, &pi.currency, &pi.status, error.as_deref()).await?;
        Ok(Some(booking))
    }

    /// Whether a succeeded intent should confirm its booking: not when the amount is not the
    /// booking's (flagged for the organiser), a refund was seen first, or the booking is settled.
    pub async fn should_confirm(&self, booking: &BookingRow, pi: &PaymentIntent) -> Result<bool, PaymentError> {
        if !pi.currency.eq_ignore_ascii_case(&booking.currency) || pi.amount_received != booking.total_cents {
            let reason = format!(
                "amount_mismatch: received {} {}, booking total {} {}",
                pi.amount_received,
                pi.currency.to_uppercase(),
                booking.total_cents,
                booking.currency
            );
            tracing::error!(booking = %booking.reference, intent = %pi.id, %reason, "payment flagged, booking not confirmed");
            self.flag(&pi.id, &reason).await?;
            return Ok(false);
        }
        let mut conn = self.conn().await?;
        let payment = db::payments::payment_by_intent(&mut conn, &pi.id).await?;
        if payment.as_ref().is_some_and(|p| p.amount_refunded_cents >= p.amount_cents) {
            // The refund was seen first: nothing to confirm.
            return Ok(false);
        }
        Ok(!matches!(booking.status.as_str(), "confirmed" | "refunded"))
    }

    /// Marks a payment for the organiser's attention.
    pub async fn flag(&self, intent_id: &str, reason: &str) -> Result<(), PaymentError> {
        let mut conn = self.conn().await?;
        db::payments::flag(&mut conn, intent_id, reason).await?;
        Ok(())
    }

    /// Queues a mail of `kind` to the buyer (the e-mail dispatcher sends it).
    pub async fn request_buyer_email(&self, booking: &BookingRow, kind: &str) -> Result<(), PaymentError> {
        self.request_buyer_email_for(booking, kind, "").await
    }

    /// As `request_buyer_email`, once per `occurrence` (a partial refund's).
    pub async fn request_buyer_email_for(&self, booking: &BookingRow, kind: &str, occurrence: &str) -> Result<(), PaymentError> {
        let mut conn = self.conn().await?;
        db::payments::request_buyer_email(&mut conn, booking, kind, occurrence).await?;
        Ok(())
    }

    pub async fn booking(&self, id: BookingId) -> Result<Option<BookingRow>, PaymentError> {
        let mut conn = self.conn().await?;
        Ok(db::payments::booking(&mut conn, id).await?)
    }

    /// The payment succeeded after the hold ended and no seat is left: give the money back and
    /// tell the buyer why.
    pub async fn refund_for_no_seat(&self, booking: &BookingRow, pi: &PaymentIntent) -> Result<(), PaymentError> {
        let key = format!("billetterie-no-seat-{}", booking.id);
        let metadata = [("booking_id", booking.id.to_string()), ("reason", "no_seat_after_hold_expired".to_owned())];
        let refund = self.stripe.create_refund(&pi.id, None, &metadata, &key).await?;
        let mut conn = self.conn().await?;
        db::payments::record_refunded(&mut conn, &pi.id, refund.amount).await?;
        db::payments::flag(&mut conn, &pi.id, "refunded_no_seat: the payment succeeded after the hold expired and the city event was full")
            .await?;
        db::payments::request_buyer_email(&mut conn, booking, "refund_notice", "").await?;
        tracing::warn!(booking = %booking.reference, "paid after the hold expired with no seat left: refunded");
        Ok(())
    }

    /// Records a refund seen on a charge; returns the booking when the charge is fully refunded
    /// (its seats are to be freed).
    pub async fn record_charge(&self, charge: &Charge) -> Result<Option<BookingRow>, PaymentError> {
        let Some(intent) = charge.payment_intent.as_deref() else { return Ok(None) };
        let mut conn = self.conn().await?;
        let Some(payment) = db::payments::payment_by_intent(&mut conn, intent).await? else {
            tracing::warn!(intent, "refund for an unknown intent; ignored");
            return Ok(None);
        };
        db::payments::record_refunded(&mut conn, intent, charge.amount_refunded).await?;
        if !charge.refunded {
            return Ok(None);
        }
        Ok(db::payments::booking(&mut conn, payment.booking_id).await?)
    }

    /// The money side of refunding a confirmed booking, fully or partly: the refund at Stripe and
    /// its record. Returns the outcome (booking still confirmed) and whether it is now fully
    /// refunded, in which case the caller frees the seats.
    pub async fn refund_money(&self, booking: &BookingRow, amount_cents: Option<i64>) -> Result<(RefundOutcome, bool), PaymentError> {
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
        let refund: Refund = self.stripe.create_refund(&payment.payment_intent_id, Some(amount), &metadata, &key).await?;
        let total = payment.amount_refunded_cents + refund.amount;
        let mut conn = self.conn().await?;
        db::payments::record_refunded(&mut conn, &payment.payment_intent_id, total).await?;
        let outcome = RefundOutcome {
            refund_id: refund.id,
            amount_cents: refund.amount,
            total_refunded_cents: total,
            booking_status: BookingStatus::Confirmed,
        };
        Ok((outcome, total >= payment.amount_cents))
    }

    /// Recorded webhook events not yet applied, oldest first.
    pub async fn unprocessed_events(&self, limit: i64) -> Result<Vec<(String, serde_json::Value)>, PaymentError> {
        let mut conn = self.conn().await?;
        Ok(db::payments::unprocessed_events(&mut conn, limit).await?)
    }

    /// Marks an event applied (`None`) or failed with its error, for the next pass.
    pub async fn mark_event(&self, id: &str, error: Option<&str>) -> Result<(), PaymentError> {
        let mut conn = self.conn().await?;
        db::payments::mark_event(&mut conn, id, error).await?;
        Ok(())
    }

    /// Payments left open since before `before` (reconciliation asks Stripe about them).
    pub async fn open_payments(&self, before: chrono::DateTime<Utc>, limit: i64) -> Result<Vec<PaymentRow>, PaymentError> {
        let mut conn = self.conn().await?;
        Ok(db::payments::open_payments(&mut conn, before, limit).await?)
    }

    pub async fn retrieve_intent(&self, id: &str) -> Result<PaymentIntent, PaymentError> {
        Ok(self.stripe.retrieve_payment_intent(id).await?)
    }
}
