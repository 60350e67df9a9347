-- The organiser's operations on a whole date: a message to everyone booked on it, and its
-- cancellation (sales stop, holds released, paid bookings refunded, everyone told).

-- A message, in both languages; each recipient reads it in their booking's language.
CREATE TABLE broadcasts (
    id              BIGSERIAL PRIMARY KEY,
    city_event_id   BIGINT NOT NULL REFERENCES city_events(id),
    subject_fr      TEXT NOT NULL CHECK (length(subject_fr) BETWEEN 1 AND 200),
    subject_en      TEXT NOT NULL CHECK (length(subject_en) BETWEEN 1 AND 200),
    body_fr         TEXT NOT NULL CHECK (length(body_fr) BETWEEN 1 AND 10000),
    body_en         TEXT NOT NULL CHECK (length(body_en) BETWEEN 1 AND 10000),
    sent_by         TEXT NOT NULL,
    recipients      INTEGER NOT NULL DEFAULT 0 CHECK (recipients >= 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX broadcasts_city_event_idx ON broadcasts (city_event_id);

-- A date's cancellation as a job that can be run again after a crash: every step is decided by
-- the bookings' own states (a refunded booking is not refunded again, a mail is claimed once per
-- booking). Its progress is read from those states, never kept apart from them.
CREATE TABLE date_cancellations (
    city_event_id   BIGINT PRIMARY KEY REFERENCES city_events(id),
    reason_fr       TEXT NOT NULL CHECK (length(reason_fr) BETWEEN 1 AND 2000),
    reason_en       TEXT NOT NULL CHECK (length(reason_en) BETWEEN 1 AND 2000),
    started_by      TEXT NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ,
    last_error      TEXT
);

-- One claim per (booking, kind, address) and occurrence: a booking gets each broadcast once,
-- and several broadcasts over time.
ALTER TABLE email_campaigns ADD COLUMN occurrence TEXT NOT NULL DEFAULT '';
ALTER TABLE email_campaigns DROP CONSTRAINT IF EXISTS email_campaigns_booking_id_kind_recipient_email_key;
CREATE UNIQUE INDEX email_campaigns_claim_key ON email_campaigns (booking_id, kind, recipient_email, occurrence);

ALTER TABLE email_campaigns DROP CONSTRAINT email_campaigns_kind_check;
ALTER TABLE email_campaigns ADD CONSTRAINT email_campaigns_kind_check CHECK (kind IN (
    'confirmation', 'j_minus_30', 'j_minus_14', 'j_minus_7', 'j_minus_1', 'j_plus_1', 'refund_notice', 'waitlist_offer',
    'broadcast', 'date_cancelled'));

-- A cancellation also tells the people waiting for a seat, who hold no booking: a mail is for a
-- booking or for a waiting-list entry (`occurrence = 'waitlist:<id>'`), once per entry and kind.
ALTER TABLE email_campaigns ALTER COLUMN booking_id DROP NOT NULL;
ALTER TABLE email_campaigns ADD COLUMN waitlist_entry_id BIGINT REFERENCES waitlist_entries(id);
ALTER TABLE email_campaigns ADD CONSTRAINT email_campaigns_for_someone CHECK (booking_id IS NOT NULL OR waitlist_entry_id IS NOT NULL);
CREATE UNIQUE INDEX email_campaigns_waitlist_claim_key ON email_campaigns (waitlist_entry_id, kind) WHERE booking_id IS NULL;
