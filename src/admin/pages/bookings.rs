//! Bookings: the search, one booking, and what the organiser can do to it (resend the
//! confirmation, edit attendees, cancel, refund, move).

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{after, api_error_page, label, language, local_start, money, render, see_other, text, text_with, toronto, Empty};
use crate::admin::bookings::{self as svc, AttendeeEdit, SearchQuery};
use crate::admin::city_events as events;
use crate::admin::session::{AdminForm, AdminSession};
use crate::domain::url::percent_encode;
use crate::domain::{BookingStatus, Language, PaymentStatus, Phone};
use crate::http::error::ApiError;
use crate::state::AppState;

async fn event_labels(state: &AppState, lang: Language) -> Result<Vec<(i64, String, String)>, ApiError> {
    Ok(events::list(state)
        .await?
        .into_iter()
        .map(|e| (e.id, format!("{}, {}", e.city_in(lang), local_start(lang, &e.local_start)), e.status.to_string()))
        .collect())
}

/// A booking's status in the organiser's language (`admin.booking.statuses`).
fn status_label(lang: Language, status: BookingStatus) -> String {
    text(lang, &format!("booking.statuses.{}", status.as_str()))
}

#[derive(Debug, Default, Deserialize)]
pub struct BookingsQuery {
    q: Option<String>,
    city_event_id: Option<String>,
    status: Option<String>,
    page: Option<i64>,
}

#[tracing::instrument(name = "admin.pages.bookings.bookings", skip_all)]
pub async fn bookings(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, q: web::Query<BookingsQuery>) -> HttpResponse {
    let lang = language(&req);
    let q = q.into_inner();
    let city_event_id = q.city_event_id.as_deref().and_then(|s| s.parse::<i64>().ok());
    let page = q.page.unwrap_or(1).max(1);
    let search = SearchQuery { q: q.q.clone(), city_event_id, status: q.status.clone().filter(|s| !s.is_empty()), page: Some(page) };
    let (rows, labels) = match (svc::search(&state, &search).await, event_labels(&state, lang).await) {
        (Ok(r), Ok(l)) => (r, l),
        (Err(e), _) | (_, Err(e)) => return api_error_page(&req, &state, &who, e),
    };
    let label_of = |id: i64| labels.iter().find(|l| l.0 == id).map(|l| l.1.clone()).unwrap_or_default();
    let link = |p: i64| {
        format!(
            "/admin/bookings?q={}&city_event_id={}&status={}&page={p}",
            percent_encode(q.q.as_deref().unwrap_or("")),
            city_event_id.map(|i| i.to_string()).unwrap_or_default(),
            percent_encode(q.status.as_deref().unwrap_or(""))
        )
    };
    let body = json!({
        "q": q.q.clone().unwrap_or_default(),
        "events": labels.iter().map(|l| json!({"id": l.0, "label": l.1, "selected": Some(l.0) == city_event_id})).collect::<Vec<_>>(),
        "statuses": BookingStatus::ALL.iter().map(|s| json!({
            "value": s.as_str(), "label": status_label(lang, *s), "selected": q.status.as_deref() == Some(s.as_str()),
        })).collect::<Vec<_>>(),
        "rows": rows.iter().map(|b| json!({
            "reference": b.reference, "status": status_label(lang, b.status), "event": label_of(b.city_event_id),
            "buyer": format!("{} {}", b.buyer_first_name, b.buyer_last_name), "email": b.buyer_email,
            "quantity": b.quantity, "total": money(b.total_cents, lang), "created": toronto(Some(b.created_at)),
        })).collect::<Vec<_>>(),
        "previous": (page > 1).then(|| link(page - 1)),
        "next": (rows.len() as i64 == svc::PAGE_SIZE).then(|| link(page + 1)),
    });
    render(&req, &state, Some(&who), "bookings", "bookings", &text(lang, "bookings.title"), body)
}

