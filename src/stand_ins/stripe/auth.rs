//! API keys as Stripe reads them: `Authorization: Bearer sk_…` or HTTP Basic with the key as user
//! name, and Stripe's 401 answers.

use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use actix_web::http::StatusCode;

use super::router::Reply;
use super::state::Shared;

impl Shared {
    /// Ok, or the 401 Stripe answers. Bearer is what the libraries send; Basic (key as user name)
    /// is what `curl -u sk_…:` sends.
    pub(super) fn authenticate(&self, headers: &HeaderMap) -> Result<(), Reply> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(Reply::error(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                None,
                "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth \
                 (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
                None,
            ));
        };
        let key = value.to_str().ok().and_then(api_key_from_authorization).unwrap_or_default();
        if key == self.secret_key {
            return Ok(());
        }
        let message = if key == self.publishable_key {
            "This API call cannot be made with a publishable API key. Please use a secret API key.".to_owned()
        } else {
            format!("Invalid API Key provided: {}", redact_key(&key))
        };
        Err(Reply::error(StatusCode::UNAUTHORIZED, "invalid_request_error", Some("api_key_invalid"), message, None))
    }
}

pub(super) fn api_key_from_authorization(value: &str) -> Option<String> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(credentials.to_owned())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = String::from_utf8(base64_decode(credentials)?).ok()?;
        Some(decoded.split_once(':').map_or(decoded.as_str(), |(user, _)| user).to_owned())
    } else {
        None
    }
}

/// Standard base64 with optional padding (only for HTTP Basic, so no dependency for it).
pub(super) fn base64_decode(input: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let input = input.trim_end_matches('=').as_bytes();
    if input.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    for chunk in input.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// Like Stripe's error messages: the prefix and the last four characters only.
pub(super) fn redact_key(key: &str) -> String {
    let prefix_len = key.match_indices('_').nth(1).map_or(0, |(i, _)| i + 1);
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= prefix_len + 4 {
        return format!("{}****", &key[..prefix_len.min(key.len())]);
    }
    let last4: String = chars[chars.len() - 4..].iter().collect();
    format!("{}****{last4}", &key[..prefix_len])
}
