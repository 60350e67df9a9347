//! The back office's queries: organiser accounts, sessions and login attempts, the audit log,
//! the dashboard's figures, booking search, city-event edits, exports and the availability-view
//! counter.
//!
//! One file per part of the back office; every item is re-exported here, so callers keep
//! writing `db::admin::search_bookings` whatever file it lives in.

mod accounts;
mod audit;
mod bookings;
mod catalogue;
mod city_events;
mod dashboard;
mod date_operations;
mod exports;
mod views;

pub use accounts::*;
pub use audit::*;
pub use bookings::*;
pub use catalogue::*;
pub use city_events::*;
pub use dashboard::*;
pub use date_operations::*;
pub use exports::*;
pub use views::*;
