//! Read side of the catalogue: masterclass events, cities, venues, city events, prices and taxes.

use crate::domain::BookingId;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::*;
use super::schema::*;
use crate::domain::taxes::TaxRate;
use crate::domain::BookingStatus;

/// A city event with everything a page, a quote or an actor needs about it.
#[derive(Debug, Clone)]
pub struct CityEventDetails {
    pub event: CityEventRow,
    pub city: CityRow,
    pub venue: VenueRow,
    pub taxes: Vec<TaxRate>,
}

pub async fn masterclass_events(conn: &mut diesel_async::AsyncPgConnection) -> QueryResult<Vec<MasterclassEventRow>> {
    masterclass_events::table.select(MasterclassEventRow::as_select()).order(masterclass_events::id).load(conn).await
}

/// Every city event (any status), soonest first.
pub async fn city_events(conn: &mut diesel_async::AsyncPgConnection) -> QueryResult<Vec<CityEventDetails>> {
    let rows: Vec<(CityEventRow, CityRow, VenueRow)> = city_events::table
        .inner_join(cities::table)
        .inner_join(venues::table.on(venues::id.eq(city_events::venue_id)))
        .select((CityEventRow::as_select(), CityRow::as_select(), VenueRow::as_select()))
        .order((city_events::starts_at, city_events::id))
        .load(conn)
        .await?;
    let taxes = taxes_by_province(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(event, city, venue)| {
            let taxes = taxes.get(city.province.as_str()).cloned().unwrap_or_default();
            CityEventDetails { event, city, venue, taxes }
        })
        .collect())
}

pub async fn city_event(conn: &mut diesel_async::AsyncPgConnection, id: i64) -> QueryResult<Option<CityEventDetails>> {
    let row: Option<(CityEventRow, CityRow, VenueRow)> = city_events::table
        .inner_join(cities::table)
        .inner_join(venues::table.on(venues::id.eq(city_events::venue_id)))
        .filter(city_events::id.eq(id))
        .select((CityEventRow::as_select(), CityRow::as_select(), VenueRow::as_select()))
        .first(conn)
        .await
        .optional()?;
    let Some((event, city, venue)) = row else { return Ok(None) };
    let taxes = taxes_by_province(conn).await?.remove(city.province.as_str()).unwrap_or_default();
    Ok(Some(CityEventDetails { event, city, venue, taxes }))
}

async fn taxes_by_province(conn: &mut diesel_async::AsyncPgConnection) -> QueryResult<HashMap<String, Vec<TaxRate>>> {
    let rows: Vec<SalesTaxRow> = sales_taxes::table
        .select(SalesTaxRow::as_select())
        .order((sales_taxes::province, sales_taxes::position, sales_taxes::code))
        .load(conn)
        .await?;
    let mut map: HashMap<String, Vec<TaxRate>> = HashMap::new();
    for r in rows {
        map.entry(r.province.clone()).or_default().push(TaxRate {
            code: r.code,
            label_en: r.label_en,
            label_fr: r.label_fr,
            rate_per_100k: r.rate_per_100k,
            registration_number: r.registration_number,
        });
    }
    Ok(map)
}

/// The holds that still occupy seats of a city event, with their expiry: what an actor rebuilds
/// its memory from.
pub async fn active_holds(
    conn: &mut diesel_async::AsyncPgConnection,
    city_event_id: i64,
) -> QueryResult<Vec<(BookingId, i32, DateTime<Utc>)>> {
    bookings::table
        .filter(bookings::city_event_id.eq(city_event_id))
        .filter(bookings::status.eq(BookingStatus::Held))
        .select((bookings::id, bookings::quantity, bookings::hold_expires_at))
        .load(conn)
        .await
}

/// The percentage a promotion code takes off for this city event now, if the code is valid
/// (active, inside its validity window, for this date or all).
pub async fn promo_percent(
    conn: &mut diesel_async::AsyncPgConnection,
    code: &str,
    city_event_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Option<i32>> {
    promo_codes::table
        .filter(promo_codes::code.eq(code))
        .filter(promo_codes::active.eq(true))
        .filter(promo_codes::city_event_id.is_null().or(promo_codes::city_event_id.eq(city_event_id)))
        .filter(promo_codes::valid_until.is_null().or(promo_codes::valid_until.gt(now)))
        .filter(promo_codes::valid_from.is_null().or(promo_codes::valid_from.le(now)))
        // Fixed-amount codes are not priced yet: they are refused rather than misapplied.
        .filter(promo_codes::kind.eq("percent"))
        .select(promo_codes::percent_off)
        .first::<Option<i32>>(conn)
        .await
        .optional()
        .map(Option::flatten)
}

/// (capacity, seats_held, seats_sold) as the database counts them.
pub async fn seat_counters(conn: &mut diesel_async::AsyncPgConnection, city_event_id: i64) -> QueryResult<(i32, i32, i32)> {
    city_events::table
        .find(city_event_id)
        .select((city_events::capacity, city_events::seats_held, city_events::seats_sold))
        .first(conn)
        .await
}
