//! The JSON API under `/api/v1`: handlers by resource, the JSON extractor that names the faulty
//! field, and the route table.

pub mod availability;
pub mod bookings;
pub mod health;
pub mod masterclass;
pub mod openapi;
pub mod payments;
pub mod privacy;
pub mod views;
pub mod webhooks;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::http::error::ApiError;

/// The API answers browsers only for the site's own origin (`FRONTEND_URL`). A foreign origin
/// gets no CORS headers, so its pages cannot read answers or send JSON (the preflight fails).
pub fn cors(frontend_url: &str) -> actix_cors::Cors {
    use actix_web::http::header;
    actix_cors::Cors::default()
        .allowed_origin(frontend_url.trim_end_matches('/'))
        .allowed_methods(["GET", "POST"])
        .allowed_headers([header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([header::RETRY_AFTER, header::HeaderName::from_static("x-request-id")])
        .block_on_origin_mismatch(false)
        .max_age(3600)
}

/// The routes, with CORS for `frontend_url` on `/api/v1`.
pub fn routes_for(frontend_url: &str) -> impl FnOnce(&mut web::ServiceConfig) + '_ {
    move |cfg| api_routes(cfg, Some(cors(frontend_url)))
}

fn api_routes(cfg: &mut web::ServiceConfig, cors: Option<actix_cors::Cors>) {
    cfg.service(
        web::scope("/api/v1")
            .wrap(actix_web::middleware::Condition::new(cors.is_some(), cors.unwrap_or_default()))
            .app_data(crate::http::extract::path_config())
            .app_data(crate::http::extract::query_config())
            .route("/openapi.json", web::get().to(openapi::document))
            .route("/masterclass/events", web::get().to(masterclass::events))
            .route("/masterclass/cities", web::get().to(masterclass::cities))
            .route("/availability/{city_event_id}", web::get().to(availability::get))
            .route("/bookings/create", web::post().to(bookings::create))
            .route("/bookings/{reference}", web::get().to(bookings::get))
            .route("/bookings/{reference}/cancel", web::post().to(bookings::cancel))
            .route("/bookings/{reference}/attendees", web::put().to(bookings::rename))
            .route("/bookings/{reference}/personal-data", web::get().to(privacy::personal_data))
            .route("/bookings/{reference}/erase", web::post().to(privacy::erase))
            .route("/payments/create-intent", web::post().to(payments::create_intent))
            .route("/payments/test-card", web::post().to(payments::test_card))
            .service(
                web::resource("/webhooks/stripe")
                    // Stripe events can be larger than booking requests.
                    .app_data(web::PayloadConfig::new(1024 * 1024))
                    .route(web::post().to(webhooks::stripe))
                    .default_service(web::to(not_found)),
            )
            .service(
                web::resource("/webhooks/sendgrid")
                    .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
                    .route(web::post().to(webhooks::sendgrid))
                    .default_service(web::to(not_found)),
            )
            .default_service(web::to(not_found)),
    )
    .route("/health", web::get().to(health::get))
    .route("/metrics", web::get().to(health::metrics));
}

/// Unknown API routes and wrong methods answer in the API's error format.
#[tracing::instrument(name = "api.not_found", skip_all)]
async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route_not_found", format!("No API route for {} {}.", req.method(), req.path())))
}
