//! Rows as Diesel reads and writes them. Insert forms sit beside the rows they create.

use crate::domain::BookingId;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::domain::{AttendeeId, BookingStatus, CityId, EmailStatus, PaymentId, PaymentStatus, SalesStatus, VenueId, WaitlistStatus};

use super::schema::*;
use super::time_zone::ZoneName;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = masterclass_events, check_for_backend(diesel::pg::Pg))]
pub struct MasterclassEventRow {
    pub id: i64,
    pub slug: String,
    pub title_en: String,
    pub title_fr: String,
    pub summary_en: String,
    pub summary_fr: String,
    pub presenter: String,
    pub presenter_photo_url: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cities, check_for_backend(diesel::pg::Pg))]
pub struct CityRow {
    pub id: CityId,
    pub slug: String,
    pub name_en: String,
    pub name_fr: String,
    pub province: String,
    pub code: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = venues, check_for_backend(diesel::pg::Pg))]
pub struct VenueRow {
    pub id: VenueId,
    pub city_id: CityId,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    #[diesel(deserialize_as = ZoneName)]
    pub time_zone: Tz,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = city_events, check_for_backend(diesel::pg::Pg))]
pub struct CityEventRow {
    pub id: i64,
    pub masterclass_event_id: i64,
    pub city_id: CityId,
    pub venue_id: VenueId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[diesel(deserialize_as = ZoneName)]
    pub time_zone: Tz,
    pub capacity: i32,
    pub seats_held: i32,
    pub seats_sold: i32,
    pub currency: String,
    pub regular_price_cents: i64,
    pub early_bird_price_cents: Option<i64>,
    pub early_bird_until: Option<DateTime<Utc>>,
    pub group_price_cents: Option<i64>,
    pub group_min_quantity: Option<i32>,
    pub status: SalesStatus,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sales_taxes, check_for_backend(diesel::pg::Pg))]
pub struct SalesTaxRow {
    pub province: String,
    pub code: String,
    pub label_en: String,
    pub label_fr: String,
    pub rate_per_100k: i32,
    pub registration_number: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bookings, check_for_backend(diesel::pg::Pg))]
pub struct BookingRow {
    pub id: BookingId,
    pub reference: String,
    pub city_event_id: i64,
    pub quantity: i32,
    pub status: BookingStatus,
    pub buyer_first_name: String,
    pub buyer_last_name: String,
    pub buyer_email: String,
    pub buyer_phone: String,
    pub act_experience: String,
    pub language: String,
    pub promo_code: Option<String>,
    pub unit_price_cents: i64,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub taxes: serde_json::Value,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub currency: String,
    pub hold_expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub moved_to: Option<BookingId>,
    pub moved_from: Option<BookingId>,
    /// For the invoice, all optional: the buyer's employer, its address, its purchase order.
    pub company_name: Option<String>,
    pub billing_address: Option<String>,
    pub purchase_order: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = bookings)]
pub struct NewBooking {
    pub id: BookingId,
    pub reference: String,
    pub city_event_id: i64,
    pub quantity: i32,
    pub status: BookingStatus,
    pub buyer_first_name: String,
    pub buyer_last_name: String,
    pub buyer_email: String,
    pub buyer_phone: String,
    pub act_experience: &'static str,
    pub language: &'static str,
    pub promo_code: Option<String>,
    pub unit_price_cents: i64,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub taxes: serde_json::Value,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub hold_expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub company_name: Option<String>,
    pub billing_address: Option<String>,
    pub purchase_order: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attendees, check_for_backend(diesel::pg::Pg))]
pub struct AttendeeRow {
    pub id: AttendeeId,
    pub booking_id: BookingId,
    pub position: i32,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    /// What the ticket's QR carries (signed); replaced when the name changes.
    pub ticket_code: String,
    /// The professional licence number for the certificate, when the attendee gave one.
    pub licence_number: Option<String>,
    pub checked_in_at: Option<DateTime<Utc>>,
}

impl AttendeeRow {
    /// "First Last", or `None` while the seat's name is to come.
    pub fn full_name(&self) -> Option<String> {
        match (&self.first_name, &self.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = attendees)]
pub struct NewAttendee {
    pub booking_id: BookingId,
    pub position: i32,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payments, check_for_backend(diesel::pg::Pg))]
pub struct PaymentRow {
    pub id: PaymentId,
    pub booking_id: BookingId,
    pub payment_intent_id: String,
    pub amount_cents: i64,
    pub amount_refunded_cents: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub flagged_reason: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = email_campaigns, check_for_backend(diesel::pg::Pg))]
pub struct EmailCampaignRow {
    pub id: i64,
    /// `None` for a mail to someone on the waiting list (`occurrence` names the entry).
    pub booking_id: Option<BookingId>,
    pub attendee_id: Option<i64>,
    pub kind: String,
    pub recipient_email: String,
    pub language: String,
    pub status: EmailStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub scheduled_for: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
    pub clicked_at: Option<DateTime<Utc>>,
    /// What distinguishes claims of one kind for one booking and address: `broadcast:<id>`.
    pub occurrence: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = email_campaigns)]
pub struct NewEmailCampaign {
    pub booking_id: BookingId,
    pub attendee_id: Option<i64>,
    pub kind: &'static str,
    pub recipient_email: String,
    pub language: String,
    pub scheduled_for: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admin_users, check_for_backend(diesel::pg::Pg))]
pub struct AdminUserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub disabled: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
pub struct AuditRow {
    pub id: i64,
    pub admin_user_id: Option<i64>,
    pub actor_email: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAudit {
    pub admin_user_id: Option<i64>,
    pub actor_email: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = waitlist_entries, check_for_backend(diesel::pg::Pg))]
pub struct WaitlistEntryRow {
    pub id: i64,
    pub city_event_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub language: String,
    pub status: WaitlistStatus,
    pub created_at: DateTime<Utc>,
    pub offered_at: Option<DateTime<Utc>>,
    pub offer_booking_id: Option<BookingId>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = waitlist_entries)]
pub struct NewWaitlistEntry {
    pub city_event_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub language: String,
}
