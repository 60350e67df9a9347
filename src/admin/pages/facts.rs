//! The facts' pages: the organiser, each masterclass's policies and programme, each venue's
//! practical facts. The forms post to the same services as the JSON API (`admin::facts`); a
//! refusal comes back in the page's language, naming the field.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveTime;
use serde_json::{json, Value};

use super::{api_error_page, language, render, see_other, text, text_with};
use crate::admin::city_events as events;
use crate::admin::facts::{self, OrganiserInput, PoliciesInput, ProgrammeInput, ProgrammeItemInput, VenueFactsInput};
use crate::admin::session::{AdminForm, AdminSession};
use crate::db;
use crate::domain::url::percent_encode;
use crate::domain::Language;
use crate::http::error::ApiError;
use crate::state::AppState;

type Form = AdminForm<HashMap<String, String>>;

/// Blank lines the programme form offers for new items.
const BLANK_LINES: usize = 3;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/facts", web::get().to(overview))
        .route("/organiser", web::post().to(save_organiser))
        .route("/masterclasses/{id}/content", web::get().to(masterclass))
        .route("/masterclasses/{id}/policies", web::post().to(save_policies))
        .route("/masterclasses/{id}/programme", web::post().to(save_programme))
        .route("/venues/{id}/facts", web::get().to(venue))
        .route("/venues/{id}/facts", web::post().to(save_venue));
}

fn field(f: &HashMap<String, String>, name: &str) -> String {
    f.get(name).cloned().unwrap_or_default()
}

/// Back to `to` with the outcome; a refusal carries the field and its message in `lang`.
fn after(to: &str, lang: Language, result: Result<(), ApiError>) -> HttpResponse {
    match result {
        Ok(()) => see_other(format!("{to}?notice=saved")),
        Err(e) => {
            e.log();
            let field = e.detail.field.clone().unwrap_or_default();
            let label = field_label(lang, &field);
            let why = text_with(lang, &format!("facts.errors.{}", e.detail.code), &());
            let why = if why.starts_with("facts.errors.") { text(lang, "facts.errors.invalid") } else { why };
            let message = if label.is_empty() { why } else { format!("{label}{} {why}", text(lang, "facts.colon")) };
            see_other(format!("{to}?error={}&message={}", percent_encode(e.detail.code), percent_encode(&message)))
        }
    }
}

/// `items[2].label_fr` → "Ligne 3 — Libellé (français)".
fn field_label(lang: Language, field: &str) -> String {
    if field.is_empty() {
        return String::new();
    }
    if let Some(rest) = field.strip_prefix("items[") {
        if let Some((n, name)) = rest.split_once("].") {
            let line = n.parse::<usize>().map(|n| n + 1).unwrap_or(0).to_string();
            return format!("{} — {}", text_with(lang, "facts.line", &[("n", line.as_str())]), text(lang, &format!("facts.fields.{name}")));
        }
    }
    text(lang, &format!("facts.fields.{field}"))
}

