use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::{availability, bookings, health, masterclass, payments, privacy, views, webhooks};
use crate::actors::Availability;
use crate::domain::booking_request::{RawAttendee, RawBookingRequest, RawBuyer};
use crate::domain::taxes::TaxLine;
use crate::domain::{ActExperience, BookingStatus, Language};
use crate::error::{ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(title = "Billetterie API", version = "1", description = "Seats for the Russ Harris ACT masterclass tour. Amounts are integer cents (CAD)."),
    paths(
        masterclass::events, masterclass::cities, availability::get,
        bookings::create, bookings::get, bookings::cancel, privacy::personal_data, privacy::erase, payments::create_intent, payments::test_card, webhooks::stripe, webhooks::sendgrid, health::get,
    ),
    components(schemas(
        ErrorBody, ErrorDetail, Availability, TaxLine, ActExperience, BookingStatus, Language,
        RawBookingRequest, RawBuyer, RawAttendee, bookings::CancelRequest,
        views::Localized, views::VenueView, views::PricesView, views::TaxRateView, views::CityEventView, views::CityView,
        views::MasterclassEventView, views::BookingCreated, views::BuyerView, views::AttendeeView, views::BookingView,
        health::Health, health::ActorsHealth, payments::CreateIntentRequest, payments::TestCardRequest, payments::TestCardResult, crate::payments::IntentView, webhooks::WebhookAck,
        privacy::PersonalData, privacy::Erased, crate::db::privacy::MailRecord, crate::db::privacy::PaymentRecord,
    )),
    tags((name = "catalogue"), (name = "bookings"), (name = "payments"), (name = "email"), (name = "privacy"), (name = "operations"))
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`
pub async fn document() -> HttpResponse {
    let mut doc = ApiDoc::openapi();
    doc.merge(<crate::admin::api::AdminApiDoc as OpenApi>::openapi());
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(doc)
}
