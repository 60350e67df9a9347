//! The pages about the tour: landing, Russ Harris, the masterclass, cities and each city,
//! pricing, testimonials, FAQ, the city chooser, and the plain text pages.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::i18n::{self, FEW_SEATS};
use super::page::{Meta, PageCtx, PageError};
use super::page_cache;
use super::paths::{self, Page};
use crate::actors::registry::current_unit_price;
use crate::db;
use crate::db::catalogue::CityEventDetails;
use crate::db::site_facts::SiteFacts;
use crate::domain::facts::{ProgrammeItem, VenueFacts};
use crate::domain::SalesStatus;
use crate::domain::{Cents, CityEventId, Language};
use crate::i18n::money;
use crate::page_store::Catalogue;
use crate::state::AppState;

/// Seats of one city event as the page shows them: from the actor's published snapshot when it
/// runs (live), else from the database's counters (closed or not yet loaded).
pub struct Seats {
    pub available: i32,
    pub capacity: i32,
}

pub fn seats(state: &AppState, d: &CityEventDetails) -> Seats {
    match state.registry.availability(CityEventId(d.event.id)) {
        Ok(a) => Seats { available: a.available.max(0), capacity: a.total },
        Err(_) => Seats { available: (d.event.capacity - d.event.seats_held - d.event.seats_sold).max(0), capacity: d.event.capacity },
    }
}

pub fn city_name(d: &CityEventDetails, lang: Language) -> String {
    match lang {
        Language::Fr => d.city.name_fr.clone(),
        Language::En => d.city.name_en.clone(),
    }
}

/// The day, in the venue's zone: "vendredi 16 avril 2027".
pub fn event_date(d: &CityEventDetails, lang: Language) -> Result<String, PageError> {
    Ok(i18n::formats(lang)?.date(d.event.starts_at.with_timezone(&d.event.time_zone).date_naive()))
}

/// "de 9 h 00 à 16 h 30 (HAE)", in the venue's zone.
pub fn event_time(d: &CityEventDetails, lang: Language) -> Result<String, PageError> {
    let tz = d.event.time_zone;
    Ok(i18n::formats(lang)?.time_range(&d.event.starts_at.with_timezone(&tz), &d.event.ends_at.with_timezone(&tz)))
}

/// Tax names and rates of the event's province: "TPS (5 %) + TVQ (9,975 %)".
pub fn taxes_line(d: &CityEventDetails, lang: Language) -> Result<String, PageError> {
    let formats = i18n::formats(lang)?;
    Ok(d.taxes
        .iter()
        .map(|t| {
            let label = if lang == Language::Fr { &t.label_fr } else { &t.label_en };
            format!("{label} ({})", formats.tax_rate(t.rate_per_100k))
        })
        .collect::<Vec<_>>()
        .join(" + "))
}

/// Everything a card, a city page or the booking form shows about one city event.
pub fn event_view(state: &AppState, d: &CityEventDetails, lang: Language) -> Result<Value, PageError> {
    let formats = i18n::formats(lang)?;
    let s = seats(state, d);
    let city = city_name(d, lang);
    let on_sale = d.event.status == SalesStatus::OnSale;
    let sold_out = s.available <= 0;
    let badge = if !on_sale {
        i18n::text(lang, "availability.closed", &[])
    } else if s.available <= FEW_SEATS {
        i18n::seats_left(lang, s.available)
    } else {
        String::new()
    };
    let ev = &d.event;
    let mut tiers = vec![];
    if let (Some(price), Some(until)) = (ev.early_bird_price_cents, ev.early_bird_until) {
        if until > Utc::now() {
            let last_day = formats.date((until - chrono::Duration::seconds(1)).with_timezone(&d.event.time_zone).date_naive());
            tiers.push(json!({"label": i18n::text(lang, "city.early_bird", &[("date", &last_day)]), "price": money(Cents(price), lang)}));
        }
    }
    tiers.push(json!({"label": i18n::text(lang, "city.regular", &[]), "price": money(Cents(ev.regular_price_cents), lang)}));
    if let (Some(price), Some(min)) = (ev.group_price_cents, ev.group_min_quantity) {
        tiers.push(json!({"label": i18n::text(lang, "city.group", &[("count", &min.to_string())]), "price": money(Cents(price), lang)}));
    }
    Ok(json!({
        "id": ev.id,
        "city": city,
        "city_slug": d.city.slug,
        "city_url": paths::city(&d.city.slug, lang),
        "book_url": paths::booking_form(ev.id, lang),
        "book_label": i18n::text(lang, "city.book", &[("city", &city)]),
        "date": event_date(d, lang)?,
        "time": event_time(d, lang)?,
        "starts_at": ev.starts_at.to_rfc3339(),
        "venue": d.venue.name,
        "address": d.venue.address,
        "postal_code": d.venue.postal_code,
        "price": money(current_unit_price(d), lang),
        "plus_taxes": i18n::text(lang, "common.plus_taxes", &[]),
        "taxes_line": taxes_line(d, lang)?,
        "tiers": tiers,
        "available": page_cache::seat_number(ev.id, s.available, false, page_cache::many(s.available)),
        "capacity": s.capacity,
        "taken": page_cache::seat_number(ev.id, (s.capacity - s.available).max(0), true, page_cache::many(s.available)),
        "seats_unit": i18n::plural(lang, "availability.unit", s.available.into(), &[("capacity", &s.capacity.to_string())]),
        // The live count changes the number, so the script needs both forms.
        "seats_unit_one": i18n::plural(lang, "availability.unit", 1, &[("capacity", &s.capacity.to_string())]),
        "seats_unit_other": i18n::plural(lang, "availability.unit", 2, &[("capacity", &s.capacity.to_string())]),
        "bar_label": i18n::text(lang, "availability.bar_label", &[]),
        "badge": badge,
        "on_sale": on_sale,
        "sold_out": sold_out,
        "bookable": on_sale && !sold_out,
    }))
}