#[tracing::instrument(name = "admin.pages.bookings.booking", skip_all)]
pub async fn booking(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<String>) -> HttpResponse {
    let lang = language(&req);
    let (d, labels) = match (svc::detail(&state, &path).await, event_labels(&state, lang).await) {
        (Ok(d), Ok(l)) => (d, l),
        (Err(e), _) | (_, Err(e)) => return api_error_page(&req, &state, &who, e),
    };
    let b = &d.booking;
    let held = b.status == BookingStatus::Held;
    let confirmed = b.status == BookingStatus::Confirmed;
    let refundable =
        confirmed && d.payments.iter().any(|p| p.status == PaymentStatus::Succeeded && p.amount_refunded_cents < p.amount_cents);
    let body = json!({
        "b": b,
        "status_label": status_label(lang, b.status),
        "phone": Phone::display(&b.buyer_phone),
        "language_label": label(lang, "languages", &b.language),
        "experience_label": label(lang, "experience", &b.act_experience),
        "event": labels.iter().find(|l| l.0 == b.city_event_id).map(|l| l.1.clone()).unwrap_or_default(),
        "total": money(b.total_cents, lang),
        "hold_expires": if held { toronto(Some(b.hold_expires_at)) } else { String::new() },
        "confirmed_at": toronto(b.confirmed_at),
        "moved_to": d.moved_to_reference,
        "moved_from": d.moved_from_reference,
        "editable": held || confirmed,
        "can_resend": confirmed,
        "has_invoice": crate::email::paperwork::has_documents(b.status, b.confirmed_at),
        "can_cancel": held,
        "can_refund": refundable,
        "can_move": (held || confirmed) && !b.buyer_phone.is_empty(),
        "targets": labels.iter().filter(|l| l.0 != b.city_event_id && l.2 == "on_sale").map(|l| json!({"id": l.0, "label": l.1})).collect::<Vec<_>>(),
        "payments": d.payments.iter().map(|p| json!({
            "payment_intent_id": p.payment_intent_id, "status": label(lang, "payment_statuses", p.status.as_str()), "amount": money(p.amount_cents, lang),
            "refunded": money(p.amount_refunded_cents, lang), "flag": p.flagged_reason.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "emails": d.emails.iter().map(|e| json!({
            "kind": label(lang, "email_kinds", &e.kind), "recipient_email": e.recipient_email,
            "status": label(lang, "email_statuses", &e.status.to_string()), "sent": toronto(e.sent_at),
            "opened": toronto(e.opened_at), "clicked": toronto(e.clicked_at), "error": e.last_error.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "history": history(lang, &d),
    });
    let title = text_with(lang, "booking.title", &[("reference", b.reference.as_str())]);
    render(&req, &state, Some(&who), "booking", "bookings", &title, body)
}

/// Everything that happened to the booking, oldest first: what the buyer and the system did
/// (booked, paid, mails sent, opened, clicked) and what the organiser did (the audit log).
fn history(lang: Language, d: &svc::BookingDetail) -> Vec<serde_json::Value> {
    let b = &d.booking;
    let (buyer, system) = (text(lang, "labels.timeline.buyer"), text(lang, "labels.timeline.system"));
    let timeline = |key: &str, vars: &[(&str, &str)]| text_with(lang, &format!("labels.timeline.{key}"), &vars);
    let mut lines: Vec<(chrono::DateTime<chrono::Utc>, String, String)> = vec![];
    let seats = i18n_plural(lang, "admin.labels.timeline.created", b.quantity.into(), &[("quantity", &b.quantity.to_string())]);
    lines.push((b.created_at, buyer.clone(), seats));
    if let Some(at) = b.confirmed_at {
        lines.push((at, system.clone(), timeline("paid", &[])));
    }
    for e in &d.emails {
        let kind = label(lang, "email_kinds", &e.kind);
        if let Some(at) = e.sent_at {
            lines.push((at, system.clone(), timeline("mail_sent", &[("kind", &kind), ("to", &e.recipient_email)])));
        }
        if let Some(at) = e.opened_at {
            lines.push((at, e.recipient_email.clone(), timeline("mail_opened", &[("kind", &kind)])));
        }
        if let Some(at) = e.clicked_at {
            lines.push((at, e.recipient_email.clone(), timeline("mail_clicked", &[("kind", &kind)])));
        }
    }
    for h in &d.history {
        lines.push((h.at, h.actor_email.clone(), label(lang, "actions", &h.action)));
    }
    lines.sort_by_key(|l| l.0);
    lines.into_iter().map(|(at, who, what)| json!({"at": toronto(Some(at)), "actor_email": who, "action": what})).collect()
}

fn i18n_plural(lang: Language, path: &str, n: i64, vars: &[(&str, &str)]) -> String {
    crate::i18n::locale(lang).and_then(|l| l.plural(path, n, &vars)).unwrap_or_else(|_| path.to_owned())
}

fn booking_url(reference: &str) -> String {
    format!("/admin/bookings/{}", percent_encode(reference))
}

#[tracing::instrument(name = "admin.pages.bookings.resend", skip_all)]
pub async fn resend(state: web::Data<AppState>, who: AdminSession, path: web::Path<String>, _f: AdminForm<Empty>) -> HttpResponse {
    after(&booking_url(&path), svc::resend_confirmation(&state, &who, &path).await.map(|_| ()), "done")
}

#[tracing::instrument(name = "admin.pages.bookings.cancel", skip_all)]
pub async fn cancel(state: web::Data<AppState>, who: AdminSession, path: web::Path<String>, _f: AdminForm<Empty>) -> HttpResponse {
    after(&booking_url(&path), svc::cancel(&state, &who, &path).await.map(|_| ()), "done")
}

/// `first_name_<seat>`, `last_name_<seat>`, `email_<seat>` for every seat.
#[tracing::instrument(name = "admin.pages.bookings.attendees", skip_all)]
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
    /// In dollars, as the organiser reads the amounts ("10", "10,50", "10.50 $").
    #[serde(default)]
    amount: String,
}

#[tracing::instrument(name = "admin.pages.bookings.refund", skip_all)]
pub async fn refund(state: web::Data<AppState>, who: AdminSession, path: web::Path<String>, f: AdminForm<RefundForm>) -> HttpResponse {
    let amount = match f.0.amount.trim() {
        "" => Ok(None),
        s => crate::domain::Cents::parse_dollars(s)
            .map(|c| Some(c.0))
            .ok_or_else(|| ApiError::unprocessable("invalid_amount", "amount", "Give an amount in dollars, such as 25,00.")),
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

#[tracing::instrument(name = "admin.pages.bookings.move_booking", skip_all)]
pub async fn move_booking(state: web::Data<AppState>, who: AdminSession, path: web::Path<String>, f: AdminForm<MoveForm>) -> HttpResponse {
    match svc::move_booking(&state, &who, &path, f.0.city_event_id).await {
        Ok(d) => see_other(format!("{}?notice=done", booking_url(&d.booking.reference))),
        Err(e) => after(&booking_url(&path), Err(e), "done"),
    }
}

/// The booking's invoice as the buyer gets it (in the buyer's language), numbered now if no mail
/// or page asked for it yet; 404 for a booking never paid.
#[tracing::instrument(name = "admin.pages.bookings.invoice", skip_all)]
pub async fn invoice(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<String>) -> HttpResponse {
    use crate::email::paperwork;
    let result: Result<Option<(String, Vec<u8>)>, ApiError> = async {
        let mut conn = crate::db::connection(&state.pool).await?;
        let (b, people) = crate::db::bookings::by_reference(&mut conn, &path)
            .await?
            .ok_or_else(|| ApiError::not_found("booking_not_found", "No booking has this reference."))?;
        let details = crate::db::catalogue::city_event(&mut conn, b.city_event_id)
            .await?
            .ok_or_else(|| ApiError::not_found("city_event_not_found", "No date has this id."))?;
        let settings = crate::email::dispatch::EmailSettings::from(state.settings.as_ref());
        let lang = Language::from_db(&b.language);
        let ctx = paperwork::context(&mut conn, &settings, lang, &b, &people, &details).await?;
        paperwork::invoice_pdf(&mut conn, &ctx, &b, &people).await.map_err(|e| match e {
            paperwork::PaperworkError::Db(e) => e.into(),
            e => ApiError::internal().caused_by(e),
        })
    }
    .await;
    match result {
        Ok(Some((file, bytes))) => HttpResponse::Ok()
            .content_type(paperwork::PDF)
            .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
            .insert_header((actix_web::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")))
            .body(bytes),
        Ok(None) => api_error_page(&req, &state, &who, ApiError::not_found("not_paid", "This booking was never paid: it has no invoice.")),
        Err(e) => api_error_page(&req, &state, &who, e),
    }
}
