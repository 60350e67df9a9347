//! The parts of the actor that need no database: its memory's arithmetic, the status names, the
//! rows of a waiting-list offer and which changes go one per batch. Behaviour with a database
//! (holds, batches, expiry, restarts) is covered by `tests/api` (actor, hold, concurrency, expiry).

use crate::domain::BookingId;
use std::collections::{BTreeSet, HashMap, VecDeque};

use chrono::{Duration, TimeZone, Utc};
use tokio::sync::oneshot;

use super::batch::Op;
use super::load::status_name;
use super::prepare::prepare_offer;
use super::seats::{Seats, Waiting};
use super::shared::Offer;
use crate::domain::pricing::PriceRules;
use crate::domain::{Cents, CityEventId};

fn seats(capacity: i32, held: i32, sold: i32) -> Seats {
    Seats { capacity, held, sold, holds: HashMap::new(), expiries: BTreeSet::new(), releasing: HashMap::new(), waiting: VecDeque::new() }
}

#[test]
fn available_is_capacity_less_held_and_sold() {
    assert_eq!(seats(30, 4, 6).available(), 20);
    assert_eq!(seats(10, 4, 6).available(), 0);
}

#[test]
fn taking_a_hold_forgets_its_expiry_and_answers_once() {
    let mut s = seats(10, 2, 0);
    let id = BookingId::random();
    let at = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
    s.holds.insert(id, (2, at));
    s.expiries.insert((at, id));
    assert_eq!(s.take_hold(&id), Some(2));
    assert!(s.expiries.is_empty());
    assert_eq!(s.take_hold(&id), None, "a hold is taken once");
}

#[test]
fn unknown_statuses_read_as_closed() {
    for known in ["on_sale", "draft", "cancelled", "closed"] {
        assert_eq!(status_name(known), known);
    }
    assert_eq!(status_name("anything else"), "closed");
}

#[test]
fn an_offer_is_one_held_seat_in_the_persons_name_until_its_ttl() {
    let offer = Offer {
        id: CityEventId(7),
        city_code: "MTL".into(),
        prices: PriceRules { regular: Cents(10_000), early_bird: None, group: None },
        taxes: Vec::new(),
    };
    let person =
        Waiting { id: 3, first_name: "Ada".into(), last_name: "Lovelace".into(), email: "ada@example.com".into(), language: "de".into() };
    let now = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
    let prepared = prepare_offer(&offer, &person, now, Duration::hours(24));
    let b = prepared.booking();
    assert_eq!((b.city_event_id, b.quantity, b.status), (7, 1, crate::domain::BookingStatus::Held));
    assert_eq!(b.hold_expires_at, now + Duration::hours(24));
    assert_eq!(b.language, "fr", "a language the site does not speak falls back to French");
    assert_eq!(prepared.total(), Cents(10_000));
    assert_eq!(prepared.attendees().len(), 1);
    assert_eq!(prepared.attendees()[0].email.as_deref(), Some("ada@example.com"));
}

#[test]
fn capacity_and_status_changes_are_settings_and_holds_are_not() {
    let (reply, _) = oneshot::channel();
    assert!(Op::Capacity { capacity: 1, previous: 2, reply }.is_setting());
    let (reply, _) = oneshot::channel();
    assert!(Op::Status { status: "closed", reply }.is_setting());
    let (reply, _) = oneshot::channel();
    assert!(!Op::Remove { entry: 1, reply }.is_setting());
}
