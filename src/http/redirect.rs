//! Redirects after a form's POST (post/redirect/get), for the site and the back office.

use actix_web::http::header;
use actix_web::HttpResponse;

/// `303 See Other` to `location`, never cached: the browser then GETs the page the action led to.
pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.into())).insert_header((header::CACHE_CONTROL, "no-store")).finish()
}