#[tracing::instrument(name = "admin.pages.facts.overview", skip_all)]
pub async fn overview(req: HttpRequest, state: web::Data<AppState>, who: AdminSession) -> HttpResponse {
    let lang = language(&req);
    let organiser = match facts::organiser(&state).await {
        Ok(o) => o,
        Err(e) => return api_error_page(&req, &state, &who, e),
    };
    let masterclasses = match db::connection(&state.pool).await {
        Ok(mut conn) => db::catalogue::masterclass_events(&mut conn).await.map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    let (masterclasses, venues) = match (masterclasses, events::venues(&state).await) {
        (Ok(m), Ok(v)) => (m, v),
        (Err(e), _) | (_, Err(e)) => return api_error_page(&req, &state, &who, e),
    };
    let body = json!({
        "organiser": organiser,
        "masterclasses": masterclasses.iter().map(|m| json!({"id": m.id, "title": if lang == Language::Fr { &m.title_fr } else { &m.title_en }})).collect::<Vec<_>>(),
        "venues": venues.iter().map(|v| json!({"id": v["id"], "name": v["name"], "city": if lang == Language::Fr { &v["city"] } else { &v["city_en"] }})).collect::<Vec<_>>(),
    });
    render(&req, &state, Some(&who), "facts", "facts", &text(lang, "facts.title"), body)
}

#[tracing::instrument(name = "admin.pages.facts.save_organiser", skip_all)]
pub async fn save_organiser(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, f: Form) -> HttpResponse {
    let f = f.0;
    let input = OrganiserInput {
        legal_name: field(&f, "legal_name"),
        address: field(&f, "address"),
        support_email: field(&f, "support_email"),
        support_phone: field(&f, "support_phone"),
    };
    after("/admin/facts", language(&req), facts::save_organiser(&state, &who, &input).await.map(drop))
}

/// Minutes from the day's start as the form shows them: a clock time for a day starting at
/// `day_start`.
fn clock(day_start: NaiveTime, minutes: i64) -> String {
    (day_start + chrono::Duration::minutes(minutes)).format("%H:%M").to_string()
}

fn minutes(day_start: NaiveTime, raw: &str, field: &str) -> Result<Option<i64>, ApiError> {
    match raw.trim() {
        "" => Ok(None),
        v => {
            let t = NaiveTime::parse_from_str(v, "%H:%M")
                .map_err(|_| ApiError::unprocessable("invalid_time", field, "Give a time as HH:MM."))?;
            Ok(Some((t - day_start).num_minutes()))
        }
    }
}

fn day_start(raw: &str) -> Result<NaiveTime, ApiError> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M")
        .map_err(|_| ApiError::unprocessable("invalid_time", "day_start", "Give a time as HH:MM."))
}

