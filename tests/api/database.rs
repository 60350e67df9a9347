//! The database is the last line of defence: even a writer that bypasses the actors cannot oversell.

use crate::helpers::*;

fn insert_booking(db: &TestDb, city_event_id: i64, quantity: i32, status: &str) -> Result<(), diesel::result::Error> {
    let reference = billetterie::domain::BookingReference::generate("HAL");
    db.execute(&format!(
        "INSERT INTO bookings (id, reference, city_event_id, quantity, status, buyer_first_name, buyer_last_name, buyer_email,
            buyer_phone, act_experience, language, unit_price_cents, subtotal_cents, tax_cents, total_cents, hold_expires_at, confirmed_at)
         VALUES (gen_random_uuid(), '{reference}', {city_event_id}, {quantity}, '{status}', 'A', 'B', 'a@b.ca', '+15145550199',
            'none', 'fr', 100, {sub}, 0, {sub}, now() + interval '15 minutes', {confirmed})",
        sub = 100 * quantity,
        confirmed = if status == "confirmed" { "now()" } else { "NULL" },
    ))
}

#[test]
fn the_database_refuses_an_oversell_even_when_the_actor_is_bypassed() {
    let db = TestDb::new();
    let id = db.add_city_event(3);
    insert_booking(&db, id, 2, "held").unwrap();
    insert_booking(&db, id, 1, "confirmed").unwrap();
    let err = insert_booking(&db, id, 1, "held").unwrap_err();
    assert!(err.to_string().contains("city_events_no_oversell"), "{err}");
    assert_eq!(db.scalar(&format!("SELECT (seats_held + seats_sold)::bigint FROM city_events WHERE id = {id}")), 3);
    // A status change that would free and retake seats goes through the same check.
    db.execute(&format!("UPDATE bookings SET status = 'cancelled' WHERE city_event_id = {id} AND status = 'held'")).unwrap();
    assert_eq!(db.scalar(&format!("SELECT seats_held::bigint FROM city_events WHERE id = {id}")), 0);
    insert_booking(&db, id, 2, "held").unwrap();
    let err = db.execute(&format!("UPDATE city_events SET capacity = 2 WHERE id = {id}")).unwrap_err();
    assert!(err.to_string().contains("city_events_no_oversell"), "capacity cannot drop below what is taken: {err}");
}

#[test]
fn bad_states_are_impossible() {
    let db = TestDb::new();
    let id = db.add_city_event(10);
    assert!(insert_booking(&db, id, 0, "held").is_err(), "quantity > 0");
    assert!(insert_booking(&db, id, -1, "held").is_err());
    assert!(insert_booking(&db, id, 1, "paid").is_err(), "status is one of five");
    assert!(db.execute(&format!("UPDATE city_events SET seats_held = -1 WHERE id = {id}")).is_err());
    assert!(db.execute(&format!("UPDATE city_events SET currency = 'USD' WHERE id = {id}")).is_err(), "CAD only");
    insert_booking(&db, id, 2, "held").unwrap();
    assert!(db.execute("UPDATE bookings SET quantity = 5").is_err(), "quantity is fixed once booked");
    assert!(db.execute("UPDATE bookings SET total_cents = 1").is_err(), "totals add up");
    assert!(db.execute("UPDATE bookings SET status = 'confirmed'").is_err(), "a confirmed booking has its confirmation time");
    assert!(
        db.execute("INSERT INTO cities (slug, name_en, name_fr, province, code) VALUES ('x', 'X', 'X', 'ZZ', 'XXX')").is_err(),
        "provinces are Canadian"
    );
}
