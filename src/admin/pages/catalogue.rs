//! The catalogue's pages: one overview (every masterclass, city, venue, tax line and promotion
//! code, and the codes' usage) and one form per record, new or existing. Each kind of record is
//! described once (`fields`): the form is drawn from that description and a posted form is read
//! back through it into the same input the JSON API takes, so both go through one service.
//!
//! A refused form is shown again as typed, with the field's message in the page's language and
//! nothing written.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::Toronto;
use serde_json::{json, Map, Value};

use super::{api_error_page, language, money, render, render_status, see_other, text, text_with};
use crate::admin::catalogue::inputs::{PROVINCES, TAX_CODES};
use crate::admin::catalogue::{self as svc};
use crate::admin::city_events as events;
use crate::admin::session::{AdminForm, AdminSession};
use crate::domain::{Cents, Language};
use crate::http::error::ApiError;
use crate::state::AppState;

type Form = AdminForm<HashMap<String, String>>;

/// The zones a Canadian venue is in, for the venue form (the API takes any IANA zone).
const ZONES: [&str; 12] = [
    "America/St_Johns",
    "America/Halifax",
    "America/Moncton",
    "America/Toronto",
    "America/Winnipeg",
    "America/Regina",
    "America/Edmonton",
    "America/Vancouver",
    "America/Whitehorse",
    "America/Yellowknife",
    "America/Iqaluit",
    "America/Glace_Bay",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/catalogue", web::get().to(overview))
        .route("/catalogue/{kind}/new", web::get().to(new_form))
        .route("/catalogue/{kind}", web::post().to(create))
        .route("/catalogue/{kind}/{id}", web::get().to(edit_form))
        .route("/catalogue/{kind}/{id}", web::post().to(update))
        .route("/catalogue/{kind}/{id}/delete", web::post().to(delete))
        .route("/catalogue/{kind}/{id}/deactivate", web::post().to(deactivate));
}

/// The kinds of record, by the path segment that names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Masterclasses,
    Cities,
    Venues,
    Taxes,
    PromoCodes,
}

impl Kind {
    fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "masterclasses" => Self::Masterclasses,
            "cities" => Self::Cities,
            "venues" => Self::Venues,
            "taxes" => Self::Taxes,
            "promo-codes" => Self::PromoCodes,
            _ => return None,
        })
    }

    fn path(self) -> &'static str {
        match self {
            Self::Masterclasses => "masterclasses",
            Self::Cities => "cities",
            Self::Venues => "venues",
            Self::Taxes => "taxes",
            Self::PromoCodes => "promo-codes",
        }
    }

    /// Its strings under `admin.catalogue`.
    fn key(self) -> &'static str {
        match self {
            Self::PromoCodes => "promo_codes",
            other => other.path(),
        }
    }
}

/// How a field is drawn and read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Text,
    LongText,
    Whole,
    /// Cents in the input, dollars on the form.
    Dollars,
    /// Parts per 100,000 in the input, a percentage on the form.
    Rate,
    /// An instant in the input, the organiser's local time (Toronto) on the form.
    Local,
    Check,
    /// One of a list; `numeric` when the input holds an id.
    Choice {
        numeric: bool,
    },
}

struct Field {
    name: &'static str,
    shape: Shape,
    required: bool,
}

const fn f(name: &'static str, shape: Shape, required: bool) -> Field {
    Field { name, shape, required }
}

use Shape::*;

