//! After the form: the checkout page (summary with tax lines, hold countdown, payment), the
//! confirmation page (waits for the webhook's confirmation), its calendar file, the "my
//! booking" look-up the e-mails link to, and the analytics consent form.
//!
//! Booking pages are reached through a link carrying `k`, an HMAC of the reference under the
//! server's secret (`domain::tokens::booking_key`): the address itself is the proof, as in the
//! e-mails, and a reference alone (printed on badges) reveals nothing.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use super::booking_form::{FormValues, FORM_LIMIT};
use super::catalogue::{city_name, event_date, event_time};
use super::i18n;
use super::page::{consent_cookie, Meta, PageCtx, PageError};
use super::paths;
use crate::calendar::{self, BookingDay};
use crate::db;
use crate::db::catalogue::CityEventDetails;
use crate::db::models::{AttendeeRow, BookingRow};
use crate::domain::taxes::TaxLine;
use crate::domain::tokens::{booking_key, booking_key_matches};
use crate::domain::{BookingReference, BookingStatus, Cents, Email, Language};
use crate::http::csrf;
use crate::http::redirect::see_other;
use crate::i18n::money;
use crate::services::test_cards;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct KeyQuery {
    #[serde(default)]
    k: String,
    /// The outcome of the form that redirected here (`names_saved`…), shown once.
    #[serde(default)]
    notice: Option<String>,
    /// The seat (from 1) a refused name form was about.
    #[serde(default)]
    seat: Option<u32>,
}

impl KeyQuery {
    pub fn key(&self) -> &str {
        &self.k
    }

    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    pub fn seat(&self) -> Option<u32> {
        self.seat
    }
}

pub(super) struct Loaded {
    pub(super) booking: BookingRow,
    pub(super) people: Vec<AttendeeRow>,
    pub(super) details: CityEventDetails,
    pub(super) status: BookingStatus,
}

/// The booking behind a signed link; the same 404 page for a wrong key or an unknown reference.
pub(super) async fn load(state: &AppState, lang: Language, reference: &str, key: &str) -> Result<Loaded, PageError> {
    let reference = BookingReference::parse(reference).map_err(|_| PageError::not_found(lang))?;
    if !booking_key_matches(state.settings.secret_key.expose(), reference.as_str(), key) {
        return Err(PageError::not_found(lang));
    }
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    let (booking, people) = db::bookings::by_reference(&mut conn, reference.as_str())
        .await
        .map_err(|e| PageError::from_api(lang, e.into()))?
        .ok_or_else(|| PageError::not_found(lang))?;
    let details = db::catalogue::city_event(&mut conn, booking.city_event_id)
        .await
        .map_err(|e| PageError::from_api(lang, e.into()))?
        .ok_or_else(|| PageError::not_found(lang))?;
    let mut status = BookingStatus::parse(booking.status.as_str()).unwrap_or(BookingStatus::Cancelled);
    // The actor expires holds within a tick; the buyer should not see "held" past the deadline.
    if status == BookingStatus::Held && booking.hold_expires_at <= Utc::now() {
        status = BookingStatus::Expired;
    }
    Ok(Loaded { booking, people, details, status })
}

