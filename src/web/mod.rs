//! The public website, rendered on the server (handlebars, `templates/`), in French and English
//! (`/fr/…`, `/en/…`; `/` picks from `Accept-Language`). Forms work without JavaScript and are
//! protected by CSRF tokens; `static/site.js` only enhances (attendee fields, live seat counts
//! through Server-Sent Events, the hold countdown, the confirmation's wait for the webhook).

pub mod booking_form;
pub mod catalogue;
pub mod checkout;
pub mod documents;
pub mod feedback;
pub mod i18n;
pub mod live;
pub mod page;
pub mod page_cache;
pub mod paths;
pub mod receipt;
pub mod resources;
pub mod self_service;
pub mod seo;
pub mod tracking;
pub mod waitlist;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::domain::Language;
use crate::state::AppState;
use paths::Page;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root))
        .route("/assets/{file}", web::get().to(crate::http::assets::serve))
        .route("/live/availability", web::get().to(live::availability))
        .route("/sitemap.xml", web::get().to(seo::sitemap))
        .route("/robots.txt", web::get().to(seo::robots))
        .service(web::resource("/consent").app_data(checkout::form_config()).route(web::post().to(checkout::consent)))
        .configure(tracking::routes)
        .configure(waitlist::routes);
    for lang in [Language::Fr, Language::En] {
        let l = lang.as_str();
        cfg.route(&format!("/{l}"), web::get().to(move || async move { redirect(&format!("/{l}/"), true) }))
            .route(&format!("/{l}/"), web::get().to(catalogue::home))
            .route(&Page::Cities.url(lang), web::get().to(catalogue::cities))
            .route(&format!("{}/{{slug}}", Page::Cities.url(lang)), web::get().to(catalogue::city))
            .route(&Page::Pricing.url(lang), web::get().to(catalogue::pricing))
            .route(&Page::Book.url(lang), web::get().to(catalogue::book))
            .service(
                form_resource(&format!("{}/{{id}}", Page::Book.url(lang)))
                    .route(web::get().to(booking_form::show))
                    .route(web::post().to(booking_form::submit)),
            )
            .service(
                form_resource(&format!("/{l}/{}/{{reference}}", if lang == Language::Fr { "paiement" } else { "checkout" }))
                    .route(web::get().to(checkout::checkout))
                    .route(web::post().to(checkout::pay)),
            )
            .route(&format!("/{l}/confirmation/{{reference}}"), web::get().to(checkout::confirmation))
            .route(&format!("/{l}/confirmation/{{reference}}/status"), web::get().to(checkout::status))
            .route(&format!("/{l}/confirmation/{{reference}}/calendar.ics"), web::get().to(checkout::calendar))
            .route(&format!("/{l}/confirmation/{{reference}}/receipt"), web::get().to(receipt::receipt))
            .route(&format!("/{l}/confirmation/{{reference}}/tickets.pdf"), web::get().to(documents::tickets))
            .route(&format!("/{l}/confirmation/{{reference}}/invoice.pdf"), web::get().to(documents::invoice))
            .route(&format!("/{l}/confirmation/{{reference}}/credit-notes/{{number}}"), web::get().to(documents::credit_note))
            .route(&format!("/{l}/confirmation/{{reference}}/certificates/{{position}}.pdf"), web::get().to(documents::certificate))
            .service(form_resource(&format!("/{l}/confirmation/{{reference}}/cancel")).route(web::post().to(self_service::cancel)))
            .service(form_resource(&format!("/{l}/confirmation/{{reference}}/attendees")).route(web::post().to(self_service::rename)))
            .service(form_resource(&format!("/{l}/confirmation/{{reference}}/details")).route(web::post().to(documents::details)))
            .service(
                form_resource(&format!("/{l}/bookings/{{reference}}"))
                    .route(web::get().to(checkout::manage))
                    .route(web::post().to(checkout::manage_submit)),
            )
            .service(
                web::resource(format!("{}/{{reference}}/{{position}}", Page::Feedback.url(lang)))
                    .app_data(web::PayloadConfig::new(feedback::BODY_LIMIT))
                    .route(web::get().to(feedback::show))
                    .route(web::post().to(feedback::submit)),
            )
            .route(&format!("{}/{{reference}}", Page::Resources.url(lang)), web::get().to(resources::page))
            .route(&format!("{}/{{reference}}/files/{{id}}", Page::Resources.url(lang)), web::get().to(resources::download));
        for page in
            [Page::About, Page::Masterclass, Page::Testimonials, Page::Faq, Page::Privacy, Page::Terms, Page::Resources, Page::Feedback]
        {
            cfg.route(
                &page.url(lang),
                web::get().to(move |req: HttpRequest, state: web::Data<AppState>| catalogue::static_page(req, state, page)),
            );
        }
    }
    // The e-mails link to `/fr/resources` and `/fr/feedback`; the French pages have French names.
    cfg.route("/fr/resources", web::get().to(|| async { redirect("/fr/ressources", true) }))
        .route("/fr/feedback", web::get().to(|| async { redirect("/fr/commentaires", true) }));
}

/// A page with a form: its body limit is the form's, not the JSON API's.
fn form_resource(path: &str) -> actix_web::Resource {
    web::resource(path).app_data(checkout::form_config())
}

fn redirect(to: &str, permanent: bool) -> HttpResponse {
    let mut b = if permanent { HttpResponse::MovedPermanently() } else { HttpResponse::Found() };
    b.insert_header((header::LOCATION, to.to_owned())).finish()
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// `/` sends French visitors to `/fr/` and English ones to `/en/` (`?lang=` wins).
#[tracing::instrument(name = "web.root", skip_all)]
async fn root(req: HttpRequest, query: web::Query<LangQuery>) -> HttpResponse {
    let lang = match query.lang.as_deref() {
        Some("en") => Language::En,
        Some("fr") => Language::Fr,
        _ => crate::http::language::preferred_language(&req),
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, format!("/{}/", lang.as_str())))
        .insert_header((header::VARY, "Accept-Language"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .finish()
}

/// Any other address: the 404 page, in the language of the address or the browser.
#[tracing::instrument(name = "web.not_found", skip_all)]
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let lang = crate::http::language::language_of(&req);
    HttpResponse::NotFound()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page::error_page_html(lang, actix_web::http::StatusCode::NOT_FOUND, &format!("/{}/", lang.as_str())))
}
