//! The waiting list's public pages: the form a sold-out city page posts (`/{lang}/waiting-list`),
//! and the claim page the offer e-mail links to (`/{lang}/waiting-list/claim?token=`), which leads
//! to the site's checkout. Laid out by the website's `page` module.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::page::{Meta, PageCtx, PageError};
use super::{i18n, paths};
use crate::domain::tokens::booking_key;
use crate::domain::{ActExperience, Language};
use crate::http::csrf;
use crate::services::waiting_list::{self, ClaimRequest, JoinRequest};
use crate::state::AppState;

fn verify(ctx: &PageCtx<'_>, body: &[u8]) -> Result<Vec<(String, String)>, PageError> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let token = fields.iter().find(|(k, _)| k == csrf::FIELD).map(|(_, v)| v.as_str()).unwrap_or("");
    if csrf::verify(ctx.req, ctx.state.settings.secret_key.expose(), token).is_err() {
        return Err(PageError { lang: ctx.lang, status: StatusCode::FORBIDDEN, retry_after: None });
    }
    Ok(fields)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn message(ctx: &PageCtx<'_>, status: StatusCode, headline: &str, text: String) -> Result<HttpResponse, PageError> {
    let l = ctx.lang;
    let meta = Meta::from_locale(l, "waitlist", &[]).private();
    ctx.render(status, "waitlist_claim", None, meta, json!({"headline": i18n::text(l, headline, &[]), "paragraphs": [text], "form": false}))
}

/// `POST /{lang}/waiting-list`: `city_event_id`, `first_name`, `last_name`, `email`, `csrf_token`.
#[tracing::instrument(name = "web.waitlist.join", skip_all)]
pub async fn join(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let l = ctx.lang;
    let fields = verify(&ctx, &body)?;
    let request = JoinRequest {
        city_event_id: field(&fields, "city_event_id").parse().unwrap_or(0),
        first_name: field(&fields, "first_name").to_owned(),
        last_name: field(&fields, "last_name").to_owned(),
        email: field(&fields, "email").to_owned(),
        language: l,
    };
    match waiting_list::join(&state, &request).await {
        Ok(joined) => {
            let text = i18n::text(l, "waitlist.joined", &[("position", &joined.position.to_string())]);
            message(&ctx, StatusCode::CREATED, "waitlist.joined_title", text)
        }
        Err(e) => {
            let key = match e.detail.code {
                "seats_available" => "waitlist.seats_available",
                "already_on_waiting_list" => "waitlist.already",
                "sales_closed" => "waitlist.closed",
                _ if e.status == StatusCode::UNPROCESSABLE_ENTITY => "waitlist.invalid",
                _ => return Err(PageError::from_api(l, e)),
            };
            message(&ctx, e.status, "waitlist.refused_title", i18n::text(l, key, &[]))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: String,
}

/// The claim form. Its deadline is shown in the city event's own zone, in the page's language.
async fn claim_page(
    ctx: &PageCtx<'_>,
    state: &AppState,
    token: &str,
    offer: &waiting_list::OfferView,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let l = ctx.lang;
    let mut conn = crate::db::connection(&state.pool).await.map_err(|e| PageError::from_api(l, e.into()))?;
    let event = crate::db::catalogue::city_event(&mut conn, offer.city_event_id)
        .await
        .map_err(|e| PageError::from_api(l, e.into()))?
        .ok_or_else(|| PageError::not_found(l))?;
    let deadline = i18n::formats(l)?.date_time(&offer.expires_at.with_timezone(&event.event.time_zone));
    let meta = Meta::from_locale(l, "waitlist", &[]).private();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    ctx.render(
        status,
        "waitlist_claim",
        None,
        meta,
        json!({
            "headline": i18n::text(l, "waitlist.claim_title", &[]),
            "paragraphs": [i18n::text(l, "waitlist.claim_intro", &[("reference", &offer.reference), ("deadline", &deadline)])],
            "form": true,
            "action": format!("/{}/waiting-list/claim?token={token}", l.as_str()),
            "phone": "",
            "error": error,
        }),
    )
}

/// `GET /{lang}/waiting-list/claim?token=`
#[tracing::instrument(name = "web.waitlist.claim_form", skip_all)]
pub async fn claim_form(req: HttpRequest, state: web::Data<AppState>, q: web::Query<TokenQuery>) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    match waiting_list::offer(&state, &q.token).await {
        Ok(offer) if offer.claimed => Ok(to_checkout(&state, &offer.reference, ctx.lang)),
        Ok(offer) => claim_page(&ctx, &state, &q.token, &offer, None).await,
        Err(_) => message(&ctx, StatusCode::NOT_FOUND, "waitlist.gone_title", i18n::text(ctx.lang, "waitlist.gone", &[])),
    }
}

fn to_checkout(state: &AppState, reference: &str, lang: Language) -> HttpResponse {
    let key = booking_key(state.settings.secret_key.expose(), reference);
    HttpResponse::SeeOther().insert_header((header::LOCATION, paths::checkout(reference, &key, lang))).finish()
}

/// `POST /{lang}/waiting-list/claim?token=`: `phone`, `act_experience`, `csrf_token`.
#[tracing::instrument(name = "web.waitlist.claim_submit", skip_all)]
pub async fn claim_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<TokenQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let fields = verify(&ctx, &body)?;
    let experience = match field(&fields, "act_experience") {
        "beginner" => ActExperience::Beginner,
        "intermediate" => ActExperience::Intermediate,
        "advanced" => ActExperience::Advanced,
        _ => ActExperience::None,
    };
    let claim = ClaimRequest { phone: field(&fields, "phone").to_owned(), act_experience: experience };
    match waiting_list::claim(&state, &q.token, &claim).await {
        Ok(offer) => Ok(to_checkout(&state, &offer.reference, ctx.lang)),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => match waiting_list::offer(&state, &q.token).await {
            Ok(offer) => claim_page(&ctx, &state, &q.token, &offer, Some(i18n::text(ctx.lang, "waitlist.invalid_phone", &[]))).await,
            Err(_) => message(&ctx, StatusCode::NOT_FOUND, "waitlist.gone_title", i18n::text(ctx.lang, "waitlist.gone", &[])),
        },
        Err(_) => message(&ctx, StatusCode::NOT_FOUND, "waitlist.gone_title", i18n::text(ctx.lang, "waitlist.gone", &[])),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    for lang in ["fr", "en"] {
        cfg.service(
            web::resource(format!("/{lang}/waiting-list")).app_data(web::PayloadConfig::new(16 * 1024)).route(web::post().to(join)),
        )
        .service(
            web::resource(format!("/{lang}/waiting-list/claim"))
                .app_data(web::PayloadConfig::new(16 * 1024))
                .route(web::get().to(claim_form))
                .route(web::post().to(claim_submit)),
        );
    }
}
