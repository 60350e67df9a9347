use actix_web::{web, HttpResponse};

use super::views::{CityEventView, CityView, Localized, MasterclassEventView};
use crate::db;
use crate::domain::CityEventId;
use crate::domain::SalesStatus;
use crate::http::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// The masterclass events with their city events (public; draft city events are left out).
#[utoipa::path(get, path = "/api/v1/masterclass/events", tag = "catalogue",
    responses((status = 200, body = [MasterclassEventView]), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "api.masterclass.events", skip_all)]
pub async fn events(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = db::connection(&state.pool).await?;
    let events = db::catalogue::masterclass_events(&mut conn).await?;
    let city_events = db::catalogue::city_events(&mut conn).await?;
    let body: Vec<MasterclassEventView> = events
        .iter()
        .map(|e| {
            let ces = city_events
                .iter()
                .filter(|d| d.event.masterclass_event_id == e.id && d.event.status != SalesStatus::Draft)
                .map(|d| CityEventView::new(d, state.registry.availability(CityEventId(d.event.id)).ok()))
                .collect();
            MasterclassEventView::new(e, ces)
        })
        .collect();
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=5")).json(body))
}

/// Cities with their city events: venue, local date and time, prices, availability.
#[utoipa::path(get, path = "/api/v1/masterclass/cities", tag = "catalogue",
    responses((status = 200, body = [CityView]), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "api.masterclass.cities", skip_all)]
pub async fn cities(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = db::connection(&state.pool).await?;
    let city_events = db::catalogue::city_events(&mut conn).await?;
    let mut cities: Vec<CityView> = Vec::new();
    for d in city_events.iter().filter(|d| d.event.status != SalesStatus::Draft) {
        let view = CityEventView::new(d, state.registry.availability(CityEventId(d.event.id)).ok());
        match cities.iter_mut().find(|c| c.id == d.city.id) {
            Some(c) => c.city_events.push(view),
            None => cities.push(CityView {
                id: d.city.id,
                slug: d.city.slug.clone(),
                name: Localized { fr: d.city.name_fr.clone(), en: d.city.name_en.clone() },
                province: d.city.province.clone(),
                city_events: vec![view],
            }),
        }
    }
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=5")).json(cities))
}
