DROP INDEX IF EXISTS bookings_not_anonymised_idx;
ALTER TABLE bookings DROP COLUMN anonymised_at;
