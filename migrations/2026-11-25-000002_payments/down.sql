DELETE FROM email_campaigns WHERE kind = 'refund_notice';
ALTER TABLE email_campaigns DROP CONSTRAINT email_campaigns_kind_check;
ALTER TABLE email_campaigns ADD CONSTRAINT email_campaigns_kind_check CHECK (kind IN (
    'confirmation', 'j_minus_30', 'j_minus_14', 'j_minus_7', 'j_minus_1', 'j_plus_1'));
DROP INDEX IF EXISTS payments_one_live_intent_per_booking;
ALTER TABLE payments DROP COLUMN IF EXISTS last_error, DROP COLUMN IF EXISTS flagged_at;
DROP TABLE IF EXISTS stripe_events;