const MASTERCLASS: &[Field] = &[
    f("slug", Text, true),
    f("title_fr", Text, true),
    f("title_en", Text, true),
    f("summary_fr", LongText, false),
    f("summary_en", LongText, false),
    f("presenter", Text, true),
    f("presenter_photo_url", Text, false),
];
const CITY: &[Field] = &[
    f("name_fr", Text, true),
    f("name_en", Text, true),
    f("slug", Text, true),
    f("province", Choice { numeric: false }, true),
    f("code", Text, true),
];
const VENUE: &[Field] = &[
    f("city_id", Choice { numeric: true }, true),
    f("name", Text, true),
    f("address", Text, true),
    f("postal_code", Text, true),
    f("time_zone", Choice { numeric: false }, true),
];
const TAX: &[Field] = &[
    f("province", Choice { numeric: false }, true),
    f("code", Choice { numeric: false }, true),
    f("label_fr", Text, true),
    f("label_en", Text, true),
    f("rate_per_100k", Rate, true),
    f("registration_number", Text, true),
    f("position", Whole, false),
];
const PROMO: &[Field] = &[
    f("code", Text, true),
    f("kind", Choice { numeric: false }, true),
    f("percent_off", Whole, false),
    f("amount_off_cents", Dollars, false),
    f("city_event_id", Choice { numeric: true }, false),
    f("max_uses", Whole, false),
    f("valid_from", Local, false),
    f("valid_until", Local, false),
    f("active", Check, false),
];

fn fields(kind: Kind) -> &'static [Field] {
    match kind {
        Kind::Masterclasses => MASTERCLASS,
        Kind::Cities => CITY,
        Kind::Venues => VENUE,
        Kind::Taxes => TAX,
        Kind::PromoCodes => PROMO,
    }
}

fn invalid(code: &'static str, field: &str) -> ApiError {
    ApiError::unprocessable(code, field, "This value is not valid.")
}

/// A posted form read through the kind's fields into the API's JSON input.
fn read(kind: Kind, form: &HashMap<String, String>) -> Result<Value, ApiError> {
    let mut out = Map::new();
    for field in fields(kind) {
        let raw = form.get(field.name).map(|s| s.trim()).unwrap_or_default();
        let value = match field.shape {
            Shape::Check => json!(!raw.is_empty()),
            _ if raw.is_empty() && field.required && field.shape != Shape::Text && field.shape != Shape::LongText => {
                return Err(ApiError::unprocessable("required", field.name, "This field is required."))
            }
            _ if raw.is_empty() && !matches!(field.shape, Shape::Text | Shape::LongText | Shape::Choice { numeric: false }) => Value::Null,
            Shape::Text | Shape::LongText | Shape::Choice { numeric: false } => json!(raw),
            Shape::Whole | Shape::Choice { numeric: true } => json!(raw.parse::<i64>().map_err(|_| invalid("not_a_number", field.name))?),
            Shape::Dollars => json!(Cents::parse_dollars(raw).ok_or_else(|| invalid("invalid_amount", field.name))?.0),
            Shape::Rate => json!(rate(raw).ok_or_else(|| invalid("invalid_rate", field.name))?),
            Shape::Local => {
                let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M").map_err(|_| invalid("invalid_datetime", field.name))?;
                let at = Toronto.from_local_datetime(&naive).single().ok_or_else(|| invalid("invalid_datetime", field.name))?;
                json!(at.with_timezone(&Utc))
            }
        };
        out.insert(field.name.to_owned(), value);
    }
    Ok(Value::Object(out))
}

/// `9.975` (percent) → 9975 parts per 100,000.
fn rate(raw: &str) -> Option<i64> {
    let raw = raw.trim_end_matches('%').trim().replace(',', ".");
    let (whole, frac) = raw.split_once('.').unwrap_or((&raw, ""));
    if whole.is_empty() || whole.len() > 2 || frac.len() > 3 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(whole.parse::<i64>().ok()? * 1000 + format!("{frac:0<3}").parse::<i64>().ok()?)
}

