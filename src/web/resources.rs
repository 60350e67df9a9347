//! A booking's resources (the masterclass's files and links) behind the signed link of the J-30
//! and J+1 mails (`/{lang}/ressources|resources/{reference}?k=`), for as long as the policy keeps
//! them online (`Policies::resources_until`); after that, a page saying when access ended. Files
//! are served as attachments once their bytes match the checksum recorded at upload.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::checkout::KeyQuery;
use super::i18n;
use super::page::{Meta, PageCtx, PageError};
use crate::db;
use crate::db::catalogue::CityEventDetails;
use crate::domain::tokens::resources_key_matches;
use crate::domain::{BookingReference, BookingStatus, Language};
use crate::state::AppState;

/// The confirmed booking's date behind a signed link; the same 404 for anything else.
async fn date_of(state: &AppState, lang: Language, reference: &str, key: &str) -> Result<CityEventDetails, PageError> {
    let reference = BookingReference::parse(reference).map_err(|_| PageError::not_found(lang))?;
    if !resources_key_matches(state.settings.secret_key.expose(), reference.as_str(), key) {
        return Err(PageError::not_found(lang));
    }
    let failed = |e: db::DbError| PageError::from_api(lang, e.into());
    let mut conn = db::connection(&state.pool).await.map_err(failed)?;
    let (booking, _) = db::bookings::by_reference(&mut conn, reference.as_str())
        .await
        .map_err(|e| failed(e.into()))?
        .ok_or_else(|| PageError::not_found(lang))?;
    if booking.status != BookingStatus::Confirmed {
        return Err(PageError::not_found(lang));
    }
    db::catalogue::city_event(&mut conn, booking.city_event_id)
        .await
        .map_err(|e| failed(e.into()))?
        .ok_or_else(|| PageError::not_found(lang))
}

/// The end of access, in the venue's zone, when it has passed.
fn ended(state: &AppState, lang: Language, d: &CityEventDetails) -> Result<Option<String>, PageError> {
    let until = state.facts.get().policies(d.event.masterclass_event_id).resources_until(d.event.starts_at);
    if Utc::now() <= until {
        return Ok(None);
    }
    Ok(Some(i18n::formats(lang)?.date(until.with_timezone(&d.event.time_zone).date_naive())))
}

#[tracing::instrument(name = "web.resources.page", skip_all)]
pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String,)>,
    query: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let l = ctx.lang;
    let d = date_of(&state, l, &path.0, query.key()).await?;
    let meta = Meta::from_locale(l, "resources_page", &[]).private();
    if let Some(date) = ended(&state, l, &d)? {
        let text = i18n::text(l, "resources_page.ended", &[("date", &date)]);
        return ctx.render(StatusCode::GONE, "resources_page", None, meta, json!({"ended": text, "items": []}));
    }
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(l, e.into()))?;
    let rows = db::resources::of_masterclass(&mut conn, d.event.masterclass_event_id)
        .await
        .map_err(|e| PageError::from_api(l, db::DbError::from(e).into()))?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| match &r.url {
            Some(url) => json!({"title": r.title, "href": url, "file": false}),
            None => json!({
                "title": r.title,
                "href": format!("{}/files/{}?k={}", req.path(), r.id, query.key()),
                "file": true,
                "filename": r.filename.clone().unwrap_or_default(),
            }),
        })
        .collect();
    ctx.ok("resources_page", None, meta, json!({"ended": "", "items": items}))
}

#[tracing::instrument(name = "web.resources.download", skip_all)]
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    query: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let l = crate::http::language::language_of(&req);
    let d = date_of(&state, l, &path.0, query.key()).await?;
    if ended(&state, l, &d)?.is_some() {
        return Err(PageError { lang: l, status: StatusCode::GONE, retry_after: None });
    }
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(l, e.into()))?;
    let row = db::resources::get(&mut conn, path.1)
        .await
        .map_err(|e| PageError::from_api(l, db::DbError::from(e).into()))?
        .filter(|r| r.masterclass_event_id == d.event.masterclass_event_id)
        .ok_or_else(|| PageError::not_found(l))?;
    drop(conn);
    let (Some(sha), Some(filename), Some(content_type)) = (&row.sha256, &row.filename, &row.content_type) else {
        return Err(PageError::not_found(l));
    };
    let bytes = tokio::fs::read(state.settings.resources_dir.join(sha)).await.map_err(|e| {
        tracing::error!(error = %e, resource = row.id, "a resource's file is missing");
        PageError::internal(l)
    })?;
    // A file changed on disk is not handed out as the organiser's.
    if hex::encode(Sha256::digest(&bytes)) != *sha {
        tracing::error!(resource = row.id, "a resource's file does not match its checksum");
        return Err(PageError::internal(l));
    }
    Ok(HttpResponse::Ok()
        .content_type(content_type.as_str())
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}
