//! The waiting list. Joining, offering and removing go through the city event's actor, so the
//! queue and the seats are decided in one order (see `actors::city_event`): a seat that comes
//! back is held for the first person waiting in the very turn it is freed, before any public
//! hold can take it; one seat per person; an unclaimed offer expires like any hold and the seat
//! goes to the next person.
//!
//! The offer mail carries a signed, time-limited link (`domain::tokens::offer_token`).
//! Claiming it (phone number and ACT experience) completes the held booking, which is then paid
//! like any other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::models::NewWaitlistEntry;
use crate::db::{self};
use crate::domain::tokens::verify_offer_token;
use crate::domain::BookingStatus;
use crate::domain::{ActExperience, CityEventId, Email, Language, PersonName, Phone};
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

/// `POST /api/v1/waiting-list`: also what the public city page's form posts.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    pub city_event_id: i64,
    #[schema(example = "Marie")]
    pub first_name: String,
    #[schema(example = "Tremblay")]
    pub last_name: String,
    #[schema(example = "marie.tremblay@example.ca")]
    pub email: String,
    pub language: Language,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Joined {
    pub waitlist_entry_id: i64,
    pub city_event_id: i64,
    /// Place in the queue, 1 = next offered.
    pub position: i64,
}

/// Puts someone on a sold-out city event's waiting list. Refused (`409`) when seats are free
/// (`seats_available`: book instead), when the address already waits (`already_on_waiting_list`),
/// or when sales are closed.
pub async fn join(state: &AppState, req: &JoinRequest) -> ApiResult<Joined> {
    let first = PersonName::parse(&req.first_name).map_err(|e| ApiError::from(e.under("first_name")))?;
    let last = PersonName::parse(&req.last_name).map_err(|e| ApiError::from(e.under("last_name")))?;
    let email = Email::parse(&req.email).map_err(|e| ApiError::from(e.under("email")))?;
    let handle = state.registry.handle(CityEventId(req.city_event_id))?;
    let entry = NewWaitlistEntry {
        city_event_id: req.city_event_id,
        first_name: first.as_str().to_owned(),
        last_name: last.as_str().to_owned(),
        email: email.as_str().to_owned(),
        language: req.language.as_str().to_owned(),
    };
    let id = handle.join_waitlist(entry).await?;
    let mut conn = db::connection(&state.pool).await?;
    let position = db::waitlist::waiting(&mut conn, req.city_event_id).await?.iter().position(|w| w.id == id).map_or(0, |p| p as i64 + 1);
    Ok(Joined { waitlist_entry_id: id, city_event_id: req.city_event_id, position })
}

/// What an offer link shows before it is claimed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfferView {
    pub reference: String,
    pub city_event_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub language: String,
    pub total_cents: i64,
    pub expires_at: DateTime<Utc>,
    /// Already claimed: pay with the reference and e-mail address.
    pub claimed: bool,
}

fn offer_gone() -> ApiError {
    ApiError::not_found("offer_not_found", "This offer link is not valid or has expired.")
}

pub async fn offer(state: &AppState, token: &str) -> ApiResult<OfferView> {
    let (id, deadline) = verify_offer_token(state.settings.secret_key.expose(), token, Utc::now()).ok_or_else(offer_gone)?;
    let mut conn = db::connection(&state.pool).await?;
    let b = db::payments::booking(&mut conn, id).await?.ok_or_else(offer_gone)?;
    // The token names its deadline: it must be this booking's, and the booking still held.
    if b.status != BookingStatus::Held
        || b.hold_expires_at.timestamp() != deadline.timestamp()
        || db::waitlist::entry_of_offer(&mut conn, id).await?.is_none()
    {
        return Err(offer_gone());
    }
    Ok(OfferView {
        reference: b.reference,
        city_event_id: b.city_event_id,
        first_name: b.buyer_first_name,
        last_name: b.buyer_last_name,
        email: b.buyer_email,
        language: b.language,
        total_cents: b.total_cents,
        expires_at: b.hold_expires_at,
        claimed: !b.buyer_phone.is_empty(),
    })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    #[schema(example = "514 555 0199")]
    pub phone: String,
    pub act_experience: ActExperience,
}

/// Completes the held booking: it can now be paid (`/payments/create-intent` with its reference
/// and e-mail address) until the offer's deadline.
pub async fn claim(state: &AppState, token: &str, req: &ClaimRequest) -> ApiResult<OfferView> {
    let view = offer(state, token).await?;
    if view.claimed {
        return Ok(view);
    }
    let phone = Phone::parse(&req.phone).map_err(|e| ApiError::from(e.under("phone")))?;
    let (id, _) = verify_offer_token(state.settings.secret_key.expose(), token, Utc::now()).ok_or_else(offer_gone)?;
    let mut conn = db::connection(&state.pool).await?;
    if !db::waitlist::claim_offer(&mut conn, id, phone.as_str(), req.act_experience.as_str(), Utc::now()).await? {
        return Err(offer_gone());
    }
    drop(conn);
    offer(state, token).await
}
