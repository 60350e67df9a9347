//! Which language a request is answered in, for the site and the back office alike.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::domain::Language;

/// The language a request is in: its address (`/fr/…`, `/en/…`), else `Accept-Language`
/// (French unless English comes first, for Québec's French-first rule).
pub fn language_of(req: &HttpRequest) -> Language {
    let path = req.path();
    if path == "/en" || path.starts_with("/en/") {
        return Language::En;
    }
    if path == "/fr" || path.starts_with("/fr/") {
        return Language::Fr;
    }
    preferred_language(req)
}

pub fn preferred_language(req: &HttpRequest) -> Language {
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    // The first language named that we speak wins; q-values are rarely anything but descending.
    for part in accept.split(',') {
        let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if tag.starts_with("fr") {
            return Language::Fr;
        }
        if tag.starts_with("en") {
            return Language::En;
        }
    }
    Language::Fr
}
