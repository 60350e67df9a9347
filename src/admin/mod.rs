//! The organiser's back office: pages under `/admin` and the JSON API they share their logic
//! with under `/api/v1/admin`; the public waiting list (`POST /api/v1/waiting-list`, offer links).
//!
//! Every route but the login form sits behind `session::require`: no session, no answer.

pub mod audit;
pub mod auth;
pub mod bookings;
pub mod session;
pub mod city_events;
