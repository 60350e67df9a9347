//! The back office's queries: organiser accounts, sessions and login attempts, the audit log,
//! the dashboard's figures, booking search, city-event edits, exports and the availability-view
//! counter.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Int4, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::*;
use super::schema::*;

// -- accounts, sessions, login attempts ----------------------------------------------------------

/// Creates an organiser account, or sets the password of an existing one.
pub async fn upsert_user(conn: &mut AsyncPgConnection, email: &str, password_hash: &str) -> QueryResult<(i64, bool)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Bool)]
        created: bool,
    }
    let row: Row = diesel::sql_query(
        "INSERT INTO admin_users (email, password_hash) VALUES ($1, $2)
         ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash, updated_at = now(), disabled = FALSE
         RETURNING id, (xmax = 0) AS created",
    )
    .bind::<Text, _>(email)
    .bind::<Text, _>(password_hash)
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

/// A live session: not past its end, used within the idle limit, its account enabled. Marks it
/// used (at most once a minute, to spare writes).
pub async fn live_session(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
    idle_since: DateTime<Utc>,
) -> QueryResult<Option<(i64, i64, String, DateTime<Utc>)>> {
    type Row = (i64, i64, String, DateTime<Utc>, DateTime<Utc>);
    let row: Option<Row> = admin_sessions::table
        .inner_join(admin_users::table)
        .filter(admin_sessions::token_hash.eq(token_hash))
        .filter(admin_sessions::expires_at.gt(now))
        .filter(admin_sessions::last_seen_at.gt(idle_since))
        .filter(admin_users::disabled.eq(false))
        .select((admin_sessions::id, admin_users::id, admin_users::email, admin_sessions::expires_at, admin_sessions::last_seen_at))
        .first(conn)
        .await
        .optional()?;
    let Some((session_id, user_id, email, expires_at, last_seen)) = row else { return Ok(None) };
    if now - last_seen > chrono::Duration::minutes(1) {
        diesel::update(admin_sessions::table.find(session_id)).set(admin_sessions::last_seen_at.eq(now)).execute(conn).await?;
    }
    Ok(Some((session_id, user_id, email, expires_at)))
}

pub async fn end_session(conn: &mut AsyncPgConnection, session_id: i64) -> QueryResult<()> {
    diesel::delete(admin_sessions::table.find(session_id)).execute(conn).await?;
    Ok(())
}

// -- audit ----------------------------------------------------------------------------------------

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

// -- availability views -----------------------------------------------------------------------------

