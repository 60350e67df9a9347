//! The audit log: who changed what in the back office, and reading it back per target.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::models::*;
use crate::db::schema::*;

pub async fn audit(conn: &mut AsyncPgConnection, row: &NewAudit) -> QueryResult<()> {
    diesel::insert_into(audit_log::table).values(row).execute(conn).await?;
    Ok(())
}

pub async fn audit_entries(conn: &mut AsyncPgConnection, target: Option<(&str, &str)>, limit: i64) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_log::table.select(AuditRow::as_select()).order(audit_log::id.desc()).limit(limit).into_boxed();
    if let Some((kind, id)) = target {
        q = q.filter(audit_log::target_type.eq(kind.to_owned())).filter(audit_log::target_id.eq(id.to_owned()));
    }
    q.load(conn).await
}
