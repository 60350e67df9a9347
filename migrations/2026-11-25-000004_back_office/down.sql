DELETE FROM email_campaigns WHERE kind = 'waitlist_offer';
ALTER TABLE email_campaigns DROP CONSTRAINT email_campaigns_kind_check;
ALTER TABLE email_campaigns ADD CONSTRAINT email_campaigns_kind_check CHECK (kind IN (
    'confirmation', 'j_minus_30', 'j_minus_14', 'j_minus_7', 'j_minus_1', 'j_plus_1', 'refund_notice'));
DROP TABLE IF EXISTS waitlist_entries;
ALTER TABLE bookings DROP CONSTRAINT bookings_buyer_phone_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_buyer_phone_check CHECK (buyer_phone ~ '^\+[1-9][0-9]{6,14}$');
ALTER TABLE bookings DROP CONSTRAINT bookings_moved_check;
ALTER TABLE bookings DROP CONSTRAINT bookings_confirmed_at_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_check3 CHECK ((status = 'confirmed') = (confirmed_at IS NOT NULL) OR status = 'refunded');
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired', 'refunded'));
ALTER TABLE bookings DROP COLUMN moved_from, DROP COLUMN moved_to;
DROP TABLE IF EXISTS availability_views;
DROP TABLE IF EXISTS audit_log;
DROP FUNCTION IF EXISTS audit_log_append_only();
DROP TABLE IF EXISTS admin_login_attempts;
DROP TABLE IF EXISTS admin_sessions;
DROP TABLE IF EXISTS admin_users;
