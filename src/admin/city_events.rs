//! City events: create, edit, open and close sales. Capacity and sales status are decided by
//! the city event's actor, in turn with holds (never below the seats taken; the database's
//! `city_events_no_oversell` CHECK refuses it too); dates, venue and prices are plain edits the
//! actor's prices follow at once.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::audit;
use super::session::AdminSession;
use crate::db::admin::CityEventFields;
use crate::db::catalogue::CityEventDetails;
use crate::db::{self};
use crate::domain::time_zone::serialize_zone_name;
use crate::domain::SalesStatus;
use crate::domain::{CityEventId, Language};
use crate::domain::{CityId, VenueId};
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A city event as the organiser sets it. Times are local to the venue (`YYYY-MM-DDTHH:MM`, as
/// an HTML `datetime-local` field sends them).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CityEventInput {
    /// Required to create; ignored on edit (a city event stays in its city).
    #[serde(default)]
    pub city_id: Option<i64>,
    /// The masterclass of a new date; ignored on edit. When left out, the only masterclass
    /// (refused with `missing_field` when there are several).
    #[serde(default)]
    pub masterclass_id: Option<i64>,
    /// A venue of the city.
    pub venue_id: i64,
    #[schema(example = "2027-09-14T09:00")]
    pub local_start: String,
    #[schema(example = "2027-09-14T16:30")]
    pub local_end: String,
    pub capacity: i32,
    pub regular_price_cents: i64,
    #[serde(default)]
    pub early_bird_price_cents: Option<i64>,
    /// Local to the venue, like the start.
    #[serde(default)]
    pub early_bird_until_local: Option<String>,
    #[serde(default)]
    pub group_price_cents: Option<i64>,
    #[serde(default)]
    pub group_min_quantity: Option<i32>,
    /// On create: `draft` (default), `on_sale` or `closed`.
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminCityEvent {
    pub id: i64,
    pub city_id: CityId,
    /// The city's French name; `city_en` its English one (the pages show the organiser's language).
    pub city: String,
    pub city_en: String,
    pub venue_id: VenueId,
    pub venue: String,
    pub status: SalesStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_zone_name")]
    #[schema(value_type = String)]
    pub time_zone: Tz,
    pub local_start: String,
    pub local_end: String,
    pub capacity: i32,
    pub held: i32,
    pub sold: i32,
    pub regular_price_cents: i64,
    pub early_bird_price_cents: Option<i64>,
    pub early_bird_until_local: Option<String>,
    pub group_price_cents: Option<i64>,
    pub group_min_quantity: Option<i32>,
}

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

impl AdminCityEvent {
    pub fn new(d: &CityEventDetails) -> Self {
        let tz = d.event.time_zone;
        let e = &d.event;
        Self {
            id: e.id,
            city_id: d.city.id,
            city: d.city.name_fr.clone(),
            city_en: d.city.name_en.clone(),
            venue_id: d.venue.id,
            venue: d.venue.name.clone(),
            status: e.status,
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            time_zone: e.time_zone,
            local_start: local(e.starts_at, tz),
            local_end: local(e.ends_at, tz),
            capacity: e.capacity,
            held: e.seats_held,
            sold: e.seats_sold,
            regular_price_cents: e.regular_price_cents,
            early_bird_price_cents: e.early_bird_price_cents,
            early_bird_until_local: e.early_bird_until.map(|u| local(u, tz)),
            group_price_cents: e.group_price_cents,
            group_min_quantity: e.group_min_quantity,
        }
    }

    /// The city's name in `lang`.
    pub fn city_in(&self, lang: Language) -> &str {
        match lang {
            Language::Fr => &self.city,
            Language::En => &self.city_en,
        }
    }

    fn json(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }
}

/// A local date and time in a zone, refused when it does not exist or is ambiguous (the hour
/// the clocks change).
pub fn parse_local(raw: &str, tz: Tz, field: &str) -> ApiResult<DateTime<Utc>> {
    let raw = raw.trim();
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M"))
        .map_err(|_| ApiError::unprocessable("invalid_datetime", field, "Give a local date and time as YYYY-MM-DDTHH:MM."))?;
    tz.from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ApiError::unprocessable("invalid_datetime", field, "This local time does not exist or is ambiguous (clock change)."))
}

