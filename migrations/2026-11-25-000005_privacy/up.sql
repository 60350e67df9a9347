-- Privacy (Québec Law 25, PIPEDA): a booking's personal fields can be replaced by placeholders
-- (on request, or once its city event is long past) while amounts, taxes and payments stay for
-- the accounts. `anonymised_at` says it happened; the nightly pass looks for rows without it.
ALTER TABLE bookings ADD COLUMN anonymised_at TIMESTAMPTZ;
CREATE INDEX bookings_not_anonymised_idx ON bookings (city_event_id) WHERE anonymised_at IS NULL;
