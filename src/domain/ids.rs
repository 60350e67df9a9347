//! Typed primary keys: a venue's id cannot be passed where a city's is expected. Each is the
//! column's value (`BIGINT`, or `UUID` for bookings), transparent in JSON and in the database
//! (`db::ids` maps them).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$m:meta])* $name:ident($inner:ty);)+) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                Self(v)
            }
        }

        impl std::str::FromStr for $name {
            type Err = <$inner as std::str::FromStr>::Err;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    )+};
}

typed_id! {
    /// A city event's primary key.
    CityEventId(i64);
    /// A city's primary key.
    CityId(i64);
    /// A venue's primary key.
    VenueId(i64);
    /// A booking's primary key (a UUID, made by the server before the hold is written).
    BookingId(Uuid);
    /// An attendee's primary key.
    AttendeeId(i64);
    /// A payment's primary key (one Stripe PaymentIntent).
    PaymentId(i64);
}

impl BookingId {
    /// A fresh id: the server names a booking before writing its hold, so a retried write is the
    /// same booking.
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }
}
