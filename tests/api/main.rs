//! One integration-test binary: every test spawns the real application on a random port against
//! its own PostgreSQL database, cloned from a migrated and seeded template.

mod helpers;

mod admin;
mod bookings;
mod browser;
mod browser_check_in;
mod browser_setup;
mod catalogue;
mod concurrency;
mod database;
mod date_operations;
mod day_itself;
mod defects;
mod emails;
mod errors;
mod facts;
mod faults;
mod feedback;
mod lifecycle;
mod limits;
mod page_cache;
mod payments;
mod privacy;
mod production;
mod resources;
mod self_service;
mod self_service_more;
mod setup;
mod smtp;
mod website;
