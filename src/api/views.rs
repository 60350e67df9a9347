//! Response bodies. Separate from the rows so the API can stay stable while tables change.

use crate::domain::BookingId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::actors::registry::current_unit_price;
use crate::actors::Availability;
use crate::db::catalogue::CityEventDetails;
use crate::db::models::{AttendeeRow, BookingRow, MasterclassEventRow};
use crate::domain::taxes::TaxLine;
use crate::domain::BookingStatus;
use crate::domain::SalesStatus;
use crate::domain::{CityId, VenueId};

#[derive(Debug, Serialize, ToSchema)]
pub struct Localized {
    pub fr: String,
    pub en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueView {
    pub id: VenueId,
    pub name: String,
    pub address: String,
    pub postal_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PricesView {
    pub currency: String,
    /// The unit price that applies to one seat bought now.
    pub current_unit_price_cents: i64,
    pub regular_price_cents: i64,
    pub early_bird_price_cents: Option<i64>,
    pub early_bird_until: Option<DateTime<Utc>>,
    pub group_price_cents: Option<i64>,
    pub group_min_quantity: Option<i32>,
    /// Prices are shown before tax; these taxes are added.
    pub taxes_included: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaxRateView {
    pub code: String,
    pub label: Localized,
    pub rate_per_100k: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CityEventView {
    pub id: i64,
    pub masterclass_event_id: i64,
    pub city_id: CityId,
    /// `on_sale`, `closed`, `draft` or `cancelled`.
    pub status: SalesStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA time zone of the venue; the local fields below are in it.
    pub time_zone: String,
    #[schema(example = "2027-03-15")]
    pub local_date: String,
    #[schema(example = "09:00")]
    pub local_start_time: String,
    #[schema(example = "16:30")]
    pub local_end_time: String,
    pub venue: VenueView,
    pub prices: PricesView,
    pub taxes: Vec<TaxRateView>,
    /// From the city event's actor; absent for a moment while it loads.
    pub availability: Option<Availability>,
}

impl CityEventView {
    pub fn new(d: &CityEventDetails, availability: Option<Availability>) -> Self {
        let tz = d.event.time_zone;
        let start = d.event.starts_at.with_timezone(&tz);
        let end = d.event.ends_at.with_timezone(&tz);
        Self {
            id: d.event.id,
            masterclass_event_id: d.event.masterclass_event_id,
            city_id: d.city.id,
            status: d.event.status,
            starts_at: d.event.starts_at,
            ends_at: d.event.ends_at,
            time_zone: d.event.time_zone.name().to_owned(),
            local_date: start.format("%Y-%m-%d").to_string(),
            local_start_time: start.format("%H:%M").to_string(),
            local_end_time: end.format("%H:%M").to_string(),
            venue: VenueView {
                id: d.venue.id,
                name: d.venue.name.clone(),
                address: d.venue.address.clone(),
                postal_code: d.venue.postal_code.clone(),
            },
            prices: PricesView {
                currency: d.event.currency.clone(),
                current_unit_price_cents: current_unit_price(d).0,
                regular_price_cents: d.event.regular_price_cents,
                early_bird_price_cents: d.event.early_bird_price_cents,
                early_bird_until: d.event.early_bird_until,
                group_price_cents: d.event.group_price_cents,
                group_min_quantity: d.event.group_min_quantity,
                taxes_included: false,
            },
            taxes: d
                .taxes
                .iter()
                .map(|t| TaxRateView {
                    code: t.code.clone(),
                    label: Localized { fr: t.label_fr.clone(), en: t.label_en.clone() },
                    rate_per_100k: t.rate_per_100k,
                })
                .collect(),
            availability,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CityView {
    pub id: CityId,
    pub slug: String,
    pub name: Localized,
    /// Two-letter province code.
    pub province: String,
    pub city_events: Vec<CityEventView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MasterclassEventView {
    pub id: i64,
    pub slug: String,
    pub title: Localized,
    pub summary: Localized,
    pub presenter: String,
    pub city_events: Vec<CityEventView>,
}

impl MasterclassEventView {
    pub fn new(e: &MasterclassEventRow, city_events: Vec<CityEventView>) -> Self {
        Self {
            id: e.id,
            slug: e.slug.clone(),
            title: Localized { fr: e.title_fr.clone(), en: e.title_en.clone() },
            summary: Localized { fr: e.summary_fr.clone(), en: e.summary_en.clone() },
            presenter: e.presenter.clone(),
            city_events,
        }
    }
}

/// `201` answer to `POST /bookings/create`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingCreated {
    pub booking_id: BookingId,
    #[schema(example = "TOR-7KQ2-M9XD")]
    pub reference: String,
    pub status: BookingStatus,
    pub city_event_id: i64,
    pub quantity: i32,
    /// `regular`, `early_bird` or `group`.
    pub price_tier: String,
    pub unit_price_cents: i64,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub taxes: Vec<TaxLine>,
    pub total_cents: i64,
    #[schema(example = "CAD")]
    pub currency: String,
    pub hold_expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BuyerView {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendeeView {
    pub position: i32,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

/// A booking as its buyer may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingView {
    pub booking_id: BookingId,
    pub reference: String,
    pub status: BookingStatus,
    pub city_event_id: i64,
    pub quantity: i32,
    pub buyer: BuyerView,
    pub act_experience: String,
    pub language: String,
    pub attendees: Vec<AttendeeView>,
    pub promo_code: Option<String>,
    pub unit_price_cents: i64,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub taxes: Vec<TaxLine>,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub currency: String,
    /// Present while the booking is held.
    pub hold_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl BookingView {
    pub fn new(b: BookingRow, people: Vec<AttendeeRow>) -> Self {
        let mut status = BookingStatus::parse(b.status.as_str()).unwrap_or(BookingStatus::Cancelled);
        // The actor expires holds within a tick; the buyer should not see "held" past the deadline.
        if status == BookingStatus::Held && b.hold_expires_at <= Utc::now() {
            status = BookingStatus::Expired;
        }
        Self {
            booking_id: b.id,
            reference: b.reference,
            status,
            city_event_id: b.city_event_id,
            quantity: b.quantity,
            buyer: BuyerView { first_name: b.buyer_first_name, last_name: b.buyer_last_name, email: b.buyer_email, phone: b.buyer_phone },
            act_experience: b.act_experience,
            language: b.language,
            attendees: people
                .into_iter()
                .map(|a| AttendeeView { position: a.position, first_name: a.first_name, last_name: a.last_name, email: a.email })
                .collect(),
            promo_code: b.promo_code,
            unit_price_cents: b.unit_price_cents,
            subtotal_cents: b.subtotal_cents,
            discount_cents: b.discount_cents,
            taxes: serde_json::from_value(b.taxes).unwrap_or_default(),
            tax_cents: b.tax_cents,
            total_cents: b.total_cents,
            currency: b.currency,
            hold_expires_at: (status == BookingStatus::Held).then_some(b.hold_expires_at),
            created_at: b.created_at,
            confirmed_at: b.confirmed_at,
        }
    }
}