/// Checks the input against the venue (and city); the fields to write.
pub fn fields(input: &CityEventInput, venue: &crate::db::models::VenueRow) -> ApiResult<CityEventFields> {
    let tz = venue.time_zone;
    let starts_at = parse_local(&input.local_start, tz, "local_start")?;
    let ends_at = parse_local(&input.local_end, tz, "local_end")?;
    if ends_at <= starts_at {
        return Err(ApiError::unprocessable("invalid_datetime", "local_end", "The end must come after the start."));
    }
    let positive = |v: i64, field: &str| {
        if v > 0 && v <= 10_000_000 {
            Ok(v)
        } else {
            Err(ApiError::unprocessable("invalid_price", field, "A price is a positive number of cents."))
        }
    };
    let regular = positive(input.regular_price_cents, "regular_price_cents")?;
    let (early_bird_price_cents, early_bird_until) =
        match (input.early_bird_price_cents, input.early_bird_until_local.as_deref().filter(|s| !s.trim().is_empty())) {
            (None, None) => (None, None),
            (Some(p), Some(u)) => (Some(positive(p, "early_bird_price_cents")?), Some(parse_local(u, tz, "early_bird_until_local")?)),
            (Some(_), None) => {
                return Err(ApiError::unprocessable("missing_field", "early_bird_until_local", "An early-bird price needs its end."))
            }
            (None, Some(_)) => {
                return Err(ApiError::unprocessable("missing_field", "early_bird_price_cents", "An early-bird end needs its price."))
            }
        };
    let (group_price_cents, group_min_quantity) = match (input.group_price_cents, input.group_min_quantity) {
        (None, None) => (None, None),
        (Some(p), Some(n)) if n >= 2 => (Some(positive(p, "group_price_cents")?), Some(n)),
        (Some(_), Some(_)) => {
            return Err(ApiError::unprocessable("invalid_quantity", "group_min_quantity", "A group is at least 2 seats."))
        }
        (Some(_), None) => return Err(ApiError::unprocessable("missing_field", "group_min_quantity", "A group price needs its minimum.")),
        (None, Some(_)) => return Err(ApiError::unprocessable("missing_field", "group_price_cents", "A group minimum needs its price.")),
    };
    if input.capacity < 1 || input.capacity > 100_000 {
        return Err(ApiError::unprocessable("invalid_capacity", "capacity", "The capacity is at least 1 seat."));
    }
    Ok(CityEventFields {
        venue_id: venue.id.0,
        starts_at,
        ends_at,
        time_zone: venue.time_zone.name().to_owned(),
        regular_price_cents: regular,
        early_bird_price_cents,
        early_bird_until,
        group_price_cents,
        group_min_quantity,
    })
}

fn not_found() -> ApiError {
    ApiError::not_found("city_event_not_found", "No city event has this id.")
}

pub async fn list(state: &AppState) -> ApiResult<Vec<AdminCityEvent>> {
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::catalogue::city_events(&mut conn).await?.iter().map(AdminCityEvent::new).collect())
}

pub async fn get(state: &AppState, id: i64) -> ApiResult<AdminCityEvent> {
    let mut conn = db::connection(&state.pool).await?;
    db::catalogue::city_event(&mut conn, id).await?.map(|d| AdminCityEvent::new(&d)).ok_or_else(not_found)
}

fn db_refusal(e: diesel::result::Error) -> ApiError {
    use diesel::result::{DatabaseErrorKind, Error};
    match &e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            ApiError::conflict("duplicate_city_event", "This venue already has the masterclass at this time.")
        }
        Error::DatabaseError(DatabaseErrorKind::CheckViolation, info) if info.constraint_name() == Some("city_events_no_oversell") => {
            ApiError::conflict("capacity_below_taken", "More seats are held or sold than this capacity.").field("capacity")
        }
        Error::DatabaseError(DatabaseErrorKind::CheckViolation | DatabaseErrorKind::ForeignKeyViolation, _) => {
            ApiError::unprocessable("invalid_city_event", "body", "The database refused these values.")
        }
        _ => e.into(),
    }
}

pub async fn create(state: &AppState, who: &AdminSession, input: &CityEventInput) -> ApiResult<AdminCityEvent> {
    let city_id = input.city_id.ok_or_else(|| ApiError::unprocessable("missing_field", "city_id", "Choose the city."))?;
    let status = match input.status.as_deref().map_or(Some(SalesStatus::Draft), SalesStatus::parse) {
        Some(s @ (SalesStatus::Draft | SalesStatus::OnSale | SalesStatus::Closed)) => s,
        _ => return Err(ApiError::unprocessable("invalid_status", "status", "A new city event is draft, on_sale or closed.")),
    };
    let mut conn = db::connection(&state.pool).await?;
    let venue = db::admin::venue(&mut conn, input.venue_id).await?.filter(|v| v.city_id == CityId(city_id));
    let venue = venue.ok_or_else(|| ApiError::unprocessable("invalid_venue", "venue_id", "Choose a venue of this city."))?;
    let f = fields(input, &venue)?;
    let masterclasses = db::catalogue::masterclass_events(&mut conn).await?;
    let masterclass = match input.masterclass_id {
        Some(id) => masterclasses
            .iter()
            .find(|m| m.id == id)
            .ok_or_else(|| ApiError::unprocessable("invalid_masterclass", "masterclass_id", "Choose an existing masterclass."))?,
        None => match masterclasses.as_slice() {
            [] => return Err(ApiError::conflict("no_masterclass", "No masterclass event exists.")),
            [only] => only,
            _ => return Err(ApiError::unprocessable("missing_field", "masterclass_id", "Choose the masterclass.")),
        },
    };
    let id =
        db::admin::insert_city_event(&mut conn, masterclass.id, city_id, &f, input.capacity, status.as_str()).await.map_err(db_refusal)?;
    let details = db::catalogue::city_event(&mut conn, id).await?.ok_or_else(not_found)?;
    drop(conn);
    state.registry.install(details.clone());
    let view = AdminCityEvent::new(&details);
    audit::record(&mut db::connection(&state.pool).await?, who, "city_event.create", "city_event", &id.to_string(), None, view.json())
        .await?;
    Ok(view)
}