/// Summary lines shared by the checkout and confirmation pages: the receipt with each tax line
/// and the organiser's registration number.
fn receipt(l: &Loaded, lang: Language) -> Result<Value, PageError> {
    let formats = i18n::formats(lang)?;
    let b = &l.booking;
    let taxes: Vec<TaxLine> = serde_json::from_value(b.taxes.clone()).unwrap_or_default();
    let taxes: Vec<Value> = taxes
        .iter()
        .map(|t| {
            let label = if lang == Language::Fr { &t.label_fr } else { &t.label_en };
            json!({
                "label": format!("{label} ({})", formats.tax_rate(t.rate_per_100k)),
                "registration": t.registration_number,
                "amount": money(Cents(t.amount_cents), lang),
            })
        })
        .collect();
    Ok(json!({
        "reference": b.reference,
        "event": {
            "city": city_name(&l.details, lang),
            "date": event_date(&l.details, lang)?,
            "time": event_time(&l.details, lang)?,
            "venue": l.details.venue.name,
        },
        "seats_line": i18n::plural(lang, "checkout.seats_line", b.quantity.into(), &[("quantity", &b.quantity.to_string()), ("unit_price", &money(Cents(b.unit_price_cents), lang))]),
        "subtotal": money(Cents(b.subtotal_cents), lang),
        "discount": if b.discount_cents > 0 { Some(money(Cents(b.discount_cents), lang)) } else { None },
        "taxes": taxes,
        "total": money(Cents(b.total_cents), lang),
    }))
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// When the hold ends, in the venue's zone.
fn local_time(l: &Loaded, lang: Language) -> Result<String, PageError> {
    Ok(i18n::formats(lang)?.time(l.booking.hold_expires_at.with_timezone(&l.details.event.time_zone).time()))
}

/// What went wrong on the checkout page: about the card typed (shown at the field too), or not.
enum CheckoutError {
    Card(String),
    Page(String),
}

/// Our own words for Stripe's decline code: Stripe's message is English whatever the page's
/// language, and lost/stolen/fraud codes must not be told to whoever holds the card.
pub fn decline_text(lang: Language, decline_code: Option<&str>) -> String {
    let ours = ["insufficient_funds", "expired_card", "incorrect_cvc", "processing_error"];
    let key = decline_code.filter(|code| ours.contains(code)).unwrap_or("generic");
    i18n::text(lang, &format!("errors.card_declined.{key}"), &[])
}

async fn render_checkout(
    ctx: &PageCtx<'_>,
    l: &Loaded,
    key: &str,
    status: StatusCode,
    error: Option<CheckoutError>,
    card_number: &str,
) -> Result<HttpResponse, PageError> {
    let (error, card_error) = match error {
        Some(CheckoutError::Card(m)) => (Some(m), true),
        Some(CheckoutError::Page(m)) => (Some(m), false),
        None => (None, false),
    };
    let lang = ctx.lang;
    let state = ctx.state;
    let b = &l.booking;
    let payable = l.status == BookingStatus::Held;
    let total = money(Cents(b.total_cents), lang);
    // Stripe.js's declines in our words, by decline code (the script reads them off the form).
    let declines: Vec<Value> = ["generic", "insufficient_funds", "expired_card", "incorrect_cvc", "processing_error"]
        .iter()
        .map(|code| json!({"code": code, "text": decline_text(lang, Some(code))}))
        .collect();
    let mut body = json!({
        "payable": payable,
        "paid": l.status == BookingStatus::Confirmed,
        "action": paths::checkout(&b.reference, key, lang),
        "confirmation_url": paths::confirmation(&b.reference, key, lang),
        "restart_url": paths::booking_form(b.city_event_id, lang),
        "expires_at": b.hold_expires_at.to_rfc3339(),
        "minutes_left": format!("{}:{:02}", (b.hold_expires_at - Utc::now()).num_minutes().max(0), (b.hold_expires_at - Utc::now()).num_seconds().max(0) % 60),
        "hold_text": i18n::text(lang, "checkout.hold", &[("time", &local_time(l, lang)?)]),
        "pay_label": i18n::text(lang, "checkout.pay", &[("total", &total)]),
        "test_mode": state.test_cards.is_some(),
        "card_number": card_number,
        "error": error,
        "card_error": card_error,
        "declines": declines,
        "publishable_key": "",
        "client_secret": "",
        "return_url": ctx.absolute(&paths::confirmation(&b.reference, key, lang)),
    });
    if payable && state.test_cards.is_none() {
        // Real Stripe: the Payment Element needs the intent's client secret (one intent per booking).
        let intent = state.payments.create_intent(b).await.map_err(|e| PageError::from_api(lang, e.into()))?;
        body["publishable_key"] = json!(intent.publishable_key);
        body["client_secret"] = json!(intent.client_secret);
    }
    let meta = Meta::from_locale(lang, "checkout", &[]).private();
    ctx.render(status, "checkout", None, meta, merge(body, receipt(l, lang)?))
}

#[tracing::instrument(name = "web.checkout.checkout", skip_all)]
pub async fn checkout(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    query: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let l = load(&state, ctx.lang, &path.0, &query.k).await?;
    render_checkout(&ctx, &l, &query.k, StatusCode::OK, None, "").await
}

/// The test-card form of the offline demo: the same create-intent → stand-in → signed webhook
/// path as the API's `payments/test-card`.
#[tracing::instrument(name = "web.checkout.pay", skip_all)]
pub async fn pay(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    query: web::Query<KeyQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let lang = ctx.lang;
    let l = load(&state, lang, &path.0, &query.k).await?;
    let Some(cards) = state.test_cards.as_deref() else { return Err(PageError::not_found(lang)) };
    let values = FormValues::parse(&body).unwrap_or_default();
    let card = values.get("card_number");
    if csrf::verify(&req, state.settings.secret_key.expose(), values.get(csrf::FIELD)).is_err() {
        return render_checkout(
            &ctx,
            &l,
            &query.k,
            StatusCode::FORBIDDEN,
            Some(CheckoutError::Page(i18n::text(lang, "errors.csrf", &[]))),
            card,
        )
        .await;
    }
    if l.status != BookingStatus::Held {
        return render_checkout(&ctx, &l, &query.k, StatusCode::CONFLICT, None, card).await;
    }
    match test_cards::pay(&state, cards, &l.booking, card).await {
        Ok(r) if r.status == "succeeded" || r.status == "processing" => {
            Ok(see_other(paths::confirmation(&l.booking.reference, &query.k, lang)))
        }
        Ok(r) => {
            let msg = decline_text(lang, r.decline_code.as_deref());
            render_checkout(&ctx, &l, &query.k, StatusCode::PAYMENT_REQUIRED, Some(CheckoutError::Card(msg)), card).await
        }
        Err(e) if e.detail.code == "invalid_card_number" => {
            render_checkout(
                &ctx,
                &l,
                &query.k,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(CheckoutError::Card(i18n::text(lang, "errors.invalid_card_number", &[]))),
                card,
            )
            .await
        }
        Err(e) if e.detail.code == "not_payable" => {
            render_checkout(
                &ctx,
                &l,
                &query.k,
                StatusCode::CONFLICT,
                Some(CheckoutError::Page(i18n::text(lang, "errors.not_payable", &[]))),
                card,
            )
            .await
        }
        Err(e) => Err(PageError::from_api(lang, e)),
    }
}

#[tracing::instrument(name = "web.checkout.confirmation", skip_all)]
pub async fn confirmation(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    query: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let lang = ctx.lang;
    let l = load(&state, lang, &path.0, &query.k).await?;
    let b = &l.booking;
    let attendees: Vec<String> = l
        .people
        .iter()
        .map(|a| match (&a.first_name, &a.last_name) {
            (Some(f), Some(last)) => format!("{f} {last}"),
            _ => i18n::text(lang, "confirmation.unnamed", &[]),
        })
        .collect();
    // The word the buyer reads, in the page's language; `status` stays the code the script compares.
    let status_label = status_label(lang, l.status);
    let body = json!({
        "status": if l.status == BookingStatus::Held { "pending" } else { l.status.as_str() },
        "confirmed": l.status == BookingStatus::Confirmed,
        "pending": l.status == BookingStatus::Held,
        "failed": false,
        "status_url": format!("/{}/confirmation/{}/status?k={}", lang.as_str(), b.reference, query.k),
        // GA4's e-commerce `purchase` (sent by analytics.js only with consent): the reference as
        // transaction id, the value before taxes, the taxes apart, in CAD.
        "purchase": if l.status == BookingStatus::Confirmed {
            json!({
                "id": b.reference,
                "value": Cents(b.total_cents - b.tax_cents).as_dollars(),
                "tax": Cents(b.tax_cents).as_dollars(),
                "item_id": l.details.city.slug,
                "item_name": format!("{} {}", city_name(&l.details, lang), l.details.event.starts_at.with_timezone(&l.details.event.time_zone).format("%Y-%m-%d")),
                "price": Cents(b.unit_price_cents).as_dollars(),
                "quantity": b.quantity,
            })
        } else {
            Value::Null
        },
        "confirmed_text": i18n::text(lang, "confirmation.confirmed_text", &[("email", &b.buyer_email)]),
        "closed_text": i18n::text(lang, "confirmation.closed_text", &[("status", &status_label)]),
        "attendees": attendees,
        "calendar_url": paths::calendar(&b.reference, &query.k, lang),
        "receipt_url": paths::receipt(&b.reference, &query.k, lang),
        "documents": super::documents::section(&state, lang, &l, &query).await?,
        "checkout_url": paths::checkout(&b.reference, &query.k, lang),
        "names": if l.status == BookingStatus::Confirmed {
            super::self_service::names_section(&state, lang, b, &l.people, &l.details, &query)?
        } else {
            Value::Null
        },
        "cancel": if l.status == BookingStatus::Confirmed {
            super::self_service::cancel_section(&state, lang, b, &l.details, &query.k)?
        } else {
            Value::Null
        },
    });
    let meta = Meta::from_locale(lang, "confirmation", &[]).private();
    let mut res = ctx.ok("confirmation", None, meta, merge(body, receipt(&l, lang)?))?;
    if l.status == BookingStatus::Held {
        // Without JavaScript the page still follows the webhook: the browser reloads it.
        res.headers_mut().insert(header::REFRESH, header::HeaderValue::from_static("3"));
    }
    Ok(res)
}

/// A booking's status as the buyer reads it (`expirée`, `expired`), from `booking_statuses`.
pub fn status_label(lang: Language, status: BookingStatus) -> String {
    i18n::text(lang, &format!("booking_statuses.{}", status.as_str()), &[])
}

/// `{"status": "pending" | "confirmed" | …}` for the confirmation page's script.
#[tracing::instrument(name = "web.checkout.status", skip_all)]
pub async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    query: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let l = load(&state, lang, &path.0, &query.k).await?;
    let status = if l.status == BookingStatus::Held { "pending" } else { l.status.as_str() };
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(json!({"status": status})))
}

