//! The catalogue as the back office writes it: masterclasses, cities, venues, sales taxes and
//! promotion codes, and the promotion codes' usage.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::*;

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = masterclass_events)]
pub struct MasterclassFields {
    pub slug: String,
    pub title_en: String,
    pub title_fr: String,
    pub summary_en: String,
    pub summary_fr: String,
    pub presenter: String,
    pub presenter_photo_url: String,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = cities)]
pub struct CityFields {
    pub slug: String,
    pub name_en: String,
    pub name_fr: String,
    pub province: String,
    pub code: String,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = venues)]
pub struct VenueFields {
    pub city_id: i64,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = sales_taxes)]
pub struct SalesTaxFields {
    pub province: String,
    pub code: String,
    pub label_en: String,
    pub label_fr: String,
    pub rate_per_100k: i32,
    pub registration_number: String,
    pub position: i16,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = promo_codes, treat_none_as_null = true)]
pub struct PromoFields {
    pub code: String,
    pub city_event_id: Option<i64>,
    pub kind: String,
    pub percent_off: Option<i32>,
    pub amount_off_cents: Option<i64>,
    pub max_uses: Option<i32>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub active: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sales_taxes, check_for_backend(diesel::pg::Pg))]
pub struct SalesTaxRecord {
    pub id: i64,
    pub province: String,
    pub code: String,
    pub label_en: String,
    pub label_fr: String,
    pub rate_per_100k: i32,
    pub registration_number: String,
    pub position: i16,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = promo_codes, check_for_backend(diesel::pg::Pg))]
pub struct PromoRecord {
    pub id: i64,
    pub code: String,
    pub city_event_id: Option<i64>,
    pub kind: String,
    pub percent_off: Option<i32>,
    pub amount_off_cents: Option<i64>,
    pub max_uses: Option<i32>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub active: bool,
}

pub async fn insert_masterclass(conn: &mut AsyncPgConnection, f: &MasterclassFields) -> QueryResult<i64> {
    diesel::insert_into(masterclass_events::table).values(f).returning(masterclass_events::id).get_result(conn).await
}

pub async fn update_masterclass(conn: &mut AsyncPgConnection, id: i64, f: &MasterclassFields) -> QueryResult<usize> {
    diesel::update(masterclass_events::table.find(id)).set(f).execute(conn).await
}

pub async fn cities(conn: &mut AsyncPgConnection) -> QueryResult<Vec<crate::db::models::CityRow>> {
    cities::table.select(crate::db::models::CityRow::as_select()).order(cities::name_en).load(conn).await
}

pub async fn insert_city(conn: &mut AsyncPgConnection, f: &CityFields) -> QueryResult<i64> {
    diesel::insert_into(cities::table).values(f).returning(cities::id).get_result(conn).await
}

pub async fn update_city(conn: &mut AsyncPgConnection, id: i64, f: &CityFields) -> QueryResult<usize> {
    diesel::update(cities::table.find(id)).set(f).execute(conn).await
}

/// True when a city event uses the city: its code then opens references already printed.
pub async fn city_in_use(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(city_events::table.filter(city_events::city_id.eq(id)))).get_result(conn).await
}

pub async fn insert_venue(conn: &mut AsyncPgConnection, f: &VenueFields) -> QueryResult<i64> {
    diesel::insert_into(venues::table).values(f).returning(venues::id).get_result(conn).await
}

pub async fn update_venue(conn: &mut AsyncPgConnection, id: i64, f: &VenueFields) -> QueryResult<usize> {
    diesel::update(venues::table.find(id)).set(f).execute(conn).await
}

/// True when a date is held at the venue: its times were set in the venue's zone.
pub async fn venue_in_use(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(city_events::table.filter(city_events::venue_id.eq(id)))).get_result(conn).await
}

pub async fn sales_taxes(conn: &mut AsyncPgConnection) -> QueryResult<Vec<SalesTaxRecord>> {
    sales_taxes::table
        .select(SalesTaxRecord::as_select())
        .order((sales_taxes::province, sales_taxes::position, sales_taxes::id))
        .load(conn)
        .await
}

pub async fn sales_tax(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<SalesTaxRecord>> {
    sales_taxes::table.find(id).select(SalesTaxRecord::as_select()).first(conn).await.optional()
}

pub async fn insert_sales_tax(conn: &mut AsyncPgConnection, f: &SalesTaxFields) -> QueryResult<i64> {
    diesel::insert_into(sales_taxes::table).values(f).returning(sales_taxes::id).get_result(conn).await
}

pub async fn update_sales_tax(conn: &mut AsyncPgConnection, id: i64, f: &SalesTaxFields) -> QueryResult<usize> {
    diesel::update(sales_taxes::table.find(id)).set(f).execute(conn).await
}

pub async fn delete_sales_tax(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(sales_taxes::table.find(id)).execute(conn).await
}

pub async fn promo_codes(conn: &mut AsyncPgConnection) -> QueryResult<Vec<PromoRecord>> {
    promo_codes::table.select(PromoRecord::as_select()).order(promo_codes::code).load(conn).await
}

pub async fn promo_code(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<PromoRecord>> {
    promo_codes::table.find(id).select(PromoRecord::as_select()).first(conn).await.optional()
}

pub async fn insert_promo(conn: &mut AsyncPgConnection, f: &PromoFields) -> QueryResult<i64> {
    diesel::insert_into(promo_codes::table).values(f).returning(promo_codes::id).get_result(conn).await
}

pub async fn update_promo(conn: &mut AsyncPgConnection, id: i64, f: &PromoFields) -> QueryResult<usize> {
    diesel::update(promo_codes::table.find(id)).set(f).execute(conn).await
}

pub async fn deactivate_promo(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<usize> {
    diesel::update(promo_codes::table.find(id)).set(promo_codes::active.eq(false)).execute(conn).await
}

/// One code's use on one date: bookings held now, bookings paid and what they were given off.
#[derive(Debug, Clone, QueryableByName)]
pub struct PromoUsageRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub code: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub city_event_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub held: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub paid: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub seats_paid: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub discount_cents: i64,
}

pub async fn promo_usage(conn: &mut AsyncPgConnection) -> QueryResult<Vec<PromoUsageRow>> {
    diesel::sql_query(
        "SELECT promo_code AS code, city_event_id,
                count(*) FILTER (WHERE status = 'held') AS held,
                count(*) FILTER (WHERE status = 'confirmed') AS paid,
                COALESCE(sum(quantity) FILTER (WHERE status = 'confirmed'), 0)::BIGINT AS seats_paid,
                COALESCE(sum(discount_cents) FILTER (WHERE status = 'confirmed'), 0)::BIGINT AS discount_cents
         FROM bookings
         WHERE promo_code IS NOT NULL AND status IN ('held', 'confirmed')
         GROUP BY promo_code, city_event_id
         ORDER BY promo_code, city_event_id",
    )
    .load(conn)
    .await
}
