//! "My booking"'s PDFs, behind the booking's signed link: the tickets, the invoice and its credit
//! notes, each attendee's certificate of attendance. Drawn by `email::paperwork` from the mails'
//! own context, so a download and the mail's attachment are the same document.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::checkout::{load, KeyQuery, Loaded};
use super::page::PageError;
use crate::db;
use crate::db::invoices::DocumentKind;
use crate::documents;
use crate::domain::{BookingStatus, Language};
use crate::email::dispatch::EmailSettings;
use crate::email::paperwork;
use crate::email::render::EmailContext;
use crate::http::error::ApiError;
use crate::state::AppState;

fn internal(lang: Language, e: impl std::fmt::Display) -> PageError {
    tracing::error!(error = %e, "cannot draw a booking's document");
    PageError::from_api(lang, ApiError::internal())
}

/// The booking's mail context in the page's language (the receipt page's and the PDFs').
pub(super) async fn mail_context(state: &AppState, lang: Language, l: &Loaded) -> Result<EmailContext, PageError> {
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    let settings = EmailSettings::from(state.settings.as_ref());
    paperwork::context(&mut conn, &settings, lang, &l.booking, &l.people, &l.details).await.map_err(|e| PageError::from_api(lang, e.into()))
}

pub(super) fn pdf(filename: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(paperwork::PDF)
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .body(bytes)
}

/// Only a paid booking has documents (a refunded one keeps its invoice and credit notes).
fn paid(l: &Loaded, lang: Language) -> Result<(), PageError> {
    if paperwork::has_documents(l.status, l.booking.confirmed_at) {
        Ok(())
    } else {
        Err(PageError::not_found(lang))
    }
}

#[tracing::instrument(name = "web.documents.tickets", skip_all)]
pub async fn tickets(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    q: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let l = load(&state, lang, &path.0, q.key()).await?;
    // A refunded booking admits nobody: no tickets.
    if l.status != BookingStatus::Confirmed {
        return Err(PageError::not_found(lang));
    }
    let ctx = mail_context(&state, lang, &l).await?;
    let secret = state.settings.secret_key.expose();
    let seats: Vec<_> = l.people.iter().map(|a| paperwork::seat(secret, a)).collect();
    let bytes = documents::ticket::tickets(&paperwork::day(&ctx), l.booking.quantity, &seats).map_err(|e| internal(lang, e))?;
    Ok(pdf(&format!("tickets-{}.pdf", l.booking.reference), bytes))
}

#[tracing::instrument(name = "web.documents.invoice", skip_all)]
pub async fn invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    q: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let l = load(&state, lang, &path.0, q.key()).await?;
    paid(&l, lang)?;
    let ctx = mail_context(&state, lang, &l).await?;
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    let (file, bytes) = match paperwork::invoice_pdf(&mut conn, &ctx, &l.booking, &l.people).await {
        Ok(Some(doc)) => doc,
        Ok(None) => return Err(PageError::not_found(lang)),
        Err(paperwork::PaperworkError::Db(e)) => return Err(PageError::from_api(lang, e.into())),
        Err(e) => return Err(internal(lang, e)),
    };
    Ok(pdf(&file, bytes))
}

/// A credit note by its printed number (`NC-000003`): only one of this booking's.
#[tracing::instrument(name = "web.documents.credit_note", skip_all)]
pub async fn credit_note(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let (reference, number) = path.into_inner();
    let l = load(&state, lang, &reference, q.key()).await?;
    paid(&l, lang)?;
    let ctx = mail_context(&state, lang, &l).await?;
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    let docs = db::invoices::of_booking(&mut conn, l.booking.id).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    let of = docs.iter().find(|d| d.kind() == DocumentKind::Invoice);
    let note = docs
        .iter()
        .find(|d| d.kind() == DocumentKind::CreditNote && format!("{}.pdf", d.printed_number()) == number)
        .ok_or_else(|| PageError::not_found(lang))?;
    let inv = paperwork::invoice(&ctx, &l.booking, &l.people, note, of);
    let bytes = documents::invoice::render(&paperwork::day(&ctx), &inv).map_err(|e| internal(lang, e))?;
    Ok(pdf(&number, bytes))
}

/// Seat `position`'s certificate, for an attendee who came (checked in at the door).
#[tracing::instrument(name = "web.documents.certificate", skip_all)]
pub async fn certificate(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i32)>,
    q: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let (reference, position) = path.into_inner();
    let l = load(&state, lang, &reference, q.key()).await?;
    let a = l.people.iter().find(|a| a.position == position).ok_or_else(|| PageError::not_found(lang))?;
    let ctx = mail_context(&state, lang, &l).await?;
    let today = chrono::Utc::now().with_timezone(&ctx.time_zone).date_naive();
    let who = paperwork::attendance(a, today).ok_or_else(|| PageError::not_found(lang))?;
    let bytes = documents::certificate::render(&paperwork::day(&ctx), &who).map_err(|e| internal(lang, e))?;
    Ok(pdf(&format!("certificate-{}-{position}.pdf", l.booking.reference), bytes))
}