/// Adds counted views: one statement for a whole batch of (city event, hour, views).
pub async fn add_views(conn: &mut AsyncPgConnection, rows: &[(i64, DateTime<Utc>, i64)]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO availability_views (city_event_id, hour, views)
         SELECT v.id, v.hour, v.n FROM UNNEST($1::int8[], $2::timestamptz[], $3::int8[]) AS v(id, hour, n)
         WHERE EXISTS (SELECT 1 FROM city_events ce WHERE ce.id = v.id)
         ON CONFLICT (city_event_id, hour) DO UPDATE SET views = availability_views.views + EXCLUDED.views",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind::<diesel::sql_types::Array<Timestamptz>, _>(rows.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind::<diesel::sql_types::Array<BigInt>, _>(rows.iter().map(|r| r.2).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

// -- dashboard ----------------------------------------------------------------------------------------

/// One city event's figures for the dashboard. Revenue counts paid bookings (confirmed, later
/// refunded, or moved on with their payment); refunds are what Stripe gave back.
#[derive(Debug, Clone, QueryableByName)]
pub struct EventFigures {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub city_en: String,
    #[diesel(sql_type = Text)]
    pub city_fr: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub time_zone: String,
    #[diesel(sql_type = Int4)]
    pub capacity: i32,
    #[diesel(sql_type = Int4)]
    pub held: i32,
    #[diesel(sql_type = Int4)]
    pub sold: i32,
    #[diesel(sql_type = BigInt)]
    pub gross_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub tax_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub refunded_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub views: i64,
    #[diesel(sql_type = BigInt)]
    pub bookings_held: i64,
    #[diesel(sql_type = BigInt)]
    pub bookings_paid: i64,
    #[diesel(sql_type = BigInt)]
    pub waiting: i64,
}

pub async fn event_figures(conn: &mut AsyncPgConnection) -> QueryResult<Vec<EventFigures>> {
    // A moved booking's payment follows it: revenue is counted once, where the payment is now.
    diesel::sql_query(
        "SELECT ce.id, c.name_en AS city_en, c.name_fr AS city_fr, ce.status, ce.starts_at, ce.time_zone, ce.capacity,
                ce.seats_held AS held, ce.seats_sold AS sold,
                COALESCE(rev.gross, 0)::int8 AS gross_cents, COALESCE(rev.tax, 0)::int8 AS tax_cents,
                COALESCE(pay.refunded, 0)::int8 AS refunded_cents,
                COALESCE(v.views, 0)::int8 AS views,
                COALESCE(f.held, 0)::int8 AS bookings_held, COALESCE(f.paid, 0)::int8 AS bookings_paid,
                COALESCE(w.n, 0)::int8 AS waiting
         FROM city_events ce
         JOIN cities c ON c.id = ce.city_id
         LEFT JOIN (SELECT city_event_id, sum(total_cents) AS gross, sum(tax_cents) AS tax FROM bookings
                    WHERE status IN ('confirmed', 'refunded') GROUP BY city_event_id) rev ON rev.city_event_id = ce.id
         LEFT JOIN (SELECT b.city_event_id, sum(p.amount_refunded_cents) AS refunded FROM payments p JOIN bookings b ON b.id = p.booking_id
                    GROUP BY b.city_event_id) pay ON pay.city_event_id = ce.id
         LEFT JOIN (SELECT city_event_id, sum(views) AS views FROM availability_views GROUP BY city_event_id) v ON v.city_event_id = ce.id
         LEFT JOIN (SELECT city_event_id, count(*) AS held, count(*) FILTER (WHERE confirmed_at IS NOT NULL) AS paid FROM bookings
                    WHERE moved_from IS NULL GROUP BY city_event_id) f ON f.city_event_id = ce.id
         LEFT JOIN (SELECT city_event_id, count(*) AS n FROM waitlist_entries WHERE status = 'waiting' GROUP BY city_event_id) w
                   ON w.city_event_id = ce.id
         ORDER BY ce.starts_at, ce.id",
    )
    .load(conn)
    .await
}

/// Seats sold per day (the day a booking was paid, in Eastern time, where the organiser works).
pub async fn sales_by_day(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(chrono::NaiveDate, i64, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Date)]
        day: chrono::NaiveDate,
        #[diesel(sql_type = BigInt)]
        seats: i64,
        #[diesel(sql_type = BigInt)]
        cents: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT (confirmed_at AT TIME ZONE 'America/Toronto')::date AS day, sum(quantity)::int8 AS seats, sum(total_cents)::int8 AS cents
         FROM bookings WHERE confirmed_at IS NOT NULL AND moved_from IS NULL GROUP BY 1 ORDER BY 1",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.day, r.seats, r.cents)).collect())
}

#[derive(Debug, Clone, QueryableByName, serde::Serialize, utoipa::ToSchema)]
pub struct EmailFigures {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = BigInt)]
    pub sent: i64,
    #[diesel(sql_type = BigInt)]
    pub opened: i64,
    #[diesel(sql_type = BigInt)]
    pub clicked: i64,
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
}

pub async fn email_figures(conn: &mut AsyncPgConnection) -> QueryResult<Vec<EmailFigures>> {
    diesel::sql_query(
        "SELECT kind, count(*)::int8 AS total,
                count(*) FILTER (WHERE status = 'sent')::int8 AS sent,
                count(*) FILTER (WHERE opened_at IS NOT NULL)::int8 AS opened,
                count(*) FILTER (WHERE clicked_at IS NOT NULL)::int8 AS clicked,
                count(*) FILTER (WHERE status = 'failed')::int8 AS failed,
                count(*) FILTER (WHERE status IN ('pending', 'sending'))::int8 AS pending
         FROM email_campaigns GROUP BY kind ORDER BY kind",
    )
    .load(conn)
    .await
}

// -- bookings -------------------------------------------------------------------------------------------

#[derive(Debug, Default, Clone)]
pub struct BookingFilter {
    /// A reference, an e-mail address or part of a name (buyer's or attendee's).
    pub q: Option<String>,
    pub city_event_id: Option<i64>,
    pub status: Option<String>,
}

