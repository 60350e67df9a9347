//! Write side of bookings: the batched transaction a city-event actor commits, and reads by
//! reference.

use crate::domain::BookingId;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::models::*;
use super::schema::*;
use crate::domain::BookingReference;
use crate::domain::{BookingStatus, WaitlistStatus};

/// A change of status the actor asks for. Each names the statuses it may start from: if the row
/// is no longer in one of them, nothing changes and the caller is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// A paid hold becomes a sale.
    ConfirmHeld,
    /// A payment that succeeded after its hold ended: a sale if seats remain (the actor checked).
    ConfirmLate,
    CancelHeld,
    ExpireHeld,
    RefundConfirmed,
}

impl Transition {
    const ORDER: [Transition; 5] =
        [Transition::ExpireHeld, Transition::CancelHeld, Transition::RefundConfirmed, Transition::ConfirmHeld, Transition::ConfirmLate];

    fn from(self) -> &'static [BookingStatus] {
        match self {
            Transition::ConfirmHeld | Transition::CancelHeld | Transition::ExpireHeld => &[BookingStatus::Held],
            Transition::ConfirmLate => &[BookingStatus::Expired, BookingStatus::Cancelled],
            Transition::RefundConfirmed => &[BookingStatus::Confirmed],
        }
    }

    fn to(self) -> BookingStatus {
        match self {
            Transition::ConfirmHeld | Transition::ConfirmLate => BookingStatus::Confirmed,
            Transition::CancelHeld => BookingStatus::Cancelled,
            Transition::ExpireHeld => BookingStatus::Expired,
            Transition::RefundConfirmed => BookingStatus::Refunded,
        }
    }
}