#[tracing::instrument(name = "web.checkout.calendar", skip_all)]
pub async fn calendar(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    query: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let l = load(&state, lang, &path.0, &query.k).await?;
    if l.status != BookingStatus::Confirmed {
        return Err(PageError::not_found(lang));
    }
    let settings = &state.settings;
    let city = city_name(&l.details, lang);
    let manage_url = format!("{}{}", settings.frontend_url.trim_end_matches('/'), paths::manage(&l.booking.reference, lang));
    // The same file as the confirmation mail's attachment.
    let facts = state.facts.get();
    let day = BookingDay {
        language: lang,
        reference: &l.booking.reference,
        city: &city,
        venue_name: &l.details.venue.name,
        venue_address: &l.details.venue.address,
        venue_postal_code: &l.details.venue.postal_code,
        starts_at: l.details.event.starts_at,
        ends_at: l.details.event.ends_at,
        manage_url: &manage_url,
        organiser_name: &facts.organiser.legal_name,
        support_email: &facts.organiser.support_email,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}.ics\"", l.booking.reference)))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(calendar::calendar(&day)))
}

/// The "manage my booking" address the e-mails carry: asks for the buyer's e-mail, then goes to
/// the booking's checkout or confirmation page.
#[tracing::instrument(name = "web.checkout.manage", skip_all)]
pub async fn manage(req: HttpRequest, state: web::Data<AppState>, path: web::Path<(String,)>) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    render_manage(&ctx, &path.0, StatusCode::OK, None, "")
}

