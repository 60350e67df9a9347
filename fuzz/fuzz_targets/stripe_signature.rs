//! The `Stripe-Signature` header parser and verifier: the first line is the header, the rest the
//! body. Never panics; a header it did not sign never verifies; what it signs always verifies.
#![no_main]

use billetterie::payments::signature::{sign, verify, SignatureError};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_fuzz";
const NOW: i64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (header, body) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));
    let header = String::from_utf8_lossy(header);
    let genuine = sign(SECRET, NOW, body);
    match verify(Some(&header), body, SECRET, NOW, 300) {
        // Only a header carrying the genuine MAC of this body can pass.
        Ok(()) => assert!(header.to_ascii_lowercase().contains(genuine.split_once("v1=").unwrap().1), "forged header accepted: {header:?}"),
        Err(SignatureError::Missing) => panic!("a present header reported missing"),
        Err(_) => {}
    }
    verify(Some(&genuine), body, SECRET, NOW, 300).expect("a genuine signature verifies");
    // The fuzzed header with the genuine signature appended, as Stripe does during secret rollover.
    let _ = verify(Some(&format!("{header},{genuine}")), body, SECRET, NOW, 300);
    assert!(verify(Some(&genuine), body, "another secret", NOW, 300).is_err());
});
