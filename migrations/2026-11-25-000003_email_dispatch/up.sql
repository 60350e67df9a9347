-- E-mail dispatch: each email_campaigns row is both the claim (unique per booking, kind and
-- address) and the durable send queue; nothing waits only in a mailbox.
ALTER TABLE email_campaigns
    ADD COLUMN next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN claimed_at TIMESTAMPTZ,
    ADD COLUMN provider_message_id TEXT,
    ADD COLUMN transport TEXT;
DROP INDEX IF EXISTS email_campaigns_due_idx;
CREATE INDEX email_campaigns_sendable_idx ON email_campaigns (next_attempt_at) WHERE status = 'pending';
CREATE INDEX email_campaigns_booking_idx ON email_campaigns (booking_id);
