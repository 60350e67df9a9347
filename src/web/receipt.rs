//! "My booking"'s receipt: a page of its own to print or save, behind the booking's signed link,
//! drawn by the mails' renderer from the confirmation mail's own receipt lines (the issuer's legal
//! name and address, each tax with its registration number), so the two never disagree.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::checkout::{load, KeyQuery};
use super::page::PageError;
use crate::domain::BookingStatus;
use crate::email::render::EmailRenderer;
use crate::state::AppState;

#[tracing::instrument(name = "web.receipt", skip_all)]
pub async fn receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    query: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let l = load(&state, lang, &path.0, query.key()).await?;
    // Only what was paid has a receipt (a refunded booking keeps its, for the accounts).
    if !matches!(l.status, BookingStatus::Confirmed | BookingStatus::Refunded) {
        return Err(PageError::not_found(lang));
    }
    let failed = |e: anyhow::Error| {
        tracing::error!(error = %e, "cannot draw the receipt");
        PageError::from_api(lang, crate::http::error::ApiError::internal())
    };
    let ctx = super::documents::mail_context(&state, lang, &l).await?;
    let b = &l.booking;
    let html = EmailRenderer::new().and_then(|r| r.render_receipt(&ctx)).map_err(failed)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"receipt-{}.html\"", b.reference)))
        .body(html))
}
