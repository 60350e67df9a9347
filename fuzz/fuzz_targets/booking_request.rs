//! The booking API's body: JSON → `RawBookingRequest` (through the API's own extractor logic) →
//! `parse`. Never panics; an accepted request has 1..=max seats and one attendee entry per seat.
#![no_main]

use billetterie::api::extract::parse_json;
use billetterie::domain::booking_request::RawBookingRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = parse_json::<RawBookingRequest>(data) else { return };
    let requested_attendees = raw.attendees.len();
    if let Ok(request) = raw.parse(10) {
        let quantity = usize::from(request.quantity.get());
        assert!((1..=10).contains(&quantity));
        assert_eq!(request.attendees.len(), quantity);
        assert!(requested_attendees <= quantity);
        if let Some(code) = &request.promo_code {
            assert!(!code.is_empty() && code.len() <= 32);
        }
    }
});
