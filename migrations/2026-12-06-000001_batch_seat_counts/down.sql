COMMENT ON COLUMN city_events.seats_held IS NULL;
CREATE OR REPLACE FUNCTION bookings_seats_after_insert() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    WITH delta AS (
        SELECT city_event_id,
               sum(CASE WHEN status = 'held' THEN quantity ELSE 0 END) AS held,
               sum(CASE WHEN status = 'confirmed' THEN quantity ELSE 0 END) AS sold
        FROM new_rows GROUP BY city_event_id
    )
    UPDATE city_events ce
       SET seats_held = ce.seats_held + delta.held, seats_sold = ce.seats_sold + delta.sold
      FROM delta
     WHERE ce.id = delta.city_event_id AND (delta.held <> 0 OR delta.sold <> 0);
    RETURN NULL;
END $$;
