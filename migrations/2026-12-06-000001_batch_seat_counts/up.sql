-- An actor's batch counts its own new bookings' seats in one UPDATE of the city event at the end
-- of its transaction, and says so with the transaction-local setting below; the insert trigger
-- then leaves them alone. The row of the city event is so locked only from the end of the batch
-- to its commit, and a second batch of the same city event can write its rows meanwhile. Every
-- other insert (the row-lock baseline, SQL typed by an operator) is still counted here, and the
-- CHECK on city_events still refuses an oversell either way.
CREATE OR REPLACE FUNCTION bookings_seats_after_insert() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('billetterie.batch_counts_seats', true) = 'on' THEN
        RETURN NULL;
    END IF;
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

COMMENT ON COLUMN city_events.seats_held IS
    'Seats of held bookings: kept by the triggers on bookings, and by the actors'' batches for the bookings they insert (billetterie.batch_counts_seats).';
