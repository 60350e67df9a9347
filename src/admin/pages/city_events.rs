//! City events: the list with the creation form, one city event (edit, open or close sales, its
//! waiting list).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{after, api_error_page, language, local, render, see_other, text, Empty};
use crate::admin::city_events::{self as events, CityEventInput};
use crate::admin::date_operations as ops;
use crate::admin::session::{AdminForm, AdminSession};
use crate::admin::waiting_list;
use crate::db;
use crate::domain::{Cents, Language, SalesStatus};
use crate::http::error::ApiError;
use crate::state::AppState;

/// The city-event form as posted: empty fields are absent.
#[derive(Debug, Deserialize)]
pub struct EventForm {
    #[serde(default)]
    masterclass_id: Option<i64>,
    venue_id: i64,
    local_start: String,
    local_end: String,
    capacity: i32,
    /// Prices in dollars, as the organiser types them (`450`, `395,00`).
    regular_price: String,
    #[serde(default)]
    early_bird_price: String,
    #[serde(default)]
    early_bird_until_local: String,
    #[serde(default)]
    group_price: String,
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
        fn dollars(s: &str, field: &str) -> Result<Option<i64>, ApiError> {
            match s.trim() {
                "" => Ok(None),
                v => Cents::parse_dollars(v)
                    .map(|c| Some(c.0))
                    .ok_or_else(|| ApiError::unprocessable("invalid_amount", field, "Give an amount in dollars, like 450.00.")),
            }
        }
        Ok(CityEventInput {
            city_id,
            masterclass_id: self.masterclass_id,
            venue_id: self.venue_id,
            local_start: self.local_start,
            local_end: self.local_end,
            capacity: self.capacity,
            regular_price_cents: dollars(&self.regular_price, "regular_price_cents")?
                .ok_or_else(|| ApiError::unprocessable("missing_field", "regular_price_cents", "The regular price is required."))?,
            early_bird_price_cents: dollars(&self.early_bird_price, "early_bird_price_cents")?,
            early_bird_until_local: Some(self.early_bird_until_local).filter(|s| !s.trim().is_empty()),
            group_price_cents: dollars(&self.group_price, "group_price_cents")?,
            group_min_quantity: opt(&self.group_min_quantity, "group_min_quantity")?,
            status: self.status,
        })
    }
}

