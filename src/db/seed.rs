//! The demo catalogue (`billetterie seed`, and on first start in development). The data is SQL in
//! `seed.sql`, written to be run any number of times.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;

use super::schema::masterclass_events;

pub const DEMO_SQL: &str = include_str!("seed.sql");

/// Inserts what is missing of the demo catalogue.
pub fn seed_demo(conn: &mut PgConnection) -> anyhow::Result<()> {
    conn.batch_execute(&format!("BEGIN; {DEMO_SQL} COMMIT;"))?;
    Ok(())
}

/// True when the catalogue has no masterclass event yet (a fresh database).
pub fn is_empty(conn: &mut PgConnection) -> anyhow::Result<bool> {
    let n: i64 = masterclass_events::table.count().get_result(conn)?;
    Ok(n == 0)
}