/// "My booking"'s documents: each seat's ticket code (shown on the page), the PDFs to download.
pub(super) async fn section(state: &AppState, lang: Language, l: &Loaded, query: &KeyQuery) -> Result<serde_json::Value, PageError> {
    let key = query.key();
    use serde_json::json;
    if !paperwork::has_documents(l.status, l.booking.confirmed_at) {
        return Ok(serde_json::Value::Null);
    }
    let reference = &l.booking.reference;
    let url = |file: &str| super::paths::document(reference, key, lang, file);
    let text = |path: &str, vars: &[(&str, &str)]| super::i18n::text(lang, path, vars);
    let secret = state.settings.secret_key.expose();
    let confirmed = l.status == BookingStatus::Confirmed;
    let mut seats = Vec::new();
    for a in &l.people {
        let name = match (&a.first_name, &a.last_name) {
            (Some(f), Some(last)) => format!("{f} {last}"),
            _ => text("confirmation.unnamed", &[]),
        };
        let position = a.position.to_string();
        let label = text("documents.ticket_label", &[("name", &name), ("position", &position)]);
        let svg = if confirmed {
            documents::qr::svg(&paperwork::seat(secret, a).token, &label).map_err(|e| internal(lang, e))?
        } else {
            String::new()
        };
        seats.push(json!({
            "position": a.position,
            "licence": a.licence_number.clone().unwrap_or_default(),
            "name": name,
            "label": label,
            "qr": svg,
            "certificate_url": if a.checked_in_at.is_some() && a.first_name.is_some() { url(&format!("certificates/{}.pdf", a.position)) } else { String::new() },
        }));
    }
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    let notes: Vec<_> = db::invoices::of_booking(&mut conn, l.booking.id)
        .await
        .map_err(|e| PageError::from_api(lang, e.into()))?
        .into_iter()
        .filter(|d| d.kind() == DocumentKind::CreditNote)
        .map(|d| json!({ "number": d.printed_number(), "url": url(&format!("credit-notes/{}.pdf", d.printed_number())) }))
        .collect();
    let b = &l.booking;
    Ok(json!({
        "notice": match query.notice() {
            Some(n @ ("details_saved" | "details_refused")) => text(&format!("documents.{n}"), &[]),
            _ => String::new(),
        },
        "details_action": format!("/{}/confirmation/{reference}/details?k={key}", lang.as_str()),
        "company_name": b.company_name.clone().unwrap_or_default(),
        "billing_address": b.billing_address.clone().unwrap_or_default(),
        "purchase_order": b.purchase_order.clone().unwrap_or_default(),
        "confirmed": confirmed,
        "tickets_url": if confirmed { url("tickets.pdf") } else { String::new() },
        "invoice_url": url("invoice.pdf"),
        "credit_notes": notes,
        "has_credit_notes": !notes.is_empty(),
        "seats": seats,
    }))
}

/// The documents' details form: the invoice's billing details and each seat's licence number for
/// its certificate. The invoice keeps its number and amounts; only who it is addressed to follows.
#[tracing::instrument(name = "web.documents.details", skip_all)]
pub async fn details(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    query: web::Query<KeyQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    use crate::domain::billing::{licence_number, RawBilling};
    let lang = crate::http::language::language_of(&req);
    let values = super::booking_form::FormValues::parse(&body).unwrap_or_default();
    if crate::http::csrf::verify(&req, state.settings.secret_key.expose(), values.get(crate::http::csrf::FIELD)).is_err() {
        return Err(PageError { lang, status: actix_web::http::StatusCode::FORBIDDEN, retry_after: None });
    }
    let l = load(&state, lang, &path.0, query.key()).await?;
    paid(&l, lang)?;
    let back = super::paths::confirmation(&l.booking.reference, query.key(), lang);
    let raw = RawBilling {
        company_name: Some(values.get("company_name").to_owned()),
        billing_address: Some(values.get("billing_address").to_owned()),
        purchase_order: Some(values.get("purchase_order").to_owned()),
    };
    let parsed = raw.parse().and_then(|billing| {
        let licences = l
            .people
            .iter()
            .map(|a| Ok((a.position, licence_number(values.get(&format!("licence_{}", a.position)), &format!("licence_{}", a.position))?)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((billing, licences))
    });
    let (billing, licences) = match parsed {
        Ok(p) => p,
        Err(e) => return Ok(crate::http::redirect::see_other(format!("{back}&notice=details_refused&field={}#documents", e.field))),
    };
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    db::invoices::set_details(&mut conn, l.booking.id, &billing, &licences).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    Ok(crate::http::redirect::see_other(format!("{back}&notice=details_saved#documents")))
}
