//! The rows of a hold, prepared by the caller on its own thread (pricing, ids, attendees) so the
//! actor's turn only decides and queues.

use crate::domain::BookingId;
use chrono::{DateTime, Utc};

use super::seats::Waiting;
use super::shared::Offer;
use crate::db::models::{NewAttendee, NewBooking};
use crate::domain::booking_request::BookingRequest;
use crate::domain::pricing::{Discount, Quote};
use crate::domain::BookingStatus;
use crate::domain::{BookingReference, Cents};

/// A hold as prepared by the caller: the rows to insert and the receipt to give back.
pub struct PreparedHold {
    pub(super) booking: NewBooking,
    pub(super) attendees: Vec<NewAttendee>,
    pub(super) quote: Quote,
}

/// Quote and rows for a hold. Pure but for the random id and reference.
pub fn prepare_hold(
    offer: &Offer,
    request: &BookingRequest,
    discount: Option<Discount>,
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> PreparedHold {
    let quote = offer.prices.quote(request.quantity, now, discount, &offer.taxes);
    let id = BookingId::random();
    let booking = NewBooking {
        id,
        reference: BookingReference::generate(&offer.city_code).as_str().to_owned(),
        city_event_id: offer.id.0,
        quantity: request.quantity.as_i32(),
        status: BookingStatus::Held,
        buyer_first_name: request.buyer.first_name.as_str().to_owned(),
        buyer_last_name: request.buyer.last_name.as_str().to_owned(),
        buyer_email: request.buyer.email.as_str().to_owned(),
        buyer_phone: request.buyer.phone.as_str().to_owned(),
        act_experience: request.act_experience.as_str(),
        language: request.language.as_str(),
        promo_code: request.promo_code.clone(),
        unit_price_cents: quote.unit_price.0,
        subtotal_cents: quote.subtotal.0,
        discount_cents: quote.discount.0,
        taxes: serde_json::to_value(&quote.taxes).unwrap_or_default(),
        tax_cents: quote.tax_total.0,
        total_cents: quote.total.0,
        hold_expires_at: now + ttl,
        created_at: now,
        company_name: request.billing.company_name.clone(),
        billing_address: request.billing.billing_address.clone(),
        purchase_order: request.billing.purchase_order.clone(),
    };
    let attendees = request
        .attendees
        .iter()
        .enumerate()
        .map(|(i, a)| NewAttendee {
            booking_id: id,
            position: i as i32 + 1,
            first_name: a.name.as_ref().map(|(f, _)| f.as_str().to_owned()),
            last_name: a.name.as_ref().map(|(_, l)| l.as_str().to_owned()),
            email: a.email.as_ref().map(|e| e.as_str().to_owned()),
        })
        .collect();
    PreparedHold { booking, attendees, quote }
}

/// The one-seat hold made for a person from the waiting list: their name and address, the price
/// of one seat now; the phone number and ACT experience come when they claim it.
pub fn prepare_offer(offer: &Offer, person: &Waiting, now: DateTime<Utc>, ttl: chrono::Duration) -> PreparedHold {
    let one = crate::domain::Quantity::parse(1, 1).expect("1 is a valid quantity");
    let quote = offer.prices.quote(one, now, None, &offer.taxes);
    let id = BookingId::random();
    let booking = NewBooking {
        id,
        reference: BookingReference::generate(&offer.city_code).as_str().to_owned(),
        city_event_id: offer.id.0,
        quantity: 1,
        status: BookingStatus::Held,
        buyer_first_name: person.first_name.clone(),
        buyer_last_name: person.last_name.clone(),
        buyer_email: person.email.clone(),
        buyer_phone: String::new(),
        act_experience: "none",
        language: if person.language == "en" { "en" } else { "fr" },
        promo_code: None,
        unit_price_cents: quote.unit_price.0,
        subtotal_cents: quote.subtotal.0,
        discount_cents: quote.discount.0,
        taxes: serde_json::to_value(&quote.taxes).unwrap_or_default(),
        tax_cents: quote.tax_total.0,
        total_cents: quote.total.0,
        hold_expires_at: now + ttl,
        created_at: now,
        company_name: None,
        billing_address: None,
        purchase_order: None,
    };
    let attendees = vec![NewAttendee {
        booking_id: id,
        position: 1,
        first_name: Some(person.first_name.clone()),
        last_name: Some(person.last_name.clone()),
        email: Some(person.email.clone()),
    }];
    PreparedHold { booking, attendees, quote }
}

impl PreparedHold {
    /// Rows prepared elsewhere (a move copies a booking as it is, price and taxes included).
    pub fn from_rows(booking: NewBooking, attendees: Vec<NewAttendee>, quote: Quote) -> Self {
        Self { booking, attendees, quote }
    }

    pub fn booking(&self) -> &NewBooking {
        &self.booking
    }

    pub fn attendees(&self) -> &[NewAttendee] {
        &self.attendees
    }

    pub fn quote(&self) -> &Quote {
        &self.quote
    }

    pub fn total(&self) -> Cents {
        self.quote.total
    }
}
