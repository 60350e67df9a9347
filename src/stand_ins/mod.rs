//! The local stand-ins for the remote services (Stripe, SendGrid): the offline demo of
//! `cargo run` and the tests talk to them in the services' own wire formats, through the same
//! clients production uses.
//!
//! Only start-up wiring (`app`), `test_support`, tests and benches import this module; the
//! production code paths never do (the layering test checks it). The stand-ins may use the
//! product's own pieces (Stripe's signature scheme in `payments::signature`, the `TestCards`
//! trait in `state`), never the other way round.

pub mod sendgrid;
pub mod server;
pub mod stripe;
