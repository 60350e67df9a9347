DROP INDEX IF EXISTS email_campaigns_booking_idx;
DROP INDEX IF EXISTS email_campaigns_sendable_idx;
CREATE INDEX email_campaigns_due_idx ON email_campaigns (scheduled_for) WHERE status = 'pending';
ALTER TABLE email_campaigns DROP COLUMN next_attempt_at, DROP COLUMN claimed_at, DROP COLUMN provider_message_id, DROP COLUMN transport;
