//! The booking form: works without JavaScript (a POST, checked on the server, errors shown
//! beside their fields in the page's language, values kept) and holds the seats through the
//! same path as `POST /api/v1/bookings/create`. Success leads to the checkout page.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::catalogue::{city_name, event_view};
use super::i18n;
use super::page::{Meta, PageCtx, PageError};
use super::paths::{self, Page};
use crate::db;
use crate::db::catalogue::CityEventDetails;
use crate::domain::booking_request::{Attendee, BookingRequest, RawAttendee, RawBookingRequest, RawBuyer};
use crate::domain::tokens::booking_key;
use crate::domain::SalesStatus;
use crate::domain::{ActExperience, Email, InvalidInput, Language, PersonName, Phone, Quantity};
use crate::http::csrf;
use crate::http::redirect::see_other;
use crate::services::bookings;
use crate::state::AppState;

/// Larger bodies are not forms of ours.
pub const FORM_LIMIT: usize = 16 * 1024;

/// A submitted form: the last value of each name wins.
#[derive(Debug, Default, Clone)]
pub struct FormValues(HashMap<String, String>);

impl FormValues {
    pub fn parse(body: &[u8]) -> Result<Self, serde_urlencoded::de::Error> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)?;
        Ok(Self(pairs.into_iter().take(200).collect()))
    }

    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }
}

const EXPERIENCE: [(&str, ActExperience); 4] = [
    ("none", ActExperience::None),
    ("beginner", ActExperience::Beginner),
    ("intermediate", ActExperience::Intermediate),
    ("advanced", ActExperience::Advanced),
];

/// Errors by form field name, in the order the fields appear.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    fn add(&mut self, field: impl Into<String>, message: String) {
        let field = field.into();
        if !self.0.iter().any(|(f, _)| *f == field) {
            self.0.push((field, message));
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|(f, _)| f.as_str()).collect()
    }
}

fn message(lang: Language, e: &InvalidInput, max: u16) -> String {
    let key = format!("errors.{}", e.code);
    if i18n::raw_tree(lang).pointer(&format!("/errors/{}", e.code)).is_some() {
        i18n::text(lang, &key, &[("max", &max.to_string())])
    } else {
        i18n::text(lang, "errors.invalid_value", &[])
    }
}

/// The number of seats the form shows fields for: what was chosen if it parses, else one.
fn seat_count(values: &FormValues, max: u16) -> u16 {
    values.get("quantity").trim().parse::<u16>().ok().filter(|q| (1..=max).contains(q)).unwrap_or(1)
}

/// An empty required field is "required", not "enter a valid address".
fn required<T>(raw: &str, parse: impl Fn(&str) -> Result<T, InvalidInput>, field: &str) -> Result<(), InvalidInput> {
    if raw.trim().is_empty() {
        return Err(InvalidInput::new("required", field, "this field is required"));
    }
    parse(raw).map(drop)
}

/// The checkbox that makes the buyer seat 1 (checked when the form first shows).
const BUYER_ATTENDS: &str = "buyer_attends";

