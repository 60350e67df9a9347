//! City-event edits from the back office: venues to choose from, creation, the fields the
//! organiser edits, and capacity or status for a city event that has no actor.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::models::*;
use crate::db::schema::*;

#[derive(Debug, Clone)]
pub struct CityEventFields {
    pub venue_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: String,
    pub regular_price_cents: i64,
    pub early_bird_price_cents: Option<i64>,
    pub early_bird_until: Option<DateTime<Utc>>,
    pub group_price_cents: Option<i64>,
    pub group_min_quantity: Option<i32>,
}

pub async fn venue(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<VenueRow>> {
    venues::table.find(id).select(VenueRow::as_select()).first(conn).await.optional()
}

pub async fn venues(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(VenueRow, CityRow)>> {
    venues::table
        .inner_join(cities::table)
        .select((VenueRow::as_select(), CityRow::as_select()))
        .order((cities::name_en, venues::name))
        .load(conn)
        .await
}

pub async fn insert_city_event(
    conn: &mut AsyncPgConnection,
    masterclass_event_id: i64,
    city_id: i64,
    f: &CityEventFields,
    capacity: i32,
    status: &str,
) -> QueryResult<i64> {
    diesel::insert_into(city_events::table)
        .values((
            city_events::masterclass_event_id.eq(masterclass_event_id),
            city_events::city_id.eq(city_id),
            city_events::venue_id.eq(f.venue_id),
            city_events::starts_at.eq(f.starts_at),
            city_events::ends_at.eq(f.ends_at),
            city_events::time_zone.eq(&f.time_zone),
            city_events::capacity.eq(capacity),
            city_events::regular_price_cents.eq(f.regular_price_cents),
            city_events::early_bird_price_cents.eq(f.early_bird_price_cents),
            city_events::early_bird_until.eq(f.early_bird_until),
            city_events::group_price_cents.eq(f.group_price_cents),
            city_events::group_min_quantity.eq(f.group_min_quantity),
            city_events::status.eq(status),
        ))
        .returning(city_events::id)
        .get_result(conn)
        .await
}

/// Everything but capacity and status, which the actor decides.
pub async fn update_city_event(conn: &mut AsyncPgConnection, id: i64, f: &CityEventFields) -> QueryResult<()> {
    diesel::update(city_events::table.find(id))
        .set((
            city_events::venue_id.eq(f.venue_id),
            city_events::starts_at.eq(f.starts_at),
            city_events::ends_at.eq(f.ends_at),
            city_events::time_zone.eq(&f.time_zone),
            city_events::regular_price_cents.eq(f.regular_price_cents),
            city_events::early_bird_price_cents.eq(f.early_bird_price_cents),
            city_events::early_bird_until.eq(f.early_bird_until),
            city_events::group_price_cents.eq(f.group_price_cents),
            city_events::group_min_quantity.eq(f.group_min_quantity),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// For a city event without an actor: the CHECK refuses a capacity below what is taken.
pub async fn set_capacity(conn: &mut AsyncPgConnection, id: i64, capacity: i32) -> QueryResult<()> {
    diesel::update(city_events::table.find(id)).set(city_events::capacity.eq(capacity)).execute(conn).await?;
    Ok(())
}

pub async fn set_status(conn: &mut AsyncPgConnection, id: i64, status: &str) -> QueryResult<()> {
    diesel::update(city_events::table.find(id)).set(city_events::status.eq(status)).execute(conn).await?;
    Ok(())
}
