//! A masterclass's resources (files and links) as the back office adds them and attendees read
//! them; the files' bytes are on disk (`resources_dir`), named by their SHA-256.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::*;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = resources)]
pub struct NewResource {
    pub masterclass_event_id: i64,
    pub title: String,
    pub url: Option<String>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = resources, check_for_backend(diesel::pg::Pg))]
pub struct ResourceRow {
    pub id: i64,
    pub masterclass_event_id: i64,
    pub title: String,
    /// A link's address; absent for a file.
    pub url: Option<String>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub size_bytes: Option<i64>,
    /// The file's SHA-256, hex.
    pub sha256: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, row: &NewResource) -> QueryResult<ResourceRow> {
    diesel::insert_into(resources::table).values(row).returning(ResourceRow::as_returning()).get_result(conn).await
}

/// A masterclass's resources in the order they were added.
pub async fn of_masterclass(conn: &mut AsyncPgConnection, masterclass_event_id: i64) -> QueryResult<Vec<ResourceRow>> {
    resources::table
        .filter(resources::masterclass_event_id.eq(masterclass_event_id))
        .order(resources::id)
        .select(ResourceRow::as_select())
        .load(conn)
        .await
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<ResourceRow>> {
    resources::table.find(id).select(ResourceRow::as_select()).first(conn).await.optional()
}

pub async fn masterclass_exists(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(masterclass_events::table.find(id))).get_result(conn).await
}
