//! The pages an on-sale crowd loads before it books (the landing page, the city list, a city
//! page, the booking form) are rendered once and served from `PageStore` until what they show
//! changes. A page is rendered with markers where each visitor's CSRF token and each city
//! event's seat numbers go, cut there, and filled in at every request: the token from the
//! visitor's cookie, the numbers from the actors' snapshots, so the counts stay live while the
//! page is cached. Where the words around a number depend on it (the last ten seats, "1 place"
//! against "2 places", sold out), the number is printed as is and is part of the signature, so
//! a change renders the page again.
//!
//! Not cached: anything with a query string, any answer but a 200 rendered by `PageCtx`, and
//! every page when `PAGE_CACHE_TTL_MS` is 0.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::time::Instant;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::catalogue::seats;
use super::i18n::FEW_SEATS;
use super::page::{PageError, CONSENT_COOKIE};
use crate::db::catalogue::CityEventDetails;
use crate::http::csrf::Csrf;
use crate::page_store::{Part, StoredPage};
use crate::state::AppState;

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';
/// Stands for the visitor's CSRF token in a page being stored (private-use characters: no
/// template prints them, and HTML escaping leaves them alone).
pub const CSRF_MARKER: &str = "\u{E000}c\u{E001}";

/// The page being rendered for the store, and the CSRF token of the visitor it is rendered for.
#[derive(Default)]
struct Capture {
    rendered: RefCell<Option<(String, String)>>,
}

tokio::task_local! {
    static CAPTURE: Capture;
}

/// True while a page is rendered for the store (markers instead of per-visitor values).
pub fn capturing() -> bool {
    CAPTURE.try_with(|_| ()).is_ok()
}

/// A seat number as a page shows it: a marker while the page is stored, unless the text around
/// it depends on it (`many` false: the number is part of the signature instead).
pub fn seat_number(city_event_id: i64, value: i32, taken: bool, many: bool) -> Value {
    if many && capturing() {
        json!(format!("{OPEN}{}{city_event_id}{CLOSE}", if taken { 't' } else { 'a' }))
    } else {
        json!(value)
    }
}

/// Whether a city event's seats are in the band where the page's words do not depend on the
/// number (more than the "last seats" threshold).
pub fn many(available: i32) -> bool {
    available > FEW_SEATS
}

/// Called by `PageCtx::render` while capturing: keeps the page and its visitor's token. False
/// when no page is being stored (the caller sends the HTML itself).
pub(super) fn keep(html: &str, csrf_token: &str) -> bool {
    CAPTURE.try_with(|c| *c.rendered.borrow_mut() = Some((html.to_owned(), csrf_token.to_owned()))).is_ok()
}

/// Seats of each city event on the page: (available, taken).
type Live = HashMap<i64, (i32, i32)>;

/// What the stored page depends on beyond the generation: each city event's id, capacity and
/// seat band (the exact number in the last seats), and the site's facts.
fn signature(state: &AppState, events: &[&CityEventDetails]) -> (Vec<i64>, Live) {
    let mut sig = Vec::with_capacity(events.len() * 3 + 1);
    let mut live = Live::with_capacity(events.len());
    sig.push(std::sync::Arc::as_ptr(&state.facts.get()) as usize as i64);
    for d in events {
        let s = seats(state, d);
        sig.extend([d.event.id, i64::from(s.capacity), if many(s.available) { -1 } else { i64::from(s.available) }]);
        live.insert(d.event.id, (s.available, (s.capacity - s.available).max(0)));
    }
    (sig, live)
}

fn key(req: &HttpRequest) -> String {
    let consent = match req.cookie(CONSENT_COOKIE) {
        None => '-',
        Some(c) if c.value() == "yes" => 'y',
        Some(_) => 'n',
    };
    format!("{consent}{}", req.path())
}

fn cut(html: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(OPEN) {
        let Some(len) = rest[start..].find(CLOSE) else { break };
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_owned()));
        }
        let marker = &rest[start + OPEN.len_utf8()..start + len];
        let id = |s: &str| s.parse::<i64>().unwrap_or_default();
        parts.push(match marker.split_at(marker.len().min(1)) {
            ("c", _) => Part::Csrf,
            ("a", n) => Part::Available(id(n)),
            ("t", n) => Part::Taken(id(n)),
            _ => Part::Text(rest[start..start + len + CLOSE.len_utf8()].to_owned()),
        });
        rest = &rest[start + len + CLOSE.len_utf8()..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    parts
}

