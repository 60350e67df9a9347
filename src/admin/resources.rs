//! A masterclass's resources in the JSON API: files uploaded as the request's raw body
//! (`POST /api/v1/admin/masterclasses/{id}/resources/files?title=&filename=`), links
//! (`…/resources/links`), and the list. A file is streamed to a temporary file while its SHA-256 is
//! computed, refused past `resources_max_bytes` (413 `file_too_large`) or when its first bytes are
//! not a PDF, MP3, MP4 or ZIP (415 `unsupported_file_type`: the name proves nothing), and only
//! then renamed to its checksum: a refused upload leaves no file and no row.

use std::path::{Path, PathBuf};

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures::StreamExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::session::AdminSession;
use crate::db;
use crate::db::resources::{NewResource, ResourceRow};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// What the first bytes say a file is.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        Some("audio/mpeg")
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        Some("video/mp4")
    } else if head.starts_with(b"PK\x03\x04") {
        Some("application/zip")
    } else {
        None
    }
}

/// The name the attendee's download is saved as: no path, nothing a header could choke on.
pub fn clean_filename(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let kept: String = base.chars().filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ')).collect();
    let kept = kept.trim().trim_start_matches('.').to_owned();
    (!kept.is_empty() && kept.chars().count() <= 200).then_some(kept)
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large", format!("Files are limited to {max} bytes."))
}

fn unsupported() -> ApiError {
    ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_file_type", "Upload a PDF, MP3, MP4 or ZIP file.")
}

fn title_of(title: &str) -> ApiResult<String> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > 200 {
        return Err(ApiError::unprocessable("invalid_title", "title", "Give a title of 1 to 200 characters."));
    }
    Ok(t.to_owned())
}

async fn masterclass(state: &AppState, id: i64) -> ApiResult<()> {
    let mut conn = db::connection(&state.pool).await?;
    if !db::resources::masterclass_exists(&mut conn, id).await.map_err(db::DbError::from)? {
        return Err(ApiError::not_found("masterclass_not_found", "No masterclass has this id."));
    }
    Ok(())
}

/// Where a stored file is.
pub fn stored_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(sha256)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// What attendees read ("Cahier du participant").
    pub title: String,
    /// The name the download is saved as.
    pub filename: String,
}

/// Receives the body into `temp`: its checksum, size and type.
async fn receive(temp: &Path, body: &mut web::Payload, max: u64) -> ApiResult<(String, i64, &'static str)> {
    let io = |e: std::io::Error| ApiError::internal().caused_by(e);
    let mut file = tokio::fs::File::create(temp).await.map_err(io)?;
    let (mut hasher, mut size, mut head) = (Sha256::new(), 0_u64, Vec::with_capacity(16));
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("invalid_body", "The upload could not be read."))?;
        size += chunk.len() as u64;
        if size > max {
            return Err(too_large(max));
        }
        if head.len() < 16 {
            head.extend_from_slice(&chunk[..chunk.len().min(16 - head.len())]);
            // Refused at its first bytes, before the rest is stored.
            if head.len() >= 8 && sniff(&head).is_none() {
                return Err(unsupported());
            }
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(io)?;
    }
    if size == 0 {
        return Err(ApiError::unprocessable("empty_file", "body", "The file is empty."));
    }
    let content_type = sniff(&head).ok_or_else(unsupported)?;
    file.sync_all().await.map_err(io)?;
    Ok((hex::encode(hasher.finalize()), size as i64, content_type))
}

pub async fn upload(
    state: &AppState,
    masterclass_id: i64,
    q: &UploadQuery,
    declared: Option<u64>,
    body: &mut web::Payload,
) -> ApiResult<ResourceRow> {
    let title = title_of(&q.title)?;
    let filename =
        clean_filename(&q.filename).ok_or_else(|| ApiError::unprocessable("invalid_filename", "filename", "Give the file's name."))?;
    masterclass(state, masterclass_id).await?;
    let max = state.settings.resources_max_bytes;
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    let dir = &state.settings.resources_dir;
    tokio::fs::create_dir_all(dir).await.map_err(|e| ApiError::internal().caused_by(e))?;
    let temp = dir.join(format!(".upload-{}", hex::encode(rand::random::<[u8; 16]>())));
    let (sha256, size, content_type) = match receive(&temp, body, max).await {
        Ok(r) => r,
        Err(e) => {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(e);
        }
    };
    // Named by content: the same workbook uploaded twice is stored once.
    tokio::fs::rename(&temp, stored_path(dir, &sha256)).await.map_err(|e| ApiError::internal().caused_by(e))?;
    let row = NewResource {
        masterclass_event_id: masterclass_id,
        title,
        url: None,
        filename: Some(filename),
        content_type: Some(content_type.to_owned()),
        size_bytes: Some(size),
        sha256: Some(sha256),
    };
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::resources::insert(&mut conn, &row).await.map_err(db::DbError::from)?)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkInput {
    pub title: String,
    /// `http://` or `https://` only.
    pub url: String,
}