/// Checks every field on its own (so all errors show at once), then the whole request.
pub fn parse_form(values: &FormValues, city_event_id: i64, lang: Language, max: u16) -> Result<BookingRequest, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut check = |field: &str, r: Result<(), InvalidInput>| {
        if let Err(e) = r {
            errors.add(field, message(lang, &e, max));
        }
    };
    check("first_name", required(values.get("first_name"), PersonName::parse, "first_name"));
    check("last_name", required(values.get("last_name"), PersonName::parse, "last_name"));
    check("email", required(values.get("email"), Email::parse, "email"));
    check("phone", required(values.get("phone"), Phone::parse, "phone"));
    let experience = EXPERIENCE.iter().find(|(v, _)| *v == values.get("act_experience")).map(|(_, e)| *e);
    if experience.is_none() {
        let code = if values.get("act_experience").is_empty() { "required" } else { "invalid_value" };
        check("act_experience", Err(InvalidInput::new(code, "act_experience", "unknown")));
    }
    let quantity = values.get("quantity").trim().parse::<i64>().unwrap_or(0);
    check("quantity", Quantity::parse(quantity, max).map(drop));

    // Seats whose names are all blank are named later; a half-filled seat is an error. When the
    // buyer attends, seat 1 is theirs and its own fields are not read.
    let seats = seat_count(values, max);
    let buyer_attends = !values.get(BUYER_ATTENDS).is_empty();
    let mut attendees = vec![];
    let mut seat_of_index = vec![];
    for n in (if buyer_attends { 2 } else { 1 })..=seats {
        let field = |f: &str| format!("attendee_{n}_{f}");
        let (first, last, email) = (values.get(&field("first_name")), values.get(&field("last_name")), values.get(&field("email")));
        if first.trim().is_empty() && last.trim().is_empty() && email.trim().is_empty() {
            continue;
        }
        check(&field("first_name"), required(first, PersonName::parse, "first_name"));
        check(&field("last_name"), required(last, PersonName::parse, "last_name"));
        if !email.trim().is_empty() {
            check(&field("email"), Email::parse(email).map(drop));
        }
        seat_of_index.push(n);
        attendees.push(RawAttendee { first_name: first.to_owned(), last_name: last.to_owned(), email: Some(email.to_owned()) });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let raw = RawBookingRequest {
        city_event_id,
        quantity,
        buyer: RawBuyer {
            first_name: values.get("first_name").to_owned(),
            last_name: values.get("last_name").to_owned(),
            email: values.get("email").to_owned(),
            phone: values.get("phone").to_owned(),
        },
        act_experience: experience.unwrap_or(ActExperience::None),
        language: lang,
        attendees,
        promo_code: Some(values.get("promo_code").to_owned()),
        billing: Some(crate::domain::billing::RawBilling {
            company_name: Some(values.get("company_name").to_owned()),
            billing_address: Some(values.get("billing_address").to_owned()),
            purchase_order: Some(values.get("purchase_order").to_owned()),
        }),
    };
    let mut request = raw.parse(max).map_err(|e| {
        let mut errors = FieldErrors::default();
        errors.add(form_field(&e.field, &seat_of_index), message(lang, &e, max));
        errors
    })?;
    // Each name stays at the seat it was typed for (the API's list has no gaps to keep).
    let named = std::mem::take(&mut request.attendees);
    let mut placed = vec![Attendee { name: None, email: None }; usize::from(request.quantity.get())];
    if buyer_attends {
        let b = &request.buyer;
        placed[0] = Attendee { name: Some((b.first_name.clone(), b.last_name.clone())), email: Some(b.email.clone()) };
    }
    for (attendee, seat) in named.into_iter().zip(&seat_of_index) {
        if let Some(slot) = placed.get_mut(usize::from(*seat) - 1) {
            *slot = attendee;
        }
    }
    request.attendees = placed;
    Ok(request)
}

/// A field's label as the error summary names it: "Place 2, Nom".
fn field_label(lang: Language, field: &str) -> Option<String> {
    let t = |k: &str| i18n::text(lang, k, &[]);
    let own = |f: &str| match f {
        "first_name" | "last_name" | "email" | "phone" => Some(t(&format!("form.{f}"))),
        "act_experience" => Some(t("form.experience")),
        "quantity" => Some(t("form.quantity")),
        "promo_code" => Some(t("form.promo")),
        f if BILLING_FIELDS.contains(&f) => Some(t(&format!("form.billing.{f}"))),
        _ => None,
    };
    if let Some((seat, f)) = field.strip_prefix("attendee_").and_then(|r| r.split_once('_')) {
        let seat = i18n::text(lang, "form.attendee_legend", &[("n", seat)]);
        let label = if f == "email" { t("form.attendee_email") } else { own(f)? };
        return Some(i18n::text(lang, "form.attendee_field", &[("seat", &seat), ("field", &label)]));
    }
    own(field)
}

/// `buyer.email` → `email`, `attendees[1].last_name` → `attendee_<seat>_last_name`.
/// The invoice's optional fields, as the form names them.
const BILLING_FIELDS: [&str; 3] = ["company_name", "billing_address", "purchase_order"];

fn form_field(api_field: &str, seat_of_index: &[u16]) -> String {
    if let Some(rest) = api_field.strip_prefix("buyer.").or_else(|| api_field.strip_prefix("billing.")) {
        return rest.to_owned();
    }
    if let Some(rest) = api_field.strip_prefix("attendees[") {
        if let Some((i, tail)) = rest.split_once("].") {
            if let Some(seat) = i.parse::<usize>().ok().and_then(|i| seat_of_index.get(i)) {
                return format!("attendee_{seat}_{tail}");
            }
        }
        return "quantity".to_owned();
    }
    api_field.to_owned()
}

async fn bookable_event(state: &AppState, id: i64, lang: Language) -> Result<CityEventDetails, PageError> {
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    let details = db::catalogue::city_event(&mut conn, id).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    details
        .filter(|d| d.event.status == SalesStatus::OnSale || d.event.status == SalesStatus::Closed)
        .ok_or_else(|| PageError::not_found(lang))
}