/// schema.org `Event` for search engines: date, venue, price and whether seats remain.
pub fn event_jsonld(state: &AppState, d: &CityEventDetails, lang: Language, base: &str) -> Value {
    let s = seats(state, d);
    let availability = if d.event.status != SalesStatus::OnSale || s.available <= 0 {
        "https://schema.org/SoldOut"
    } else if s.available <= FEW_SEATS {
        "https://schema.org/LimitedAvailability"
    } else {
        "https://schema.org/InStock"
    };
    let city = city_name(d, lang);
    json!({
        "@context": "https://schema.org",
        "@type": "Event",
        "name": i18n::text(lang, "city.title", &[("city", &city)]),
        "startDate": d.event.starts_at.with_timezone(&d.event.time_zone).to_rfc3339(),
        "endDate": d.event.ends_at.with_timezone(&d.event.time_zone).to_rfc3339(),
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "inLanguage": "en",
        "location": {
            "@type": "Place",
            "name": d.venue.name,
            "address": {"@type": "PostalAddress", "streetAddress": d.venue.address, "postalCode": d.venue.postal_code,
                        "addressLocality": city, "addressRegion": d.city.province.trim(), "addressCountry": "CA"}
        },
        "performer": {"@type": "Person", "name": "Russ Harris"},
        "organizer": {"@type": "Organization", "name": state.settings.email_from_name, "url": base},
        "offers": {
            "@type": "Offer",
            "price": format!("{}.{:02}", current_unit_price(d).0 / 100, current_unit_price(d).0 % 100),
            "priceCurrency": "CAD",
            "availability": availability,
            "url": format!("{base}{}", paths::booking_form(d.event.id, lang)),
        }
    })
}

/// The city events the site shows (on sale or closed), from the page store while it is good.
pub async fn events(state: &AppState, lang: Language) -> Result<Catalogue, PageError> {
    if let Some(list) = state.pages.catalogue() {
        return Ok(list);
    }
    // One request reloads; meanwhile the others keep the expired one (same generation), or, after
    // an edit, wait for the reload rather than all asking the database at once.
    let _turn = if state.pages.enabled() {
        match state.pages.try_reload_turn() {
            Some(turn) => Some(turn),
            None => {
                if let Some(list) = state.pages.expired_catalogue() {
                    return Ok(list);
                }
                Some(state.pages.reload_turn().await)
            }
        }
    } else {
        None
    };
    if let Some(list) = state.pages.catalogue() {
        return Ok(list);
    }
    let generation = state.pages.generation();
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    let all = db::catalogue::city_events(&mut conn).await.map_err(|e| PageError::from_api(lang, e.into()))?;
    let events = all.into_iter().filter(|d| d.event.status == SalesStatus::OnSale || d.event.status == SalesStatus::Closed).collect();
    let list = Catalogue { generation, events: Arc::new(events) };
    state.pages.store_catalogue(&list);
    Ok(list)
}

#[tracing::instrument(name = "web.catalogue.home", skip_all)]
pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let list = events(&state, lang).await?;
    let shown: Vec<&CityEventDetails> = list.iter().collect();
    page_cache::serve(&req, &state, list.generation, &shown, || render_home(&req, &state, &list)).await
}

async fn render_home(req: &HttpRequest, state: &AppState, list: &[CityEventDetails]) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(req, state);
    let lang = ctx.lang;
    let cards = list.iter().map(|d| event_view(state, d, lang)).collect::<Result<Vec<_>, _>>()?;
    let mut meta = Meta::from_locale(lang, "home", &[]);
    let base = state.settings.frontend_url.trim_end_matches('/').to_owned();
    meta.jsonld = Some(Value::Array(list.iter().map(|d| event_jsonld(state, d, lang, &base)).collect()));
    ctx.ok("home", Some(Page::Home), meta, json!({"events": cards, "cities_url": Page::Cities.url(lang)}))
}