pub async fn add_link(state: &AppState, masterclass_id: i64, input: &LinkInput) -> ApiResult<ResourceRow> {
    let title = title_of(&input.title)?;
    let url = input.url.trim();
    let web_url = (url.starts_with("https://") || url.starts_with("http://")) && url.len() > 8 && url.len() <= 2000;
    if !web_url || url.chars().any(char::is_whitespace) {
        return Err(ApiError::unprocessable("invalid_url", "url", "Give an http:// or https:// address."));
    }
    masterclass(state, masterclass_id).await?;
    let row = NewResource {
        masterclass_event_id: masterclass_id,
        title,
        url: Some(url.to_owned()),
        filename: None,
        content_type: None,
        size_bytes: None,
        sha256: None,
    };
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::resources::insert(&mut conn, &row).await.map_err(db::DbError::from)?)
}

/// A masterclass's resources, in the order they were added.
pub async fn list(state: &AppState, masterclass_id: i64) -> ApiResult<Vec<ResourceRow>> {
    masterclass(state, masterclass_id).await?;
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::resources::of_masterclass(&mut conn, masterclass_id).await.map_err(db::DbError::from)?)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/masterclasses/{id}/resources", web::get().to(list_resources))
        .route("/masterclasses/{id}/resources/files", web::post().to(upload_file))
        .route("/masterclasses/{id}/resources/links", web::post().to(add_resource_link));
}

fn created(row: ResourceRow) -> HttpResponse {
    HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(row)
}

#[utoipa::path(get, path = "/api/v1/admin/masterclasses/{id}/resources", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = [ResourceRow]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.list_resources", skip_all)]
pub async fn list_resources(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(list(&state, *path).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/masterclasses/{id}/resources/files", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path), UploadQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = ResourceRow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, description = "file_too_large", body = ErrorBody), (status = 415, description = "unsupported_file_type", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.upload_resource", skip_all)]
pub async fn upload_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    _who: AdminSession,
    path: web::Path<i64>,
    query: web::Query<UploadQuery>,
    mut body: web::Payload,
) -> ApiResult<HttpResponse> {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    Ok(created(upload(&state, *path, &query, declared, &mut body).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/masterclasses/{id}/resources/links", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path)), request_body = LinkInput,
    responses((status = 201, body = ResourceRow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.add_resource_link", skip_all)]
pub async fn add_resource_link(
    state: web::Data<AppState>,
    _who: AdminSession,
    path: web::Path<i64>,
    body: ApiJson<LinkInput>,
) -> ApiResult<HttpResponse> {
    Ok(created(add_link(&state, *path, &body.0).await?))
}

#[derive(OpenApi)]
#[openapi(paths(list_resources, upload_file, add_resource_link), components(schemas(ResourceRow, LinkInput)))]
pub struct ResourcesApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_told_by_their_first_bytes_and_names_are_cleaned() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"ID3\x04\0\0\0\0"), Some("audio/mpeg"));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Some("video/mp4"));
        assert_eq!(sniff(b"PK\x03\x04\x14\0"), Some("application/zip"));
        assert_eq!(sniff(b"MZ\x90\0 not a pdf"), None);
        assert_eq!(sniff(b"<html>%PDF-"), None, "the name or a later marker proves nothing");
        assert_eq!(clean_filename("../../etc/Cahier \"final\".pdf").as_deref(), Some("Cahier final.pdf"));
        assert_eq!(clean_filename("C:\\docs\\cahier.pdf").as_deref(), Some("cahier.pdf"));
        assert_eq!(clean_filename("..."), None);
    }
}
