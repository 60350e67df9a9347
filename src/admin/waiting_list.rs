//! The waiting list. Joining, offering and removing go through the city event's actor, so the
//! queue and the seats are decided in one order (see `actors::city_event`): a seat that comes
//! back is held for the first person waiting in the very turn it is freed, before any public
//! hold can take it; one seat per person; an unclaimed offer expires like any hold and the seat
//! goes to the next person.
//!
//! The offer mail carries a signed, time-limited link:
//! `<booking id>.<deadline as Unix seconds>.<hex HMAC-SHA256(secret, "waitlist-offer:<id>:<deadline>")>`.
//! Claiming it (phone number and ACT experience) completes the held booking, which is then paid
//! like any other.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit;
use super::session::AdminSession;
use crate::api::AppState;
use crate::db::models::NewWaitlistEntry;
use crate::db::waitlist::WaitlistLine;
use crate::db::{self};
use crate::domain::{ActExperience, CityEventId, Email, Language, PersonName, Phone};
use crate::error::{ApiError, ApiResult};

fn mac(secret: &str, booking_id: Uuid, deadline: i64) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("waitlist-offer:{booking_id}:{deadline}").as_bytes());
    mac
}

pub fn offer_token(secret: &str, booking_id: Uuid, deadline: DateTime<Utc>) -> String {
    let at = deadline.timestamp();
    format!("{}.{at}.{}", booking_id.simple(), hex::encode(mac(secret, booking_id, at).finalize().into_bytes()))
}

/// The booking and deadline of a valid token not yet past its deadline (checked in constant time).
pub fn verify_offer_token(secret: &str, token: &str, now: DateTime<Utc>) -> Option<(Uuid, DateTime<Utc>)> {
    let mut parts = token.trim().splitn(3, '.');
    let id: Uuid = parts.next()?.parse().ok()?;
    let at: i64 = parts.next()?.parse().ok()?;
    let sig = hex::decode(parts.next()?).ok()?;
    mac(secret, id, at).verify_slice(&sig).ok()?;
    let deadline = DateTime::from_timestamp(at, 0)?;
    (deadline > now).then_some((id, deadline))
}

/// The claim page of an offer, in the person's language.
pub fn claim_url(base_url: &str, lang: Language, token: &str) -> String {
    format!("{}/{}/waiting-list/claim?token={token}", base_url.trim_end_matches('/'), lang.as_str())
}

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
    if b.status != "held"
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

pub async fn lines(state: &AppState, city_event_id: i64) -> ApiResult<Vec<WaitlistLine>> {
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::waitlist::lines(&mut conn, city_event_id).await?)
}

/// Takes someone off the list (only while they wait: an offer runs its course).
pub async fn remove(state: &AppState, who: &AdminSession, city_event_id: i64, entry_id: i64) -> ApiResult<()> {
    let handle = state
        .registry
        .actor(CityEventId(city_event_id))
        .ok_or_else(|| ApiError::conflict("sales_closed", "Open the city event's sales to change its waiting list."))?;
    let before = lines(state, city_event_id).await?.into_iter().find(|l| l.id == entry_id);
    let Some(before) = before else { return Err(ApiError::not_found("waitlist_entry_not_found", "No such entry on this waiting list.")) };
    handle.remove_waiting(entry_id).await.map_err(|e| match e {
        crate::actors::ReservationError::WrongStatus { .. } => {
            ApiError::conflict("not_waiting", "This person is not waiting any more (an offer was made).").with_status(&before.state)
        }
        other => other.into(),
    })?;
    let mut conn = db::connection(&state.pool).await?;
    audit::record(
        &mut conn,
        who,
        "waiting_list.remove",
        "waitlist_entry",
        &entry_id.to_string(),
        serde_json::to_value(&before).ok(),
        Some(serde_json::json!({"state": "removed"})),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_tokens_are_signed_and_time_limited() {
        let id = Uuid::new_v4();
        let now = Utc::now();
        let deadline = DateTime::from_timestamp((now + chrono::Duration::hours(24)).timestamp(), 0).unwrap();
        let token = offer_token("s3cret", id, deadline);
        assert_eq!(verify_offer_token("s3cret", &token, now), Some((id, deadline)));
        assert_eq!(verify_offer_token("other", &token, now), None, "another key");
        assert_eq!(verify_offer_token("s3cret", &token, deadline), None, "expired at the deadline");
        let later = format!("{}.{}.{}", id.simple(), deadline.timestamp() + 3600, token.rsplit('.').next().unwrap());
        assert_eq!(verify_offer_token("s3cret", &later, now), None, "the deadline cannot be pushed back");
        assert_eq!(verify_offer_token("s3cret", "garbage", now), None);
        assert!(claim_url("https://x.example/", Language::En, &token).starts_with("https://x.example/en/waiting-list/claim?token="));
    }
}
