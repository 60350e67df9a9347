//! The signed links the server hands out, all HMAC-SHA256 under the server's secret and checked
//! in constant time: whoever holds the link may use it, and nobody can make one.
//!
//! - booking pages: `k = hex HMAC(secret, "booking-page:<reference>")`, so a reference alone
//!   (printed on badges) reveals nothing;
//! - waiting-list offers: `<booking id>.<deadline as Unix seconds>.<hex HMAC(secret,
//!   "waitlist-offer:<id>:<deadline>")>`, valid until the deadline;
//! - tickets: `BLT1.<ticket code>.<first 16 bytes of HMAC(secret, "ticket:<code>"), hex>`; the
//!   code is random (replaced when the name changes), so the QR says nothing of who holds it;
//! - mail tracking: `<campaign id>.<hex HMAC(secret, "open:<id>" | "click:<id>:<target url>")>`,
//!   so nobody can mark someone else's mail as opened or turn the redirect into an open
//!   redirector.

use crate::domain::BookingId;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::Language;

fn mac(secret: &str, message: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(message);
    mac
}

fn sign(secret: &str, message: &str) -> String {
    hex::encode(mac(secret, message.as_bytes()).finalize().into_bytes())
}

fn signature_matches(secret: &str, message: &str, signature: &str) -> bool {
    hex::decode(signature).ok().is_some_and(|sig| mac(secret, message.as_bytes()).verify_slice(&sig).is_ok())
}

// -- booking pages ----------------------------------------------------------------------------------

fn booking_message(reference: &str) -> String {
    format!("booking-page:{reference}")
}

/// The `k` of a booking's pages (checkout, confirmation, calendar file).
pub fn booking_key(secret: &str, reference: &str) -> String {
    sign(secret, &booking_message(reference))
}

pub fn booking_key_matches(secret: &str, reference: &str, key: &str) -> bool {
    signature_matches(secret, &booking_message(reference), key)
}

// -- waiting-list offers ------------------------------------------------------------------------------

fn offer_message(booking_id: BookingId, deadline: i64) -> String {
    format!("waitlist-offer:{booking_id}:{deadline}")
}

pub fn offer_token(secret: &str, booking_id: BookingId, deadline: DateTime<Utc>) -> String {
    let at = deadline.timestamp();
    format!("{}.{at}.{}", booking_id.0.simple(), sign(secret, &offer_message(booking_id, at)))
}

/// The booking and deadline of a valid token not yet past its deadline.
pub fn verify_offer_token(secret: &str, token: &str, now: DateTime<Utc>) -> Option<(BookingId, DateTime<Utc>)> {
    let mut parts = token.trim().splitn(3, '.');
    let id: BookingId = parts.next()?.parse().ok()?;
    let at: i64 = parts.next()?.parse().ok()?;
    if !signature_matches(secret, &offer_message(id, at), parts.next()?) {
        return None;
    }
    let deadline = DateTime::from_timestamp(at, 0)?;
    (deadline > now).then_some((id, deadline))
}

/// The claim page of an offer, in the person's language.
pub fn claim_url(base_url: &str, lang: Language, token: &str) -> String {
    format!("{}/{}/waiting-list/claim?token={token}", base_url.trim_end_matches('/'), lang.as_str())
}

// -- tickets ----------------------------------------------------------------------------------------------

const TICKET_PREFIX: &str = "BLT1";
/// A truncated MAC: 128 bits are plenty against forgery and keep the QR small enough to scan at
/// arm's length.
const TICKET_MAC_BYTES: usize = 16;

fn ticket_message(code: &str) -> String {
    format!("ticket:{code}")
}

/// What a ticket's QR code carries.
pub fn ticket_token(secret: &str, code: &str) -> String {
    let mac = mac(secret, ticket_message(code).as_bytes()).finalize().into_bytes();
    format!("{TICKET_PREFIX}.{code}.{}", hex::encode(&mac[..TICKET_MAC_BYTES]))
}

/// Why a scanned text is not a ticket this server issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketTokenError {
    /// Not shaped like a ticket at all (another QR code, a typo).
    Malformed,
    /// Shaped like one, but the signature is not ours.
    Forged,
}

