//! The organiser's bookings: search, one booking with everything about it, and the actions on it.
//! Seat changes go through the city event's actor, as the public API's do; money through
//! `Payments`, as `billetterie refund` does; mails through the e-mail service's queue.
//!
//! ## Moving a booking to another city event
//!
//! Atomic from the buyer's point of view, with each actor writing only its own city event:
//! 1. **Hold in the target.** The target's actor holds a copy of the booking (same buyer,
//!    attendees, price and taxes, new reference) as it would any hold: refused when its seats
//!    are not there, and then nothing has changed.
//! 2. **Move.** The source's actor, in its turn, turns the booking into `moved` (pointing at the
//!    copy) and re-points its payments to the copy, in one transaction. If the booking is no
//!    longer held or confirmed (it just expired, was refunded…), the copy's hold is cancelled
//!    and the move is refused.
//! 3. **Release and confirm.** The source's seats come back once step 2 is written (and go to
//!    its waiting list first). A paid booking's copy is then confirmed by the target's actor.
//!
//! At every instant the buyer has seats: the old booking until step 2 commits, the copy after.
//! If the process stops between 2 and 3, the copy is held with a succeeded payment: the
//! reconciliation pass finds that payment and confirms the copy (it follows `moved_to`).

use crate::domain::BookingId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::audit;
use super::session::AdminSession;
use crate::actors::city_event::PreparedHold;
use crate::actors::ReservationError;
use crate::db::admin::BookingFilter;
use crate::db::models::{AttendeeRow, BookingRow, EmailCampaignRow, NewAttendee, NewBooking, PaymentRow};
use crate::db::{self};
use crate::domain::pricing::{PriceTier, Quote};
use crate::domain::taxes::TaxLine;
use crate::domain::EmailStatus;
use crate::domain::PaymentStatus;
use crate::domain::{BookingReference, BookingStatus, Cents, CityEventId, Quantity};
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminAttendee {
    pub position: i32,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

/// A booking as the organiser sees it (also the before/after of the audit log).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminBooking {
    pub booking_id: BookingId,
    pub reference: String,
    pub status: BookingStatus,
    pub city_event_id: i64,
    pub quantity: i32,
    pub buyer_first_name: String,
    pub buyer_last_name: String,
    pub buyer_email: String,
    pub buyer_phone: String,
    pub language: String,
    pub act_experience: String,
    pub total_cents: i64,
    pub tax_cents: i64,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub hold_expires_at: DateTime<Utc>,
    pub moved_to: Option<BookingId>,
    pub moved_from: Option<BookingId>,
    pub attendees: Vec<AdminAttendee>,
}

impl AdminBooking {
    pub fn new(b: &BookingRow, people: &[AttendeeRow]) -> Self {
        Self {
            booking_id: b.id,
            reference: b.reference.clone(),
            status: b.status,
            city_event_id: b.city_event_id,
            quantity: b.quantity,
            buyer_first_name: b.buyer_first_name.clone(),
            buyer_last_name: b.buyer_last_name.clone(),
            buyer_email: b.buyer_email.clone(),
            buyer_phone: b.buyer_phone.clone(),
            language: b.language.clone(),
            act_experience: b.act_experience.clone(),
            total_cents: b.total_cents,
            tax_cents: b.tax_cents,
            created_at: b.created_at,
            confirmed_at: b.confirmed_at,
            hold_expires_at: b.hold_expires_at,
            moved_to: b.moved_to,
            moved_from: b.moved_from,
            attendees: people
                .iter()
                .map(|a| AdminAttendee {
                    position: a.position,
                    first_name: a.first_name.clone(),
                    last_name: a.last_name.clone(),
                    email: a.email.clone(),
                })
                .collect(),
        }
    }

