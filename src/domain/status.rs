use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The languages the whole product speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fr,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }

    pub fn from_db(s: &str) -> Self {
        if s == "en" {
            Language::En
        } else {
            Language::Fr
        }
    }
}

/// How much Acceptance and Commitment Therapy the attendee has practised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActExperience {
    None,
    Beginner,
    Intermediate,
    Advanced,
}

impl ActExperience {
    pub fn as_str(self) -> &'static str {
        match self {
            ActExperience::None => "none",
            ActExperience::Beginner => "beginner",
            ActExperience::Intermediate => "intermediate",
            ActExperience::Advanced => "advanced",
        }
    }
}

/// An enum whose values are stored as text (the database's `CHECK (status IN (…))` lists the
/// same words): `as_str`/`parse`, `Display`, and the `String` conversions the rows use
/// (`#[diesel(deserialize_as = String)]`), so a status is compared as a value, never as text.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        // serde's (and so the OpenAPI document's) words are the snake_case of the variants;
        // a test holds them equal to the stored words.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vm])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownValue;

            fn try_from(s: String) -> Result<Self, UnknownValue> {
                Self::parse(&s).ok_or(UnknownValue { of: stringify!($name), value: s })
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_owned()
            }
        }
    };
}

/// A stored word that is none of its enum's: the database's CHECKs make this a bug (or a
/// migration the code has not caught up with), reported with the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a {of}")]
pub struct UnknownValue {
    pub of: &'static str,
    pub value: String,
}

text_enum! {
    /// A booking's life: `held` → `confirmed` (paid) → maybe `refunded`; or `held` → `cancelled` /
    /// `expired`; or `held`/`confirmed` → `moved` (the organiser moved it to another city event: a
    /// new booking carries its seats there). Only `held` and `confirmed` occupy seats.
    BookingStatus {
        Held = "held",
        Confirmed = "confirmed",
        Cancelled = "cancelled",
        Expired = "expired",
        Refunded = "refunded",
        Moved = "moved",
    }
}

text_enum! {
    /// Whether a city event sells: prepared (`draft`), `on_sale`, `closed` by the organiser or
    /// full, or `cancelled`.
    SalesStatus {
        Draft = "draft",
        OnSale = "on_sale",
        Closed = "closed",
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// A Stripe PaymentIntent's status, as Stripe spells it (`canceled`, one `l`).
    PaymentStatus {
        RequiresPaymentMethod = "requires_payment_method",
        RequiresConfirmation = "requires_confirmation",
        RequiresAction = "requires_action",
        Processing = "processing",
        RequiresCapture = "requires_capture",
        Canceled = "canceled",
        Succeeded = "succeeded",
    }
}

text_enum! {
    /// One mail's delivery: due (`pending`), claimed by a pass (`sending`), `sent`, `failed` for
    /// good, or `skipped` (no longer relevant: the booking was cancelled, say).
    EmailStatus {
        Pending = "pending",
        Sending = "sending",
        Sent = "sent",
        Failed = "failed",
        Skipped = "skipped",
    }
}

text_enum! {
    /// A place on a waiting list: `waiting`, `offered` a held seat, or `removed` by the organiser.
    WaitlistStatus {
        Waiting = "waiting",
        Offered = "offered",
        Removed = "removed",
    }
}

#[cfg(test)]
mod text_enum_tests {
    use super::*;

    #[test]
    fn every_status_reads_back_what_it_writes_and_an_unknown_word_is_named() {
        fn round_trip<T>(all: &[T])
        where
            T: Copy + PartialEq + std::fmt::Debug + TryFrom<String, Error = UnknownValue> + Into<String> + Serialize,
        {
            for &v in all {
                let word: String = v.into();
                assert_eq!(serde_json::to_value(v).unwrap(), serde_json::Value::String(word.clone()), "JSON says what the database stores");
                assert_eq!(T::try_from(word), Ok(v));
            }
        }
        round_trip(BookingStatus::ALL);
        round_trip(SalesStatus::ALL);
        round_trip(PaymentStatus::ALL);
        round_trip(EmailStatus::ALL);
        round_trip(WaitlistStatus::ALL);
        assert_eq!(SalesStatus::OnSale.as_str(), "on_sale");
        assert_eq!(serde_json::to_value(PaymentStatus::RequiresAction).unwrap(), "requires_action");
        let err = BookingStatus::try_from("paid".to_owned()).unwrap_err();
        assert_eq!(err.to_string(), "\"paid\" is not a BookingStatus");
    }
}