#[tracing::instrument(name = "admin.pages.facts.masterclass", skip_all)]
pub async fn masterclass(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> HttpResponse {
    let lang = language(&req);
    let id = *path;
    let (policies, programme) = match (facts::policies(&state, id).await, facts::programme(&state, id).await) {
        (Ok(p), Ok(g)) => (p, g),
        (Err(e), _) | (_, Err(e)) => return api_error_page(&req, &state, &who, e),
    };
    let start = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default();
    let mut lines: Vec<Value> = programme
        .items
        .iter()
        .map(|p| {
            json!({"start": clock(start, p.starts_minutes), "end": p.ends_minutes.map(|m| clock(start, m)).unwrap_or_default(),
                   "label_en": p.label_en, "label_fr": p.label_fr, "brief": p.brief})
        })
        .collect();
    lines.extend((0..BLANK_LINES).map(|_| json!({"start": "", "end": "", "label_en": "", "label_fr": "", "brief": false})));
    let lines: Vec<Value> = lines
        .into_iter()
        .enumerate()
        .map(|(i, mut l)| {
            l["n"] = json!(i);
            l["human"] = json!(i + 1);
            l
        })
        .collect();
    let body = json!({"id": id, "policies": policies, "lines": lines, "day_start": "09:00"});
    render(&req, &state, Some(&who), "masterclass_content", "facts", &text(lang, "facts.masterclass_title"), body)
}

#[tracing::instrument(name = "admin.pages.facts.save_policies", skip_all)]
pub async fn save_policies(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>, f: Form) -> HttpResponse {
    let (id, f) = (*path, f.0);
    let number = |name: &str| -> Result<i64, ApiError> {
        field(&f, name).trim().parse().map_err(|_| ApiError::unprocessable("not_a_number", name, "Not a whole number."))
    };
    let result = async {
        let input = PoliciesInput {
            ce_hours: number("ce_hours")?,
            refund_window_days: number("refund_window_days")?,
            name_change_days: number("name_change_days")?,
            resources_days: number("resources_days")?,
            certificate_days: number("certificate_days")?,
        };
        facts::save_policies(&state, &who, id, &input).await.map(drop)
    }
    .await;
    after(&format!("/admin/masterclasses/{id}/content"), language(&req), result)
}

/// The programme form: numbered lines; a line with no start and no labels is left out.
fn programme_input(f: &HashMap<String, String>) -> Result<ProgrammeInput, ApiError> {
    let start = day_start(&field(f, "day_start"))?;
    let mut items = Vec::new();
    for n in 0..(40 + BLANK_LINES) {
        let get = |name: &str| field(f, &format!("{name}_{n}"));
        let (from, en, fr) = (get("start"), get("label_en"), get("label_fr"));
        if from.trim().is_empty() && en.trim().is_empty() && fr.trim().is_empty() {
            continue;
        }
        let at = items.len();
        let starts = minutes(start, &from, &format!("items[{at}].starts_minutes"))?
            .ok_or_else(|| ApiError::unprocessable("required", &format!("items[{at}].starts_minutes"), "This field is required."))?;
        items.push(ProgrammeItemInput {
            starts_minutes: starts,
            ends_minutes: minutes(start, &get("end"), &format!("items[{at}].ends_minutes"))?,
            label_en: en,
            label_fr: fr,
            brief: !get("brief").is_empty(),
        });
    }
    Ok(ProgrammeInput { items })
}

#[tracing::instrument(name = "admin.pages.facts.save_programme", skip_all)]
pub async fn save_programme(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<i64>,
    f: Form,
) -> HttpResponse {
    let id = *path;
    let result = match programme_input(&f.0) {
        Ok(input) => facts::save_programme(&state, &who, id, &input).await.map(drop),
        Err(e) => Err(e),
    };
    after(&format!("/admin/masterclasses/{id}/content"), language(&req), result)
}

#[tracing::instrument(name = "admin.pages.facts.venue", skip_all)]
pub async fn venue(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> HttpResponse {
    let lang = language(&req);
    let id = *path;
    let facts = match facts::venue_facts(&state, id).await {
        Ok(v) => v,
        Err(e) => return api_error_page(&req, &state, &who, e),
    };
    let name = match events::venues(&state).await {
        Ok(list) => list.iter().find(|v| v["id"] == id).map(|v| v["name"].as_str().unwrap_or_default().to_owned()).unwrap_or_default(),
        Err(e) => return api_error_page(&req, &state, &who, e),
    };
    let body = json!({"id": id, "name": name, "facts": facts});
    render(&req, &state, Some(&who), "venue_facts", "facts", &text_with(lang, "facts.venue_title", &[("venue", name.as_str())]), body)
}

#[tracing::instrument(name = "admin.pages.facts.save_venue", skip_all)]
pub async fn save_venue(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>, f: Form) -> HttpResponse {
    let (id, f) = (*path, f.0);
    let input = VenueFactsInput {
        transit_en: field(&f, "transit_en"),
        transit_fr: field(&f, "transit_fr"),
        parking_en: field(&f, "parking_en"),
        parking_fr: field(&f, "parking_fr"),
        hotels_en: field(&f, "hotels_en"),
        hotels_fr: field(&f, "hotels_fr"),
        restaurants_en: field(&f, "restaurants_en"),
        restaurants_fr: field(&f, "restaurants_fr"),
        accessibility_en: field(&f, "accessibility_en"),
        accessibility_fr: field(&f, "accessibility_fr"),
        wifi_network: field(&f, "wifi_network"),
        wifi_password: field(&f, "wifi_password"),
        emergency_phone: field(&f, "emergency_phone"),
    };
    after(&format!("/admin/venues/{id}/facts"), language(&req), facts::save_venue_facts(&state, &who, id, &input).await.map(drop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_programme_form_reads_clock_times_from_the_day_start() {
        let mut f = HashMap::new();
        for (k, v) in [
            ("day_start", "09:00"),
            ("start_0", "08:30"),
            ("label_en_0", "Doors"),
            ("label_fr_0", "Accueil"),
            ("brief_0", "on"),
            ("start_1", "12:00"),
            ("end_1", "13:00"),
            ("label_en_1", "Lunch"),
            ("label_fr_1", "Dîner"),
        ] {
            f.insert(k.to_owned(), v.to_owned());
        }
        let p = programme_input(&f).unwrap();
        assert_eq!(p.items.len(), 2);
        assert_eq!((p.items[0].starts_minutes, p.items[0].brief), (-30, true));
        assert_eq!((p.items[1].starts_minutes, p.items[1].ends_minutes), (180, Some(240)));
        f.insert("start_2".into(), "noon".into());
        assert_eq!(programme_input(&f).unwrap_err().detail.field.as_deref(), Some("items[2].starts_minutes"));
    }
}