/// What a form shows for a field of a stored record.
fn shown(shape: Shape, v: &Value) -> String {
    match (shape, v) {
        (_, Value::Null) => String::new(),
        (Shape::Dollars, Value::Number(n)) => Cents(n.as_i64().unwrap_or_default()).as_dollars(),
        (Shape::Rate, Value::Number(n)) => {
            let r = n.as_i64().unwrap_or_default();
            let s = format!("{}.{:03}", r / 1000, r % 1000);
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
        (Shape::Local, Value::String(s)) => {
            DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Toronto).format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
        }
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// The choices of a select field, in `lang`.
async fn choices(state: &AppState, lang: Language, kind: Kind, name: &str) -> Result<Vec<(String, String)>, ApiError> {
    let label = |path: &str| text(lang, &format!("catalogue.{path}"));
    Ok(match name {
        "province" => PROVINCES.iter().map(|p| (p.to_string(), format!("{p} — {}", label(&format!("provinces.{p}"))))).collect(),
        "code" if kind == Kind::Taxes => TAX_CODES.iter().map(|c| (c.to_string(), c.to_string())).collect(),
        "time_zone" => ZONES.iter().map(|z| (z.to_string(), z.replace('_', " "))).collect(),
        "kind" => ["percent", "fixed"].iter().map(|k| (k.to_string(), label(&format!("promo_codes.kinds.{k}")))).collect(),
        "city_id" => svc::cities(state)
            .await?
            .into_iter()
            .map(|c| (c.id.to_string(), if lang == Language::Fr { c.fields.name_fr } else { c.fields.name_en }))
            .collect(),
        "city_event_id" => std::iter::once((String::new(), label("promo_codes.all_dates")))
            .chain(
                events::list(state)
                    .await?
                    .into_iter()
                    .map(|e| (e.id.to_string(), format!("{} — {}", e.city_in(lang), super::local_start(lang, &e.local_start)))),
            )
            .collect(),
        _ => Vec::new(),
    })
}

/// The form's fields for the template: label, shape, value as typed or stored, choices.
async fn drawn(
    state: &AppState,
    lang: Language,
    kind: Kind,
    values: &HashMap<String, String>,
    bad: Option<&str>,
) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    for field in fields(kind) {
        let value = values.get(field.name).cloned().unwrap_or_default();
        let options: Vec<Value> = choices(state, lang, kind, field.name)
            .await?
            .into_iter()
            .map(|(v, l)| json!({"value": v, "label": l, "selected": v == value}))
            .collect();
        let (input_type, step) = match field.shape {
            Shape::Whole => ("number", "1"),
            Shape::Dollars => ("text", ""),
            Shape::Rate => ("text", ""),
            Shape::Local => ("datetime-local", ""),
            _ => ("text", ""),
        };
        // Most fields have no hint: look it up without the missing-string error a label would log.
        let hint = crate::i18n::locale(lang)
            .and_then(|l| l.text(&format!("admin.catalogue.{}.hints.{}", kind.key(), field.name), &()))
            .unwrap_or_default();
        out.push(json!({
            "name": field.name,
            "label": field_label(lang, kind, field.name),
            "hint": hint,
            "value": value,
            "checked": !value.is_empty() && value != "false",
            "required": field.required,
            "invalid": bad == Some(field.name),
            "select": matches!(field.shape, Shape::Choice { .. }),
            "textarea": field.shape == Shape::LongText,
            "checkbox": field.shape == Shape::Check,
            "input_type": input_type,
            "step": step,
            "options": options,
        }));
    }
    Ok(out)
}

fn field_label(lang: Language, kind: Kind, name: &str) -> String {
    text(lang, &format!("catalogue.{}.fields.{name}", kind.key()))
}

/// "Postal code: give a Canadian postal code, like H3A 1L4."
fn refusal(lang: Language, kind: Kind, e: &ApiError) -> String {
    let why = text_with(lang, &format!("facts.errors.{}", e.detail.code), &());
    let why = if why.starts_with("facts.errors.") { text(lang, "facts.errors.invalid") } else { why };
    match e.detail.field.as_deref().filter(|f| fields(kind).iter().any(|x| x.name == *f)) {
        Some(field) => format!("{}{} {why}", field_label(lang, kind, field), text(lang, "facts.colon")),
        None => why,
    }
}

/// A stored record's values as the form shows them.
fn values_of(kind: Kind, record: &Value) -> HashMap<String, String> {
    fields(kind).iter().map(|f| (f.name.to_owned(), shown(f.shape, record.get(f.name).unwrap_or(&Value::Null)))).collect()
}

async fn record(state: &AppState, kind: Kind, id: i64) -> Result<Value, ApiError> {
    let v = match kind {
        Kind::Masterclasses => json!(svc::masterclass(state, id).await?),
        Kind::Cities => json!(svc::city(state, id).await?),
        Kind::Venues => json!(svc::venue(state, id).await?),
        Kind::Taxes => json!(svc::sales_tax(state, id).await?),
        Kind::PromoCodes => json!(svc::promo_code(state, id).await?),
    };
    Ok(v)
}

/// Saves a form's input through the kind's service; the record's id.
async fn save(state: &AppState, who: &AdminSession, kind: Kind, id: Option<i64>, input: Value) -> Result<i64, ApiError> {
    fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
        serde_json::from_value(v).map_err(|e| ApiError::unprocessable("invalid_form", "form", format!("The form is not valid: {e}.")))
    }
    Ok(match kind {
        Kind::Masterclasses => svc::save_masterclass(state, who, id, &parse(input)?).await?.id,
        Kind::Cities => svc::save_city(state, who, id, &parse(input)?).await?.id,
        Kind::Venues => svc::save_venue(state, who, id, &parse(input)?).await?.id,
        Kind::Taxes => svc::save_sales_tax(state, who, id, &parse(input)?).await?.id,
        Kind::PromoCodes => svc::save_promo_code(state, who, id, &parse(input)?).await?.id,
    })
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    req: &HttpRequest,
    state: &AppState,
    who: &AdminSession,
    status: StatusCode,
    kind: Kind,
    id: Option<i64>,
    values: &HashMap<String, String>,
    error: Option<&ApiError>,
) -> HttpResponse {
    let lang = language(req);
    let bad = error.and_then(|e| e.detail.field.clone());
    let drawn = match drawn(state, lang, kind, values, bad.as_deref()).await {
        Ok(d) => d,
        Err(e) => return api_error_page(req, state, who, e),
    };
    let action = match id {
        Some(id) => format!("/admin/catalogue/{}/{id}?lang={}", kind.path(), lang.as_str()),
        None => format!("/admin/catalogue/{}?lang={}", kind.path(), lang.as_str()),
    };
    let title = text(lang, &format!("catalogue.{}.{}", kind.key(), if id.is_some() { "edit" } else { "new" }));
    let body = json!({
        "action": action,
        "fields": drawn,
        "failure": error.map(|e| refusal(lang, kind, e)),
        "delete": (kind == Kind::Taxes).then(|| id.map(|id| format!("/admin/catalogue/taxes/{id}/delete"))).flatten(),
    });
    render_status(req, state, Some(who), status, "catalogue_record", "catalogue", &title, body)
}

