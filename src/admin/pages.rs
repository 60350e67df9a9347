//! The back office's pages, server-rendered (handlebars, `templates/admin/`, strings under
//! `admin` in `locales/{fr,en}.json`), French or English (`?lang=`, else the browser's). Every
//! form posts to a handler here that checks its CSRF token (`AdminForm`) and calls the same
//! service as the JSON API, then redirects back with a notice or the refusal.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use handlebars::Handlebars;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{end_session, invalid_credentials, refused, removal};
use super::auth::{self, LoginOutcome};
use super::bookings::{self as svc, AttendeeEdit, SearchQuery};
use super::chart::ChartLabels;
use super::city_events::{self as events, CityEventInput};
use super::session::{self, AdminForm, AdminSession};
use super::{dashboard, waiting_list};
use crate::api::AppState;
use crate::db;
use crate::domain::{Cents, Language};
use crate::error::ApiError;
use crate::web::csrf::Csrf;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout", include_str!("../../templates/admin/layout.hbs")),
    ("event_fields", include_str!("../../templates/admin/event_fields.hbs")),
    ("login", include_str!("../../templates/admin/login.hbs")),
    ("dashboard", include_str!("../../templates/admin/dashboard.hbs")),
    ("bookings", include_str!("../../templates/admin/bookings.hbs")),
    ("booking", include_str!("../../templates/admin/booking.hbs")),
    ("city_events", include_str!("../../templates/admin/city_events.hbs")),
    ("city_event", include_str!("../../templates/admin/city_event.hbs")),
    ("audit", include_str!("../../templates/admin/audit.hbs")),
    ("message", include_str!("../../templates/admin/message.hbs")),
];

fn registry() -> &'static Handlebars<'static> {
    static HB: OnceLock<Handlebars<'static>> = OnceLock::new();
    HB.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        for (name, source) in TEMPLATES {
            if *name == "event_fields" {
                hb.register_partial(name, *source).unwrap_or_else(|e| panic!("templates/admin/{name}.hbs: {e}"));
            } else {
                hb.register_template_string(name, *source).unwrap_or_else(|e| panic!("templates/admin/{name}.hbs: {e}"));
            }
        }
        hb
    })
}

fn strings(lang: Language) -> &'static Value {
    static TREES: OnceLock<(Value, Value)> = OnceLock::new();
    let (fr, en) = TREES.get_or_init(|| {
        let load = |raw: &str| serde_json::from_str::<Value>(raw).ok().and_then(|v| v.get("admin").cloned()).unwrap_or(Value::Null);
        (load(include_str!("../../locales/fr.json")), load(include_str!("../../locales/en.json")))
    });
    if lang == Language::En {
        en
    } else {
        fr
    }
}

fn text(lang: Language, path: &str) -> String {
    path.split('.').try_fold(strings(lang), |node, key| node.get(key)).and_then(Value::as_str).unwrap_or(path).to_owned()
}

#[derive(Debug, Default, Deserialize)]
pub struct Common {
    lang: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    message: Option<String>,
}

fn language(req: &HttpRequest) -> Language {
    let q = web::Query::<Common>::from_query(req.query_string()).map(|q| q.into_inner()).unwrap_or_default();
    match q.lang.as_deref() {
        Some("en") => Language::En,
        Some("fr") => Language::Fr,
        _ => crate::web::page::preferred_language(req),
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
        "css": crate::web::page::site().assets.url("admin.css"),
        "csrf": csrf.token(),
        "who": who.map(|w| w.email.clone()),
        "notice": notice,
        "error": error,
        "body": body,
    });
    let html = match registry().render(template, &data) {
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

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_owned())).insert_header((header::CACHE_CONTROL, "no-store")).finish()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Back to `to` with the outcome of an action.
fn after(to: &str, result: Result<(), ApiError>, notice: &str) -> HttpResponse {
    match result {
        Ok(()) => see_other(&format!("{to}?notice={notice}")),
        Err(e) => see_other(&format!("{to}?error={}&message={}", enc(&e.detail.code), enc(&e.detail.message))),
    }
}

fn money(cents: i64, lang: Language) -> String {
    Cents(cents).format(lang)
}

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

fn toronto(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| local(t, chrono_tz::America::Toronto)).unwrap_or_default()
}