/// Edits a city event. Capacity goes through the actor (or the database when sales never
/// opened since start); everything else is written, then the actor's prices follow.
pub async fn update(state: &AppState, who: &AdminSession, id: i64, input: &CityEventInput) -> ApiResult<AdminCityEvent> {
    let mut conn = db::connection(&state.pool).await?;
    let details = db::catalogue::city_event(&mut conn, id).await?.ok_or_else(not_found)?;
    let before = AdminCityEvent::new(&details);
    let venue = db::admin::venue(&mut conn, input.venue_id).await?.filter(|v| v.city_id == details.city.id);
    let venue = venue.ok_or_else(|| ApiError::unprocessable("invalid_venue", "venue_id", "Choose a venue of this city."))?;
    let f = fields(input, &venue)?;
    drop(conn);
    if input.capacity != details.event.capacity {
        set_capacity(state, id, input.capacity).await?;
    }
    let mut conn = db::connection(&state.pool).await?;
    db::admin::update_city_event(&mut conn, id, &f).await.map_err(db_refusal)?;
    let details = db::catalogue::city_event(&mut conn, id).await?.ok_or_else(not_found)?;
    drop(conn);
    state.registry.refresh(details.clone());
    let after = AdminCityEvent::new(&details);
    audit::record(
        &mut db::connection(&state.pool).await?,
        who,
        "city_event.update",
        "city_event",
        &id.to_string(),
        before.json(),
        after.json(),
    )
    .await?;
    Ok(after)
}

async fn set_capacity(state: &AppState, id: i64, capacity: i32) -> ApiResult<()> {
    match state.registry.actor(CityEventId(id)) {
        Some(h) => h.set_capacity(capacity).await.map_err(ApiError::from),
        None => {
            let mut conn = db::connection(&state.pool).await?;
            db::admin::set_capacity(&mut conn, id, capacity).await.map_err(db_refusal)
        }
    }
}

/// Opens (`true`) or closes sales, decided by the actor in its turn (started if needed).
pub async fn set_sales(state: &AppState, who: &AdminSession, id: i64, open: bool) -> ApiResult<AdminCityEvent> {
    let before = get(state, id).await?;
    if !matches!(before.status, SalesStatus::OnSale | SalesStatus::Closed | SalesStatus::Draft) {
        return Err(ApiError::conflict("wrong_status", "A cancelled city event cannot be opened or closed.").with_status(before.status));
    }
    let status = if open { SalesStatus::OnSale } else { SalesStatus::Closed }.as_str();
    match state.registry.actor(CityEventId(id)) {
        Some(h) => h.set_status(status).await?,
        None if open => {
            let h = state.registry.ensure_actor(CityEventId(id)).await?;
            h.set_status(status).await?;
        }
        None => {
            let mut conn = db::connection(&state.pool).await?;
            db::admin::set_status(&mut conn, id, status).await?;
            let details = db::catalogue::city_event(&mut conn, id).await?.ok_or_else(not_found)?;
            state.registry.refresh(details);
        }
    }
    let after = get(state, id).await?;
    let action = if open { "city_event.open_sales" } else { "city_event.close_sales" };
    audit::record(&mut db::connection(&state.pool).await?, who, action, "city_event", &id.to_string(), before.json(), after.json()).await?;
    Ok(after)
}

/// Venues by city, for the forms.
pub async fn venues(state: &AppState) -> ApiResult<Vec<serde_json::Value>> {
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::admin::venues(&mut conn)
        .await?
        .into_iter()
        .map(|(v, c)| json!({"id": v.id, "city_id": c.id, "city": c.name_fr, "city_en": c.name_en, "name": v.name, "time_zone": v.time_zone.name()}))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_follow_the_venue_zone() {
        let tz: Tz = "America/Halifax".parse().unwrap();
        let t = parse_local("2027-09-14T09:00", tz, "local_start").unwrap();
        assert_eq!(t.to_rfc3339(), "2027-09-14T12:00:00+00:00");
        // 2027-03-14 02:30 does not exist in Halifax (clocks go from 2:00 to 3:00).
        assert_eq!(parse_local("2027-03-14T02:30", tz, "local_start").unwrap_err().detail.code, "invalid_datetime");
        assert_eq!(parse_local("14/09/2027", tz, "local_start").unwrap_err().detail.field.as_deref(), Some("local_start"));
    }
}
