//! Server-rendered pages (handlebars, `templates/`). For now the landing page: the tour's dates,
//! venues, prices and live seat counts, in French or English; and the e-mail tracking routes.

pub mod csrf;
pub mod tracking;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono_tz::Tz;
use handlebars::Handlebars;
use serde::Deserialize;
use serde_json::json;

use crate::actors::registry::current_unit_price;
use crate::api::AppState;
use crate::db;
use crate::domain::{CityEventId, Language};
use crate::error::ApiError;

/// Templates are compiled into the binary so it runs from any folder.
pub fn templates() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_template_string("home", include_str!("../../templates/home.hbs")).expect("templates/home.hbs is valid");
    hb
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(templates())).route("/", web::get().to(home)).configure(tracking::routes);
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// `?lang=` wins, then `Accept-Language` (French unless English comes first), for Québec's
/// French-first rule.
fn language(req: &HttpRequest, query: &LangQuery) -> Language {
    match query.lang.as_deref() {
        Some("en") => return Language::En,
        Some("fr") => return Language::Fr,
        _ => {}
    }
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.trim_start().to_ascii_lowercase().starts_with("en") {
        Language::En
    } else {
        Language::Fr
    }
}

fn strings(lang: Language) -> serde_json::Value {
    match lang {
        Language::Fr => json!({
            "title": "L’ACT en toute simplicité — classe de maître avec Russ Harris",
            "description": "Une journée de formation sur la thérapie d’acceptation et d’engagement avec le Dr Russ Harris, dans six villes canadiennes en 2027.",
            "headline": "L’ACT en toute simplicité, une journée avec Russ Harris",
            "lede": "Une classe de maître pratique sur la thérapie d’acceptation et d’engagement, pour les professionnels de la santé mentale. Six villes, un seul jour chacune.",
            "dates": "Dates 2027",
            "plus_taxes": "plus taxes",
            "api": "Pour les développeurs\u{a0}: la description de l’API est à",
            "footer": "Prix en dollars canadiens. Places confirmées à la réception du paiement.",
            "language": "Langue",
            "switch": "English",
        }),
        Language::En => json!({
            "title": "ACT Made Simple — a masterclass with Russ Harris",
            "description": "A one-day training in Acceptance and Commitment Therapy with Dr Russ Harris, in six Canadian cities in 2027.",
            "headline": "ACT Made Simple: one day with Russ Harris",
            "lede": "A practical masterclass in Acceptance and Commitment Therapy for mental health professionals. Six cities, one day each.",
            "dates": "2027 dates",
            "plus_taxes": "plus taxes",
            "api": "For developers: the API is described at",
            "footer": "Prices in Canadian dollars. Seats are confirmed when payment is received.",
            "language": "Language",
            "switch": "Français",
        }),
    }
}

async fn home(
    req: HttpRequest,
    query: web::Query<LangQuery>,
    state: web::Data<AppState>,
    hb: web::Data<Handlebars<'static>>,
) -> Result<HttpResponse, ApiError> {
    let lang = language(&req, &query);
    let mut conn = db::connection(&state.pool).await?;
    let events = db::catalogue::city_events(&mut conn).await?;
    let cards: Vec<serde_json::Value> = events
        .iter()
        .filter(|d| d.event.status == "on_sale")
        .map(|d| {
            let tz: Tz = d.event.time_zone.parse().unwrap_or(chrono_tz::America::Toronto);
            let start = d.event.starts_at.with_timezone(&tz);
            let end = d.event.ends_at.with_timezone(&tz);
            let available = state.registry.availability(CityEventId(d.event.id)).map(|a| a.available).ok();
            let (city, date, time, seats) = match lang {
                Language::Fr => (
                    d.city.name_fr.clone(),
                    start.format("%Y-%m-%d").to_string(),
                    format!("{} à {}", start.format("%-H h %M"), end.format("%-H h %M")),
                    match available {
                        Some(0) => "Complet".to_owned(),
                        Some(n) => format!("{n} places libres"),
                        None => "Places : mise à jour…".to_owned(),
                    },
                ),
                Language::En => (
                    d.city.name_en.clone(),
                    start.format("%B %-d, %Y").to_string(),
                    format!("{} to {}", start.format("%-I:%M %P"), end.format("%-I:%M %P")).replace("am", "a.m.").replace("pm", "p.m."),
                    match available {
                        Some(0) => "Sold out".to_owned(),
                        Some(n) => format!("{n} seats left"),
                        None => "Seats: updating…".to_owned(),
                    },
                ),
            };
            json!({
                "city": city,
                "date": date,
                "time": time,
                "venue": d.venue.name,
                "price": current_unit_price(d).format(lang),
                "seats": seats,
            })
        })
        .collect();
    let other = if lang == Language::Fr { "en" } else { "fr" };
    let page =
        hb.render("home", &json!({"lang": lang.as_str(), "other_lang": other, "t": strings(lang), "events": cards})).map_err(|e| {
            tracing::error!(error = %e, "template rendering failed");
            ApiError::internal()
        })?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_LANGUAGE, lang.as_str()))
        .insert_header((header::VARY, "Accept-Language"))
        .body(page))
}
