//! `time_zone` columns (`venues`, `city_events`): IANA names in the database, `chrono_tz::Tz` in
//! the rows. The zone is parsed once, as the row is read; a name `chrono_tz` does not know (the
//! database's CHECK and ours disagree) fails the query with a clear error instead of showing
//! times in a zone nobody chose.

use chrono_tz::Tz;
use diesel::deserialize::{FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Text;

use crate::domain::parse_time_zone;

/// What a `text` zone column reads as; rows hold the `Tz` (`#[diesel(deserialize_as = ZoneName)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct ZoneName(pub Tz);

impl FromSql<Text, Pg> for ZoneName {
    fn from_sql(bytes: PgValue<'_>) -> diesel::deserialize::Result<Self> {
        let name = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        parse_time_zone(&name).map(ZoneName).map_err(|e| format!("time zone in the database: {}", e.message).into())
    }
}

impl From<ZoneName> for Tz {
    fn from(zone: ZoneName) -> Self {
        zone.0
    }
}
