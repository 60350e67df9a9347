//! The e-mail tracking tokens (open pixel, click redirect): the first line is the token, the rest
//! the click target. Never panics; only the tokens it issued verify, for their own target.
#![no_main]

use billetterie::domain::tokens::{click_token, open_token, verify_click, verify_open};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-secret-key";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (token, target) = text.split_once('\n').unwrap_or((&text, ""));
    // A token verifies only with the MAC the server issued for its id (hex in either case).
    let mac_of = |t: &str| t.split_once('.').map(|(_, mac)| mac.to_ascii_lowercase());
    if let Some(id) = verify_open(SECRET, token) {
        assert_eq!(mac_of(&open_token(SECRET, id)), mac_of(token), "an open token verified that was not issued");
    }
    if let Some(id) = verify_click(SECRET, token, target) {
        assert_eq!(mac_of(&click_token(SECRET, id, target)), mac_of(token), "a click token verified that was not issued");
    }
    // Round trips, with an id derived from the input.
    let id = data.iter().fold(0i64, |acc, &b| acc.wrapping_mul(31).wrapping_add(i64::from(b)));
    assert_eq!(verify_open(SECRET, &open_token(SECRET, id)), Some(id));
    assert_eq!(verify_click(SECRET, &click_token(SECRET, id, target), target), Some(id));
    assert_eq!(verify_click(SECRET, &click_token(SECRET, id, target), &format!("{target}x")), None);
});
