//! A masterclass's resources in the back office: what attendees get (files with their size and
//! checksum, links) and the form that adds a link. Files are uploaded through the JSON route
//! (`POST /api/v1/admin/masterclasses/{id}/resources/files`), which the page names.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{after, api_error_page, language, render, text, text_with, toronto};
use crate::admin::resources::{self, LinkInput};
use crate::admin::session::{AdminForm, AdminSession};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/catalogue/masterclasses/{id}/resources", web::get().to(page))
        .route("/catalogue/masterclasses/{id}/resources/links", web::post().to(add_link));
}

#[tracing::instrument(name = "admin.pages.resources", skip_all)]
pub async fn page(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> HttpResponse {
    let (lang, id) = (language(&req), *path);
    let rows = match resources::list(&state, id).await {
        Ok(rows) => rows,
        Err(e) => return api_error_page(&req, &state, &who, e),
    };
    let items: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "title": r.title,
                "link": r.url.clone().unwrap_or_default(),
                "filename": r.filename.clone().unwrap_or_default(),
                "content_type": r.content_type.clone().unwrap_or_default(),
                "size": r.size_bytes.map(|b| b.to_string()).unwrap_or_default(),
                "sha256": r.sha256.clone().unwrap_or_default(),
                "at": toronto(Some(r.created_at)),
            })
        })
        .collect();
    let (max, id_text) = (state.settings.resources_max_bytes.to_string(), id.to_string());
    let upload = text_with(lang, "resources.upload", &[("max", max.as_str()), ("id", id_text.as_str())]);
    let script = crate::http::assets::assets().url("resources-upload.js");
    let body = json!({"id": id, "items": items, "upload": upload, "script": script});
    render(&req, &state, Some(&who), "resources", "catalogue", &text(lang, "resources.title"), body)
}

#[derive(Debug, Deserialize)]
pub struct LinkForm {
    title: String,
    url: String,
}

#[tracing::instrument(name = "admin.pages.resources.add_link", skip_all)]
pub async fn add_link(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>, f: AdminForm<LinkForm>) -> HttpResponse {
    let id = *path;
    let input = LinkInput { title: f.0.title, url: f.0.url };
    after(&format!("/admin/catalogue/masterclasses/{id}/resources"), resources::add_link(&state, id, &input).await.map(|_| ()), "saved")
}