fn kind_of(raw: &str) -> Result<Kind, ApiError> {
    Kind::parse(raw).ok_or_else(|| ApiError::not_found("not_found", "No such page."))
}

#[tracing::instrument(name = "admin.pages.catalogue.new_form", skip_all)]
pub async fn new_form(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<String>) -> HttpResponse {
    let kind = match kind_of(&path) {
        Ok(k) => k,
        Err(e) => return api_error_page(&req, &state, &who, e),
    };
    let defaults: HashMap<String, String> = match kind {
        Kind::PromoCodes => [("kind", "percent"), ("active", "true")].into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        Kind::Taxes => [("position", "0")].into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        _ => HashMap::new(),
    };
    form_page(&req, &state, &who, StatusCode::OK, kind, None, &defaults, None).await
}

#[tracing::instrument(name = "admin.pages.catalogue.edit_form", skip_all)]
pub async fn edit_form(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<(String, i64)>) -> HttpResponse {
    let (raw, id) = path.into_inner();
    let found = match kind_of(&raw) {
        Ok(kind) => record(&state, kind, id).await.map(|r| (kind, r)),
        Err(e) => Err(e),
    };
    match found {
        Ok((kind, r)) => form_page(&req, &state, &who, StatusCode::OK, kind, Some(id), &values_of(kind, &r), None).await,
        Err(e) => api_error_page(&req, &state, &who, e),
    }
}

