-- Payments: Stripe events recorded before they are acted on, one live intent per booking.

-- Every webhook event, recorded under its Stripe id before anything else: a replay finds its id
-- and does nothing; an event whose processing failed stays unprocessed and is retried.
CREATE TABLE stripe_events (
    id              TEXT PRIMARY KEY CHECK (id ~ '^evt_[A-Za-z0-9_]+$'),
    type            TEXT NOT NULL,
    payload         JSONB NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at    TIMESTAMPTZ,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);
CREATE INDEX stripe_events_unprocessed_idx ON stripe_events (received_at) WHERE processed_at IS NULL;

ALTER TABLE payments
    ADD COLUMN last_error TEXT,
    ADD COLUMN flagged_at TIMESTAMPTZ;

-- A booking has at most one intent that can still take money.
CREATE UNIQUE INDEX payments_one_live_intent_per_booking ON payments (booking_id) WHERE status <> 'canceled';

-- Mails the payment side asks the e-mail side to send (the e-mail dispatcher consumes them).
ALTER TABLE email_campaigns DROP CONSTRAINT email_campaigns_kind_check;
ALTER TABLE email_campaigns ADD CONSTRAINT email_campaigns_kind_check CHECK (kind IN (
    'confirmation', 'j_minus_30', 'j_minus_14', 'j_minus_7', 'j_minus_1', 'j_plus_1', 'refund_notice'));