#[tracing::instrument(name = "web.catalogue.cities", skip_all)]
pub async fn cities(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    list_page(req, state, Page::Cities).await
}

#[tracing::instrument(name = "web.catalogue.book", skip_all)]
pub async fn book(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    list_page(req, state, Page::Book).await
}

#[tracing::instrument(name = "web.catalogue.list_page", skip_all)]
async fn list_page(req: HttpRequest, state: web::Data<AppState>, page: Page) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let list = events(&state, lang).await?;
    let shown: Vec<&CityEventDetails> = list.iter().collect();
    page_cache::serve(&req, &state, list.generation, &shown, || render_list(&req, &state, &list, page)).await
}

async fn render_list(req: &HttpRequest, state: &AppState, list: &[CityEventDetails], page: Page) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(req, state);
    let lang = ctx.lang;
    let cards = list
        .iter()
        .map(|d| {
            let mut v = event_view(state, d, lang)?;
            if page == Page::Book {
                let city = v["city"].as_str().unwrap_or_default().to_owned();
                v["book_label"] = json!(i18n::text(lang, "book.choose", &[("city", &city)]));
            }
            Ok(v)
        })
        .collect::<Result<Vec<_>, PageError>>()?;
    ctx.ok(page.id(), Some(page), Meta::from_locale(lang, page.id(), &[]), json!({"events": cards}))
}

#[tracing::instrument(name = "web.catalogue.city", skip_all)]
pub async fn city(req: HttpRequest, state: web::Data<AppState>, slug: web::Path<(String,)>) -> Result<HttpResponse, PageError> {
    let lang = crate::http::language::language_of(&req);
    let all = events(&state, lang).await?;
    let list: Vec<&CityEventDetails> = all.iter().filter(|d| d.city.slug == slug.0).collect();
    if list.is_empty() {
        return Err(PageError::not_found(lang));
    }
    // The city page shows each date's seats: a view for the back office's funnel, cached or not.
    for d in &list {
        state.views.record(d.event.id);
    }
    page_cache::serve(&req, &state, all.generation, &list, || render_city(&req, &state, &list)).await
}

async fn render_city(req: &HttpRequest, state: &AppState, list: &[&CityEventDetails]) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(req, state);
    let lang = ctx.lang;
    let Some(first) = list.first() else { return Err(PageError::not_found(lang)) };
    let name = city_name(first, lang);
    let mut meta = Meta::from_locale(lang, "city", &[("city", &name), ("date", &event_date(first, lang)?), ("venue", &first.venue.name)]);
    let base = state.settings.frontend_url.trim_end_matches('/').to_owned();
    meta.jsonld = Some(Value::Array(list.iter().map(|d| event_jsonld(state, d, lang, &base)).collect()));
    let facts = state.facts.get();
    let views = list
        .iter()
        .map(|d| {
            let mut view = event_view(state, d, lang)?;
            let date = facts.for_date(d.event.masterclass_event_id, d.venue.id.0);
            view["practical"] = practical(&date.venue, lang);
            view["timeline"] = day_timeline(&date.programme, d.event.starts_at, d.event.time_zone, lang)?;
            Ok(view)
        })
        .collect::<Result<Vec<_>, PageError>>()?;
    ctx.ok("city", Some(Page::Cities), meta, json!({"city": name, "events": views, "cities_url": Page::Cities.url(lang)}))
}

#[tracing::instrument(name = "web.catalogue.pricing", skip_all)]
pub async fn pricing(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let lang = ctx.lang;
    let list = events(&state, lang).await?;
    let price = |f: &dyn Fn(&CityEventDetails) -> Option<i64>| -> String {
        list.iter().filter_map(f).min().map(|c| money(Cents(c), lang)).unwrap_or_else(|| "—".to_owned())
    };
    let taxes = list
        .iter()
        .map(|d| Ok(json!({"city": city_name(d, lang), "taxes": taxes_line(d, lang)?})))
        .collect::<Result<Vec<Value>, PageError>>()?;
    let (early_bird, early_bird_text, regular_text) = match cheapest_open_early_bird(&list, Utc::now()) {
        Some((cents, until, d)) => {
            let formats = i18n::formats(lang)?;
            // The deadline is an instant (midnight starting the first regular day): the last
            // early-bird day is the one before it, in the venue's zone.
            let last_day = formats.date((until - chrono::Duration::seconds(1)).with_timezone(&d.event.time_zone).date_naive());
            let first_regular_day = formats.date(until.with_timezone(&d.event.time_zone).date_naive());
            (
                Some(money(Cents(cents), lang)),
                Some(i18n::text(lang, "pricing.early_bird_text", &[("date", &last_day)])),
                i18n::text(lang, "pricing.regular_text", &[("date", &first_regular_day)]),
            )
        }
        None => (None, None, i18n::text(lang, "pricing.regular_text_only", &[])),
    };
    let body = json!({
        "early_bird": early_bird,
        "early_bird_text": early_bird_text,
        "regular": price(&|d| Some(d.event.regular_price_cents)),
        "regular_text": regular_text,
        "group": price(&|d| d.event.group_price_cents),
        "taxes": taxes,
    });
    ctx.ok("pricing", Some(Page::Pricing), Meta::from_locale(lang, "pricing", &[]), body)
}