async fn submit(
    req: &HttpRequest,
    state: &AppState,
    who: &AdminSession,
    raw: &str,
    id: Option<i64>,
    form: HashMap<String, String>,
) -> HttpResponse {
    let kind = match kind_of(raw) {
        Ok(k) => k,
        Err(e) => return api_error_page(req, state, who, e),
    };
    let result = match read(kind, &form) {
        Ok(input) => save(state, who, kind, id, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => see_other(format!("/admin/catalogue?lang={}&notice=saved#{}", language(req).as_str(), kind.path())),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            e.log();
            form_page(req, state, who, StatusCode::UNPROCESSABLE_ENTITY, kind, id, &form, Some(&e)).await
        }
        Err(e) => api_error_page(req, state, who, e),
    }
}

#[tracing::instrument(name = "admin.pages.catalogue.create", skip_all)]
pub async fn create(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<String>, f: Form) -> HttpResponse {
    submit(&req, &state, &who, &path, None, f.0).await
}

#[tracing::instrument(name = "admin.pages.catalogue.update", skip_all)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<(String, i64)>,
    f: Form,
) -> HttpResponse {
    let (raw, id) = path.into_inner();
    submit(&req, &state, &who, &raw, Some(id), f.0).await
}

#[tracing::instrument(name = "admin.pages.catalogue.delete", skip_all)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<(String, i64)>,
    _f: Form,
) -> HttpResponse {
    let (raw, id) = path.into_inner();
    let result = match Kind::parse(&raw) {
        Some(Kind::Taxes) => svc::delete_sales_tax(&state, &who, id).await,
        _ => Err(ApiError::not_found("not_found", "No such page.")),
    };
    match result {
        Ok(()) => see_other(format!("/admin/catalogue?lang={}&notice=deleted#taxes", language(&req).as_str())),
        Err(e) => api_error_page(&req, &state, &who, e),
    }
}

#[tracing::instrument(name = "admin.pages.catalogue.deactivate", skip_all)]
pub async fn deactivate(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<(String, i64)>,
    _f: Form,
) -> HttpResponse {
    let (raw, id) = path.into_inner();
    let result = match Kind::parse(&raw) {
        Some(Kind::PromoCodes) => svc::deactivate_promo_code(&state, &who, id).await.map(drop),
        _ => Err(ApiError::not_found("not_found", "No such page.")),
    };
    match result {
        Ok(()) => see_other(format!("/admin/catalogue?lang={}&notice=deactivated#promo-codes", language(&req).as_str())),
        Err(e) => api_error_page(&req, &state, &who, e),
    }
}

