//! Server-rendered pages (handlebars, `templates/`).

use actix_web::{web, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home));
}

async fn home() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("Billetterie")
}
