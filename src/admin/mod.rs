//! The organiser's back office: pages under `/admin` and the JSON API they share their logic
//! with under `/api/v1/admin`; the waiting list's public JSON (`POST /api/v1/waiting-list`, offers).
//!
//! Every route but the login form sits behind `session::require`: no session, no answer.

pub mod api;
pub mod audit;
pub mod auth;
pub mod bookings;
pub mod catalogue;
pub mod chart;
pub mod check_in;
pub mod city_events;
pub mod csv;
pub mod dashboard;
pub mod date_operations;
pub mod date_operations_api;
pub mod exports;
pub mod facts;
pub mod facts_api;
pub mod feedback;
pub mod resources;
pub mod session;
pub mod waiting_list;

use actix_web::{middleware, web};

/// `/api/v1/waiting-list` (public), `/api/v1/admin` and `/admin`. Registered before the public
/// API so these scopes are matched first.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/waiting-list")
            .app_data(crate::http::extract::path_config())
            .route("", web::post().to(api::join_waiting_list))
            .route("/offers/{token}", web::get().to(api::get_offer))
            .route("/offers/{token}/claim", web::post().to(api::claim_offer))
            .default_service(web::to(api::not_found)),
    )
    .service(
        web::scope("/api/v1/admin")
            .wrap(middleware::from_fn(clear_stored_pages))
            .app_data(crate::http::extract::path_config())
            .app_data(crate::http::extract::query_config())
            .route("/login", web::post().to(api::login))
            .service(
                // Everything else needs a session (and a CSRF token to change anything).
                web::scope("")
                    .wrap(middleware::from_fn(session::require))
                    .route("/session", web::get().to(api::current))
                    .route("/logout", web::post().to(api::logout))
                    .route("/dashboard", web::get().to(api::get_dashboard))
                    .route("/bookings", web::get().to(api::search_bookings))
                    .route("/bookings/{reference}", web::get().to(api::get_booking))
                    .route("/bookings/{reference}/resend-confirmation", web::post().to(api::resend))
                    .route("/bookings/{reference}/attendees", web::put().to(api::edit_attendees))
                    .route("/bookings/{reference}/cancel", web::post().to(api::cancel))
                    .route("/bookings/{reference}/refund", web::post().to(api::refund))
                    .route("/bookings/{reference}/move", web::post().to(api::move_booking))
                    .route("/city-events", web::get().to(api::list_city_events))
                    .route("/city-events", web::post().to(api::create_city_event))
                    .route("/city-events/{id}", web::get().to(api::get_city_event))
                    .route("/city-events/{id}", web::put().to(api::update_city_event))
                    .route("/city-events/{id}/open-sales", web::post().to(api::open_sales))
                    .route("/city-events/{id}/close-sales", web::post().to(api::close_sales))
                    .route("/city-events/{id}/waiting-list", web::get().to(api::waiting))
                    .route("/city-events/{id}/waiting-list/{entry_id}", web::delete().to(api::remove_waiting))
                    .route("/city-events/{id}/attendees.csv", web::get().to(api::attendees_csv))
                    .route("/exports/bookings.csv", web::get().to(api::accounting_csv))
                    .route("/audit", web::get().to(api::audit_log))
                    .configure(facts_api::routes)
                    .configure(catalogue::api::routes)
                    .configure(date_operations_api::routes)
                    .configure(check_in::routes)
                    .configure(feedback::routes)
                    .configure(resources::routes)
                    .default_service(web::to(api::not_found)),
            ),
    )
    .configure(page_routes);
}
pub mod pages;

/// Every change made through the back office (any request but a read) clears the site's stored
/// pages and catalogue once it has been answered, so the organiser sees the edit on the site at
/// once. Cheap (one counter), and simpler to keep true than a list of the handlers that edit.
async fn clear_stored_pages(
    req: actix_web::dev::ServiceRequest,
    next: middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::http::Method;
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let state = req.app_data::<web::Data<crate::state::AppState>>().cloned();
    let res = next.call(req).await;
    if let (true, Some(state)) = (changes, state) {
        state.pages.invalidate();
    }
    res
}

/// `/admin`: the login form is open; everything else needs a session.
pub fn page_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(middleware::from_fn(clear_stored_pages))
            .app_data(web::PayloadConfig::new(64 * 1024))
            .service(web::resource("/login").route(web::get().to(pages::login_form)).route(web::post().to(pages::login_submit)))
            .service(
                web::scope("")
                    .wrap(middleware::from_fn(session::require))
                    .route("", web::get().to(pages::dashboard))
                    .route("/", web::get().to(pages::dashboard))
                    .route("/logout", web::post().to(pages::logout))
                    .route("/bookings", web::get().to(pages::bookings))
                    .route("/bookings/{reference}", web::get().to(pages::booking))
                    .route("/bookings/{reference}/invoice.pdf", web::get().to(pages::invoice))
                    .route("/bookings/{reference}/resend-confirmation", web::post().to(pages::resend))
                    .route("/bookings/{reference}/attendees", web::post().to(pages::attendees))
                    .route("/bookings/{reference}/cancel", web::post().to(pages::cancel))
                    .route("/bookings/{reference}/refund", web::post().to(pages::refund))
                    .route("/bookings/{reference}/move", web::post().to(pages::move_booking))
                    .route("/city-events", web::get().to(pages::city_events))
                    .route("/city-events", web::post().to(pages::create_city_event))
                    .route("/city-events/{id}", web::get().to(pages::city_event))
                    .route("/city-events/{id}", web::post().to(pages::update_city_event))
                    .route("/city-events/{id}/sales", web::post().to(pages::sales))
                    .route("/city-events/{id}/waiting-list/{entry_id}/remove", web::post().to(pages::remove_waiting))
                    .route("/audit", web::get().to(pages::audit))
                    .configure(pages::facts::routes)
                    .configure(pages::catalogue::routes)
                    .configure(pages::date_operations::routes)
                    .configure(pages::check_in::routes)
                    .configure(pages::feedback::routes)
                    .configure(pages::resources::routes)
                    .default_service(web::to(pages::not_found)),
            ),
    );
}
