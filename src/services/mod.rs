//! What the API and the site's forms both do, written once: taking a booking, paying with a test
//! card. Handlers parse and answer; these do the work between.

pub mod attendees;
pub mod bookings;
pub mod self_service;
pub mod test_cards;
pub mod waiting_list;
