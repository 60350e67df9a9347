//! The one source of the facts pages and mails print (`domain::facts`): read for a date, written
//! by the back office.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{masterclass_events, organiser, programme_items, venue_facts};
pub use crate::domain::facts::DateFacts;
use crate::domain::facts::{Bilingual, MasterclassFacts, Organiser, Policies, ProgrammeItem, VenueFacts};

pub async fn organiser(conn: &mut AsyncPgConnection) -> QueryResult<Organiser> {
    let row: Option<(String, String, String, String)> = organiser::table
        .find(1_i16)
        .select((organiser::legal_name, organiser::address, organiser::support_email, organiser::support_phone))
        .first(conn)
        .await
        .optional()?;
    Ok(row
        .map(|(legal_name, address, support_email, support_phone)| Organiser { legal_name, address, support_email, support_phone })
        .unwrap_or_default())
}

pub async fn save_organiser(conn: &mut AsyncPgConnection, o: &Organiser) -> QueryResult<()> {
    diesel::insert_into(organiser::table)
        .values((
            organiser::id.eq(1_i16),
            organiser::legal_name.eq(&o.legal_name),
            organiser::address.eq(&o.address),
            organiser::support_email.eq(&o.support_email),
            organiser::support_phone.eq(&o.support_phone),
        ))
        .on_conflict(organiser::id)
        .do_update()
        .set((
            organiser::legal_name.eq(&o.legal_name),
            organiser::address.eq(&o.address),
            organiser::support_email.eq(&o.support_email),
            organiser::support_phone.eq(&o.support_phone),
            organiser::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

pub async fn policies(conn: &mut AsyncPgConnection, masterclass_id: i64) -> QueryResult<Option<Policies>> {
    let row: Option<(i32, i32, i32, i32, i32)> = masterclass_events::table
        .find(masterclass_id)
        .select((
            masterclass_events::ce_hours,
            masterclass_events::refund_window_days,
            masterclass_events::name_change_days,
            masterclass_events::resources_days,
            masterclass_events::certificate_days,
        ))
        .first(conn)
        .await
        .optional()?;
    let days = |v: i32| u32::try_from(v).unwrap_or(0);
    Ok(row.map(|(ce, refund, names, resources, certificate)| Policies {
        ce_hours: days(ce),
        refund_window_days: days(refund),
        name_change_days: days(names),
        resources_days: days(resources),
        certificate_days: days(certificate),
    }))
}

pub async fn save_policies(conn: &mut AsyncPgConnection, masterclass_id: i64, p: &Policies) -> QueryResult<usize> {
    let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    diesel::update(masterclass_events::table.find(masterclass_id))
        .set((
            masterclass_events::ce_hours.eq(n(p.ce_hours)),
            masterclass_events::refund_window_days.eq(n(p.refund_window_days)),
            masterclass_events::name_change_days.eq(n(p.name_change_days)),
            masterclass_events::resources_days.eq(n(p.resources_days)),
            masterclass_events::certificate_days.eq(n(p.certificate_days)),
        ))
        .execute(conn)
        .await
}

pub async fn programme(conn: &mut AsyncPgConnection, masterclass_id: i64) -> QueryResult<Vec<ProgrammeItem>> {
    let rows: Vec<(i32, Option<i32>, String, String, bool)> = programme_items::table
        .filter(programme_items::masterclass_event_id.eq(masterclass_id))
        .order((programme_items::position, programme_items::id))
        .select((
            programme_items::starts_minutes,
            programme_items::ends_minutes,
            programme_items::label_en,
            programme_items::label_fr,
            programme_items::brief,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(starts_minutes, ends_minutes, en, fr, brief)| ProgrammeItem {
            starts_minutes,
            ends_minutes,
            label: Bilingual { en, fr },
            brief,
        })
        .collect())
}

/// Replaces the whole programme in one transaction: a reader sees the old one or the new one.
pub async fn save_programme(conn: &mut AsyncPgConnection, masterclass_id: i64, items: &[ProgrammeItem]) -> QueryResult<()> {
    let items = items.to_vec();
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        diesel::delete(programme_items::table.filter(programme_items::masterclass_event_id.eq(masterclass_id))).execute(conn).await?;
        let rows: Vec<_> = items
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    programme_items::masterclass_event_id.eq(masterclass_id),
                    programme_items::position.eq(i16::try_from(i).unwrap_or(i16::MAX)),
                    programme_items::starts_minutes.eq(p.starts_minutes),
                    programme_items::ends_minutes.eq(p.ends_minutes),
                    programme_items::label_en.eq(p.label.en.clone()),
                    programme_items::label_fr.eq(p.label.fr.clone()),
                    programme_items::brief.eq(p.brief),
                )
            })
            .collect();
        diesel::insert_into(programme_items::table).values(rows).execute(conn).await?;
        Ok(())
    })
    .await
}

type VenueFactsRow = (String, String, String, String, String, String, String, String, String, String, String, String, String);