/// The ticket code of a token this server signed.
pub fn verify_ticket_token<'a>(secret: &str, token: &'a str) -> Result<&'a str, TicketTokenError> {
    let mut parts = token.trim().split('.');
    let (Some(TICKET_PREFIX), Some(code), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TicketTokenError::Malformed);
    };
    if code.len() != 32 || !code.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TicketTokenError::Malformed);
    }
    let sig = hex::decode(sig).map_err(|_| TicketTokenError::Malformed)?;
    if sig.len() != TICKET_MAC_BYTES {
        return Err(TicketTokenError::Malformed);
    }
    mac(secret, ticket_message(code).as_bytes()).verify_truncated_left(&sig).map_err(|_| TicketTokenError::Forged)?;
    Ok(code)
}

// -- mail tracking --------------------------------------------------------------------------------------

fn campaign_token(secret: &str, id: i64, message: &str) -> String {
    format!("{id}.{}", sign(secret, message))
}

/// The campaign id of a valid token.
fn verify_campaign(secret: &str, token: &str, message_for: impl Fn(i64) -> String) -> Option<i64> {
    let (id, sig) = token.split_once('.')?;
    let id: i64 = id.parse().ok()?;
    signature_matches(secret, &message_for(id), sig).then_some(id)
}

pub fn open_token(secret: &str, id: i64) -> String {
    campaign_token(secret, id, &format!("open:{id}"))
}

pub fn verify_open(secret: &str, token: &str) -> Option<i64> {
    verify_campaign(secret, token, |id| format!("open:{id}"))
}

pub fn click_token(secret: &str, id: i64, target: &str) -> String {
    campaign_token(secret, id, &format!("click:{id}:{target}"))
}

pub fn verify_click(secret: &str, token: &str, target: &str) -> Option<i64> {
    verify_campaign(secret, token, |id| format!("click:{id}:{target}"))
}

// -- feedback forms ---------------------------------------------------------------------------------------
// `k = hex HMAC(secret, "feedback:<reference>:<position>")`: one per seat, so an attendee answers
// for their own seat only, and the booking page's key opens no feedback form.

fn feedback_message(reference: &str, position: i32) -> String {
    format!("feedback:{reference}:{position}")
}

/// The `k` of a seat's feedback form.
pub fn feedback_key(secret: &str, reference: &str, position: i32) -> String {
    sign(secret, &feedback_message(reference, position))
}

pub fn feedback_key_matches(secret: &str, reference: &str, position: i32, key: &str) -> bool {
    signature_matches(secret, &feedback_message(reference, position), key)
}

/// A seat's feedback form, in the person's language (the address `web::paths::feedback` serves:
/// the mails cannot reach the site's module).
pub fn feedback_url(base_url: &str, secret: &str, lang: Language, reference: &str, position: i32) -> String {
    let slug = if lang == Language::Fr { "commentaires" } else { "feedback" };
    let key = feedback_key(secret, reference, position);
    format!("{}/{}/{slug}/{reference}/{position}?k={key}", base_url.trim_end_matches('/'), lang.as_str())
}

// -- resources ---------------------------------------------------------------------------------------------
// `k = hex HMAC(secret, "resources:<reference>")`: the booking's way to the masterclass's files and
// links, valid as long as the policy keeps them online (the page checks the date, not the key).

fn resources_message(reference: &str) -> String {
    format!("resources:{reference}")
}

pub fn resources_key(secret: &str, reference: &str) -> String {
    sign(secret, &resources_message(reference))
}

pub fn resources_key_matches(secret: &str, reference: &str, key: &str) -> bool {
    signature_matches(secret, &resources_message(reference), key)
}

