//! Organiser accounts, their sessions, and the login attempts that throttle guessing.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::models::*;
use crate::db::schema::*;

/// Creates an organiser account, or sets the password of an existing one.
pub async fn upsert_user(conn: &mut AsyncPgConnection, email: &str, password_hash: &str, role: &str) -> QueryResult<(i64, bool)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Bool)]
        created: bool,
    }
    let row: Row = diesel::sql_query(
        "INSERT INTO admin_users (email, password_hash, role) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO UPDATE
             SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, updated_at = now(), disabled = FALSE
         RETURNING id, (xmax = 0) AS created",
    )
    .bind::<Text, _>(email)
    .bind::<Text, _>(password_hash)
    .bind::<Text, _>(role)
    .get_result(conn)
    .await?;
    Ok((row.id, row.created))
}

pub async fn user_by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<AdminUserRow>> {
    admin_users::table.filter(admin_users::email.eq(email)).select(AdminUserRow::as_select()).first(conn).await.optional()
}

pub async fn record_attempt(conn: &mut AsyncPgConnection, email: &str, ip: &str, success: bool) -> QueryResult<()> {
    diesel::insert_into(admin_login_attempts::table)
        .values((admin_login_attempts::email.eq(email), admin_login_attempts::ip.eq(ip), admin_login_attempts::success.eq(success)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Failed attempts since `since` for this address (after its last success) and from this IP,
/// with the time of the oldest failure counted for the address.
pub async fn recent_failures(
    conn: &mut AsyncPgConnection,
    email: &str,
    ip: &str,
    since: DateTime<Utc>,
) -> QueryResult<(i64, Option<DateTime<Utc>>, i64, Option<DateTime<Utc>>)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        by_email: i64,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        email_oldest: Option<DateTime<Utc>>,
        #[diesel(sql_type = BigInt)]
        by_ip: i64,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        ip_oldest: Option<DateTime<Utc>>,
    }
    let row: Row = diesel::sql_query(
        "WITH last_ok AS (
             SELECT max(at) AS at FROM admin_login_attempts WHERE email = $1 AND success
         ), e AS (
             SELECT count(*) AS n, min(at) AS oldest FROM admin_login_attempts
             WHERE email = $1 AND NOT success AND at > $3 AND at > COALESCE((SELECT at FROM last_ok), '-infinity')
         ), i AS (
             SELECT count(*) AS n, min(at) AS oldest FROM admin_login_attempts WHERE ip = $2 AND NOT success AND at > $3
         )
         SELECT e.n AS by_email, e.oldest AS email_oldest, i.n AS by_ip, i.oldest AS ip_oldest FROM e, i",
    )
    .bind::<Text, _>(email)
    .bind::<Text, _>(ip)
    .bind::<Timestamptz, _>(since)
    .get_result(conn)
    .await?;
    Ok((row.by_email, row.email_oldest, row.by_ip, row.ip_oldest))
}

pub async fn create_session(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    user_id: i64,
    expires_at: DateTime<Utc>,
    ip: &str,
    user_agent: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(admin_sessions::table)
        .values((
            admin_sessions::token_hash.eq(token_hash),
            admin_sessions::admin_user_id.eq(user_id),
            admin_sessions::expires_at.eq(expires_at),
            admin_sessions::ip.eq(ip),
            admin_sessions::user_agent.eq(user_agent),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A session found live, and its account.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub session_id: i64,
    pub user_id: i64,
    pub email: String,
    pub role: String,
    pub expires_at: DateTime<Utc>,
}

/// A live session: not past its end, used within the idle limit, its account enabled. Marks it
/// used (at most once a minute, to spare writes).
pub async fn live_session(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
    idle_since: DateTime<Utc>,
) -> QueryResult<Option<LiveSession>> {
    type Row = (i64, i64, String, String, DateTime<Utc>, DateTime<Utc>);
    let row: Option<Row> = admin_sessions::table
        .inner_join(admin_users::table)
        .filter(admin_sessions::token_hash.eq(token_hash))
        .filter(admin_sessions::expires_at.gt(now))
        .filter(admin_sessions::last_seen_at.gt(idle_since))
        .filter(admin_users::disabled.eq(false))
        .select((
            admin_sessions::id,
            admin_users::id,
            admin_users::email,
            admin_users::role,
            admin_sessions::expires_at,
            admin_sessions::last_seen_at,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((session_id, user_id, email, role, expires_at, last_seen)) = row else { return Ok(None) };
    if now - last_seen > chrono::Duration::minutes(1) {
        diesel::update(admin_sessions::table.find(session_id)).set(admin_sessions::last_seen_at.eq(now)).execute(conn).await?;
    }
    Ok(Some(LiveSession { session_id, user_id, email, role, expires_at }))
}

pub async fn end_session(conn: &mut AsyncPgConnection, session_id: i64) -> QueryResult<()> {
    diesel::delete(admin_sessions::table.find(session_id)).execute(conn).await?;
    Ok(())
}