#[tracing::instrument(name = "admin.pages.city_events.city_events", skip_all)]
pub async fn city_events(req: HttpRequest, state: web::Data<AppState>, who: AdminSession) -> HttpResponse {
    let lang = language(&req);
    let (list, venues) = match (events::list(&state).await, events::venues(&state).await) {
        (Ok(l), Ok(v)) => (l, v),
        (Err(e), _) | (_, Err(e)) => return api_error_page(&req, &state, &who, e),
    };
    let masterclasses = match db::connection(&state.pool).await {
        Ok(mut conn) => db::catalogue::masterclass_events(&mut conn).await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let body = json!({
        "events": list.iter().map(|e| {
            let mut v = serde_json::to_value(e).unwrap_or_default();
            v["city"] = json!(e.city_in(lang));
            v["status_label"] = json!(text(lang, &format!("city_events.statuses.{}", e.status)));
            v["local_start"] = json!(super::local_start(lang, &e.local_start));
            v
        }).collect::<Vec<_>>(),
        "venues": venues.iter().map(|v| {
            let mut v = v.clone();
            if lang == Language::En {
                v["city"] = v["city_en"].clone();
            }
            v
        }).collect::<Vec<_>>(),
        "masterclasses": masterclasses.iter().map(|m| json!({
            "id": m.id, "title": if lang == Language::En { &m.title_en } else { &m.title_fr },
        })).collect::<Vec<_>>(),
        "blank": {"local_start": "", "local_end": "", "capacity": "", "regular_price": "", "early_bird_price": "",
                  "early_bird_until_local": "", "group_price": "", "group_min_quantity": ""},
    });
    render(&req, &state, Some(&who), "city_events", "city_events", &text(lang, "city_events.title"), body)
}

#[tracing::instrument(name = "admin.pages.city_events.create_city_event", skip_all)]
pub async fn create_city_event(state: web::Data<AppState>, who: AdminSession, f: AdminForm<EventForm>) -> HttpResponse {
    let venue_id = f.0.venue_id;
    let city_id = match db::connection(&state.pool).await {
        Ok(mut conn) => db::admin::venue(&mut conn, venue_id).await.ok().flatten().map(|v| v.city_id.0),
        Err(_) => None,
    };
    let result = match f.0.input(city_id) {
        Ok(input) => events::create(&state, &who, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(e) => see_other(format!("/admin/city-events/{}?notice=created", e.id)),
        Err(e) => after("/admin/city-events", Err(e), "created"),
    }
}

#[tracing::instrument(name = "admin.pages.city_events.city_event", skip_all)]
pub async fn city_event(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> HttpResponse {
    let lang = language(&req);
    let id = *path;
    let (e, venues, waiting) = match (events::get(&state, id).await, events::venues(&state).await, waiting_list::lines(&state, id).await) {
        (Ok(e), Ok(v), Ok(w)) => (e, v, w),
        (Err(err), _, _) | (_, Err(err), _) | (_, _, Err(err)) => return api_error_page(&req, &state, &who, err),
    };
    let tz = e.time_zone;
    let (broadcasts, cancellation) = match (ops::broadcasts(&state, id).await, ops::cancellation(&state, id).await) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(err), _) | (_, Err(err)) => return api_error_page(&req, &state, &who, err),
    };
    let mut shown = serde_json::to_value(&e).unwrap_or_default();
    let dollars = |c: Option<i64>| c.map(|c| Cents(c).as_dollars()).unwrap_or_default();
    shown["regular_price"] = json!(dollars(Some(e.regular_price_cents)));
    shown["early_bird_price"] = json!(dollars(e.early_bird_price_cents));
    shown["group_price"] = json!(dollars(e.group_price_cents));
    let resumable = cancellation.as_ref().is_some_and(|c| c.finished_at.is_none());
    let body = json!({
        "resumable": resumable,
        "broadcasts": broadcasts.iter().map(|b| json!({"subject": if lang == Language::Fr { &b.subject_fr } else { &b.subject_en },
            "by": b.sent_by, "at": local(b.created_at, tz), "recipients": b.recipients, "sent": b.sent})).collect::<Vec<_>>(),
        // Always an object: the strict templates take a null for a missing value.
        "cancellation": cancellation.map_or_else(|| json!({"present": false}), |c| json!({"present": true, "finished": c.finished_at.is_some(),
            "error": c.last_error.unwrap_or_default(), "at": local(c.started_at, tz), "by": c.started_by, "p": c.progress})),
        "cancellable": e.status != SalesStatus::Cancelled,
        "e": shown,
        "status_label": text(lang, &format!("city_events.statuses.{}", e.status)),
        "on_sale": e.status == SalesStatus::OnSale,
        "venues": venues.iter().filter(|v| v["city_id"] == e.city_id.0).map(|v| json!({"id": v["id"], "name": v["name"], "selected": v["id"] == e.venue_id.0})).collect::<Vec<_>>(),
        "waiting": waiting.iter().enumerate().map(|(i, w)| json!({
            "n": i + 1, "id": w.id, "first_name": w.first_name, "last_name": w.last_name, "email": w.email, "language": w.language,
            "joined": local(w.created_at, tz), "state": w.state, "offer_reference": w.offer_reference,
            "expires": w.offer_expires_at.map(|t| local(t, tz)).unwrap_or_default(), "waiting": w.state == "waiting",
        })).collect::<Vec<_>>(),
    });
    let title = format!("{} — {}", e.city_in(lang), super::local_start(lang, &e.local_start));
    render(&req, &state, Some(&who), "city_event", "city_events", &title, body)
}

#[tracing::instrument(name = "admin.pages.city_events.update_city_event", skip_all)]
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

#[tracing::instrument(name = "admin.pages.city_events.sales", skip_all)]
pub async fn sales(state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>, f: AdminForm<SalesForm>) -> HttpResponse {
    let id = *path;
    let result = match f.0.action.as_str() {
        "open" => events::set_sales(&state, &who, id, true).await.map(|_| ()),
        "close" => events::set_sales(&state, &who, id, false).await.map(|_| ()),
        _ => Err(ApiError::unprocessable("invalid_action", "action", "open or close")),
    };
    after(&format!("/admin/city-events/{id}"), result, "done")
}

#[tracing::instrument(name = "admin.pages.city_events.remove_waiting", skip_all)]
pub async fn remove_waiting(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<(i64, i64)>,
    _f: AdminForm<Empty>,
) -> HttpResponse {
    let (id, entry) = path.into_inner();
    after(&format!("/admin/city-events/{id}"), waiting_list::remove(&state, &who, id, entry).await, "done")
}
