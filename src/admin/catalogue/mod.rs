//! The catalogue as the organiser sets it up: masterclasses, cities, venues, each province's
//! sales taxes and the promotion codes with their usage. Dates and their price tiers are
//! `admin::city_events`; the facts printed about them are `admin::facts`.
//!
//! Each write parses its whole input first, then writes in one statement, audits it, and makes
//! this instance follow at once: the pages' facts are reloaded and every date's actor gets its
//! new offer (a tax, a city's code, a venue's name are part of what it quotes and prints).

pub mod api;
pub mod inputs;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use self::inputs::{CityInput, MasterclassInput, PromoCodeInput, SalesTaxInput, VenueInput};
use super::audit;
use super::session::AdminSession;
use crate::db::{self, AsyncConn};
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

macro_rules! record {
    ($name:ident, $input:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Serialize, ToSchema)]
        pub struct $name {
            pub id: i64,
            #[serde(flatten)]
            pub fields: $input,
        }
    };
}

record!(Masterclass, MasterclassInput, "A masterclass as stored.");
record!(City, CityInput, "A city as stored.");
record!(Venue, VenueInput, "A venue as stored.");
record!(SalesTax, SalesTaxInput, "A tax line as stored.");

/// A promotion code as stored, with its uses (bookings held or paid) now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PromoCode {
    pub id: i64,
    #[serde(flatten)]
    pub fields: PromoCodeInput,
    pub uses: i64,
}

/// One code's use on one date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PromoUsage {
    pub code: String,
    pub city_event_id: i64,
    /// Bookings held now (awaiting payment) with the code.
    pub held: i64,
    /// Bookings paid with the code, their seats and what they were given off, in cents.
    pub paid: i64,
    pub seats_paid: i64,
    pub discount_cents: i64,
}

fn missing(code: &'static str, what: &str) -> ApiError {
    ApiError::not_found(code, format!("No {what} has this id."))
}

/// A database refusal of a parsed input: a duplicate names the unique field, anything else is
/// the server's fault.
fn refused(e: diesel::result::Error, unique_field: &str) -> ApiError {
    use diesel::result::{DatabaseErrorKind, Error};
    match &e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let field = match info.constraint_name() {
                Some(c) if c.ends_with("_code_key") => "code",
                _ => unique_field,
            };
            ApiError::conflict("duplicate", "Another record already has this value.").field(field)
        }
        Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            let field = if info.constraint_name().is_some_and(|c| c.contains("city_event")) { "city_event_id" } else { "city_id" };
            ApiError::unprocessable("invalid_reference", field, "Choose an existing record.")
        }
        _ => e.into(),
    }
}

/// After a write: the audit entry, then this instance follows (pages' facts, every actor's offer).
async fn written(
    state: &AppState,
    conn: &mut AsyncConn,
    who: &AdminSession,
    action: &str,
    target: (&str, i64),
    change: [Option<serde_json::Value>; 2],
) -> ApiResult<()> {
    let [before, after] = change;
    audit::record(conn, who, action, target.0, &target.1.to_string(), before, after).await?;
    state.facts.reload(conn).await?;
    for details in db::catalogue::city_events(conn).await? {
        state.registry.refresh(details);
    }
    Ok(())
}

// Masterclasses.

pub async fn masterclasses(state: &AppState) -> ApiResult<Vec<Masterclass>> {
    let mut conn = db::connection(&state.pool).await?;
    let rows = db::catalogue::masterclass_events(&mut conn).await?;
    Ok(rows.iter().map(|m| Masterclass { id: m.id, fields: MasterclassInput::from_row(m) }).collect())
}

pub async fn masterclass(state: &AppState, id: i64) -> ApiResult<Masterclass> {
    masterclasses(state).await?.into_iter().find(|m| m.id == id).ok_or_else(|| missing("masterclass_not_found", "masterclass"))
}

pub async fn save_masterclass(state: &AppState, who: &AdminSession, id: Option<i64>, input: &MasterclassInput) -> ApiResult<Masterclass> {
    let f = input.parse()?;
    let before = match id {
        Some(id) => Some(masterclass(state, id).await?),
        None => None,
    };
    let mut conn = db::connection(&state.pool).await?;
    let id = match id {
        Some(id) => {
            db::admin::update_masterclass(&mut conn, id, &f).await.map_err(|e| refused(e, "slug"))?;
            id
        }
        None => db::admin::insert_masterclass(&mut conn, &f).await.map_err(|e| refused(e, "slug"))?,
    };
    let after = masterclass(state, id).await?;
    let action = if before.is_some() { "masterclass.update" } else { "masterclass.create" };
    written(state, &mut conn, who, action, ("masterclass", id), [before.map(|b| json!(b)), Some(json!(after))]).await?;
    Ok(after)
}

