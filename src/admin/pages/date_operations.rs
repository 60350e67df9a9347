//! The date page's two operations: a message to everyone booked (previewed in both languages
//! before it is sent) and the date's cancellation (asked to confirm; run again to resume).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{api_error_page, language, render_status, see_other, text};
use crate::admin::date_operations::{self as ops, BroadcastInput, CancelDateInput};
use crate::admin::session::{AdminForm, AdminSession};
use crate::db;
use crate::domain::url::percent_encode;
use crate::http::error::ApiError;
use crate::state::AppState;

type Form = AdminForm<HashMap<String, String>>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/city-events/{id}/broadcast", web::post().to(broadcast)).route("/city-events/{id}/cancel", web::post().to(cancel));
}

fn field(f: &HashMap<String, String>, name: &str) -> String {
    f.get(name).cloned().unwrap_or_default()
}

/// Back to the date's page with the refusal in the page's language, naming the field.
fn refused(id: i64, lang: crate::domain::Language, e: ApiError, anchor: &str) -> HttpResponse {
    e.log();
    let why = text(lang, &format!("facts.errors.{}", e.detail.code));
    let why = if why.starts_with("facts.errors.") { text(lang, "facts.errors.invalid") } else { why };
    let message = match e.detail.field.as_deref() {
        Some(f) => format!("{}{} {why}", text(lang, &format!("date_ops.fields.{f}")), text(lang, "facts.colon")),
        None => why,
    };
    see_other(format!("/admin/city-events/{id}?error={}&message={}#{anchor}", percent_encode(e.detail.code), percent_encode(&message)))
}

#[tracing::instrument(name = "admin.pages.date_operations.broadcast", skip_all)]
pub async fn broadcast(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>, f: Form) -> HttpResponse {
    let (id, f, lang) = (*path, f.0, language(&req));
    let input = BroadcastInput {
        subject_fr: field(&f, "subject_fr"),
        subject_en: field(&f, "subject_en"),
        body_fr: field(&f, "body_fr"),
        body_en: field(&f, "body_en"),
    };
    if field(&f, "action") == "send" {
        return match ops::send_broadcast(&state, &who, id, &input).await {
            Ok(_) => see_other(format!("/admin/city-events/{id}?notice=broadcast_sent#broadcast")),
            Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => refused(id, lang, e, "broadcast"),
            Err(e) => api_error_page(&req, &state, &who, e),
        };
    }
    match ops::preview_broadcast(&state, id, &input).await {
        Ok(p) => {
            let body = json!({"id": id, "input": input, "preview": p});
            render_status(
                &req,
                &state,
                Some(&who),
                StatusCode::OK,
                "broadcast_preview",
                "city_events",
                &text(lang, "date_ops.preview_title"),
                body,
            )
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => refused(id, lang, e, "broadcast"),
        Err(e) => api_error_page(&req, &state, &who, e),
    }
}

#[tracing::instrument(name = "admin.pages.date_operations.cancel", skip_all)]
pub async fn cancel(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>, f: Form) -> HttpResponse {
    let (id, f, lang) = (*path, f.0, language(&req));
    if field(&f, "confirm").is_empty() {
        return refused(id, lang, ApiError::unprocessable("required", "confirm", "Confirm the cancellation."), "cancel");
    }
    // Resuming keeps the reasons the cancellation started with.
    let stored = match db::connection(&state.pool).await {
        Ok(mut conn) => db::admin::cancellation(&mut conn, id).await.ok().flatten(),
        Err(_) => None,
    };
    let input = match stored {
        Some(c) => CancelDateInput { reason_fr: c.reason_fr, reason_en: c.reason_en },
        None => CancelDateInput { reason_fr: field(&f, "reason_fr"), reason_en: field(&f, "reason_en") },
    };
    match ops::cancel_date(&state, &who, id, &input).await {
        Ok(_) => see_other(format!("/admin/city-events/{id}?notice=date_cancelled#cancel")),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => refused(id, lang, e, "cancel"),
        Err(e) => api_error_page(&req, &state, &who, e),
    }
}
