//! `sitemap.xml` (every page in both languages, with their `hreflang` pairs, and each city's
//! page) and `robots.txt`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::paths::{self, Page};
use crate::db;
use crate::domain::Language;
use crate::domain::SalesStatus;
use crate::state::AppState;

fn entry(out: &mut String, base: &str, fr: &str, en: &str) {
    for loc in [fr, en] {
        out.push_str(&format!(
            "<url><loc>{base}{loc}</loc><xhtml:link rel=\"alternate\" hreflang=\"fr-CA\" href=\"{base}{fr}\"/>\
             <xhtml:link rel=\"alternate\" hreflang=\"en-CA\" href=\"{base}{en}\"/></url>\n"
        ));
    }
}

#[tracing::instrument(name = "web.seo.sitemap", skip_all)]
pub async fn sitemap(state: web::Data<AppState>) -> HttpResponse {
    let base = state.settings.frontend_url.trim_end_matches('/');
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for page in Page::ALL {
        entry(&mut out, base, &page.url(Language::Fr), &page.url(Language::En));
    }
    if let Ok(mut conn) = db::connection(&state.pool).await {
        if let Ok(events) = db::catalogue::city_events(&mut conn).await {
            let mut slugs: Vec<&str> =
                events.iter().filter(|d| d.event.status == SalesStatus::OnSale).map(|d| d.city.slug.as_str()).collect();
            slugs.dedup();
            for slug in slugs {
                entry(&mut out, base, &paths::city(slug, Language::Fr), &paths::city(slug, Language::En));
            }
        }
    }
    out.push_str("</urlset>\n");
    HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(out)
}

#[tracing::instrument(name = "web.seo.robots", skip_all)]
pub async fn robots(state: web::Data<AppState>) -> HttpResponse {
    let base = state.settings.frontend_url.trim_end_matches('/');
    let body = format!(
        "User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /live/\nDisallow: /e/\nDisallow: /fr/paiement/\nDisallow: /en/checkout/\n\
         Disallow: /fr/confirmation/\nDisallow: /en/confirmation/\nDisallow: /fr/bookings/\nDisallow: /en/bookings/\n\nSitemap: {base}/sitemap.xml\n"
    );
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").insert_header((header::CACHE_CONTROL, "public, max-age=3600")).body(body)
}