/// A booking's resources page, in the person's language (the address `web::resources` serves).
pub fn resources_url(base_url: &str, secret: &str, lang: Language, reference: &str) -> String {
    let slug = if lang == Language::Fr { "ressources" } else { "resources" };
    format!("{}/{}/{slug}/{reference}?k={}", base_url.trim_end_matches('/'), lang.as_str(), resources_key(secret, reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_tokens_verify_and_forgeries_do_not() {
        let code = "0123456789abcdef0123456789abcdef";
        let t = ticket_token("s3cret", code);
        assert_eq!(verify_ticket_token("s3cret", &t), Ok(code));
        assert_eq!(verify_ticket_token("s3cret", &format!(" {t}\n")), Ok(code), "scanners add whitespace");
        assert_eq!(verify_ticket_token("other", &t), Err(TicketTokenError::Forged));
        let other_code = t.replacen("0123", "9999", 1);
        assert_eq!(verify_ticket_token("s3cret", &other_code), Err(TicketTokenError::Forged), "the code is signed");
        assert_eq!(verify_ticket_token("s3cret", "BLT1.short.00"), Err(TicketTokenError::Malformed));
        assert_eq!(verify_ticket_token("s3cret", "https://example.ca/"), Err(TicketTokenError::Malformed));
        assert_eq!(verify_ticket_token("s3cret", &format!("{t}.x")), Err(TicketTokenError::Malformed));
    }

    #[test]
    fn tokens_verify_and_forgeries_do_not() {
        let t = open_token("s3cret", 42);
        assert_eq!(verify_open("s3cret", &t), Some(42));
        assert_eq!(verify_open("other", &t), None, "another key");
        assert_eq!(verify_open("s3cret", &t.replacen("42.", "43.", 1)), None, "another campaign");
        assert_eq!(verify_open("s3cret", "42.zz"), None);
        assert_eq!(verify_open("s3cret", "nonsense"), None);
        let c = click_token("s3cret", 7, "https://example.ca/a");
        assert_eq!(verify_click("s3cret", &c, "https://example.ca/a"), Some(7));
        assert_eq!(verify_click("s3cret", &c, "https://evil.example/"), None, "the target is signed too");
        assert_eq!(verify_open("s3cret", &c), None, "a click token is not an open token");
    }

    #[test]
    fn booking_keys_are_bound_to_their_reference() {
        let k = booking_key("s3cret", "MTL-7KQ2-M9XD");
        assert!(booking_key_matches("s3cret", "MTL-7KQ2-M9XD", &k));
        assert!(!booking_key_matches("s3cret", "MTL-7KQ2-M9XE", &k), "another reference");
        assert!(!booking_key_matches("other", "MTL-7KQ2-M9XD", &k), "another key");
        assert!(!booking_key_matches("s3cret", "MTL-7KQ2-M9XD", "not hex"));
    }

    #[test]
    fn offer_tokens_are_signed_and_time_limited() {
        let id = BookingId::random();
        let now = Utc::now();
        let deadline = DateTime::from_timestamp((now + chrono::Duration::hours(24)).timestamp(), 0).unwrap();
        let token = offer_token("s3cret", id, deadline);
        assert_eq!(verify_offer_token("s3cret", &token, now), Some((id, deadline)));
        assert_eq!(verify_offer_token("other", &token, now), None, "another key");
        assert_eq!(verify_offer_token("s3cret", &token, deadline), None, "expired at the deadline");
        let later = format!("{}.{}.{}", id.0.simple(), deadline.timestamp() + 3600, token.rsplit('.').next().unwrap());
        assert_eq!(verify_offer_token("s3cret", &later, now), None, "the deadline cannot be pushed back");
        assert_eq!(verify_offer_token("s3cret", "garbage", now), None);
        assert!(claim_url("https://x.example/", Language::En, &token).starts_with("https://x.example/en/waiting-list/claim?token="));
    }

    #[test]
    fn feedback_keys_are_bound_to_their_seat() {
        let k = feedback_key("s3cret", "MTL-7KQ2-M9XD", 2);
        assert!(feedback_key_matches("s3cret", "MTL-7KQ2-M9XD", 2, &k));
        assert!(!feedback_key_matches("s3cret", "MTL-7KQ2-M9XD", 1, &k), "another seat");
        assert!(!feedback_key_matches("s3cret", "MTL-7KQ2-M9XE", 2, &k), "another booking");
        assert!(!feedback_key_matches("other", "MTL-7KQ2-M9XD", 2, &k), "another key");
        assert_ne!(k, booking_key("s3cret", "MTL-7KQ2-M9XD"), "not the booking page's key");
        let url = feedback_url("https://x.example/", "s3cret", Language::Fr, "MTL-7KQ2-M9XD", 2);
        assert_eq!(url, format!("https://x.example/fr/commentaires/MTL-7KQ2-M9XD/2?k={k}"));
    }

    #[test]
    fn resources_keys_are_bound_to_their_booking() {
        let k = resources_key("s3cret", "MTL-7KQ2-M9XD");
        assert!(resources_key_matches("s3cret", "MTL-7KQ2-M9XD", &k));
        assert!(!resources_key_matches("s3cret", "MTL-7KQ2-M9XE", &k), "another booking");
        assert!(!resources_key_matches("other", "MTL-7KQ2-M9XD", &k), "another key");
        assert!(!resources_key_matches("s3cret", "MTL-7KQ2-M9XD", &booking_key("s3cret", "MTL-7KQ2-M9XD")), "not the booking page's key");
        let url = resources_url("https://x.example/", "s3cret", Language::En, "MTL-7KQ2-M9XD");
        assert_eq!(url, format!("https://x.example/en/resources/MTL-7KQ2-M9XD?k={k}"));
    }
}
