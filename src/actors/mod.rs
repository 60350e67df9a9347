//! Actor topology.
//!
//! ```text
//!   HTTP workers ──CityEventHandle──▶ CityEventActor (one per on-sale city event, Supervised)
//!        │   (admission permit,            │  decides in memory, one message at a time
//!        │    price quote, rows built)     │  commits pending changes in batches (one tx)
//!        │                                 ▼
//!        └──── reads ◀── SeatSnapshot ◀── publishes counts after every change
//!   Registry: city_event_id → handle (or the status of a city event that is not on sale)
//! ```
//!
//! The actors run on one dedicated arbiter (thread) so request handling and commits do not share
//! a run queue. See `docs/design.md` for the message flow.

pub mod city_event;
pub mod email;
pub mod payment;
pub mod registry;
pub mod settings;

use serde::Serialize;
use utoipa::ToSchema;

pub use city_event::{CityEventActor, CityEventHandle, HoldReceipt};
pub use registry::Registry;
pub use settings::ActorSettings;

/// A city event's seat counts as the actor holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Availability {
    pub city_event_id: i64,
    /// Seats that can still be held: `total - held - sold`.
    pub available: i32,
    pub total: i32,
    pub held: i32,
    pub sold: i32,
}

/// Why a reservation request was refused. Every variant is an answer the API can give as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReservationError {
    #[error("this city event is sold out")]
    SoldOut,
    #[error("only {available} seats are left")]
    NotEnoughSeats { available: i32 },
    #[error("sales are not open for this city event ({status})")]
    SalesClosed { status: String },
    #[error("no such city event")]
    UnknownCityEvent,
    #[error("too many requests for this city event right now")]
    Busy { retry_after_secs: u32 },
    #[error("reservations are temporarily unavailable")]
    Unavailable { retry_after_secs: u32 },
    #[error("the booking is not {expected}")]
    WrongStatus { expected: &'static str },
    #[error("this address is already on the waiting list")]
    AlreadyWaiting,
    #[error("{available} seats are free: book them instead of waiting")]
    SeatsAvailable { available: i32 },
    #[error("{taken} seats are held or sold: the capacity cannot go below")]
    CapacityBelowTaken { taken: i32 },
}
