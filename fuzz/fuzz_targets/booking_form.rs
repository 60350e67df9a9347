//! The site's booking form body: `FormValues::parse` then `parse_form`. Never panics; an accepted
//! form has 1..=max seats and one attendee entry per seat.
#![no_main]

use billetterie::domain::Language;
use billetterie::web::booking_form::{parse_form, FormValues};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(values) = FormValues::parse(data) else { return };
    for lang in [Language::Fr, Language::En] {
        if let Ok(request) = parse_form(&values, 1, lang, 10) {
            let quantity = usize::from(request.quantity.get());
            assert!((1..=10).contains(&quantity));
            assert_eq!(request.attendees.len(), quantity);
        }
    }
});