pub async fn search_bookings(conn: &mut AsyncPgConnection, f: &BookingFilter, limit: i64, offset: i64) -> QueryResult<Vec<BookingRow>> {
    let mut q = bookings::table.select(BookingRow::as_select()).order((bookings::created_at.desc(), bookings::id)).into_boxed();
    if let Some(id) = f.city_event_id {
        q = q.filter(bookings::city_event_id.eq(id));
    }
    if let Some(status) = &f.status {
        q = q.filter(bookings::status.eq(status.clone()));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let upper = text.to_uppercase();
        let lower = text.to_lowercase();
        let pattern = format!("%{}%", lower.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let by_attendee = attendees::table
            .filter(
                attendees::email
                    .eq(lower.clone())
                    .or(diesel::dsl::sql::<Bool>("lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) LIKE ")
                        .bind::<Text, _>(pattern.clone())),
            )
            .select(attendees::booking_id);
        q = q.filter(
            bookings::reference
                .eq(upper)
                .or(bookings::buyer_email.eq(lower))
                .or(diesel::dsl::sql::<Bool>("lower(buyer_first_name || ' ' || buyer_last_name) LIKE ").bind::<Text, _>(pattern))
                .or(bookings::id.eq_any(by_attendee)),
        );
    }
    q.limit(limit).offset(offset).load(conn).await
}

pub async fn booking_payments(conn: &mut AsyncPgConnection, booking_id: Uuid) -> QueryResult<Vec<PaymentRow>> {
    payments::table.filter(payments::booking_id.eq(booking_id)).select(PaymentRow::as_select()).order(payments::id).load(conn).await
}

pub async fn booking_emails(conn: &mut AsyncPgConnection, booking_id: Uuid) -> QueryResult<Vec<EmailCampaignRow>> {
    email_campaigns::table
        .filter(email_campaigns::booking_id.eq(booking_id))
        .select(EmailCampaignRow::as_select())
        .order(email_campaigns::id)
        .load(conn)
        .await
}

pub async fn reference_of(conn: &mut AsyncPgConnection, booking_id: Uuid) -> QueryResult<Option<String>> {
    bookings::table.find(booking_id).select(bookings::reference).first(conn).await.optional()
}

/// Sends a booking's confirmation again: the existing claim goes back to the queue (or is made).
pub async fn requeue_confirmation(conn: &mut AsyncPgConnection, booking: &BookingRow) -> QueryResult<()> {
    let now = Utc::now();
    let n = diesel::update(
        email_campaigns::table
            .filter(email_campaigns::booking_id.eq(booking.id))
            .filter(email_campaigns::kind.eq("confirmation"))
            .filter(email_campaigns::recipient_email.eq(&booking.buyer_email))
            .filter(email_campaigns::status.ne("sending")),
    )
    .set((
        email_campaigns::status.eq("pending"),
        email_campaigns::attempts.eq(0),
        email_campaigns::next_attempt_at.eq(now),
        email_campaigns::last_error.eq(None::<String>),
    ))
    .execute(conn)
    .await?;
    if n == 0 {
        super::payments::request_buyer_email(conn, booking, "confirmation").await?;
    }
    Ok(())
}

/// Sets one attendee's name and address; `false` if the booking has no such seat.
pub async fn set_attendee(
    conn: &mut AsyncPgConnection,
    booking_id: Uuid,
    position: i32,
    name: Option<(&str, &str)>,
    email: Option<&str>,
) -> QueryResult<bool> {
    let n = diesel::update(attendees::table.filter(attendees::booking_id.eq(booking_id)).filter(attendees::position.eq(position)))
        .set((attendees::first_name.eq(name.map(|n| n.0)), attendees::last_name.eq(name.map(|n| n.1)), attendees::email.eq(email)))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Step 2 of a move when the source city event has no actor: the database decides.
pub async fn set_moved_from(conn: &mut AsyncPgConnection, to: Uuid, from: Uuid) -> QueryResult<()> {
    diesel::update(bookings::table.find(to)).set(bookings::moved_from.eq(from)).execute(conn).await?;
    Ok(())
}

// -- city events ------------------------------------------------------------------------------------------

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

// -- exports ----------------------------------------------------------------------------------------------

/// One attendee line: seat, names, addresses, the booking's reference, status and buyer.
#[derive(Debug, Clone, QueryableByName)]
pub struct AttendeeLine {
    #[diesel(sql_type = BigInt)]
    pub attendee_id: i64,
    #[diesel(sql_type = Text)]
    pub reference: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Int4)]
    pub position: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub first_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    #[diesel(sql_type = Text)]
    pub buyer_first_name: String,
    #[diesel(sql_type = Text)]
    pub buyer_last_name: String,
    #[diesel(sql_type = Text)]
    pub buyer_email: String,
    #[diesel(sql_type = Text)]
    pub language: String,
    #[diesel(sql_type = Text)]
    pub act_experience: String,
}

