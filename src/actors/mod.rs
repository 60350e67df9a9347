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
// Defined below the actors so that payments, which settles seats through them, need not import them.
pub use crate::domain::ReservationError;

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