#[tracing::instrument(name = "admin.pages.catalogue.overview", skip_all)]
pub async fn overview(req: HttpRequest, state: web::Data<AppState>, who: AdminSession) -> HttpResponse {
    let lang = language(&req);
    let fr = lang == Language::Fr;
    let loaded = async {
        Ok::<_, ApiError>((
            svc::masterclasses(&state).await?,
            svc::cities(&state).await?,
            svc::venues(&state).await?,
            svc::sales_taxes(&state).await?,
            svc::promo_codes(&state).await?,
            svc::promo_usage(&state).await?,
            events::list(&state).await?,
        ))
    }
    .await;
    let (masterclasses, cities, venues, taxes, codes, usage, dates) = match loaded {
        Ok(all) => all,
        Err(e) => return api_error_page(&req, &state, &who, e),
    };
    let city_name = |id: i64| {
        cities.iter().find(|c| c.id == id).map(|c| if fr { c.fields.name_fr.clone() } else { c.fields.name_en.clone() }).unwrap_or_default()
    };
    let date_name = |id: Option<i64>| match id.and_then(|id| dates.iter().find(|d| d.id == id)) {
        Some(d) => format!("{} — {}", d.city_in(lang), super::local_start(lang, &d.local_start)),
        None => text(lang, "catalogue.promo_codes.all_dates"),
    };
    let body = json!({
        "masterclasses": masterclasses.iter().map(|m| json!({"id": m.id, "title": if fr { &m.fields.title_fr } else { &m.fields.title_en }, "presenter": m.fields.presenter})).collect::<Vec<_>>(),
        "cities": cities.iter().map(|c| json!({"id": c.id, "name": city_name(c.id), "province": c.fields.province, "code": c.fields.code})).collect::<Vec<_>>(),
        "venues": venues.iter().map(|v| json!({"id": v.id, "name": v.fields.name, "city": city_name(v.fields.city_id), "time_zone": v.fields.time_zone})).collect::<Vec<_>>(),
        "taxes": taxes.iter().map(|t| json!({"id": t.id, "province": t.fields.province, "label": if fr { &t.fields.label_fr } else { &t.fields.label_en },
            "rate": shown(Shape::Rate, &json!(t.fields.rate_per_100k)), "registration_number": t.fields.registration_number})).collect::<Vec<_>>(),
        "codes": codes.iter().map(|p| json!({"id": p.id, "code": p.fields.code, "active": p.fields.active,
            "off": match (p.fields.percent_off, p.fields.amount_off_cents) { (Some(pc), _) => format!("{pc} %"), (_, Some(c)) => money(c, lang), _ => String::new() },
            "dates": date_name(p.fields.city_event_id),
            "uses": match p.fields.max_uses { Some(cap) => format!("{} / {cap}", p.uses), None => p.uses.to_string() }})).collect::<Vec<_>>(),
        "usage": usage.iter().map(|u| json!({"code": u.code, "date": date_name(Some(u.city_event_id)), "held": u.held, "paid": u.paid,
            "seats": u.seats_paid, "discount": money(u.discount_cents, lang)})).collect::<Vec<_>>(),
    });
    render(&req, &state, Some(&who), "catalogue", "catalogue", &text(lang, "catalogue.title"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_reads_back_into_the_api_input() {
        let form: HashMap<String, String> = [
            ("code", "psy-2027"),
            ("kind", "fixed"),
            ("percent_off", ""),
            ("amount_off_cents", "25,50"),
            ("city_event_id", ""),
            ("max_uses", "3"),
            ("valid_from", "2027-01-01T09:00"),
            ("valid_until", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let v = read(Kind::PromoCodes, &form).unwrap();
        assert_eq!(v["amount_off_cents"], 2550);
        assert_eq!(v["valid_from"], "2027-01-01T14:00:00Z");
        assert_eq!((v["active"].clone(), v["valid_until"].clone(), v["percent_off"].clone()), (json!(false), Value::Null, Value::Null));
        let input: crate::admin::catalogue::inputs::PromoCodeInput = serde_json::from_value(v).unwrap();
        assert_eq!(input.parse().unwrap().amount_off_cents, Some(2550));
        let mut bad = form.clone();
        bad.insert("amount_off_cents".into(), "lots".into());
        assert_eq!(read(Kind::PromoCodes, &bad).unwrap_err().detail.field.as_deref(), Some("amount_off_cents"));
    }

    #[test]
    fn tax_rates_are_percentages_on_the_form() {
        assert_eq!(rate("9.975"), Some(9975));
        assert_eq!(rate("5"), Some(5000));
        assert_eq!(rate("14,0 %"), Some(14000));
        assert_eq!(rate("9.9751"), None);
        assert_eq!(shown(Shape::Rate, &json!(9975)), "9.975");
        assert_eq!(shown(Shape::Rate, &json!(5000)), "5");
    }
}