    fn json(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminPayment {
    pub payment_intent_id: String,
    pub status: PaymentStatus,
    pub amount_cents: i64,
    pub amount_refunded_cents: i64,
    pub flagged_reason: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<PaymentRow> for AdminPayment {
    fn from(p: PaymentRow) -> Self {
        Self {
            payment_intent_id: p.payment_intent_id,
            status: p.status,
            amount_cents: p.amount_cents,
            amount_refunded_cents: p.amount_refunded_cents,
            flagged_reason: p.flagged_reason,
            last_error: p.last_error,
            created_at: p.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminEmail {
    pub kind: String,
    pub recipient_email: String,
    pub status: EmailStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub scheduled_for: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
    pub clicked_at: Option<DateTime<Utc>>,
}

impl From<EmailCampaignRow> for AdminEmail {
    fn from(e: EmailCampaignRow) -> Self {
        Self {
            kind: e.kind,
            recipient_email: e.recipient_email,
            status: e.status,
            attempts: e.attempts,
            last_error: e.last_error,
            scheduled_for: e.scheduled_for,
            sent_at: e.sent_at,
            opened_at: e.opened_at,
            clicked_at: e.clicked_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditView {
    pub at: DateTime<Utc>,
    pub actor_email: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl From<crate::db::models::AuditRow> for AuditView {
    fn from(a: crate::db::models::AuditRow) -> Self {
        Self {
            at: a.at,
            actor_email: a.actor_email,
            action: a.action,
            target_type: a.target_type,
            target_id: a.target_id,
            before: a.before,
            after: a.after,
        }
    }
}

/// Everything about one booking.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingDetail {
    pub booking: AdminBooking,
    pub payments: Vec<AdminPayment>,
    pub emails: Vec<AdminEmail>,
    pub moved_to_reference: Option<String>,
    pub moved_from_reference: Option<String>,
    pub history: Vec<AuditView>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// A reference, an e-mail address, or part of a name (buyer or attendee).
    pub q: Option<String>,
    pub city_event_id: Option<i64>,
    /// `held`, `confirmed`, `cancelled`, `expired`, `refunded` or `moved`.
    pub status: Option<String>,
    /// From 1.
    pub page: Option<i64>,
}

pub const PAGE_SIZE: i64 = 50;

pub async fn search(state: &AppState, q: &SearchQuery) -> ApiResult<Vec<AdminBooking>> {
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        if BookingStatus::parse(s).is_none() {
            return Err(ApiError::unprocessable("invalid_status", "status", "Unknown booking status."));
        }
    }
    let filter = BookingFilter {
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        city_event_id: q.city_event_id,
        status: q.status.clone().filter(|s| !s.is_empty()),
    };
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let mut conn = db::connection(&state.pool).await?;
    let rows = db::admin::search_bookings(&mut conn, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let ids: Vec<BookingId> = rows.iter().map(|b| b.id).collect();
    let people = db::emails::attendees_of(&mut conn, &ids).await?;
    Ok(rows
        .iter()
        .map(|b| {
            let mine: Vec<AttendeeRow> = people.iter().filter(|a| a.booking_id == b.id).cloned().collect();
            AdminBooking::new(b, &mine)
        })
        .collect())
}

fn not_found() -> ApiError {
    ApiError::not_found("booking_not_found", "No booking has this reference.")
}

async fn load(state: &AppState, reference: &str) -> ApiResult<(BookingRow, Vec<AttendeeRow>)> {
    let reference = BookingReference::parse(reference).map_err(|_| not_found())?;
    let mut conn = db::connection(&state.pool).await?;
    db::bookings::by_reference(&mut conn, reference.as_str()).await?.ok_or_else(not_found)
}

pub async fn detail(state: &AppState, reference: &str) -> ApiResult<BookingDetail> {
    let (b, people) = load(state, reference).await?;
    let mut conn = db::connection(&state.pool).await?;
    let payments = db::admin::booking_payments(&mut conn, b.id).await?.into_iter().map(AdminPayment::from).collect();
    let emails = db::admin::booking_emails(&mut conn, b.id).await?.into_iter().map(AdminEmail::from).collect();
    let moved_to_reference = match b.moved_to {
        Some(id) => db::admin::reference_of(&mut conn, id).await?,
        None => None,
    };
    let moved_from_reference = match b.moved_from {
        Some(id) => db::admin::reference_of(&mut conn, id).await?,
        None => None,
    };
    let history =
        db::admin::audit_entries(&mut conn, Some(("booking", &b.reference)), 100).await?.into_iter().map(AuditView::from).collect();
    Ok(BookingDetail { booking: AdminBooking::new(&b, &people), payments, emails, moved_to_reference, moved_from_reference, history })
}

async fn audit_booking(
    state: &AppState,
    who: &AdminSession,
    action: &str,
    reference: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> ApiResult<()> {
    let mut conn = db::connection(&state.pool).await?;
    audit::record(&mut conn, who, action, "booking", reference, before, after).await?;
    Ok(())
}

async fn snapshot(state: &AppState, reference: &str) -> ApiResult<AdminBooking> {
    let (b, people) = load(state, reference).await?;
    Ok(AdminBooking::new(&b, &people))
}

/// Queues the confirmation mail again and asks the dispatcher to send it now.
pub async fn resend_confirmation(state: &AppState, who: &AdminSession, reference: &str) -> ApiResult<AdminBooking> {
    let (b, people) = load(state, reference).await?;
    if b.status != BookingStatus::Confirmed {
        return Err(
            ApiError::conflict("not_confirmed", "Only a confirmed booking has a confirmation to send.").with_status(b.status.as_str())
        );
    }
    let mut conn = db::connection(&state.pool).await?;
    db::admin::requeue_confirmation(&mut conn, &b).await?;
    drop(conn);
    state.email_dispatcher.do_send(crate::actors::email::Dispatch);
    let view = AdminBooking::new(&b, &people);
    audit_booking(state, who, "booking.resend_confirmation", &b.reference, None, Some(json!({"to": b.buyer_email}))).await?;
    Ok(view)
}

pub use crate::services::attendees::AttendeeEdit;

/// Sets attendee names (and addresses); every line is checked before anything is written.
pub async fn edit_attendees(state: &AppState, who: &AdminSession, reference: &str, edits: &[AttendeeEdit]) -> ApiResult<AdminBooking> {
    let (b, people) = load(state, reference).await?;
    if !matches!(b.status, BookingStatus::Held | BookingStatus::Confirmed) {
        return Err(ApiError::conflict("not_editable", "Only a held or confirmed booking can be edited.").with_status(b.status.as_str()));
    }
    let before = AdminBooking::new(&b, &people);
    let changes = crate::services::attendees::check(&people, edits, false)?;
    crate::services::attendees::write(&mut *db::connection(&state.pool).await?, b.id, &changes).await?;
    let after = snapshot(state, reference).await?;
    audit_booking(state, who, "booking.edit_attendees", &b.reference, before.json(), after.json()).await?;
    Ok(after)
}

/// Cancels a held booking through its city event's actor (like the buyer's cancel).
pub async fn cancel(state: &AppState, who: &AdminSession, reference: &str) -> ApiResult<AdminBooking> {
    let (b, people) = load(state, reference).await?;
    let before = AdminBooking::new(&b, &people);
    if b.status != BookingStatus::Held {
        return Err(ApiError::conflict("not_cancellable", "Only a held booking can be cancelled; refund a paid one.")
            .with_status(b.status.as_str()));
    }
    let result = match state.registry.actor(CityEventId(b.city_event_id)) {
        Some(h) => h.cancel(b.id).await,
        None => seats_in_database(state, &b, crate::db::bookings::Transition::CancelHeld).await,
    };
    match result {
        Ok(()) => {}
        Err(ReservationError::WrongStatus { .. }) => {
            let now = snapshot(state, reference).await?;
            return Err(ApiError::conflict("not_cancellable", "The booking is no longer held.").with_status(now.status));
        }
        Err(e) => return Err(e.into()),
    }
    let after = snapshot(state, reference).await?;
    audit_booking(state, who, "booking.cancel", &b.reference, before.json(), after.json()).await?;
    Ok(after)
}

/// A city event without an actor (sales closed since start): the database arbitrates, as for the
/// command line.
pub(crate) async fn seats_in_database(
    state: &AppState,
    b: &BookingRow,
    t: crate::db::bookings::Transition,
) -> Result<(), ReservationError> {
    let unavailable = ReservationError::Unavailable { retry_after_secs: 2 };
    let mut conn = db::connection(&state.pool).await.map_err(|_| unavailable.clone())?;
    let batch = crate::db::bookings::BatchWrite { transitions: vec![(b.id, t)], ..Default::default() };
    match db::bookings::write_batch(&mut conn, &batch).await {
        Ok(o) if o.changed.contains(&(b.id, t)) => Ok(()),
        Ok(_) => Err(ReservationError::WrongStatus { expected: "in a state this change applies to" }),
        Err(_) => Err(unavailable),
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Leave out for a full refund (the seats are released); a partial refund keeps them.
    #[serde(default)]
    pub amount_cents: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefundDone {
    pub refund_id: String,
    pub amount_cents: i64,
    pub total_refunded_cents: i64,
    pub booking: AdminBooking,
}

/// Refunds through Stripe, exactly as `billetterie refund` does.
pub async fn refund(state: &AppState, who: &AdminSession, reference: &str, amount_cents: Option<i64>) -> ApiResult<RefundDone> {
    let (b, people) = load(state, reference).await?;
    let before = AdminBooking::new(&b, &people);
    let outcome = state.payments.refund(&b, amount_cents).await?;
    let after = snapshot(state, reference).await?;
    let mut record = after.json();
    if let Some(serde_json::Value::Object(m)) = record.as_mut() {
        m.insert(
            "refund".into(),
            json!({"id": outcome.refund_id, "amount_cents": outcome.amount_cents, "total_refunded_cents": outcome.total_refunded_cents}),
        );
    }
    audit_booking(state, who, "booking.refund", &b.reference, before.json(), record).await?;
    Ok(RefundDone {
        refund_id: outcome.refund_id,
        amount_cents: outcome.amount_cents,
        total_refunded_cents: outcome.total_refunded_cents,
        booking: after,
    })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    pub city_event_id: i64,
}

/// The copy a move holds in the target city event (see the module comment).
fn copy_for(b: &BookingRow, people: &[AttendeeRow], target: CityEventId, city_code: &str, ttl: chrono::Duration) -> PreparedHold {
    let id = BookingId::random();
    let now = Utc::now();
    let taxes: Vec<TaxLine> = serde_json::from_value(b.taxes.clone()).unwrap_or_default();
    let booking = NewBooking {
        id,
        reference: BookingReference::generate(city_code).as_str().to_owned(),
        city_event_id: target.0,
        quantity: b.quantity,
        status: BookingStatus::Held,
        buyer_first_name: b.buyer_first_name.clone(),
        buyer_last_name: b.buyer_last_name.clone(),
        buyer_email: b.buyer_email.clone(),
        buyer_phone: b.buyer_phone.clone(),
        act_experience: static_experience(&b.act_experience),
        language: if b.language == "en" { "en" } else { "fr" },
        promo_code: b.promo_code.clone(),
        unit_price_cents: b.unit_price_cents,
        subtotal_cents: b.subtotal_cents,
        discount_cents: b.discount_cents,
        taxes: b.taxes.clone(),
        tax_cents: b.tax_cents,
        total_cents: b.total_cents,
        // A held booking keeps the time it had left; a paid one is confirmed in step 3.
        hold_expires_at: if b.status == BookingStatus::Held {
            b.hold_expires_at.max(now + chrono::Duration::minutes(5))
        } else {
            now + ttl
        },
        created_at: now,
        company_name: b.company_name.clone(),
        billing_address: b.billing_address.clone(),
        purchase_order: b.purchase_order.clone(),
    };
    let attendees = people
        .iter()
        .map(|a| NewAttendee {
            booking_id: id,
            position: a.position,
            first_name: a.first_name.clone(),
            last_name: a.last_name.clone(),
            email: a.email.clone(),
        })
        .collect();
    let quote = Quote {
        tier: PriceTier::Regular,
        unit_price: Cents(b.unit_price_cents),
        quantity: Quantity::parse(i64::from(b.quantity), 50).expect("the database caps quantities at 50"),
        subtotal: Cents(b.subtotal_cents),
        discount: Cents(b.discount_cents),
        taxes,
        tax_total: Cents(b.tax_cents),
        total: Cents(b.total_cents),
    };
    PreparedHold::from_rows(booking, attendees, quote)
}

fn static_experience(s: &str) -> &'static str {
    match s {
        "beginner" => "beginner",
        "intermediate" => "intermediate",
        "advanced" => "advanced",
        _ => "none",
    }
}

/// Moves a held or paid booking to another city event (protocol in the module comment). The
/// price and taxes paid stay as they were; the new booking has a new reference.
pub async fn move_booking(state: &AppState, who: &AdminSession, reference: &str, target: i64) -> ApiResult<BookingDetail> {
    let (b, people) = load(state, reference).await?;
    let before = AdminBooking::new(&b, &people);
    let was_paid = match b.status {
        BookingStatus::Confirmed => true,
        BookingStatus::Held if b.hold_expires_at > Utc::now() => false,
        _ => return Err(ApiError::conflict("not_movable", "Only a held or confirmed booking can be moved.").with_status(b.status.as_str())),
    };
    if b.buyer_phone.is_empty() {
        return Err(ApiError::conflict("not_movable", "A waiting-list offer that is not claimed yet cannot be moved.")
            .with_status(b.status.as_str()));
    }
    if target == b.city_event_id {
        return Err(ApiError::unprocessable("same_city_event", "city_event_id", "The booking is already in this city event."));
    }
    let target_id = CityEventId(target);
    let target_handle = state.registry.handle(target_id)?;
    let offer = target_handle.offer();
    // 1. Hold in the target.
    let copy = copy_for(&b, &people, target_id, &offer.city_code, state.settings.hold_ttl());
    let receipt = target_handle.hold_prepared(copy).await?;
    let new_id = receipt.booking_id;
    // 2. Move out of the source (its actor, or the database when it has none).
    let moved = match state.registry.actor(CityEventId(b.city_event_id)) {
        Some(source) => source.move_out(b.id, b.quantity, new_id).await,
        None => move_in_database(state, &b, new_id).await,
    };
    if let Err(e) = moved {
        if let Err(undo) = target_handle.cancel(new_id).await {
            tracing::error!(booking = %b.reference, copy = %receipt.reference, error = %undo, "move refused and its copy could not be cancelled; it will expire");
        }
        return Err(match e {
            ReservationError::WrongStatus { .. } => ApiError::conflict("not_movable", "The booking changed meanwhile; nothing was moved."),
            other => other.into(),
        });
    }
    {
        let mut conn = db::connection(&state.pool).await?;
        db::admin::set_moved_from(&mut conn, new_id, b.id).await?;
    }
    // 3. Confirm the copy of a paid booking.
    if was_paid {
        match target_handle.confirm(new_id, b.quantity).await {
            Ok(()) => {
                let mut conn = db::connection(&state.pool).await?;
                if let Some(copy) = db::payments::booking(&mut conn, new_id).await? {
                    db::payments::request_buyer_email(&mut conn, &copy, "confirmation", "").await?;
                }
                drop(conn);
                state.email_dispatcher.do_send(crate::actors::email::Dispatch);
            }
            Err(e) => {
                tracing::error!(booking = %b.reference, copy = %receipt.reference, error = %e, "moved, but the copy is not confirmed yet; reconciliation will confirm it");
            }
        }
    }
    let after = detail(state, &receipt.reference).await?;
    let old_after = snapshot(state, reference).await?;
    audit_booking(state, who, "booking.move", &b.reference, before.json(), old_after.json()).await?;
    audit_booking(state, who, "booking.move_in", &receipt.reference, None, after.booking.json()).await?;
    Ok(after)
}

async fn move_in_database(state: &AppState, b: &BookingRow, to: BookingId) -> Result<(), ReservationError> {
    let unavailable = ReservationError::Unavailable { retry_after_secs: 2 };
    let mut conn = db::connection(&state.pool).await.map_err(|_| unavailable.clone())?;
    let status = if b.status == BookingStatus::Held { BookingStatus::Held } else { BookingStatus::Confirmed }.as_str();
    let batch = crate::db::bookings::BatchWrite { moves: vec![(b.id, status, to)], ..Default::default() };
    match db::bookings::write_batch(&mut conn, &batch).await {
        Ok(o) if o.moved.contains(&b.id) => Ok(()),
        Ok(_) => Err(ReservationError::WrongStatus { expected: "held or confirmed" }),
        Err(_) => Err(unavailable),
    }
}
