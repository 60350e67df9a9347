//! The back office's JSON API, under `/api/v1/admin` (cookie session; `X-CSRF-Token` on every
//! change), and the public waiting-list endpoints under `/api/v1/waiting-list`.

use actix_web::cookie::Cookie;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use super::auth::{self, Gate, LoginOutcome};
use super::bookings::{self as svc, AttendeeEdit, MoveRequest, RefundRequest, SearchQuery};
use super::city_events::{self as events, CityEventInput};
use super::exports::{self, AttendeeSheet};
use super::session::{self, AdminSession};
use super::{audit, dashboard, waiting_list};
use crate::db;
use crate::http::csrf::Csrf;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::services::waiting_list as public_list;
use crate::state::AppState;

fn ok<T: Serialize>(body: T) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "organisatrice@example.ca")]
    pub email: String,
    pub password: String,
}

/// The signed-in organiser, and the token to send as `X-CSRF-Token` with every change.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub email: String,
    pub expires_at: DateTime<Utc>,
    pub csrf_token: String,
}

pub fn refused(gate: Gate) -> ApiError {
    let (code, until) = match gate {
        Gate::Locked { until } => ("account_locked", until),
        Gate::Throttled { until } => ("too_many_attempts", until),
        Gate::Open => ("too_many_attempts", Utc::now()),
    };
    let secs = (until - Utc::now()).num_seconds().max(1);
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, "Too many failed logins; try again later.")
        .retry_after(secs.min(u32::MAX as i64) as u32)
}

pub fn invalid_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "Wrong e-mail address or password.")
}

/// Logs in: sets the `admin_session` cookie (HttpOnly, SameSite=Strict, Secure behind HTTPS).
#[utoipa::path(post, path = "/api/v1/admin/login", tag = "back office", request_body = LoginRequest,
    responses((status = 200, body = SessionView), (status = 401, description = "invalid_credentials", body = ErrorBody),
        (status = 429, description = "account_locked / too_many_attempts; see Retry-After", body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.login", skip_all)]
pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: ApiJson<LoginRequest>) -> ApiResult<HttpResponse> {
    match auth::login(&state.pool, &body.0.email, &body.0.password, &session::client_ip(&req)).await? {
        LoginOutcome::Success { user_id, email } => {
            let cookie = session::open(&state, &req, user_id).await?;
            let csrf = Csrf::from_request(&req, state.settings.secret_key.expose());
            let expires_at = Utc::now() + chrono::Duration::hours(state.settings.admin_session_max_hours);
            let mut res = ok(SessionView { email, expires_at, csrf_token: csrf.token().to_owned() });
            res.add_cookie(&cookie).map_err(|_| ApiError::internal())?;
            csrf.set_cookie(&mut res);
            Ok(res)
        }
        LoginOutcome::Invalid => Err(invalid_credentials()),
        LoginOutcome::Refused(gate) => Err(refused(gate)),
    }
}

#[utoipa::path(get, path = "/api/v1/admin/session", tag = "back office", security(("admin_session" = [])),
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.current", skip_all)]
pub async fn current(state: web::Data<AppState>, req: HttpRequest, who: AdminSession) -> HttpResponse {
    let csrf = Csrf::from_request(&req, state.settings.secret_key.expose());
    let mut res = ok(SessionView { email: who.email, expires_at: who.expires_at, csrf_token: csrf.token().to_owned() });
    csrf.set_cookie(&mut res);
    res
}

/// Ends the session (the row is deleted; the cookie is cleared).
#[utoipa::path(post, path = "/api/v1/admin/logout", tag = "back office", security(("admin_session" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, description = "csrf_refused", body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.logout", skip_all)]
pub async fn logout(state: web::Data<AppState>, req: HttpRequest, who: AdminSession) -> ApiResult<HttpResponse> {
    end_session(&state, &who).await?;
    let mut res = HttpResponse::NoContent().finish();
    res.add_cookie(&removal(&state, &req)).map_err(|_| ApiError::internal())?;
    Ok(res)
}

pub async fn end_session(state: &AppState, who: &AdminSession) -> ApiResult<()> {
    let mut conn = db::connection(&state.pool).await?;
    db::admin::end_session(&mut conn, who.session_id).await?;
    audit::record(&mut conn, who, "session.logout", "admin_user", &who.user_id.to_string(), None, None).await?;
    Ok(())
}

pub fn removal(state: &AppState, req: &HttpRequest) -> Cookie<'static> {
    session::removal_cookie(session::is_https(req, &state.settings.frontend_url))
}

