//! The back office's pages, server-rendered (handlebars, `templates/admin/`, strings from the
//! `admin` section of the locale store), French or English (`?lang=`, else the browser's). Every
//! form posts to a handler here that checks its CSRF token (`AdminForm`) and calls the same
//! service as the JSON API, then redirects back with a notice or the refusal.
//!
//! This module holds what every page shares (the layout, the language, redirects, formats); the
//! pages are grouped by family: `login`, `dashboard`, `bookings`, `city_events`, `audit`.

mod audit;
mod bookings;
pub mod catalogue;
pub mod check_in;
mod city_events;
mod dashboard;
pub mod date_operations;
pub mod facts;
pub mod feedback;
mod login;
pub mod resources;

use std::sync::OnceLock;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use handlebars::Handlebars;
use serde::Deserialize;
use serde_json::{json, Value};

pub use audit::audit;
pub use bookings::{attendees, booking, bookings, cancel, invoice, move_booking, refund, resend};
pub use city_events::{city_event, city_events, create_city_event, remove_waiting, sales, update_city_event};
pub use dashboard::dashboard;
pub use login::{login_form, login_submit, logout};

use super::session::AdminSession;
use crate::domain::url::percent_encode;
use crate::domain::{Cents, Language};
use crate::http::csrf::Csrf;
use crate::http::error::ApiError;
use crate::http::redirect::see_other;
use crate::i18n::{self, Vars};
use crate::state::AppState;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout", include_str!("../../../templates/admin/layout.hbs")),
    ("event_fields", include_str!("../../../templates/admin/event_fields.hbs")),
    ("login", include_str!("../../../templates/admin/login.hbs")),
    ("dashboard", include_str!("../../../templates/admin/dashboard.hbs")),
    ("bookings", include_str!("../../../templates/admin/bookings.hbs")),
    ("booking", include_str!("../../../templates/admin/booking.hbs")),
    ("city_events", include_str!("../../../templates/admin/city_events.hbs")),
    ("city_event", include_str!("../../../templates/admin/city_event.hbs")),
    ("audit", include_str!("../../../templates/admin/audit.hbs")),
    ("message", include_str!("../../../templates/admin/message.hbs")),
    ("facts", include_str!("../../../templates/admin/facts.hbs")),
    ("masterclass_content", include_str!("../../../templates/admin/masterclass_content.hbs")),
    ("venue_facts", include_str!("../../../templates/admin/venue_facts.hbs")),
    ("catalogue", include_str!("../../../templates/admin/catalogue.hbs")),
    ("catalogue_record", include_str!("../../../templates/admin/catalogue_record.hbs")),
    ("broadcast_preview", include_str!("../../../templates/admin/broadcast_preview.hbs")),
    ("check_in_dates", include_str!("../../../templates/admin/check_in_dates.hbs")),
    ("check_in", include_str!("../../../templates/admin/check_in.hbs")),
    ("feedback", include_str!("../../../templates/admin/feedback.hbs")),
    ("resources", include_str!("../../../templates/admin/resources.hbs")),
];

/// The templates, compiled once; a template that does not compile is an error each page turns
/// into a 500 (and the tests into a failure), not a panic.
fn registry() -> Result<&'static Handlebars<'static>, &'static str> {
    static HB: OnceLock<Result<Handlebars<'static>, String>> = OnceLock::new();
    HB.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        for (name, source) in TEMPLATES {
            let registered = if *name == "event_fields" {
                hb.register_partial(name, *source).map_err(|e| e.to_string())
            } else {
                hb.register_template_string(name, *source).map_err(|e| e.to_string())
            };
            registered.map_err(|e| format!("templates/admin/{name}.hbs: {e}"))?;
        }
        Ok(hb)
    })
    .as_ref()
    .map_err(String::as_str)
}

/// The `admin` strings of a language, shared; an empty tree if the store failed to load (the
/// strict templates then fail into a 500).
fn strings(lang: Language) -> &'static Value {
    static NOTHING: Value = Value::Null;
    match i18n::locale(lang).and_then(|l| l.section("admin")) {
        Ok(tree) => tree,
        Err(e) => {
            tracing::error!(error = %e, "no locale strings for the back office");
            &NOTHING
        }
    }
}

/// One string under `admin`, its placeholders filled from `vars`; the path itself when it is
/// missing (visibly wrong rather than a failed page).
fn text_with(lang: Language, path: &str, vars: &dyn Vars) -> String {
    i18n::locale(lang).and_then(|l| l.text(&format!("admin.{path}"), vars)).unwrap_or_else(|e| {
        tracing::error!(error = %e, path, "missing locale string");
        path.to_owned()
    })
}

fn text(lang: Language, path: &str) -> String {
    text_with(lang, path, &())
}

