DELETE FROM email_campaigns WHERE booking_id IS NULL;
DROP INDEX IF EXISTS email_campaigns_waitlist_claim_key;
ALTER TABLE email_campaigns DROP CONSTRAINT IF EXISTS email_campaigns_for_someone;
ALTER TABLE email_campaigns DROP COLUMN IF EXISTS waitlist_entry_id;
ALTER TABLE email_campaigns ALTER COLUMN booking_id SET NOT NULL;
DELETE FROM email_campaigns WHERE kind IN ('broadcast', 'date_cancelled');
ALTER TABLE email_campaigns DROP CONSTRAINT email_campaigns_kind_check;
ALTER TABLE email_campaigns ADD CONSTRAINT email_campaigns_kind_check CHECK (kind IN (
    'confirmation', 'j_minus_30', 'j_minus_14', 'j_minus_7', 'j_minus_1', 'j_plus_1', 'refund_notice', 'waitlist_offer'));
DROP INDEX IF EXISTS email_campaigns_claim_key;
ALTER TABLE email_campaigns ADD CONSTRAINT email_campaigns_booking_id_kind_recipient_email_key UNIQUE (booking_id, kind, recipient_email);
ALTER TABLE email_campaigns DROP COLUMN occurrence;
DROP TABLE IF EXISTS date_cancellations;
DROP TABLE IF EXISTS broadcasts;
