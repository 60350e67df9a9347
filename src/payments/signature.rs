//! Stripe's webhook signature: header `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`,
//! where each `v1` is HMAC-SHA256 of `"<t>.<raw body>"` keyed with the endpoint secret. The check
//! is async-stripe-webhook's (`Webhook::construct_event_with_timestamp`): on the raw bytes, any
//! matching `v1` accepted (secrets roll over), compared in constant time, the timestamp within
//! Stripe's 300 s of now (replay protection).
//!
//! async-stripe also parses the event; a correctly signed event whose object does not match its
//! schema is still *accepted* here: it is recorded, and `payments::parse_event` logs and ignores
//! it, so Stripe stops resending it and the operator sees it.

use stripe_webhook::{Webhook, WebhookError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("no v1 signature matches")]
    Mismatch,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
}

/// The header Stripe would send for `body` at `timestamp` (the stand-in signs with it).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    Webhook::generate_test_header(&String::from_utf8_lossy(body), secret, Some(timestamp))
}

/// Verifies `header` for `body` at `now` (unix seconds).
pub fn verify(header: Option<&str>, body: &[u8], secret: &str, now: i64) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    if header.len() > 4096 {
        return Err(SignatureError::Malformed);
    }
    // Stripe signs JSON, which is UTF-8: other bytes cannot carry a valid signature.
    let body = std::str::from_utf8(body).map_err(|_| SignatureError::Mismatch)?;
    if !header.split(',').any(|part| part.trim_start().starts_with("t=")) {
        return Err(SignatureError::Malformed);
    }
    match Webhook::construct_event_with_timestamp(body, header, secret, now) {
        Ok(_) | Err(WebhookError::BadParse(_)) => Ok(()),
        Err(WebhookError::BadHeader(_)) => Err(SignatureError::Malformed),
        Err(WebhookError::BadTimestamp(_)) => Err(SignatureError::Stale),
        Err(WebhookError::BadSignature | WebhookError::BadKey) => Err(SignatureError::Mismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    const NOW: i64 = 1_790_000_000;

    #[test]
    fn known_vector() {
        // Python: hmac.new(b"whsec_test_secret", b"1790000000." + BODY, hashlib.sha256).hexdigest()
        let expected = "t=1790000000,v1=ba43b05134b07a8e95685dc19e48e1dd5e1fc191107904ca15cf2bfab21d402c";
        assert_eq!(sign(SECRET, NOW, BODY), expected);
        assert_eq!(verify(Some(expected), BODY, SECRET, NOW), Ok(()));
    }

    #[test]
    fn refusals() {
        let header = sign(SECRET, NOW, BODY);
        assert_eq!(verify(None, BODY, SECRET, NOW), Err(SignatureError::Missing));
        assert_eq!(verify(Some("garbage"), BODY, SECRET, NOW), Err(SignatureError::Malformed));
        assert_eq!(verify(Some(&header), BODY, "whsec_other", NOW), Err(SignatureError::Mismatch), "wrong secret");
        assert_eq!(verify(Some(&header), b"{\"id\":\"evt_2\"}", SECRET, NOW), Err(SignatureError::Mismatch), "tampered body");
        assert_eq!(verify(Some(&header), BODY, SECRET, NOW + 301), Err(SignatureError::Stale), "too old");
        assert_eq!(verify(Some(&header), BODY, SECRET, NOW - 301), Err(SignatureError::Stale), "from the future");
        assert_eq!(verify(Some(&format!("t={NOW}")), BODY, SECRET, NOW), Err(SignatureError::Mismatch), "no v1");
    }

    #[test]
    fn any_of_several_v1_may_match() {
        let good = sign(SECRET, NOW, BODY);
        let v1 = good.split("v1=").nth(1).unwrap();
        let header = format!("t={NOW},v1={},v1={v1},v0=abc", "00".repeat(32));
        assert_eq!(verify(Some(&header), BODY, SECRET, NOW), Ok(()));
    }
}