/// Everything one actor batch writes, in one transaction.
#[derive(Debug, Default)]
pub struct BatchWrite {
    pub new_bookings: Vec<NewBooking>,
    pub new_attendees: Vec<NewAttendee>,
    pub transitions: Vec<(BookingId, Transition)>,
    /// People joining the waiting list (one row per city event and address: a second join is
    /// reported, not an error).
    pub new_waitlist_entries: Vec<NewWaitlistEntry>,
    /// Waiting-list entries given an offer: (entry, the held booking made for them, in `new_bookings`).
    pub offers: Vec<(i64, BookingId)>,
    /// Mails claimed in the same transaction as the change that calls for them (an offer's).
    pub emails: Vec<NewEmailCampaign>,
    pub removed_waitlist_entries: Vec<i64>,
    /// Bookings leaving for another city event: (booking, its status now, the booking that
    /// replaces it). The row becomes `moved` and its payments follow it.
    pub moves: Vec<(BookingId, &'static str, BookingId)>,
    /// (city event, new capacity): applied only if the seats taken fit (never an error that
    /// would fail the batch's other changes).
    pub capacity: Option<(i64, i32)>,
    /// (city event, new status).
    pub status: Option<(i64, &'static str)>,
}

#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Bookings whose reference had to be drawn again (collision), with the reference stored.
    pub new_references: HashMap<BookingId, String>,
    /// The (booking, transition) pairs that changed a row. Keyed by transition too: the same
    /// booking can legitimately change twice in one batch (a hold expires, then a late payment
    /// confirms it), while a duplicate request of the same kind changes it only once.
    pub changed: HashSet<(BookingId, Transition)>,
    /// Waiting-list entries created, by e-mail address (absent: already on the list).
    pub joined: HashMap<String, i64>,
    pub moved: HashSet<BookingId>,
    pub capacity_set: bool,
    pub removed: HashSet<i64>,
}

/// Writes a batch in one transaction: inserts first, then status changes grouped by kind (one
/// statement per kind, whatever the batch size). The seat counters on `city_events` follow (the
/// new bookings' seats counted here in one statement, status changes by trigger) and their CHECK
/// refuses an oversell, which rolls the whole batch back.
pub async fn write_batch(conn: &mut AsyncPgConnection, batch: &BatchWrite) -> QueryResult<BatchOutcome> {
    conn.transaction(async |conn| {
        let mut outcome = BatchOutcome::default();
        if !batch.new_bookings.is_empty() {
            // The insert trigger leaves this transaction's new bookings to `count_new_seats`: the
            // city event's row is then locked only from the end of the batch to its commit, so a
            // second batch of the same city event writes its rows meanwhile.
            diesel::sql_query("SELECT set_config('billetterie.batch_counts_seats', 'on', true)").execute(conn).await?;
            insert_bookings(conn, &batch.new_bookings, &mut outcome.new_references).await?;
            unnest_attendees(conn, &batch.new_attendees).await?;
        }
        let mut by_kind: HashMap<Transition, Vec<BookingId>> = HashMap::new();
        for (id, t) in &batch.transitions {
            by_kind.entry(*t).or_default().push(*id);
        }
        let now = Utc::now();
        // Seats are freed before they are taken again, so a late confirmation can use the seats of
        // the very hold that expires in the same batch, and the CHECK sees the final counts grow
        // only after they shrank.
        for t in Transition::ORDER {
            let Some(ids) = by_kind.remove(&t) else { continue };
            let target = bookings::table.filter(bookings::id.eq_any(&ids)).filter(bookings::status.eq_any(t.from()));
            let changed: Vec<BookingId> = match t {
                Transition::ConfirmHeld | Transition::ConfirmLate => {
                    diesel::update(target)
                        .set((bookings::status.eq(t.to()), bookings::confirmed_at.eq(now), bookings::closed_at.eq(None::<DateTime<Utc>>)))
                        .returning(bookings::id)
                        .get_results(conn)
                        .await?
                }
                Transition::CancelHeld | Transition::ExpireHeld | Transition::RefundConfirmed => {
                    diesel::update(target)
                        .set((bookings::status.eq(t.to()), bookings::closed_at.eq(now)))
                        .returning(bookings::id)
                        .get_results(conn)
                        .await?
                }
            };
            outcome.changed.extend(changed.into_iter().map(|id| (id, t)));
        }
        count_new_seats(conn, &batch.new_bookings).await?;
        if !batch.is_seats_only() {
            write_back_office(conn, batch, &mut outcome, now).await?;
        }
        Ok(outcome)
    })
    .await
}

/// Adds the seats of the bookings this transaction inserted to their city events' counters, one
/// statement per city event (the CHECK refuses an oversell here).
async fn count_new_seats(conn: &mut AsyncPgConnection, rows: &[NewBooking]) -> QueryResult<()> {
    let mut by_event: HashMap<i64, (i32, i32)> = HashMap::new();
    for b in rows {
        let counts = by_event.entry(b.city_event_id).or_default();
        match b.status {
            BookingStatus::Held => counts.0 += b.quantity,
            BookingStatus::Confirmed => counts.1 += b.quantity,
            _ => {}
        }
    }
    for (id, (held, sold)) in by_event {
        if held != 0 || sold != 0 {
            diesel::update(city_events::table.find(id))
                .set((
                    city_events::seats_held.eq(city_events::seats_held + held),
                    city_events::seats_sold.eq(city_events::seats_sold + sold),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

impl BatchWrite {
    /// True when the batch only holds and moves seats (the hot path: no extra statement).
    fn is_seats_only(&self) -> bool {
        self.new_waitlist_entries.is_empty()
            && self.offers.is_empty()
            && self.emails.is_empty()
            && self.removed_waitlist_entries.is_empty()
            && self.moves.is_empty()
            && self.capacity.is_none()
            && self.status.is_none()
    }
}

/// The rarer changes of a batch: waiting list, moves, capacity and status. After the seat
/// transitions, so a capacity check sees the batch's own holds and releases.
async fn write_back_office(
    conn: &mut AsyncPgConnection,
    batch: &BatchWrite,
    outcome: &mut BatchOutcome,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    for entry in &batch.new_waitlist_entries {
        let id: Option<i64> = diesel::insert_into(waitlist_entries::table)
            .values(entry)
            .on_conflict((waitlist_entries::city_event_id, waitlist_entries::email))
            .do_nothing()
            .returning(waitlist_entries::id)
            .get_result(conn)
            .await
            .optional()?;
        if let Some(id) = id {
            outcome.joined.insert(entry.email.clone(), id);
        }
    }
    for (entry, booking) in &batch.offers {
        diesel::update(waitlist_entries::table.find(entry).filter(waitlist_entries::status.eq(WaitlistStatus::Waiting)))
            .set((
                waitlist_entries::status.eq(WaitlistStatus::Offered),
                waitlist_entries::offer_booking_id.eq(booking),
                waitlist_entries::offered_at.eq(now),
            ))
            .execute(conn)
            .await?;
    }
    if !batch.emails.is_empty() {
        diesel::insert_into(email_campaigns::table)
            .values(&batch.emails)
            .on_conflict((
                email_campaigns::booking_id,
                email_campaigns::kind,
                email_campaigns::recipient_email,
                email_campaigns::occurrence,
            ))
            .do_nothing()
            .execute(conn)
            .await?;
    }
    if !batch.removed_waitlist_entries.is_empty() {
        let removed: Vec<i64> = diesel::update(
            waitlist_entries::table
                .filter(waitlist_entries::id.eq_any(&batch.removed_waitlist_entries))
                .filter(waitlist_entries::status.eq(WaitlistStatus::Waiting)),
        )
        .set(waitlist_entries::status.eq(WaitlistStatus::Removed))
        .returning(waitlist_entries::id)
        .get_results(conn)
        .await?;
        outcome.removed.extend(removed);
    }
    for (from, status, to) in &batch.moves {
        let n = diesel::update(bookings::table.find(from).filter(bookings::status.eq(*status)))
            .set((bookings::status.eq(BookingStatus::Moved), bookings::moved_to.eq(to), bookings::closed_at.eq(now)))
            .execute(conn)
            .await?;
        if n == 1 {
            diesel::update(payments::table.filter(payments::booking_id.eq(from)))
                .set((payments::booking_id.eq(to), payments::updated_at.eq(now)))
                .execute(conn)
                .await?;
            outcome.moved.insert(*from);
        }
    }
    if let Some((id, capacity)) = batch.capacity {
        let n = diesel::update(city_events::table.find(id).filter((city_events::seats_held + city_events::seats_sold).le(capacity)))
            .set(city_events::capacity.eq(capacity))
            .execute(conn)
            .await?;
        outcome.capacity_set = n == 1;
    }
    if let Some((id, status)) = batch.status {
        diesel::update(city_events::table.find(id)).set(city_events::status.eq(status)).execute(conn).await?;
    }
    Ok(())
}

/// Multi-row insert; a reference that collides with an existing one is drawn again (with
/// 29⁸ references per city this is a formality, but it must not fail a whole batch).
async fn insert_bookings(
    conn: &mut AsyncPgConnection,
    rows: &[NewBooking],
    new_references: &mut HashMap<BookingId, String>,
) -> QueryResult<()> {
    let mut todo: Vec<NewBooking> = rows.to_vec();
    for _ in 0..8 {
        let inserted: HashSet<BookingId> = unnest_bookings(conn, &todo).await?.into_iter().collect();
        todo.retain(|b| !inserted.contains(&b.id));
        if todo.is_empty() {
            return Ok(());
        }
        for b in &mut todo {
            b.reference = BookingReference::generate(&b.reference[..3]).as_str().to_owned();
            new_references.insert(b.id, b.reference.clone());
        }
    }
    Err(diesel::result::Error::RollbackTransaction)
}

#[derive(QueryableByName)]
struct InsertedId {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: BookingId,
}

/// One column per array, whatever the number of rows: 20 bind parameters instead of 20 per row,
/// which PostgreSQL parses and plans in a fraction of the time a 512-row `VALUES` list takes.
async fn unnest_bookings(conn: &mut AsyncPgConnection, rows: &[NewBooking]) -> QueryResult<Vec<BookingId>> {
    use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
    fn col<T, F: Fn(&NewBooking) -> T>(rows: &[NewBooking], f: F) -> Vec<T> {
        rows.iter().map(f).collect()
    }
    let ids: Vec<InsertedId> = diesel::sql_query(
        "INSERT INTO bookings (id, reference, city_event_id, quantity, status, buyer_first_name, buyer_last_name, buyer_email,
             buyer_phone, act_experience, language, promo_code, unit_price_cents, subtotal_cents, discount_cents, taxes, tax_cents,
             total_cents, hold_expires_at, created_at, company_name, billing_address, purchase_order)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::int4[], $5::text[], $6::text[], $7::text[], $8::text[],
             $9::text[], $10::text[], $11::text[], $12::text[], $13::int8[], $14::int8[], $15::int8[], $16::jsonb[], $17::int8[],
             $18::int8[], $19::timestamptz[], $20::timestamptz[], $21::text[], $22::text[], $23::text[])
         ON CONFLICT (reference) DO NOTHING
         RETURNING id",
    )
    .bind::<Array<SqlUuid>, _>(col(rows, |b| b.id))
    .bind::<Array<Text>, _>(col(rows, |b| b.reference.clone()))
    .bind::<Array<BigInt>, _>(col(rows, |b| b.city_event_id))
    .bind::<Array<Integer>, _>(col(rows, |b| b.quantity))
    .bind::<Array<Text>, _>(col(rows, |b| b.status.to_owned()))
    .bind::<Array<Text>, _>(col(rows, |b| b.buyer_first_name.clone()))
    .bind::<Array<Text>, _>(col(rows, |b| b.buyer_last_name.clone()))
    .bind::<Array<Text>, _>(col(rows, |b| b.buyer_email.clone()))
    .bind::<Array<Text>, _>(col(rows, |b| b.buyer_phone.clone()))
    .bind::<Array<Text>, _>(col(rows, |b| b.act_experience.to_owned()))
    .bind::<Array<Text>, _>(col(rows, |b| b.language.to_owned()))
    .bind::<Array<Nullable<Text>>, _>(col(rows, |b| b.promo_code.clone()))
    .bind::<Array<BigInt>, _>(col(rows, |b| b.unit_price_cents))
    .bind::<Array<BigInt>, _>(col(rows, |b| b.subtotal_cents))
    .bind::<Array<BigInt>, _>(col(rows, |b| b.discount_cents))
    .bind::<Array<Jsonb>, _>(col(rows, |b| b.taxes.clone()))
    .bind::<Array<BigInt>, _>(col(rows, |b| b.tax_cents))
    .bind::<Array<BigInt>, _>(col(rows, |b| b.total_cents))
    .bind::<Array<Timestamptz>, _>(col(rows, |b| b.hold_expires_at))
    .bind::<Array<Timestamptz>, _>(col(rows, |b| b.created_at))
    .bind::<Array<Nullable<Text>>, _>(col(rows, |b| b.company_name.clone()))
    .bind::<Array<Nullable<Text>>, _>(col(rows, |b| b.billing_address.clone()))
    .bind::<Array<Nullable<Text>>, _>(col(rows, |b| b.purchase_order.clone()))
    .load(conn)
    .await?;
    Ok(ids.into_iter().map(|r| r.id).collect())
}

async fn unnest_attendees(conn: &mut AsyncPgConnection, rows: &[NewAttendee]) -> QueryResult<usize> {
    use diesel::sql_types::{Array, Integer, Nullable, Text, Uuid as SqlUuid};
    diesel::sql_query(
        "INSERT INTO attendees (booking_id, position, first_name, last_name, email)
         SELECT * FROM UNNEST($1::uuid[], $2::int4[], $3::text[], $4::text[], $5::text[])",
    )
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|a| a.booking_id).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(rows.iter().map(|a| a.position).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|a| a.first_name.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|a| a.last_name.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|a| a.email.clone()).collect::<Vec<_>>())
    .execute(conn)
    .await
}

pub async fn by_reference(conn: &mut AsyncPgConnection, reference: &str) -> QueryResult<Option<(BookingRow, Vec<AttendeeRow>)>> {
    let booking: Option<BookingRow> =
        bookings::table.filter(bookings::reference.eq(reference)).select(BookingRow::as_select()).first(conn).await.optional()?;
    let Some(booking) = booking else { return Ok(None) };
    let people = attendees::table
        .filter(attendees::booking_id.eq(booking.id))
        .select(AttendeeRow::as_select())
        .order(attendees::position)
        .load(conn)
        .await?;
    Ok(Some((booking, people)))
}

/// The naive hold, for the benchmark baseline only: lock the city event's row, check, insert,
/// commit. `Ok(Err(available))` when the seats are not there.
pub async fn row_lock_hold(conn: &mut AsyncPgConnection, booking: &NewBooking, people: &[NewAttendee]) -> QueryResult<Result<(), i32>> {
    conn.transaction(async |conn| {
        let (capacity, held, sold): (i32, i32, i32) = city_events::table
            .filter(city_events::id.eq(booking.city_event_id))
            .select((city_events::capacity, city_events::seats_held, city_events::seats_sold))
            .for_update()
            .first(conn)
            .await?;
        let available = capacity - held - sold;
        if available < booking.quantity {
            return Ok(Err(available));
        }
        diesel::insert_into(bookings::table).values(booking).execute(conn).await?;
        diesel::insert_into(attendees::table).values(people).execute(conn).await?;
        Ok(Ok(()))
    })
    .await
}

/// Takes the session-level advisory lock of a booking's self-service refund if nobody holds it
/// (never waits: a waiter would keep a pooled connection the holder may need). Pair with
/// [`unlock_refund`] on the same connection before it returns to the pool.
pub async fn try_lock_refund(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let row: Locked = diesel::sql_query("SELECT pg_try_advisory_lock(hashtext('refund:' || $1)) AS locked")
        .bind::<diesel::sql_types::Text, _>(booking_id.to_string())
        .get_result(conn)
        .await?;
    Ok(row.locked)
}

pub async fn unlock_refund(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_unlock(hashtext('refund:' || $1))")
        .bind::<diesel::sql_types::Text, _>(booking_id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}
