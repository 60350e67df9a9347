//! Organiser sessions. The cookie carries a random token; the database keeps only its SHA-256,
//! with an end (`ADMIN_SESSION_MAX_HOURS`) and an idle limit (`ADMIN_SESSION_IDLE_MINUTES`).
//!
//! `require` guards every back-office route but the login form: without a live session, pages
//! answer `303` to the login form and the JSON API `401`; nothing else runs. It also checks the
//! CSRF token of every JSON request that changes something (`X-CSRF-Token`); page forms check
//! theirs through `AdminForm`.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Duration, Utc};
use futures::future::{ready, LocalBoxFuture, Ready};
use rand::RngCore;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::db;
use crate::domain::url::percent_encode_keeping;
use crate::domain::AdminRole;
use crate::http::csrf;
use crate::http::error::ApiError;
use crate::state::AppState;

pub const COOKIE: &str = "admin_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The organiser behind a request (put in the request by `require`).
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub session_id: i64,
    pub user_id: i64,
    pub email: String,
    pub role: AdminRole,
    pub expires_at: DateTime<Utc>,
    pub ip: String,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// HTTPS as the browser sees it: the configured public address, or the proxy's
/// `X-Forwarded-Proto` / `Forwarded` header.
pub fn is_https(req: &HttpRequest, frontend_url: &str) -> bool {
    frontend_url.starts_with("https://") || req.connection_info().scheme() == "https"
}

/// The client's address for throttling: the peer (a proxy's address when behind one).
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".to_owned())
}

pub fn session_cookie(token: &str, secure: bool, max_age: Duration) -> Cookie<'static> {
    Cookie::build(COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(max_age.num_seconds()))
        .finish()
}

pub fn removal_cookie(secure: bool) -> Cookie<'static> {
    let mut c = session_cookie("", secure, Duration::zero());
    c.make_removal();
    c
}

/// Opens a session for a user who just logged in; the cookie to set.
pub async fn open(state: &AppState, req: &HttpRequest, user_id: i64) -> Result<Cookie<'static>, ApiError> {
    let token = new_token();
    let max = Duration::hours(state.settings.admin_session_max_hours.clamp(1, 24 * 30));
    let ua = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(300).collect::<String>());
    let mut conn = db::connection(&state.pool).await?;
    db::admin::create_session(&mut conn, &hash_token(&token), user_id, Utc::now() + max, &client_ip(req), ua.as_deref()).await?;
    Ok(session_cookie(&token, is_https(req, &state.settings.frontend_url), max))
}

/// The live session of the request's cookie, if any.
pub async fn lookup(state: &AppState, req: &HttpRequest) -> Result<Option<AdminSession>, ApiError> {
    let Some(cookie) = req.cookie(COOKIE) else { return Ok(None) };
    let token = cookie.value();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let now = Utc::now();
    let idle = Duration::minutes(state.settings.admin_session_idle_minutes.clamp(1, 24 * 60));
    let mut conn = db::connection(&state.pool).await?;
    let found = db::admin::live_session(&mut conn, &hash_token(token), now, now - idle).await?;
    Ok(found.map(|s| AdminSession {
        session_id: s.session_id,
        user_id: s.user_id,
        email: s.email,
        role: AdminRole::from_db(&s.role),
        expires_at: s.expires_at,
        ip: client_ip(req),
    }))
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn unauthenticated(path: &str) -> HttpResponse {
    if is_api(path) {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Log in to the back office first.").error_response()
    } else {
        let next = if path.starts_with("/admin") && !path.contains("//") { path } else { "/admin" };
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/admin/login?next={}", percent_encode_keeping(next, b"/"))))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()
    }
}

/// What door staff may reach: the check-in (pages and API), their session, logging out.
fn staff_may(path: &str) -> bool {
    const PREFIXES: [&str; 2] = ["/admin/check-in", "/api/v1/admin/check-in"];
    const EXACT: [&str; 4] = ["/admin/logout", "/api/v1/admin/logout", "/api/v1/admin/session", "/admin/session"];
    PREFIXES.iter().any(|p| path == *p || path.starts_with(&format!("{p}/"))) || EXACT.contains(&path)
}

/// A staff account's answer off the check-in: the back office's home sends it to the door's
/// page; anything else is refused, nothing runs.
fn staff_refusal(path: &str) -> Option<HttpResponse> {
    if staff_may(path) {
        return None;
    }
    if matches!(path, "/admin" | "/admin/") {
        return Some(HttpResponse::SeeOther().insert_header((header::LOCATION, "/admin/check-in")).finish());
    }
    let error = ApiError::new(StatusCode::FORBIDDEN, "owner_only", "This account checks people in at the door and can do nothing else.");
    if is_api(path) {
        return Some(error.error_response());
    }
    Some(HttpResponse::Forbidden().content_type("text/html; charset=utf-8").insert_header((header::CACHE_CONTROL, "no-store")).body(
        "<!doctype html><html lang=\"fr-CA\"><meta charset=\"utf-8\"><title>Accès réservé — Billetterie</title>\
             <main><h1>Accès réservé à l’organisateur</h1><p>Ce compte sert à l’accueil des participants, rien d’autre.</p>\
             <p lang=\"en\">This account checks people in at the door and can do nothing else.</p>\
             <p><a href=\"/admin/check-in\">Accueil des participants / Check-in</a></p></main></html>",
    ))
}

pub fn csrf_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf_refused",
        "The form or request is missing its security token, or it has expired; reload the page.",
    )
}