struct FormView<'a> {
    values: &'a FormValues,
    errors: &'a FieldErrors,
    /// A refusal that concerns no single field (sold out, busy…).
    general: Option<String>,
}

fn render(ctx: &PageCtx<'_>, status: StatusCode, d: &CityEventDetails, view: FormView<'_>) -> Result<HttpResponse, PageError> {
    let lang = ctx.lang;
    let max = ctx.state.settings.max_quantity_per_booking;
    let t = |k: &str| i18n::text(lang, k, &[]);
    let v = view.values;
    let err = |f: &str| view.errors.get(f).map(str::to_owned);
    let buyer = [
        ("first_name", "form.first_name", "text", "given-name", None),
        ("last_name", "form.last_name", "text", "family-name", None),
        ("email", "form.email", "email", "email", Some("form.email_hint")),
        ("phone", "form.phone", "tel", "tel", Some("form.phone_hint")),
    ];
    let buyer_fields: Vec<Value> = buyer
        .iter()
        .map(|(name, label, kind, auto, hint)| {
            let error = err(name);
            let mut described = vec![];
            if hint.is_some() {
                described.push(format!("{name}-hint"));
            }
            if error.is_some() {
                described.push(format!("{name}-error"));
            }
            json!({"id": name, "name": name, "label": t(label), "type": kind, "autocomplete": auto, "value": v.get(name),
                   "hint": hint.map(t), "error": error, "describedby": if described.is_empty() { None } else { Some(described.join(" ")) }})
        })
        .collect();
    let chosen = v.get("act_experience");
    // A required select starts on an empty choice, so nobody is "none" without saying so.
    let options: Vec<Value> = std::iter::once(json!({"value": "", "label": t("form.experience_choose"), "selected": chosen.is_empty()}))
        .chain(
            EXPERIENCE
                .iter()
                .map(|(value, _)| json!({"value": value, "label": t(&format!("form.experience_{value}")), "selected": *value == chosen})),
        )
        .collect();
    let seats = seat_count(v, max);
    let buyer_attends = !v.get(BUYER_ATTENDS).is_empty();
    let attendees: Vec<Value> = (1..=seats)
        .map(|n| {
            let field = |f: &str, label: &str, kind: &str| {
                let name = format!("attendee_{n}_{f}");
                json!({"name": name, "label": t(label), "type": kind, "value": v.get(&name), "error": err(&name)})
            };
            json!({"n": n, "first": n == 1, "legend": i18n::text(lang, "form.attendee_legend", &[("n", &n.to_string())]), "fields": [
                field("first_name", "form.first_name", "text"),
                field("last_name", "form.last_name", "text"),
                field("email", "form.attendee_email", "email"),
            ]})
        })
        .collect();
    let mut error_list: Vec<Value> = view
        .errors
        .0
        .iter()
        .map(|(f, m)| {
            let text = match field_label(lang, f) {
                Some(label) => i18n::text(lang, "form.error_item", &[("field", &label), ("message", m)]),
                None => m.clone(),
            };
            json!({"id": f, "message": text})
        })
        .collect();
    if let Some(g) = &view.general {
        error_list.insert(0, json!({"id": "submit-booking", "message": g}));
    }
    let city = city_name(d, lang);
    let billing: Vec<Value> = BILLING_FIELDS
        .iter()
        .map(|f| {
            json!({
                "name": f,
                "label": i18n::text(lang, &format!("form.billing.{f}"), &[]),
                "value": v.get(f),
                "error": err(f),
                "multiline": *f == "billing_address",
            })
        })
        .collect();
    let body = json!({
        "action": paths::booking_form(d.event.id, lang),
        "event": event_view(ctx.state, d, lang)?,
        "buyer_fields": buyer_fields,
        "experience": {"options": options, "error": err("act_experience")},
        "quantity": {
            "options": (1..=max).map(|q| json!({"value": q, "selected": q == seats})).collect::<Vec<_>>(),
            "hint": i18n::text(lang, "form.quantity_hint", &[("max", &max.to_string())]),
            "error": err("quantity"),
        },
        "attendees": attendees,
        "buyer_attends": buyer_attends,
        "promo": {"value": v.get("promo_code"), "error": err("promo_code")},
        "billing": billing,
        "billing_open": BILLING_FIELDS.iter().any(|f| !v.get(f).trim().is_empty()),
        "hold_note": i18n::text(lang, "form.hold_note", &[("minutes", &(ctx.state.settings.hold_ttl_seconds / 60).max(1).to_string())]),
        "has_errors": !error_list.is_empty(),
        "error_list": error_list,
    });
    let mut meta = Meta::from_locale(lang, "form", &[("city", &city)]);
    if !error_list.is_empty() {
        meta = meta.with_errors(lang);
    }
    ctx.render(status, "booking_form", Some(Page::Book), meta, body)
}

