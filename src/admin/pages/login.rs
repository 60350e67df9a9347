//! Logging in and out.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{language, render, render_status, see_other, text, Empty};
use crate::admin::api::{end_session, invalid_credentials, refused, removal};
use crate::admin::auth::{self, LoginOutcome};
use crate::admin::session::{self, AdminForm, AdminSession};
use crate::http::error::ApiError;
use crate::state::AppState;

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

#[tracing::instrument(name = "admin.pages.login.login_form", skip_all)]
pub async fn login_form(req: HttpRequest, state: web::Data<AppState>, q: web::Query<NextQuery>) -> HttpResponse {
    let lang = language(&req);
    if let Ok(Some(who)) = session::lookup(&state, &req).await {
        let _ = who;
        return see_other(safe_next(q.next.as_deref()));
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

#[tracing::instrument(name = "admin.pages.login.login_submit", skip_all)]
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

#[tracing::instrument(name = "admin.pages.login.logout", skip_all)]
pub async fn logout(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, _form: AdminForm<Empty>) -> HttpResponse {
    let _ = end_session(&state, &who).await;
    let mut res = see_other("/admin/login");
    let _ = res.add_cookie(&removal(&state, &req));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_only_returns_to_back_office_pages() {
        assert_eq!(safe_next(Some("/admin/bookings?q=x")), "/admin/bookings?q=x");
        assert_eq!(safe_next(Some("//evil.example/admin")), "/admin");
        assert_eq!(safe_next(Some("https://evil.example")), "/admin");
        assert_eq!(safe_next(None), "/admin");
    }
}