/// The guard in front of every back-office route (see the module comment).
pub async fn require(req: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Result<ServiceResponse<EitherBody<BoxBody>>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.into_response(ApiError::internal().error_response()).map_into_left_body());
    };
    let path = req.path().to_owned();
    let session = match lookup(&state, req.request()).await {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(req.into_response(unauthenticated(&path)).map_into_left_body()),
        Err(e) => return Ok(req.into_response(e.error_response()).map_into_left_body()),
    };
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && is_api(&path) {
        let token = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        if csrf::verify(req.request(), state.settings.secret_key.expose(), &token).is_err() {
            return Ok(req.into_response(csrf_refused().error_response()).map_into_left_body());
        }
    }
    if session.role == AdminRole::Staff {
        if let Some(refused) = staff_refusal(&path) {
            return Ok(req.into_response(refused).map_into_left_body());
        }
    }
    req.extensions_mut().insert(session);
    let res = next.call(req).await?;
    Ok(res.map_body(|_, b| b.boxed()).map_into_right_body())
}

impl FromRequest for AdminSession {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Only reachable behind `require`; without it, refuse rather than act anonymously.
        ready(
            req.extensions()
                .get::<AdminSession>()
                .cloned()
                .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Log in to the back office first.")),
        )
    }
}

/// A page form (`application/x-www-form-urlencoded`) whose `csrf_token` field must match the
/// browser's CSRF cookie; refused with `403` otherwise, before the handler runs.
pub struct AdminForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for AdminForm<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let bytes = body.await?;
            let secret = req.app_data::<web::Data<AppState>>().map(|s| s.settings.secret_key.expose().to_owned()).unwrap_or_default();
            // The token first: a forged form learns nothing, not even which field is wrong.
            let token = form_urlencoded_field(&bytes, csrf::FIELD).unwrap_or_default();
            if secret.is_empty() || csrf::verify(&req, &secret, &token).is_err() {
                return Err(csrf_refused().into());
            }
            // `T` ignores the token field (serde skips unknown fields unless told otherwise).
            let parsed: T = serde_urlencoded::from_bytes(&bytes)
                .map_err(|e| ApiError::unprocessable("invalid_form", "form", format!("The form is not valid: {e}.")))?;
            Ok(AdminForm(parsed))
        })
    }
}

fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).ok()?.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        let h = hash_token(&a);
        assert_eq!(h.len(), 64);
        assert_ne!(h, a);
        assert_eq!(h, hash_token(&a));
    }

    #[test]
    fn the_cookie_is_strict_http_only_and_secure_when_asked() {
        let c = session_cookie("abc", true, Duration::hours(2));
        assert_eq!((c.http_only(), c.secure(), c.same_site()), (Some(true), Some(true), Some(SameSite::Strict)));
        assert_eq!(c.max_age(), Some(CookieDuration::hours(2)));
        assert_eq!(session_cookie("abc", false, Duration::hours(2)).secure(), Some(false));
    }

    #[test]
    fn staff_reach_the_check_in_and_nothing_else() {
        for ok in ["/admin/check-in", "/admin/check-in/3", "/api/v1/admin/check-in", "/api/v1/admin/check-in/3/search", "/admin/logout"] {
            assert!(staff_refusal(ok).is_none(), "{ok}");
        }
        assert_eq!(staff_refusal("/admin").unwrap().status(), StatusCode::SEE_OTHER);
        for no in ["/admin/bookings", "/admin/check-inx", "/api/v1/admin/bookings/ABC/refund", "/admin/catalogue/cities"] {
            assert_eq!(staff_refusal(no).unwrap().status(), StatusCode::FORBIDDEN, "{no}");
        }
    }

    #[test]
    fn pages_redirect_to_the_login_and_the_api_answers_401() {
        let page = unauthenticated("/admin/bookings");
        assert_eq!(page.status(), StatusCode::SEE_OTHER);
        assert_eq!(page.headers().get(header::LOCATION).unwrap(), "/admin/login?next=/admin/bookings");
        assert_eq!(unauthenticated("/api/v1/admin/dashboard").status(), StatusCode::UNAUTHORIZED);
    }
}