fn render_manage(
    ctx: &PageCtx<'_>,
    reference: &str,
    status: StatusCode,
    error: Option<String>,
    email: &str,
) -> Result<HttpResponse, PageError> {
    let lang = ctx.lang;
    let reference = BookingReference::parse(reference).map_err(|_| PageError::not_found(lang))?;
    let body = json!({
        "headline": i18n::text(lang, "manage.headline", &[("reference", reference.as_str())]),
        "action": paths::manage(reference.as_str(), lang),
        "error": error,
        "email": email,
    });
    ctx.render(status, "manage", None, Meta::from_locale(lang, "manage", &[]).private(), body)
}

#[tracing::instrument(name = "web.checkout.manage_submit", skip_all)]
pub async fn manage_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let lang = ctx.lang;
    let values = FormValues::parse(&body).unwrap_or_default();
    let email = values.get("email");
    if csrf::verify(&req, state.settings.secret_key.expose(), values.get(csrf::FIELD)).is_err() {
        return render_manage(&ctx, &path.0, StatusCode::FORBIDDEN, Some(i18n::text(lang, "errors.csrf", &[])), email);
    }
    let not_found = || render_manage(&ctx, &path.0, StatusCode::NOT_FOUND, Some(i18n::text(lang, "manage.not_found", &[])), email);
    let (Ok(reference), Ok(address)) = (BookingReference::parse(&path.0), Email::parse(email)) else { return not_found() };
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    let found = db::bookings::by_reference(&mut conn, reference.as_str()).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    match found {
        Some((b, _)) if b.buyer_email == address.as_str() => {
            let key = booking_key(state.settings.secret_key.expose(), &b.reference);
            let to = if b.status == BookingStatus::Held {
                paths::checkout(&b.reference, &key, lang)
            } else {
                paths::confirmation(&b.reference, &key, lang)
            };
            Ok(see_other(to))
        }
        _ => not_found(),
    }
}

