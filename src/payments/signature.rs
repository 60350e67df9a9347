//! Stripe's webhook signature: header `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`,
//! where each `v1` is HMAC-SHA256 of `"<t>.<raw body>"` keyed with the endpoint secret. Checked on
//! the raw bytes before any parsing; any matching `v1` is accepted (secrets roll over), compared in
//! constant time, and the timestamp must be within the tolerance of now (replay protection).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Stripe's default tolerance.
pub const TOLERANCE_SECS: i64 = 300;

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

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header Stripe would send for `body` at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

/// Verifies `header` for `body` at `now` (unix seconds).
pub fn verify(header: Option<&str>, body: &[u8], secret: &str, now: i64, tolerance: i64) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    if header.len() > 4096 {
        return Err(SignatureError::Malformed);
    }
    let mut timestamp: Option<i64> = None;
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match key {
            "t" => timestamp = Some(value.parse().map_err(|_| SignatureError::Malformed)?),
            "v1" => {
                if let Ok(bytes) = hex::decode(value) {
                    candidates.push(bytes);
                }
            }
            // v0 (test-mode legacy) and future schemes are ignored, as Stripe's libraries do.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let expected = mac(secret, timestamp, body);
    // `verify_slice` compares in constant time.
    if !candidates.iter().any(|c| expected.clone().verify_slice(c).is_ok()) {
        return Err(SignatureError::Mismatch);
    }
    if (now - timestamp).abs() > tolerance {
        return Err(SignatureError::Stale);
    }
    Ok(())
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
        assert_eq!(verify(Some(expected), BODY, SECRET, NOW, TOLERANCE_SECS), Ok(()));
    }

    #[test]
    fn refusals() {
        let header = sign(SECRET, NOW, BODY);
        assert_eq!(verify(None, BODY, SECRET, NOW, 300), Err(SignatureError::Missing));
        assert_eq!(verify(Some("garbage"), BODY, SECRET, NOW, 300), Err(SignatureError::Malformed));
        assert_eq!(verify(Some(&header), BODY, "whsec_other", NOW, 300), Err(SignatureError::Mismatch), "wrong secret");
        assert_eq!(verify(Some(&header), b"{\"id\":\"evt_2\"}", SECRET, NOW, 300), Err(SignatureError::Mismatch), "tampered body");
        assert_eq!(verify(Some(&header), BODY, SECRET, NOW + 301, 300), Err(SignatureError::Stale), "too old");
        assert_eq!(verify(Some(&header), BODY, SECRET, NOW - 301, 300), Err(SignatureError::Stale), "from the future");
        assert_eq!(verify(Some(&format!("t={NOW}")), BODY, SECRET, NOW, 300), Err(SignatureError::Mismatch), "no v1");
    }

    #[test]
    fn any_of_several_v1_may_match() {
        let good = sign(SECRET, NOW, BODY);
        let v1 = good.split("v1=").nth(1).unwrap();
        let header = format!("t={NOW},v1={},v1={v1},v0=abc", "00".repeat(32));
        assert_eq!(verify(Some(&header), BODY, SECRET, NOW, 300), Ok(()));
    }
}