// Cities.

pub async fn cities(state: &AppState) -> ApiResult<Vec<City>> {
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::admin::cities(&mut conn).await?.iter().map(|c| City { id: c.id.0, fields: CityInput::from_row(c) }).collect())
}

pub async fn city(state: &AppState, id: i64) -> ApiResult<City> {
    cities(state).await?.into_iter().find(|c| c.id == id).ok_or_else(|| missing("city_not_found", "city"))
}

pub async fn save_city(state: &AppState, who: &AdminSession, id: Option<i64>, input: &CityInput) -> ApiResult<City> {
    let f = input.parse()?;
    let mut conn = db::connection(&state.pool).await?;
    let before = match id {
        Some(id) => {
            let before = city(state, id).await?;
            if before.fields.code != f.code && db::admin::city_in_use(&mut conn, id).await? {
                return Err(
                    ApiError::conflict("city_code_in_use", "Booking references of this city already start with its code.").field("code")
                );
            }
            db::admin::update_city(&mut conn, id, &f).await.map_err(|e| refused(e, "slug"))?;
            Some(before)
        }
        None => None,
    };
    let id = match id {
        Some(id) => id,
        None => db::admin::insert_city(&mut conn, &f).await.map_err(|e| refused(e, "slug"))?,
    };
    let after = city(state, id).await?;
    let action = if before.is_some() { "city.update" } else { "city.create" };
    written(state, &mut conn, who, action, ("city", id), [before.map(|b| json!(b)), Some(json!(after))]).await?;
    Ok(after)
}

// Venues.

pub async fn venues(state: &AppState) -> ApiResult<Vec<Venue>> {
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::admin::venues(&mut conn).await?.iter().map(|(v, _)| Venue { id: v.id.0, fields: VenueInput::from_row(v) }).collect())
}

pub async fn venue(state: &AppState, id: i64) -> ApiResult<Venue> {
    venues(state).await?.into_iter().find(|v| v.id == id).ok_or_else(|| missing("venue_not_found", "venue"))
}

pub async fn save_venue(state: &AppState, who: &AdminSession, id: Option<i64>, input: &VenueInput) -> ApiResult<Venue> {
    let f = input.parse()?;
    let mut conn = db::connection(&state.pool).await?;
    let before = match id {
        Some(id) => {
            let before = venue(state, id).await?;
            let moved = before.fields.time_zone != f.time_zone || before.fields.city_id != f.city_id;
            if moved && db::admin::venue_in_use(&mut conn, id).await? {
                // Its dates' local times were set in this zone and city; changing either under
                // them would silently move every date.
                let field = if before.fields.city_id != f.city_id { "city_id" } else { "time_zone" };
                return Err(ApiError::conflict("venue_in_use", "Dates are held at this venue; its city and time zone stay.").field(field));
            }
            db::admin::update_venue(&mut conn, id, &f).await.map_err(|e| refused(e, "name"))?;
            Some(before)
        }
        None => None,
    };
    let id = match id {
        Some(id) => id,
        None => db::admin::insert_venue(&mut conn, &f).await.map_err(|e| refused(e, "name"))?,
    };
    let after = venue(state, id).await?;
    let action = if before.is_some() { "venue.update" } else { "venue.create" };
    written(state, &mut conn, who, action, ("venue", id), [before.map(|b| json!(b)), Some(json!(after))]).await?;
    Ok(after)
}

// Sales taxes.

pub async fn sales_taxes(state: &AppState) -> ApiResult<Vec<SalesTax>> {
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::admin::sales_taxes(&mut conn).await?.iter().map(|t| SalesTax { id: t.id, fields: SalesTaxInput::from_row(t) }).collect())
}

pub async fn sales_tax(state: &AppState, id: i64) -> ApiResult<SalesTax> {
    let mut conn = db::connection(&state.pool).await?;
    let row = db::admin::sales_tax(&mut conn, id).await?.ok_or_else(|| missing("sales_tax_not_found", "tax line"))?;
    Ok(SalesTax { id, fields: SalesTaxInput::from_row(&row) })
}

