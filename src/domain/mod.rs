//! Pure types and rules: no I/O, no database, no HTTP. Everything the outside world sends is parsed
//! into these types once, at the edge; past that point a value of the type is valid by construction.

pub mod billing;
pub mod booking_reference;
pub mod booking_request;
pub mod email;
pub mod email_kind;
pub mod facts;
pub mod ids;
pub mod money;
pub mod person_name;
pub mod phone;
pub mod pricing;
pub mod quantity;
pub mod refund_window;
pub mod reservation;
pub mod role;
pub mod status;
pub mod taxes;
pub mod time_zone;
pub mod tokens;
pub mod url;

pub use booking_reference::BookingReference;
pub use email::{mask_email, mask_emails_in, Email};
pub use email_kind::EmailKind;
pub use ids::{AttendeeId, BookingId, CityEventId, CityId, PaymentId, VenueId};
pub use money::Cents;
pub use person_name::PersonName;
pub use phone::Phone;
pub use quantity::Quantity;
pub use reservation::ReservationError;
pub use role::AdminRole;
pub use status::{ActExperience, BookingStatus, EmailStatus, Language, PaymentStatus, SalesStatus, WaitlistStatus};
pub use time_zone::parse_time_zone;

/// Why a piece of input was refused: a stable machine code, a human message, and the field it
/// concerns (a JSON path such as `buyer.email`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl InvalidInput {
    pub fn new(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code, field: field.into(), message: message.into() }
    }

    /// The same refusal for a field nested under `prefix` (e.g. `attendees[1]`).
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() { prefix.to_owned() } else { format!("{prefix}.{}", self.field) };
        self
    }
}

impl std::fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.field, self.code, self.message)
    }
}

impl std::error::Error for InvalidInput {}