#[derive(Debug, Default, Deserialize)]
pub struct Common {
    lang: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    message: Option<String>,
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct Empty {}

fn language(req: &HttpRequest) -> Language {
    let q = web::Query::<Common>::from_query(req.query_string()).map(|q| q.into_inner()).unwrap_or_default();
    match q.lang.as_deref() {
        Some("en") => Language::En,
        Some("fr") => Language::Fr,
        _ => crate::http::language::preferred_language(req),
    }
}

/// Renders a back-office page in its layout; sets the CSRF cookie when it is new.
fn render(
    req: &HttpRequest,
    state: &AppState,
    who: Option<&AdminSession>,
    template: &str,
    section: &str,
    title: &str,
    body: Value,
) -> HttpResponse {
    render_status(req, state, who, StatusCode::OK, template, section, title, body)
}

#[allow(clippy::too_many_arguments)]
fn render_status(
    req: &HttpRequest,
    state: &AppState,
    who: Option<&AdminSession>,
    status: StatusCode,
    template: &str,
    section: &str,
    title: &str,
    body: Value,
) -> HttpResponse {
    let lang = language(req);
    let csrf = Csrf::from_request(req, state.settings.secret_key.expose());
    let q = web::Query::<Common>::from_query(req.query_string()).map(|q| q.into_inner()).unwrap_or_default();
    let notice = q.notice.map(|n| text(lang, &format!("notices.{n}")));
    let error = q.error.map(|code| json!({"code": code, "message": q.message.unwrap_or_default()}));
    let data = json!({
        "lang": lang.as_str(),
        "other_lang": if lang == Language::Fr { "en" } else { "fr" },
        "t": strings(lang),
        "title": title,
        "section": section,
        "css": crate::http::assets::assets().url("admin.css"),
        "favicon": crate::http::assets::assets().url("favicon.svg"),
        "csrf": csrf.token(),
        "who": who.map(|w| w.email.clone()),
        // Staff see the door's page only; the rest of the navigation would answer 403.
        "owner": who.is_some_and(|w| w.role == crate::domain::AdminRole::Owner),
        "notice": notice,
        "error": error,
        "body": body,
    });
    let html = match registry().map_err(str::to_owned).and_then(|hb| hb.render(template, &data).map_err(|e| e.to_string())) {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, template, "back-office template failed");
            return HttpResponse::InternalServerError().content_type("text/plain; charset=utf-8").body("Internal error");
        }
    };
    let mut res = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_LANGUAGE, lang.as_str()))
        .body(html);
    csrf.set_cookie(&mut res);
    res
}

/// Back to `to` with the outcome of an action.
fn after(to: &str, result: Result<(), ApiError>, notice: &str) -> HttpResponse {
    match result {
        Ok(()) => see_other(format!("{to}?notice={notice}")),
        Err(e) => {
            e.log();
            see_other(format!("{to}?error={}&message={}", percent_encode(e.detail.code), percent_encode(&e.detail.message)))
        }
    }
}

fn money(cents: i64, lang: Language) -> String {
    i18n::money(Cents(cents), lang)
}

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// A city event's local start as the organiser reads it ("vendredi 16 avril 2027, 9 h 00"),
/// from the `2027-04-16T09:00` the forms and the API use.
fn local_start(lang: Language, raw: &str) -> String {
    match (chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M"), i18n::locale(lang)) {
        (Ok(at), Ok(l)) => format!("{}, {}", l.date(at.date()), l.time(at.time())),
        _ => raw.to_owned(),
    }
}

/// A stored code's word under `admin.labels.<group>` (`languages.fr` → "Français"); the code
/// itself when there is none.
fn label(lang: Language, group: &str, code: &str) -> String {
    i18n::locale(lang)
        .and_then(|l| l.text(&format!("admin.labels.{group}.{}", code.replace('.', "_")), &()))
        .unwrap_or_else(|_| code.to_owned())
}

/// Times that belong to no city event (bookings made, mails sent, the audit log) are shown in
/// the organiser's zone.
fn toronto(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| local(t, chrono_tz::America::Toronto)).unwrap_or_default()
}

fn api_error_page(req: &HttpRequest, state: &AppState, who: &AdminSession, e: ApiError) -> HttpResponse {
    e.log();
    let lang = language(req);
    let status = e.status;
    let title = if status == StatusCode::NOT_FOUND {
        text(lang, "errors.not_found")
    } else {
        format!("{} ({})", text(lang, "errors.generic"), e.detail.code)
    };
    render_status(req, state, Some(who), status, "message", "", &title, Value::Null)
}

/// Unknown back-office pages (reached only with a session).
#[tracing::instrument(name = "admin.pages.not_found", skip_all)]
pub async fn not_found(req: HttpRequest, state: web::Data<AppState>, who: AdminSession) -> HttpResponse {
    let lang = language(&req);
    render_status(&req, &state, Some(&who), StatusCode::NOT_FOUND, "message", "", &text(lang, "errors.not_found"), Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_strings_exist_in_both_languages() {
        registry().unwrap();
        assert_eq!(text(Language::Fr, "nav.bookings"), "Réservations");
        assert_eq!(text(Language::En, "nav.bookings"), "Bookings");
    }
}