pub async fn venue(conn: &mut AsyncPgConnection, venue_id: i64) -> QueryResult<VenueFacts> {
    let row: Option<VenueFactsRow> = venue_facts::table
        .find(venue_id)
        .select((
            venue_facts::transit_en,
            venue_facts::transit_fr,
            venue_facts::parking_en,
            venue_facts::parking_fr,
            venue_facts::hotels_en,
            venue_facts::hotels_fr,
            venue_facts::restaurants_en,
            venue_facts::restaurants_fr,
            venue_facts::accessibility_en,
            venue_facts::accessibility_fr,
            venue_facts::wifi_network,
            venue_facts::wifi_password,
            venue_facts::emergency_phone,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row
        .map(|(te, tf, pe, pf, he, hf, re, rf, ae, af, wifi_network, wifi_password, emergency_phone)| VenueFacts {
            transit: Bilingual { en: te, fr: tf },
            parking: Bilingual { en: pe, fr: pf },
            hotels: Bilingual { en: he, fr: hf },
            restaurants: Bilingual { en: re, fr: rf },
            accessibility: Bilingual { en: ae, fr: af },
            wifi_network,
            wifi_password,
            emergency_phone,
        })
        .unwrap_or_default())
}

pub async fn save_venue(conn: &mut AsyncPgConnection, venue_id: i64, f: &VenueFacts) -> QueryResult<()> {
    let values = (
        venue_facts::transit_en.eq(&f.transit.en),
        venue_facts::transit_fr.eq(&f.transit.fr),
        venue_facts::parking_en.eq(&f.parking.en),
        venue_facts::parking_fr.eq(&f.parking.fr),
        venue_facts::hotels_en.eq(&f.hotels.en),
        venue_facts::hotels_fr.eq(&f.hotels.fr),
        venue_facts::restaurants_en.eq(&f.restaurants.en),
        venue_facts::restaurants_fr.eq(&f.restaurants.fr),
        venue_facts::accessibility_en.eq(&f.accessibility.en),
        venue_facts::accessibility_fr.eq(&f.accessibility.fr),
        venue_facts::wifi_network.eq(&f.wifi_network),
        venue_facts::wifi_password.eq(&f.wifi_password),
        venue_facts::emergency_phone.eq(&f.emergency_phone),
    );
    diesel::insert_into(venue_facts::table)
        .values((venue_facts::venue_id.eq(venue_id), values))
        .on_conflict(venue_facts::venue_id)
        .do_update()
        .set((values, venue_facts::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await
        .map(drop)
}

/// The facts of one date: its masterclass's policies and programme, its venue's facts, the
/// organiser.
pub async fn for_date(conn: &mut AsyncPgConnection, masterclass_id: i64, venue_id: i64) -> QueryResult<DateFacts> {
    Ok(DateFacts {
        organiser: organiser(conn).await?,
        masterclass: masterclass(conn, masterclass_id).await?.unwrap_or_default(),
        policies: policies(conn, masterclass_id).await?.unwrap_or_default(),
        programme: programme(conn, masterclass_id).await?,
        venue: venue(conn, venue_id).await?,
    })
}

/// A masterclass's title and presenter.
pub async fn masterclass(conn: &mut AsyncPgConnection, masterclass_id: i64) -> QueryResult<Option<MasterclassFacts>> {
    let row: Option<(String, String, String, String)> = masterclass_events::table
        .find(masterclass_id)
        .select((
            masterclass_events::title_en,
            masterclass_events::title_fr,
            masterclass_events::presenter,
            masterclass_events::presenter_photo_url,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(en, fr, presenter, presenter_photo_url)| MasterclassFacts {
        title: Bilingual::new(en, fr),
        presenter,
        presenter_photo_url,
    }))
}

/// The date the site's general pages speak of: the next one on sale (its masterclass, start,
/// end and zone), else `None`.
pub async fn featured_date(conn: &mut AsyncPgConnection) -> QueryResult<Option<FeaturedDate>> {
    use super::schema::city_events;
    let next: Option<(i64, DateTime<Utc>, DateTime<Utc>, String)> = city_events::table
        .filter(city_events::status.eq(crate::domain::SalesStatus::OnSale))
        .filter(city_events::starts_at.gt(diesel::dsl::now))
        .order(city_events::starts_at)
        .select((city_events::masterclass_event_id, city_events::starts_at, city_events::ends_at, city_events::time_zone))
        .first(conn)
        .await
        .optional()?;
    Ok(next.and_then(|(masterclass_id, starts_at, ends_at, zone)| {
        Some(FeaturedDate { masterclass_id, starts_at, ends_at, time_zone: zone.parse().ok()? })
    }))
}

/// The first masterclass, for the general pages when no date is on sale.
pub async fn first_masterclass(conn: &mut AsyncPgConnection) -> QueryResult<Option<i64>> {
    masterclass_events::table.order(masterclass_events::id).select(masterclass_events::id).first(conn).await.optional()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeaturedDate {
    pub masterclass_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: chrono_tz::Tz,
}