/// The consent banner's form: remembers the choice and returns to the page it was made on.
#[tracing::instrument(name = "web.checkout.consent", skip_all)]
pub async fn consent(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let values = FormValues::parse(&body).unwrap_or_default();
    if csrf::verify(&req, state.settings.secret_key.expose(), values.get(csrf::FIELD)).is_err() {
        return Err(PageError { lang, status: StatusCode::FORBIDDEN, retry_after: None });
    }
    let choice = if values.get("choice") == "yes" { "yes" } else { "no" };
    let back = values.get("return_to");
    // Only a path on this site: never an open redirect.
    let back = if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') { back.to_owned() } else { "/".to_owned() };
    let mut res = see_other(back);
    let _ = res.add_cookie(&consent_cookie(choice, req.connection_info().scheme() == "https"));
    Ok(res)
}

/// Bodies of the site's forms are small.
pub fn form_config() -> web::PayloadConfig {
    web::PayloadConfig::new(FORM_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every status a booking can have reads as a word of the page's language, never the code or
    /// the locale path (the fallback of a missing string).
    #[test]
    fn every_booking_status_is_translated_in_both_languages() {
        for &status in BookingStatus::ALL {
            let fr = status_label(Language::Fr, status);
            let en = status_label(Language::En, status);
            for label in [&fr, &en] {
                assert!(!label.is_empty() && !label.contains("booking_statuses"), "{status}: {label:?}");
            }
            assert_ne!(fr, status.as_str(), "{status} is translated in French");
            assert_ne!(fr, en, "{status}");
        }
        assert_eq!(status_label(Language::Fr, BookingStatus::Expired), "expirée");
        assert_eq!(status_label(Language::En, BookingStatus::Refunded), "refunded");
    }
}