fn fill(parts: &[Part], csrf_token: &str, live: &Live) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| if let Part::Text(t) = p { t.len() } else { 64 }).sum());
    for p in parts {
        // Writing to a String cannot fail.
        let _ = match p {
            Part::Text(t) => out.write_str(t),
            Part::Csrf => out.write_str(csrf_token),
            Part::Available(id) => write!(out, "{}", live.get(id).map_or(0, |s| s.0)),
            Part::Taken(id) => write!(out, "{}", live.get(id).map_or(0, |s| s.1)),
        };
    }
    out
}

/// Serves the page at this address from the store, or renders it with `render` (which builds
/// its page through `PageCtx`) and keeps it. `events` are the city events the page shows, read
/// from the catalogue of `generation`.
pub async fn serve<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    generation: u64,
    events: &[&CityEventDetails],
    render: F,
) -> Result<HttpResponse, PageError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<HttpResponse, PageError>>,
{
    let store = &state.pages;
    if !store.enabled() || !req.query_string().is_empty() {
        return render().await;
    }
    let (sig, live) = signature(state, events);
    let key = key(req);
    if let Some(page) = store.page(&key, &sig) {
        let csrf = Csrf::from_request(req, state.settings.secret_key.expose());
        let mut res = HttpResponse::Ok();
        for (name, value) in &page.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
                res.insert_header((n, v));
            }
        }
        let mut res = res.body(fill(&page.parts, csrf.token(), &live));
        csrf.set_cookie(&mut res);
        return Ok(res);
    }
    let (result, rendered) = CAPTURE
        .scope(Capture::default(), async {
            let result = render().await;
            (result, CAPTURE.with(|c| c.rendered.borrow_mut().take()))
        })
        .await;
    let res = result?;
    let Some((html, token)) = rendered else { return Ok(res) };
    let parts = cut(&html);
    let body = fill(&parts, &token, &live);
    if res.status() == StatusCode::OK {
        let headers = res
            .headers()
            .iter()
            .filter(|(n, _)| **n != header::SET_COOKIE)
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        store.store_page(key, StoredPage { generation, stored_at: Instant::now(), signature: sig, parts, headers });
    }
    Ok(res.set_body(actix_web::body::BoxBody::new(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_cut_at_its_markers_and_filled_per_visitor() {
        let html = format!("<p>{}</p><input value=\"{CSRF_MARKER}\"><progress value=\"{}\">", seat_value(7, false), seat_value(7, true));
        let parts = cut(&html);
        assert_eq!(
            parts,
            vec![
                Part::Text("<p>".into()),
                Part::Available(7),
                Part::Text("</p><input value=\"".into()),
                Part::Csrf,
                Part::Text("\"><progress value=\"".into()),
                Part::Taken(7),
                Part::Text("\">".into()),
            ]
        );
        let live = Live::from([(7, (41, 259))]);
        assert_eq!(fill(&parts, "tok", &live), "<p>41</p><input value=\"tok\"><progress value=\"259\">");
    }

    fn seat_value(id: i64, taken: bool) -> String {
        format!("{OPEN}{}{id}{CLOSE}", if taken { 't' } else { 'a' })
    }

    #[test]
    fn a_page_without_markers_is_one_piece_and_a_stray_marker_stays_text() {
        assert_eq!(cut("<p>hello</p>"), vec![Part::Text("<p>hello</p>".into())]);
        let odd = format!("a{OPEN}zz{CLOSE}b");
        assert_eq!(fill(&cut(&odd), "t", &Live::new()), odd);
    }

    #[test]
    fn numbers_are_literal_unless_a_page_is_being_stored_and_seats_are_many() {
        assert_eq!(seat_number(3, 42, false, true), json!(42));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(CAPTURE.scope(Capture::default(), async {
            assert_eq!(seat_number(3, 42, false, true), json!(seat_value(3, false)));
            assert_eq!(seat_number(3, 4, false, false), json!(4), "the last seats are printed: their words depend on them");
        }));
    }
}