pub async fn save_sales_tax(state: &AppState, who: &AdminSession, id: Option<i64>, input: &SalesTaxInput) -> ApiResult<SalesTax> {
    let f = input.parse()?;
    let before = match id {
        Some(id) => Some(sales_tax(state, id).await?),
        None => None,
    };
    let mut conn = db::connection(&state.pool).await?;
    let id = match id {
        Some(id) => {
            db::admin::update_sales_tax(&mut conn, id, &f).await.map_err(|e| refused(e, "code"))?;
            id
        }
        None => db::admin::insert_sales_tax(&mut conn, &f).await.map_err(|e| refused(e, "code"))?,
    };
    let after = sales_tax(state, id).await?;
    let action = if before.is_some() { "sales_tax.update" } else { "sales_tax.create" };
    written(state, &mut conn, who, action, ("sales_tax", id), [before.map(|b| json!(b)), Some(json!(after))]).await?;
    Ok(after)
}

/// Bookings already made keep the tax lines they were quoted (stored with each booking).
pub async fn delete_sales_tax(state: &AppState, who: &AdminSession, id: i64) -> ApiResult<()> {
    let before = sales_tax(state, id).await?;
    let mut conn = db::connection(&state.pool).await?;
    db::admin::delete_sales_tax(&mut conn, id).await?;
    written(state, &mut conn, who, "sales_tax.delete", ("sales_tax", id), [Some(json!(before)), None]).await
}

// Promotion codes.

pub async fn promo_codes(state: &AppState) -> ApiResult<Vec<PromoCode>> {
    let mut conn = db::connection(&state.pool).await?;
    let usage = db::admin::promo_usage(&mut conn).await?;
    Ok(db::admin::promo_codes(&mut conn)
        .await?
        .iter()
        .map(|p| PromoCode {
            id: p.id,
            fields: PromoCodeInput::from_row(p),
            uses: usage.iter().filter(|u| u.code == p.code).map(|u| u.held + u.paid).sum(),
        })
        .collect())
}

pub async fn promo_code(state: &AppState, id: i64) -> ApiResult<PromoCode> {
    promo_codes(state).await?.into_iter().find(|p| p.id == id).ok_or_else(|| missing("promo_code_not_found", "promotion code"))
}

pub async fn save_promo_code(state: &AppState, who: &AdminSession, id: Option<i64>, input: &PromoCodeInput) -> ApiResult<PromoCode> {
    let f = input.parse()?;
    let before = match id {
        Some(id) => Some(promo_code(state, id).await?),
        None => None,
    };
    let mut conn = db::connection(&state.pool).await?;
    if let Some(event) = f.city_event_id {
        db::catalogue::city_event(&mut conn, event)
            .await?
            .ok_or_else(|| ApiError::unprocessable("invalid_reference", "city_event_id", "Choose an existing date."))?;
    }
    let id = match id {
        Some(id) => {
            db::admin::update_promo(&mut conn, id, &f).await.map_err(|e| refused(e, "code"))?;
            id
        }
        None => db::admin::insert_promo(&mut conn, &f).await.map_err(|e| refused(e, "code"))?,
    };
    let after = promo_code(state, id).await?;
    let action = if before.is_some() { "promo_code.update" } else { "promo_code.create" };
    let target = ("promo_code", id);
    audit::record(&mut conn, who, action, target.0, &id.to_string(), before.map(|b| json!(b)), Some(json!(after))).await?;
    Ok(after)
}

/// Refuses the code from now on; bookings already made with it keep their price.
pub async fn deactivate_promo_code(state: &AppState, who: &AdminSession, id: i64) -> ApiResult<PromoCode> {
    let before = promo_code(state, id).await?;
    let mut conn = db::connection(&state.pool).await?;
    db::admin::deactivate_promo(&mut conn, id).await?;
    let after = promo_code(state, id).await?;
    audit::record(&mut conn, who, "promo_code.deactivate", "promo_code", &id.to_string(), Some(json!(before)), Some(json!(after))).await?;
    Ok(after)
}

pub async fn promo_usage(state: &AppState) -> ApiResult<Vec<PromoUsage>> {
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::admin::promo_usage(&mut conn)
        .await?
        .into_iter()
        .map(|u| PromoUsage {
            code: u.code,
            city_event_id: u.city_event_id,
            held: u.held,
            paid: u.paid,
            seats_paid: u.seats_paid,
            discount_cents: u.discount_cents,
        })
        .collect())
}