#[tracing::instrument(name = "web.booking_form.show", skip_all)]
pub async fn show(req: HttpRequest, state: web::Data<AppState>, path: web::Path<(i64,)>) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    // From the page store's catalogue: the form is what the crowd loads before it books.
    let all = super::catalogue::events(&state, lang).await?;
    let Some(d) = all.iter().find(|d| d.event.id == path.0) else { return Err(PageError::not_found(lang)) };
    let view = event_view(&state, d, lang)?;
    if view["bookable"] != json!(true) {
        return Ok(see_other(paths::city(&d.city.slug, lang)));
    }
    super::page_cache::serve(&req, &state, all.generation, &[d], || async {
        let ctx = PageCtx::new(&req, &state);
        let values = FormValues(HashMap::from([("quantity".to_owned(), "1".to_owned()), (BUYER_ATTENDS.to_owned(), "1".to_owned())]));
        render(&ctx, StatusCode::OK, d, FormView { values: &values, errors: &FieldErrors::default(), general: None })
    })
    .await
}

#[tracing::instrument(name = "web.booking_form.submit", skip_all, fields(city_event_id = path.0))]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(i64,)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let lang = ctx.lang;
    let d = bookable_event(&state, path.0, lang).await?;
    let values = FormValues::parse(&body).unwrap_or_default();
    let none = FieldErrors::default();
    if csrf::verify(&req, state.settings.secret_key.expose(), values.get(csrf::FIELD)).is_err() {
        let general = Some(i18n::text(lang, "errors.csrf", &[]));
        return render(&ctx, StatusCode::FORBIDDEN, &d, FormView { values: &values, errors: &none, general });
    }
    if values.get("action") == "update" {
        return render(&ctx, StatusCode::OK, &d, FormView { values: &values, errors: &none, general: None });
    }
    let max = state.settings.max_quantity_per_booking;
    let request = match parse_form(&values, d.event.id, lang, max) {
        Ok(r) => r,
        Err(errors) => {
            return render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &d, FormView { values: &values, errors: &errors, general: None })
        }
    };
    let held = match bookings::check_booking_rate(&state, &req) {
        Ok(()) => bookings::hold(&state, &request).await,
        Err(e) => Err(e),
    };
    match held {
        Ok(receipt) => {
            let key = booking_key(state.settings.secret_key.expose(), &receipt.reference);
            Ok(see_other(paths::checkout(&receipt.reference, &key, lang)))
        }
        Err(e) => {
            let code = e.detail.code;
            if code == "invalid_promo_code" || code == "promo_code_used_up" {
                let mut errors = FieldErrors::default();
                errors.add("promo_code", i18n::text(lang, &format!("errors.{code}"), &[]));
                return render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &d, FormView { values: &values, errors: &errors, general: None });
            }
            let general = match code {
                "sold_out" | "sales_closed" | "busy" => i18n::text(lang, &format!("errors.{code}"), &[]),
                "not_enough_seats" => {
                    let left = e.detail.available.unwrap_or(0);
                    i18n::plural(lang, "errors.not_enough_seats", left.into(), &[("available", &left.to_string())])
                }
                "service_unavailable" | "rate_limited" => i18n::text(lang, "errors.busy", &[]),
                _ => {
                    tracing::warn!(code, "booking form refused");
                    i18n::text(lang, "errors.generic", &[])
                }
            };
            let mut res = render(&ctx, e.status, &d, FormView { values: &values, errors: &none, general: Some(general) })?;
            if let Some(secs) = e.retry_after {
                res.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            Ok(res)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormValues {
        FormValues(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    fn valid() -> Vec<(&'static str, &'static str)> {
        vec![
            ("first_name", "Marie"),
            ("last_name", "Tremblay"),
            ("email", "marie@example.ca"),
            ("phone", "514 555-0199"),
            ("act_experience", "beginner"),
            ("quantity", "2"),
            ("attendee_1_first_name", "Marie"),
            ("attendee_1_last_name", "Tremblay"),
            ("attendee_2_first_name", "Luc"),
            ("attendee_2_last_name", "Gagnon"),
        ]
    }

    #[test]
    fn a_complete_form_parses() {
        let r = parse_form(&form(&valid()), 7, Language::Fr, 10).expect("valid");
        assert_eq!(r.quantity.get(), 2);
        assert_eq!(r.attendees.len(), 2);
        assert_eq!(r.attendees[1].name.as_ref().map(|(f, _)| f.as_str()), Some("Luc"));
        assert_eq!(r.promo_code, None);
    }

    #[test]
    fn every_bad_field_is_reported_at_once_in_the_page_language() {
        let mut v = valid();
        v.retain(|(k, _)| *k != "first_name");
        v.push(("email", "pas-un-courriel"));
        v.push(("attendee_2_last_name", ""));
        v.push(("act_experience", "expert"));
        let e = parse_form(&form(&v), 7, Language::Fr, 10).unwrap_err();
        assert_eq!(e.fields(), vec!["first_name", "email", "act_experience", "attendee_2_last_name"]);
        assert_eq!(e.get("email"), Some(i18n::text(Language::Fr, "errors.invalid_email", &[]).as_str()));
        let e = parse_form(&form(&v), 7, Language::En, 10).unwrap_err();
        assert!(e.get("email").unwrap().starts_with("Enter a valid e-mail"));
    }

    #[test]
    fn quantity_outside_the_limit_is_refused() {
        let mut v = valid();
        v.retain(|(k, _)| !k.starts_with("attendee"));
        v.push(("quantity", "11"));
        let e = parse_form(&form(&v), 7, Language::En, 10).unwrap_err();
        assert_eq!(e.fields(), vec!["quantity"]);
        assert_eq!(e.get("quantity"), Some("Choose between 1 and 10 seats."));
    }

    #[test]
    fn blank_seats_are_named_later_and_api_fields_map_back() {
        let mut v = valid();
        v.retain(|(k, _)| !k.starts_with("attendee_1"));
        let r = parse_form(&form(&v), 7, Language::Fr, 10).expect("valid");
        assert_eq!(r.attendees.len(), 2);
        // Luc was typed for seat 2 and stays there; seat 1 is named later.
        assert_eq!(r.attendees[0].name, None);
        assert_eq!(r.attendees[1].name.as_ref().map(|(f, _)| f.as_str()), Some("Luc"));
        assert_eq!(form_field("attendees[0].last_name", &[2]), "attendee_2_last_name");
        assert_eq!(form_field("buyer.phone", &[]), "phone");
        let mut v = valid();
        v.push(("promo_code", "not a code!"));
        assert_eq!(parse_form(&form(&v), 7, Language::Fr, 10).unwrap_err().fields(), vec!["promo_code"]);
    }

    #[test]
    fn the_buyer_takes_seat_one_when_they_attend_and_its_fields_are_not_read() {
        let mut v = valid();
        v.retain(|(k, _)| !k.starts_with("attendee_1"));
        v.push(("attendee_1_first_name", "ignored"));
        v.push(("buyer_attends", "1"));
        let r = parse_form(&form(&v), 7, Language::Fr, 10).expect("valid");
        let names: Vec<_> = r.attendees.iter().map(|a| a.name.as_ref().map(|(f, l)| format!("{} {}", f.as_str(), l.as_str()))).collect();
        assert_eq!(names, [Some("Marie Tremblay".to_owned()), Some("Luc Gagnon".to_owned())]);
        assert_eq!(r.attendees[0].email.as_ref().map(|e| e.as_str()), Some("marie@example.ca"));
    }

    #[test]
    fn empty_fields_are_required_and_the_summary_names_them() {
        let mut v = valid();
        v.retain(|(k, _)| !["email", "act_experience", "attendee_2_first_name"].contains(k));
        let e = parse_form(&form(&v), 7, Language::Fr, 10).unwrap_err();
        let required = i18n::text(Language::Fr, "errors.required", &[]);
        assert_eq!(e.get("email"), Some(required.as_str()), "an empty e-mail is missing, not invalid");
        assert_eq!(e.get("act_experience"), Some(required.as_str()));
        assert_eq!(e.get("attendee_2_first_name"), Some(required.as_str()));
        assert_eq!(field_label(Language::Fr, "email").as_deref(), Some("Courriel"));
        assert_eq!(field_label(Language::Fr, "attendee_2_first_name").as_deref(), Some("Place 2, Prénom"));
        assert_eq!(field_label(Language::En, "attendee_3_email").as_deref(), Some("Seat 3, E-mail (optional)"));
        assert_eq!(field_label(Language::En, "submit-booking"), None);
    }

    #[test]
    fn url_encoded_bodies_parse() {
        let f = FormValues::parse(b"first_name=Fran%C3%A7oise&last_name=B%C3%A9langer&quantity=1").unwrap();
        assert_eq!(f.get("first_name"), "Françoise");
        assert_eq!(f.get("missing"), "");
    }
}
