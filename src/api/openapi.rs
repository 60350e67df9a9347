use actix_web::{web, HttpResponse};
use utoipa::{Modify, OpenApi};

use super::{availability, bookings, health, masterclass, payments, privacy, views, webhooks};
use crate::actors::Availability;
use crate::domain::booking_request::{RawAttendee, RawBookingRequest, RawBuyer};
use crate::domain::taxes::TaxLine;
use crate::domain::{ActExperience, BookingStatus, Language};
use crate::http::error::{ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(title = "Billetterie API", version = "1", description = "Seats for the Russ Harris ACT masterclass tour. Amounts are integer cents (CAD)."),
    paths(
        masterclass::events, masterclass::cities, availability::get,
        bookings::create, bookings::get, bookings::cancel, bookings::rename, privacy::personal_data, privacy::erase, payments::create_intent, payments::test_card, webhooks::stripe, webhooks::sendgrid, health::get,
    ),
    components(schemas(
        ErrorBody, ErrorDetail, Availability, TaxLine, ActExperience, BookingStatus, Language,
        RawBookingRequest, RawBuyer, RawAttendee, bookings::CancelRequest, bookings::EmailProof, bookings::RenameRequest, crate::services::self_service::SeatNames,
        views::Localized, views::VenueView, views::PricesView, views::TaxRateView, views::CityEventView, views::CityView,
        views::MasterclassEventView, views::BookingCreated, views::BuyerView, views::AttendeeView, views::BookingView,
        health::Health, health::ActorsHealth, payments::CreateIntentRequest, payments::TestCardRequest, crate::services::test_cards::TestCardResult, crate::payments::IntentView, webhooks::WebhookAck,
        privacy::PersonalData, privacy::Erased, crate::db::privacy::MailRecord, crate::db::privacy::PaymentRecord,
    )),
    modifiers(&CommonResponses),
    tags((name = "catalogue"), (name = "bookings"), (name = "payments"), (name = "email"), (name = "privacy"), (name = "operations"))
)]
pub struct ApiDoc;

/// Completes every operation's responses with the answers that come from the layers around the
/// handlers, so the document lists every status a route can return (checked by
/// `scripts/schemathesis`): `431` from the header limit on every route; `400`, `413`, `415` and
/// `422` from the JSON extractor on the routes that take a JSON body; `413` on the webhooks; `500`
/// (a bug, logged) and `503` (database briefly unavailable) wherever the database is used.
pub struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            for op in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete].into_iter().flatten() {
                let webhook = path.starts_with("/api/v1/webhooks/");
                let json_body = op.request_body.is_some() && !webhook;
                let mut add = |status: &str, description: &str| {
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| error_response(description));
                };
                add("431", "headers_too_large: the request head is larger than 16 KiB");
                if json_body {
                    add("400", "malformed_json: the body is not JSON");
                    add("413", "payload_too_large: the body is larger than 64 KiB");
                    add("415", "unsupported_media_type: the body is not sent as application/json");
                    add("422", "missing_field, unknown_field, invalid_field or a validation error; `field` names the culprit");
                }
                if webhook {
                    add("413", "payload_too_large: the body is larger than the webhook's limit");
                }
                let query = op.parameters.iter().flatten().any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query));
                if query {
                    add("422", "invalid_query: a query parameter does not parse (an unknown word, a number out of range)");
                }
                if path.contains('{') {
                    // Any path parameter: an unknown id or reference, or one that does not parse
                    // (an id past i64) is "nothing at this address".
                    add("404", "not_found (or the resource's own *_not_found): nothing has this id or reference");
                }
                if path != "/health" {
                    add("500", "internal_error: a bug, logged with the request id");
                    add("503", "temporarily_unavailable: the database is briefly unavailable; see Retry-After");
                }
            }
        }
    }
}

/// A stored record is its input plus `id` (`#[serde(flatten)]`, drawn as `allOf`), but the input
/// refuses unknown fields (`additionalProperties: false`), which would refuse the `id` of every
/// real answer: inside an `allOf`, the parts are inlined without that restriction.
pub fn open_flattened_parts(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{RefOr, Schema};
    let Some(components) = openapi.components.as_mut() else { return };
    let closed = |s: &Schema| matches!(s, Schema::Object(o) if o.additional_properties.is_some());
    let lookup = components.schemas.clone();
    for schema in components.schemas.values_mut() {
        let RefOr::T(Schema::AllOf(all)) = schema else { continue };
        for part in all.items.iter_mut() {
            let inlined = match part {
                RefOr::Ref(r) => {
                    let name = r.ref_location.rsplit('/').next().unwrap_or_default();
                    match lookup.get(name) {
                        Some(RefOr::T(s)) if closed(s) => Some(s.clone()),
                        _ => None,
                    }
                }
                RefOr::T(s) if closed(s) => Some(s.clone()),
                RefOr::T(_) => None,
            };
            if let Some(Schema::Object(mut o)) = inlined {
                o.additional_properties = None;
                *part = RefOr::T(Schema::Object(o));
            }
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
        .build()
        .into()
}

/// The service's whole OpenAPI document: built once at start-up by `app`, the one module that
/// sees both the API's routes and the back office's.
pub struct Document(pub utoipa::openapi::OpenApi);

/// `GET /api/v1/openapi.json`
#[tracing::instrument(name = "api.openapi.document", skip_all)]
pub async fn document(doc: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(&doc.0)
}
