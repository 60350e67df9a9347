//! The audit log: who did what, and when.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{api_error_page, language, render, text, toronto};
use crate::admin::session::AdminSession;
use crate::db;
use crate::http::error::ApiError;
use crate::state::AppState;

#[tracing::instrument(name = "admin.pages.audit.audit", skip_all)]
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