/// The lowest early-bird price a buyer can still get at `now`, with its deadline and city event.
/// A price whose deadline has passed is gone: a hold would charge the regular price, so the
/// pricing page must not show it.
fn cheapest_open_early_bird(list: &[CityEventDetails], now: DateTime<Utc>) -> Option<(i64, DateTime<Utc>, &CityEventDetails)> {
    list.iter()
        .filter_map(|d| match (d.event.early_bird_price_cents, d.event.early_bird_until) {
            (Some(cents), Some(until)) if now < until => Some((cents, until, d)),
            _ => None,
        })
        .min_by_key(|(cents, until, _)| (*cents, *until))
}

/// Pages whose content is all in the locale files.
#[tracing::instrument(name = "web.catalogue.static_page", skip_all)]
pub async fn static_page(req: HttpRequest, state: web::Data<AppState>, page: Page) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let lang = ctx.lang;
    let meta = Meta::from_locale(lang, page.id(), &[]);
    match page {
        Page::Masterclass => {
            let facts = state.facts.get();
            let body = json!({"timeline": timeline(&facts, lang)?});
            ctx.ok(page.id(), Some(page), meta, body)
        }
        Page::About => {
            let photo = state.facts.get().featured_masterclass().presenter_photo_url;
            ctx.ok(page.id(), Some(page), meta, json!({"photo": if photo.is_empty() { Value::Null } else { json!(photo) }}))
        }
        Page::Testimonials | Page::Faq => ctx.ok(page.id(), Some(page), meta, json!({})),
        _ => {
            let t = i18n::tree(lang, &state.facts.get()).get(page.id()).cloned().unwrap_or(Value::Null);
            let paragraphs = t.get("text").map(|p| json!([p])).unwrap_or_else(|| json!([]));
            let body = json!({
                "headline": t.get("headline").cloned().unwrap_or_default(),
                "paragraphs": paragraphs,
                "sections": t.get("sections").cloned().unwrap_or_else(|| json!([])),
                "consent_form": page == Page::Privacy && !state.settings.ga_id.is_empty(),
            });
            ctx.ok("text_page", Some(page), meta, body)
        }
    }
}

/// A venue's practical facts in the page's language, the empty ones left out.
fn practical(v: &VenueFacts, lang: Language) -> Value {
    let rows: Vec<Value> = [
        ("transit", &v.transit),
        ("parking", &v.parking),
        ("hotels", &v.hotels),
        ("restaurants", &v.restaurants),
        ("accessibility", &v.accessibility),
    ]
    .into_iter()
    .filter(|(_, text)| !text.get(lang).trim().is_empty())
    .map(|(key, text)| json!({"label": i18n::text(lang, &format!("city.{key}"), &[]), "text": text.get(lang)}))
    .collect();
    Value::Array(rows)
}

/// A date's timeline in its venue's time.
fn day_timeline(programme: &[ProgrammeItem], starts_at: DateTime<Utc>, zone: chrono_tz::Tz, lang: Language) -> Result<Value, PageError> {
    let l = i18n::formats(lang)?;
    Ok(programme
        .iter()
        .map(|p| {
            let (from, to) = p.at(starts_at, zone);
            json!({"time": l.time_or_span(from.time(), to.map(|t| t.time())), "label": p.label.get(lang)})
        })
        .collect())
}

/// The featured masterclass's programme at the next date on sale, in its venue's time (none
/// without a date on sale: a time of day means nothing without the date's zone).
fn timeline(facts: &SiteFacts, lang: Language) -> Result<Value, PageError> {
    let Some(date) = facts.featured_date else { return Ok(Value::Null) };
    let l = i18n::formats(lang)?;
    let items = day_timeline(facts.programme(date.masterclass_id), date.starts_at, date.time_zone, lang)?;
    let start = date.starts_at.with_timezone(&date.time_zone);
    let (date, zone) = (l.date(start.date_naive()), l.zone(&start));
    let note = i18n::text(lang, "masterclass.timeline_note", &[("date", &date), ("zone", &zone)]);
    Ok(json!({"items": items, "note": note}))
}