fn api_error_page(req: &HttpRequest, state: &AppState, who: &AdminSession, e: ApiError) -> HttpResponse {
    let lang = language(req);
    let status = e.status;
    let title = if status == StatusCode::NOT_FOUND {
        text(lang, "errors.not_found")
    } else {
        format!("{} ({})", text(lang, "errors.generic"), e.detail.code)
    };
    render_status(req, state, Some(who), status, "message", "", &title, Value::Null)
}

// -- login --------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only back-office addresses, never another site (`//evil.example`).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/admin") && !n.starts_with("//") && !n.contains("://") && !n.contains('\\') => n.to_owned(),
        _ => "/admin".to_owned(),
    }
}

pub async fn login_form(req: HttpRequest, state: web::Data<AppState>, q: web::Query<NextQuery>) -> HttpResponse {
    let lang = language(&req);
    if let Ok(Some(who)) = session::lookup(&state, &req).await {
        let _ = who;
        return see_other(&safe_next(q.next.as_deref()));
    }
    render(
        &req,
        &state,
        None,
        "login",
        "login",
        &text(lang, "login.title"),
        json!({"next": safe_next(q.next.as_deref()), "email": "", "message": null}),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn login_submit(req: HttpRequest, state: web::Data<AppState>, form: AdminForm<LoginForm>) -> HttpResponse {
    let lang = language(&req);
    let f = form.0;
    let next = safe_next(f.next.as_deref());
    let (status, message) = match auth::login(&state.pool, &f.email, &f.password, &session::client_ip(&req)).await {
        Ok(LoginOutcome::Success { user_id, .. }) => match session::open(&state, &req, user_id).await {
            Ok(cookie) => {
                let mut res = see_other(&next);
                let _ = res.add_cookie(&cookie);
                return res;
            }
            Err(e) => (e.status, e.detail.message),
        },
        Ok(LoginOutcome::Invalid) => (invalid_credentials().status, text(lang, "login.invalid")),
        Ok(LoginOutcome::Refused(gate)) => (refused(gate).status, text(lang, "login.locked")),
        Err(e) => {
            let e = ApiError::from(e);
            (e.status, e.detail.message)
        }
    };
    render_status(
        &req,
        &state,
        None,
        status,
        "login",
        "login",
        &text(lang, "login.title"),
        json!({"next": next, "email": f.email, "message": message}),
    )
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn logout(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, _form: AdminForm<Empty>) -> HttpResponse {
    let _ = end_session(&state, &who).await;
    let mut res = see_other("/admin/login");
    let _ = res.add_cookie(&removal(&state, &req));
    res
}

// -- dashboard ----------------------------------------------------------------------------------------

pub async fn dashboard(req: HttpRequest, state: web::Data<AppState>, who: AdminSession) -> HttpResponse {
    let lang = language(&req);
    let d = match dashboard::build(&state).await {
        Ok(d) => d,
        Err(e) => return api_error_page(&req, &state, &who, e),
    };
    let pct = |p: Option<f64>| p.map(|v| format!("{v:.1} %")).unwrap_or_else(|| "—".to_owned());
    let events: Vec<Value> = d
        .city_events
        .iter()
        .map(|e| {
            json!({
                "id": e.city_event_id, "city": e.city, "date": e.local_date, "days_to_go": e.days_to_go,
                "status": text(lang, &format!("city_events.statuses.{}", e.status)),
                "capacity": e.capacity, "sold": e.sold, "held": e.held, "available": e.available, "waiting": e.waiting,
                "gross": money(e.revenue.gross_cents, lang), "taxes": money(e.revenue.taxes_cents, lang),
                "refunds": money(e.revenue.refunds_cents, lang), "net": money(e.revenue.net_cents, lang),
                "views": e.funnel.availability_views, "bookings_held": e.funnel.bookings_held, "bookings_paid": e.funnel.bookings_paid,
                "held_per_view": pct(e.funnel.held_per_view_pct), "paid_per_held": pct(e.funnel.paid_per_held_pct),
                "paid_per_view": pct(e.funnel.paid_per_view_pct),
            })
        })
        .collect();
    let (title, daily, cumulative, empty) = (
        text(lang, "dashboard.chart_title"),
        text(lang, "dashboard.chart_daily"),
        text(lang, "dashboard.chart_total"),
        text(lang, "dashboard.chart_empty"),
    );
    let chart = dashboard::chart(&d, &ChartLabels { title: &title, daily: &daily, cumulative: &cumulative, empty: &empty });
    let t = &d.totals;
    let body = json!({
        "events": events,
        "totals": {"gross": money(t.gross_cents, lang), "taxes": money(t.taxes_cents, lang), "refunds": money(t.refunds_cents, lang), "net": money(t.net_cents, lang)},
        "chart": chart,
        "emails": d.emails,
    });
    render(&req, &state, Some(&who), "dashboard", "dashboard", &text(lang, "dashboard.title"), body)
}

// -- bookings ---------------------------------------------------------------------------------------

async fn event_labels(state: &AppState) -> Result<Vec<(i64, String, String)>, ApiError> {
    Ok(events::list(state).await?.into_iter().map(|e| (e.id, format!("{} {}", e.city, &e.local_start[..10]), e.status)).collect())
}

const STATUSES: [&str; 6] = ["held", "confirmed", "cancelled", "expired", "refunded", "moved"];

#[derive(Debug, Default, Deserialize)]
pub struct BookingsQuery {
    q: Option<String>,
    city_event_id: Option<String>,
    status: Option<String>,
    page: Option<i64>,
}

pub async fn bookings(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, q: web::Query<BookingsQuery>) -> HttpResponse {
    let lang = language(&req);
    let q = q.into_inner();
    let city_event_id = q.city_event_id.as_deref().and_then(|s| s.parse::<i64>().ok());
    let page = q.page.unwrap_or(1).max(1);
    let search = SearchQuery { q: q.q.clone(), city_event_id, status: q.status.clone().filter(|s| !s.is_empty()), page: Some(page) };
    let (rows, labels) = match (svc::search(&state, &search).await, event_labels(&state).await) {
        (Ok(r), Ok(l)) => (r, l),
        (Err(e), _) | (_, Err(e)) => return api_error_page(&req, &state, &who, e),
    };
    let label_of = |id: i64| labels.iter().find(|l| l.0 == id).map(|l| l.1.clone()).unwrap_or_default();
    let link = |p: i64| {
        format!(
            "/admin/bookings?q={}&city_event_id={}&status={}&page={p}",
            enc(q.q.as_deref().unwrap_or("")),
            city_event_id.map(|i| i.to_string()).unwrap_or_default(),
            enc(q.status.as_deref().unwrap_or(""))
        )
    };
    let body = json!({
        "q": q.q.clone().unwrap_or_default(),
        "events": labels.iter().map(|l| json!({"id": l.0, "label": l.1, "selected": Some(l.0) == city_event_id})).collect::<Vec<_>>(),
        "statuses": STATUSES.iter().map(|s| json!({"value": s, "selected": q.status.as_deref() == Some(*s)})).collect::<Vec<_>>(),
        "rows": rows.iter().map(|b| json!({
            "reference": b.reference, "status": b.status, "event": label_of(b.city_event_id),
            "buyer": format!("{} {}", b.buyer_first_name, b.buyer_last_name), "email": b.buyer_email,
            "quantity": b.quantity, "total": money(b.total_cents, lang), "created": toronto(Some(b.created_at)),
        })).collect::<Vec<_>>(),
        "previous": (page > 1).then(|| link(page - 1)),
        "next": (rows.len() as i64 == svc::PAGE_SIZE).then(|| link(page + 1)),
    });
    render(&req, &state, Some(&who), "bookings", "bookings", &text(lang, "bookings.title"), body)
}

pub async fn booking(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<String>) -> HttpResponse {
    let lang = language(&req);
    let (d, labels) = match (svc::detail(&state, &path).await, event_labels(&state).await) {
        (Ok(d), Ok(l)) => (d, l),
        (Err(e), _) | (_, Err(e)) => return api_error_page(&req, &state, &who, e),
    };
    let b = &d.booking;
    let held = b.status == "held";
    let confirmed = b.status == "confirmed";
    let refundable = confirmed && d.payments.iter().any(|p| p.status == "succeeded" && p.amount_refunded_cents < p.amount_cents);
    let body = json!({
        "b": b,
        "event": labels.iter().find(|l| l.0 == b.city_event_id).map(|l| l.1.clone()).unwrap_or_default(),
        "total": money(b.total_cents, lang),
        "hold_expires": if held { toronto(Some(b.hold_expires_at)) } else { String::new() },
        "confirmed_at": toronto(b.confirmed_at),
        "moved_to": d.moved_to_reference,
        "moved_from": d.moved_from_reference,
        "editable": held || confirmed,
        "can_resend": confirmed,
        "can_cancel": held,
        "can_refund": refundable,
        "can_move": (held || confirmed) && !b.buyer_phone.is_empty(),
        "targets": labels.iter().filter(|l| l.0 != b.city_event_id && l.2 == "on_sale").map(|l| json!({"id": l.0, "label": l.1})).collect::<Vec<_>>(),
        "payments": d.payments.iter().map(|p| json!({
            "payment_intent_id": p.payment_intent_id, "status": p.status, "amount": money(p.amount_cents, lang),
            "refunded": money(p.amount_refunded_cents, lang), "flag": p.flagged_reason.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "emails": d.emails.iter().map(|e| json!({
            "kind": e.kind, "recipient_email": e.recipient_email, "status": e.status, "sent": toronto(e.sent_at),
            "opened": toronto(e.opened_at), "clicked": toronto(e.clicked_at), "error": e.last_error.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "history": d.history.iter().map(|h| json!({"at": toronto(Some(h.at)), "actor_email": h.actor_email, "action": h.action})).collect::<Vec<_>>(),
    });
    let title = text(lang, "booking.title").replace("{{reference}}", &b.reference);
    render(&req, &state, Some(&who), "booking", "bookings", &title, body)
}

fn booking_url(reference: &str) -> String {
    format!("/admin/bookings/{}", enc(reference))
}

pub async fn resend(state: web::Data<AppState>, who: AdminSession, path: web::Path<String>, _f: AdminForm<Empty>) -> HttpResponse {
    after(&booking_url(&path), svc::resend_confirmation(&state, &who, &path).await.map(|_| ()), "done")
}

pub async fn cancel(state: web::Data<AppState>, who: AdminSession, path: web::Path<String>, _f: AdminForm<Empty>) -> HttpResponse {
    after(&booking_url(&path), svc::cancel(&state, &who, &path).await.map(|_| ()), "done")
}

/// `first_name_<seat>`, `last_name_<seat>`, `email_<seat>` for every seat.
pub async fn attendees(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<String>,
    f: AdminForm<HashMap<String, String>>,
) -> HttpResponse {
    let mut positions: Vec<i32> =
        f.0.keys()
            .filter_map(|k| k.strip_prefix("first_name_").or_else(|| k.strip_prefix("last_name_")))
            .filter_map(|p| p.parse().ok())
            .collect();
    positions.sort_unstable();
    positions.dedup();
    let edits: Vec<AttendeeEdit> = positions
        .into_iter()
        .map(|p| AttendeeEdit {
            position: p,
            first_name: f.0.get(&format!("first_name_{p}")).cloned(),
            last_name: f.0.get(&format!("last_name_{p}")).cloned(),
            email: f.0.get(&format!("email_{p}")).cloned(),
        })
        .collect();
    after(&booking_url(&path), svc::edit_attendees(&state, &who, &path, &edits).await.map(|_| ()), "saved")
}

#[derive(Debug, Deserialize)]
pub struct RefundForm {
    #[serde(default)]
    amount_cents: String,
}

pub async fn refund(state: web::Data<AppState>, who: AdminSession, path: web::Path<String>, f: AdminForm<RefundForm>) -> HttpResponse {
    let amount = match f.0.amount_cents.trim() {
        "" => Ok(None),
        s => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::unprocessable("invalid_amount", "amount_cents", "Give a whole number of cents.")),
    };
    let result = match amount {
        Ok(a) => svc::refund(&state, &who, &path, a).await.map(|_| ()),
        Err(e) => Err(e),
    };
    after(&booking_url(&path), result, "done")
}

#[derive(Debug, Deserialize)]
pub struct MoveForm {
    city_event_id: i64,
}

pub async fn move_booking(state: web::Data<AppState>, who: AdminSession, path: web::Path<String>, f: AdminForm<MoveForm>) -> HttpResponse {
    match svc::move_booking(&state, &who, &path, f.0.city_event_id).await {
        Ok(d) => see_other(&format!("{}?notice=done", booking_url(&d.booking.reference))),
        Err(e) => after(&booking_url(&path), Err(e), "done"),
    }
}

// -- city events -------------------------------------------------------------------------------------

/// The city-event form as posted: empty fields are absent.
#[derive(Debug, Deserialize)]
pub struct EventForm {
    venue_id: i64,
    local_start: String,
    local_end: String,
    capacity: i32,
    regular_price_cents: i64,
    #[serde(default)]
    early_bird_price_cents: String,
    #[serde(default)]
    early_bird_until_local: String,
    #[serde(default)]
    group_price_cents: String,
    #[serde(default)]
    group_min_quantity: String,
    #[serde(default)]
    status: Option<String>,
}

impl EventForm {
    fn input(self, city_id: Option<i64>) -> Result<CityEventInput, ApiError> {
        fn opt<T: std::str::FromStr>(s: &str, field: &str) -> Result<Option<T>, ApiError> {
            match s.trim() {
                "" => Ok(None),
                v => v.parse().map(Some).map_err(|_| ApiError::unprocessable("invalid_field", field, "Not a number.")),
            }
        }
        Ok(CityEventInput {
            city_id,
            venue_id: self.venue_id,
            local_start: self.local_start,
            local_end: self.local_end,
            capacity: self.capacity,
            regular_price_cents: self.regular_price_cents,
            early_bird_price_cents: opt(&self.early_bird_price_cents, "early_bird_price_cents")?,
            early_bird_until_local: Some(self.early_bird_until_local).filter(|s| !s.trim().is_empty()),
            group_price_cents: opt(&self.group_price_cents, "group_price_cents")?,
            group_min_quantity: opt(&self.group_min_quantity, "group_min_quantity")?,
            status: self.status,
        })
    }
}

pub async fn city_events(req: HttpRequest, state: web::Data<AppState>, who: AdminSession) -> HttpResponse {
    let lang = language(&req);
    let (list, venues) = match (events::list(&state).await, events::venues(&state).await) {
        (Ok(l), Ok(v)) => (l, v),
        (Err(e), _) | (_, Err(e)) => return api_error_page(&req, &state, &who, e),
    };
    let body = json!({
        "events": list.iter().map(|e| {
            let mut v = serde_json::to_value(e).unwrap_or_default();
            v["status_label"] = json!(text(lang, &format!("city_events.statuses.{}", e.status)));
            v
        }).collect::<Vec<_>>(),
        "venues": venues,
        "blank": {"local_start": "", "local_end": "", "capacity": "", "regular_price_cents": "", "early_bird_price_cents": "",
                  "early_bird_until_local": "", "group_price_cents": "", "group_min_quantity": ""},
    });
    render(&req, &state, Some(&who), "city_events", "city_events", &text(lang, "city_events.title"), body)
}

pub async fn create_city_event(state: web::Data<AppState>, who: AdminSession, f: AdminForm<EventForm>) -> HttpResponse {
    let venue_id = f.0.venue_id;
    let city_id = match db::connection(&state.pool).await {
        Ok(mut conn) => db::admin::venue(&mut conn, venue_id).await.ok().flatten().map(|v| v.city_id),
        Err(_) => None,
    };
    let result = match f.0.input(city_id) {
        Ok(input) => events::create(&state, &who, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(e) => see_other(&format!("/admin/city-events/{}?notice=created", e.id)),
        Err(e) => after("/admin/city-events", Err(e), "created"),
    }
}

pub async fn city_event(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> HttpResponse {
    let lang = language(&req);
    let id = *path;
    let (e, venues, waiting) = match (events::get(&state, id).await, events::venues(&state).await, waiting_list::lines(&state, id).await) {
        (Ok(e), Ok(v), Ok(w)) => (e, v, w),
        (Err(err), _, _) | (_, Err(err), _) | (_, _, Err(err)) => return api_error_page(&req, &state, &who, err),
    };
    let tz: Tz = e.time_zone.parse().unwrap_or(chrono_tz::America::Toronto);
    let body = json!({
        "e": e,
        "status_label": text(lang, &format!("city_events.statuses.{}", e.status)),
        "on_sale": e.status == "on_sale",
        "venues": venues.iter().filter(|v| v["city_id"] == e.city_id).map(|v| json!({"id": v["id"], "name": v["name"], "selected": v["id"] == e.venue_id})).collect::<Vec<_>>(),
        "waiting": waiting.iter().enumerate().map(|(i, w)| json!({
            "n": i + 1, "id": w.id, "first_name": w.first_name, "last_name": w.last_name, "email": w.email, "language": w.language,
            "joined": local(w.created_at, tz), "state": w.state, "offer_reference": w.offer_reference,
            "expires": w.offer_expires_at.map(|t| local(t, tz)).unwrap_or_default(), "waiting": w.state == "waiting",
        })).collect::<Vec<_>>(),
    });
    let title = format!("{} — {}", e.city, e.local_start.replace('T', " "));
    render(&req, &state, Some(&who), "city_event", "city_events", &title, body)
}

pub async fn update_city_event(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<i64>,
    f: AdminForm<EventForm>,
) -> HttpResponse {
    let id = *path;
    let result = match f.0.input(None) {
        Ok(input) => events::update(&state, &who, id, &input).await.map(|_| ()),
        Err(e) => Err(e),
    };
    after(&format!("/admin/city-events/{id}"), result, "saved")
}

#[derive(Debug, Deserialize)]
pub struct SalesForm {
    action: String,
}

pub async fn sales(state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>, f: AdminForm<SalesForm>) -> HttpResponse {
    let id = *path;
    let result = match f.0.action.as_str() {
        "open" => events::set_sales(&state, &who, id, true).await.map(|_| ()),
        "close" => events::set_sales(&state, &who, id, false).await.map(|_| ()),
        _ => Err(ApiError::unprocessable("invalid_action", "action", "open or close")),
    };
    after(&format!("/admin/city-events/{id}"), result, "done")
}

pub async fn remove_waiting(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<(i64, i64)>,
    _f: AdminForm<Empty>,
) -> HttpResponse {
    let (id, entry) = path.into_inner();
    after(&format!("/admin/city-events/{id}"), waiting_list::remove(&state, &who, id, entry).await, "done")
}

// -- audit ----------------------------------------------------------------------------------------------

pub async fn audit(req: HttpRequest, state: web::Data<AppState>, who: AdminSession) -> HttpResponse {
    let lang = language(&req);
    let rows = match db::connection(&state.pool).await {
        Ok(mut conn) => db::admin::audit_entries(&mut conn, None, 300).await.map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return api_error_page(&req, &state, &who, e),
    };
    let pretty = |v: &Option<Value>| v.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_default()).unwrap_or_default();
    let body = json!({"rows": rows.iter().map(|r| json!({
        "at": toronto(Some(r.at)), "actor_email": r.actor_email, "action": r.action, "target": format!("{} {}", r.target_type, r.target_id),
        "before": pretty(&r.before), "after": pretty(&r.after),
    })).collect::<Vec<_>>()});
    render(&req, &state, Some(&who), "audit", "audit", &text(lang, "audit.title"), body)
}

/// Unknown back-office pages (reached only with a session).
pub async fn not_found(req: HttpRequest, state: web::Data<AppState>, who: AdminSession) -> HttpResponse {
    let lang = language(&req);
    render_status(&req, &state, Some(&who), StatusCode::NOT_FOUND, "message", "", &text(lang, "errors.not_found"), Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_strings_exist_in_both_languages() {
        let _ = registry();
        assert_eq!(text(Language::Fr, "nav.bookings"), "Réservations");
        assert_eq!(text(Language::En, "nav.bookings"), "Bookings");
    }

    #[test]
    fn the_login_only_returns_to_back_office_pages() {
        assert_eq!(safe_next(Some("/admin/bookings?q=x")), "/admin/bookings?q=x");
        assert_eq!(safe_next(Some("//evil.example/admin")), "/admin");
        assert_eq!(safe_next(Some("https://evil.example")), "/admin");
        assert_eq!(safe_next(None), "/admin");
    }
}