#[utoipa::path(get, path = "/api/v1/admin/dashboard", tag = "back office", security(("admin_session" = [])),
    responses((status = 200, body = dashboard::Dashboard), (status = 401, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.get_dashboard", skip_all)]
pub async fn get_dashboard(state: web::Data<AppState>, _who: AdminSession) -> ApiResult<HttpResponse> {
    Ok(ok(dashboard::build(&state).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/bookings", tag = "back office", security(("admin_session" = [])), params(SearchQuery),
    responses((status = 200, body = [svc::AdminBooking]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.search_bookings", skip_all)]
pub async fn search_bookings(state: web::Data<AppState>, _who: AdminSession, q: web::Query<SearchQuery>) -> ApiResult<HttpResponse> {
    Ok(ok(svc::search(&state, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/bookings/{reference}", tag = "back office", security(("admin_session" = [])),
    params(("reference" = String, Path)), responses((status = 200, body = svc::BookingDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.get_booking", skip_all)]
pub async fn get_booking(state: web::Data<AppState>, _who: AdminSession, path: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(ok(svc::detail(&state, &path).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/bookings/{reference}/resend-confirmation", tag = "back office", security(("admin_session" = [])),
    params(("reference" = String, Path)), responses((status = 200, body = svc::AdminBooking), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.resend", skip_all)]
pub async fn resend(state: web::Data<AppState>, who: AdminSession, path: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(ok(svc::resend_confirmation(&state, &who, &path).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendeesRequest {
    pub attendees: Vec<AttendeeEdit>,
}

#[utoipa::path(put, path = "/api/v1/admin/bookings/{reference}/attendees", tag = "back office", security(("admin_session" = [])),
    params(("reference" = String, Path)), request_body = AttendeesRequest,
    responses((status = 200, body = svc::AdminBooking), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.edit_attendees", skip_all)]
pub async fn edit_attendees(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<String>,
    body: ApiJson<AttendeesRequest>,
) -> ApiResult<HttpResponse> {
    Ok(ok(svc::edit_attendees(&state, &who, &path, &body.0.attendees).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/bookings/{reference}/cancel", tag = "back office", security(("admin_session" = [])),
    params(("reference" = String, Path)), responses((status = 200, body = svc::AdminBooking), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.cancel", skip_all)]
pub async fn cancel(state: web::Data<AppState>, who: AdminSession, path: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(ok(svc::cancel(&state, &who, &path).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/bookings/{reference}/refund", tag = "back office", security(("admin_session" = [])),
    params(("reference" = String, Path)), request_body = RefundRequest,
    responses((status = 200, body = svc::RefundDone), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.refund", skip_all)]
pub async fn refund(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<String>,
    body: ApiJson<RefundRequest>,
) -> ApiResult<HttpResponse> {
    Ok(ok(svc::refund(&state, &who, &path, body.0.amount_cents).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/bookings/{reference}/move", tag = "back office", security(("admin_session" = [])),
    params(("reference" = String, Path)), request_body = MoveRequest,
    responses((status = 200, description = "The new booking", body = svc::BookingDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "sold_out / not_enough_seats in the target, sales_closed, not_movable", body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.move_booking", skip_all)]
pub async fn move_booking(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<String>,
    body: ApiJson<MoveRequest>,
) -> ApiResult<HttpResponse> {
    Ok(ok(svc::move_booking(&state, &who, &path, body.0.city_event_id).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/city-events", tag = "back office", security(("admin_session" = [])),
    responses((status = 200, body = [events::AdminCityEvent]), (status = 401, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.list_city_events", skip_all)]
pub async fn list_city_events(state: web::Data<AppState>, _who: AdminSession) -> ApiResult<HttpResponse> {
    Ok(ok(events::list(&state).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/city-events", tag = "back office", security(("admin_session" = [])), request_body = CityEventInput,
    responses((status = 201, body = events::AdminCityEvent), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.create_city_event", skip_all)]
pub async fn create_city_event(state: web::Data<AppState>, who: AdminSession, body: ApiJson<CityEventInput>) -> ApiResult<HttpResponse> {
    let created = events::create(&state, &who, &body.0).await?;
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(created))
}

#[utoipa::path(get, path = "/api/v1/admin/city-events/{id}", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = events::AdminCityEvent), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.get_city_event", skip_all)]
pub async fn get_city_event(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(ok(events::get(&state, *path).await?))
}

#[utoipa::path(put, path = "/api/v1/admin/city-events/{id}", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)), request_body = CityEventInput,
    responses((status = 200, body = events::AdminCityEvent), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "capacity_below_taken", body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.update_city_event", skip_all)]
pub async fn update_city_event(
    state: web::Data<AppState>,
    who: AdminSession,
    path: web::Path<i64>,
    body: ApiJson<CityEventInput>,
) -> ApiResult<HttpResponse> {
    Ok(ok(events::update(&state, &who, *path, &body.0).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/city-events/{id}/open-sales", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = events::AdminCityEvent), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.open_sales", skip_all)]
pub async fn open_sales(state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(ok(events::set_sales(&state, &who, *path, true).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/city-events/{id}/close-sales", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = events::AdminCityEvent), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.close_sales", skip_all)]
pub async fn close_sales(state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(ok(events::set_sales(&state, &who, *path, false).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/city-events/{id}/waiting-list", tag = "back office", security(("admin_session" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = [crate::db::waitlist::WaitlistLine]), (status = 401, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.waiting", skip_all)]
pub async fn waiting(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(ok(waiting_list::lines(&state, *path).await?))
}

#[utoipa::path(delete, path = "/api/v1/admin/city-events/{id}/waiting-list/{entry_id}", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path), ("entry_id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.remove_waiting", skip_all)]
pub async fn remove_waiting(state: web::Data<AppState>, who: AdminSession, path: web::Path<(i64, i64)>) -> ApiResult<HttpResponse> {
    let (id, entry) = path.into_inner();
    waiting_list::remove(&state, &who, id, entry).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetQuery {
    /// `badges` or `checkin` (default).
    pub sheet: Option<AttendeeSheet>,
}

/// The attendees of the seats sold, as CSV (UTF-8 with BOM), streamed.
#[utoipa::path(get, path = "/api/v1/admin/city-events/{id}/attendees.csv", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path), SheetQuery), responses((status = 200, content_type = "text/csv"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.attendees_csv", skip_all)]
pub async fn attendees_csv(
    state: web::Data<AppState>,
    _who: AdminSession,
    path: web::Path<i64>,
    q: web::Query<SheetQuery>,
) -> ApiResult<HttpResponse> {
    exports::attendees(&state, *path, q.sheet.unwrap_or(AttendeeSheet::Checkin)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountingQuery {
    /// One city event; all of them when left out.
    pub city_event_id: Option<i64>,
}

/// Paid bookings with their tax lines, for accounting, as CSV (UTF-8 with BOM), streamed.
#[utoipa::path(get, path = "/api/v1/admin/exports/bookings.csv", tag = "back office", security(("admin_session" = [])),
    params(AccountingQuery), responses((status = 200, content_type = "text/csv"), (status = 401, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.accounting_csv", skip_all)]
pub async fn accounting_csv(state: web::Data<AppState>, _who: AdminSession, q: web::Query<AccountingQuery>) -> ApiResult<HttpResponse> {
    exports::accounting(&state, q.city_event_id).await
}

#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "back office", security(("admin_session" = [])),
    responses((status = 200, body = [svc::AuditView]), (status = 401, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.audit_log", skip_all)]
pub async fn audit_log(state: web::Data<AppState>, _who: AdminSession) -> ApiResult<HttpResponse> {
    let mut conn = db::connection(&state.pool).await?;
    let rows: Vec<svc::AuditView> = db::admin::audit_entries(&mut conn, None, 500).await?.into_iter().map(Into::into).collect();
    Ok(ok(rows))
}

/// Unknown back-office API routes (reached only with a session).
#[tracing::instrument(name = "admin.api.not_found", skip_all)]
pub async fn not_found(req: HttpRequest) -> ApiResult<HttpResponse> {
    Err(ApiError::not_found("route_not_found", format!("No API route for {} {}.", req.method(), req.path())))
}

// -- public waiting list ------------------------------------------------------------------------

/// Joins a sold-out city event's waiting list. When a seat comes back it is held for the first
/// person waiting and they get an e-mail with a link to claim it before a deadline.
#[utoipa::path(post, path = "/api/v1/waiting-list", tag = "waiting list", request_body = public_list::JoinRequest,
    responses((status = 201, body = public_list::Joined), (status = 404, body = ErrorBody),
        (status = 409, description = "seats_available (book instead), already_on_waiting_list, sales_closed", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.join_waiting_list", skip_all)]
pub async fn join_waiting_list(state: web::Data<AppState>, body: ApiJson<public_list::JoinRequest>) -> ApiResult<HttpResponse> {
    let joined = public_list::join(&state, &body.0).await?;
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(joined))
}

#[utoipa::path(get, path = "/api/v1/waiting-list/offers/{token}", tag = "waiting list", params(("token" = String, Path)),
    responses((status = 200, body = public_list::OfferView), (status = 404, description = "offer_not_found: invalid or expired", body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.get_offer", skip_all)]
pub async fn get_offer(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(ok(public_list::offer(&state, &path).await?))
}

/// Claims an offer: the held booking gets its phone number and ACT experience and can be paid
/// (`/payments/create-intent` with the reference and e-mail address) until the deadline.
#[utoipa::path(post, path = "/api/v1/waiting-list/offers/{token}/claim", tag = "waiting list", params(("token" = String, Path)),
    request_body = public_list::ClaimRequest,
    responses((status = 200, body = public_list::OfferView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.claim_offer", skip_all)]
pub async fn claim_offer(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<public_list::ClaimRequest>,
) -> ApiResult<HttpResponse> {
    Ok(ok(public_list::claim(&state, &path, &body.0).await?))
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                session::COOKIE,
                "The organiser's session, set by POST /api/v1/admin/login. Changes also need the X-CSRF-Token header (from the login answer or GET /api/v1/admin/session).",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(
        login, current, logout, get_dashboard, search_bookings, get_booking, resend, edit_attendees, cancel, refund, move_booking,
        list_city_events, create_city_event, get_city_event, update_city_event, open_sales, close_sales, waiting, remove_waiting,
        attendees_csv, accounting_csv, audit_log, join_waiting_list, get_offer, claim_offer,
    ),
    components(schemas(
        LoginRequest, SessionView, AttendeesRequest, AttendeeEdit, RefundRequest, MoveRequest, CityEventInput, AttendeeSheet,
        svc::AdminBooking, svc::AdminAttendee, svc::AdminPayment, svc::AdminEmail, svc::BookingDetail, svc::RefundDone, svc::AuditView,
        events::AdminCityEvent, dashboard::Dashboard, dashboard::EventLine, dashboard::Revenue, dashboard::Funnel, dashboard::SalesDay,
        crate::db::admin::EmailFigures, crate::db::waitlist::WaitlistLine,
        public_list::JoinRequest, public_list::Joined, public_list::OfferView, public_list::ClaimRequest,
    )),
    modifiers(&SecuritySchemes),
    tags((name = "back office", description = "The organiser's API: needs the admin_session cookie"), (name = "waiting list"))
)]
pub struct AdminApiDoc;
