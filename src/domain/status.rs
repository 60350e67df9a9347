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

/// A booking's life: `held` → `confirmed` (paid) → maybe `refunded`; or `held` → `cancelled` /
/// `expired`; or `held`/`confirmed` → `moved` (the organiser moved it to another city event: a new
/// booking carries its seats there). Only `held` and `confirmed` occupy seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BookingStatus {
    Held,
    Confirmed,
    Cancelled,
    Expired,
    Refunded,
    Moved,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Held => "held",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Expired => "expired",
            BookingStatus::Refunded => "refunded",
            BookingStatus::Moved => "moved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "held" => BookingStatus::Held,
            "confirmed" => BookingStatus::Confirmed,
            "cancelled" => BookingStatus::Cancelled,
            "expired" => BookingStatus::Expired,
            "refunded" => BookingStatus::Refunded,
            "moved" => BookingStatus::Moved,
            _ => return None,
        })
    }
}
