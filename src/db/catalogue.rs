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

/// A promotion code valid for this city event now (active, inside its validity window, for
/// this date or all): its id, kind, amount and usage cap.
pub async fn valid_promo(
    conn: &mut diesel_async::AsyncPgConnection,
    code: &str,
    city_event_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Option<super::admin::PromoRecord>> {
    promo_codes::table
        .filter(promo_codes::code.eq(code))
        .filter(promo_codes::active.eq(true))
        .filter(promo_codes::city_event_id.is_null().or(promo_codes::city_event_id.eq(city_event_id)))
        .filter(promo_codes::valid_until.is_null().or(promo_codes::valid_until.gt(now)))
        .filter(promo_codes::valid_from.is_null().or(promo_codes::valid_from.le(now)))
        .select(super::admin::PromoRecord::as_select())
        .first(conn)
        .await
        .optional()
}

/// Claims one use of a capped code, or `None` when its uses (bookings held or paid, plus claims
/// of the last minute still in flight) already reach `cap`. The code's row is locked only for
/// this transaction, so buyers of the last use queue here and the second sees the first's claim.
pub async fn claim_promo_use(conn: &mut diesel_async::AsyncPgConnection, promo_id: i64, code: &str, cap: i64) -> QueryResult<Option<i64>> {
    use diesel_async::AsyncConnection;
    let code = code.to_owned();
    conn.transaction(async |conn| {
        promo_codes::table.find(promo_id).select(promo_codes::id).for_update().first::<i64>(conn).await?;
        let booked: i64 = bookings::table
            .filter(bookings::promo_code.eq(&code))
            .filter(bookings::status.eq_any(["held", "confirmed"]))
            .count()
            .get_result(conn)
            .await?;
        let recent = Utc::now() - chrono::Duration::minutes(1);
        let claimed: i64 = promo_claims::table
            .filter(promo_claims::promo_code_id.eq(promo_id))
            .filter(promo_claims::claimed_at.gt(recent))
            .count()
            .get_result(conn)
            .await?;
        if booked + claimed >= cap {
            return Ok(None);
        }
        diesel::insert_into(promo_claims::table)
            .values(promo_claims::promo_code_id.eq(promo_id))
            .returning(promo_claims::id)
            .get_result(conn)
            .await
            .map(Some)
    })
    .await
}

/// The claim is over: the hold it was for is committed (and counts itself) or was refused.
pub async fn release_promo_claim(conn: &mut diesel_async::AsyncPgConnection, claim_id: i64) -> QueryResult<()> {
    // Stale claims of any code go too: a crash between claim and release leaves one behind.
    let stale = Utc::now() - chrono::Duration::minutes(1);
    diesel::delete(promo_claims::table.filter(promo_claims::id.eq(claim_id).or(promo_claims::claimed_at.lt(stale))))
        .execute(conn)
        .await
        .map(drop)
}

/// (capacity, seats_held, seats_sold) as the database counts them.
pub async fn seat_counters(conn: &mut diesel_async::AsyncPgConnection, city_event_id: i64) -> QueryResult<(i32, i32, i32)> {
    city_events::table
        .find(city_event_id)
        .select((city_events::capacity, city_events::seats_held, city_events::seats_sold))
        .first(conn)
        .await
}