/// The attendees of the seats a city event has sold, a page at a time (keyset on the attendee id).
pub async fn attendee_page(conn: &mut AsyncPgConnection, city_event_id: i64, after: i64, limit: i64) -> QueryResult<Vec<AttendeeLine>> {
    diesel::sql_query(
        "SELECT a.id AS attendee_id, b.reference, b.status, a.position, a.first_name, a.last_name, a.email,
                b.buyer_first_name, b.buyer_last_name, b.buyer_email, b.language, b.act_experience
         FROM attendees a JOIN bookings b ON b.id = a.booking_id
         WHERE b.city_event_id = $1 AND b.status = 'confirmed' AND a.id > $2
         ORDER BY a.id LIMIT $3",
    )
    .bind::<BigInt, _>(city_event_id)
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// A booking line for accounting, with its city and the payment's refunds.
#[derive(Debug, Clone, QueryableByName)]
pub struct AccountingLine {
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub reference: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    pub city_event_id: i64,
    #[diesel(sql_type = Text)]
    pub city: String,
    #[diesel(sql_type = Text)]
    pub province: String,
    #[diesel(sql_type = Text)]
    pub buyer_name: String,
    #[diesel(sql_type = Text)]
    pub buyer_email: String,
    #[diesel(sql_type = Int4)]
    pub quantity: i32,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub unit_price_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub subtotal_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub discount_cents: i64,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub taxes: serde_json::Value,
    #[diesel(sql_type = BigInt)]
    pub tax_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub total_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub refunded_cents: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub payment_intent_id: Option<String>,
}

/// Paid bookings (confirmed, refunded, moved on), oldest first, a page at a time (keyset on
/// (created_at, reference)).
pub async fn accounting_page(
    conn: &mut AsyncPgConnection,
    city_event_id: Option<i64>,
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> QueryResult<Vec<AccountingLine>> {
    let (after_at, after_ref) = after.map_or((None, String::new()), |(a, r)| (Some(a), r));
    diesel::sql_query(
        "SELECT b.created_at, b.reference, b.status, b.confirmed_at, b.city_event_id, c.name_fr AS city, c.province::text AS province,
                b.buyer_first_name || ' ' || b.buyer_last_name AS buyer_name, b.buyer_email, b.quantity, b.unit_price_cents,
                b.subtotal_cents, b.discount_cents, b.taxes, b.tax_cents, b.total_cents,
                COALESCE((SELECT sum(p.amount_refunded_cents) FROM payments p WHERE p.booking_id = b.id), 0)::int8 AS refunded_cents,
                (SELECT p.payment_intent_id FROM payments p WHERE p.booking_id = b.id AND p.status = 'succeeded' LIMIT 1) AS payment_intent_id
         FROM bookings b JOIN city_events ce ON ce.id = b.city_event_id JOIN cities c ON c.id = ce.city_id
         WHERE b.confirmed_at IS NOT NULL AND b.status <> 'moved'
           AND ($1::int8 IS NULL OR b.city_event_id = $1)
           AND ($2::timestamptz IS NULL OR (b.created_at, b.reference) > ($2, $3))
         ORDER BY b.created_at, b.reference LIMIT $4",
    )
    .bind::<Nullable<BigInt>, _>(city_event_id)
    .bind::<Nullable<Timestamptz>, _>(after_at)
    .bind::<Text, _>(after_ref)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// The start of the hour of an instant: the key views are counted under.
pub fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    let naive: NaiveDateTime = at.naive_utc();
    let truncated = naive.date().and_hms_opt(chrono::Timelike::hour(&naive.time()), 0, 0).expect("a valid hour");
    DateTime::from_naive_utc_and_offset(truncated, Utc)
}
