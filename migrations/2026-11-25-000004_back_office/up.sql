-- The organiser's back office: accounts, sessions, login throttling, the audit log, the
-- availability-view counter, the waiting list, and booking moves.

CREATE TABLE admin_users (
    id              BIGSERIAL PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    -- PHC string (argon2id$v=19$m=…,t=…,p=…$salt$hash): the parameters travel with the hash.
    password_hash   TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    disabled        BOOLEAN NOT NULL DEFAULT FALSE
);

-- Only a SHA-256 of the cookie's token is stored: a leaked table opens no session.
CREATE TABLE admin_sessions (
    id              BIGSERIAL PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    admin_user_id   BIGINT NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL,
    ip              TEXT,
    user_agent      TEXT,
    CHECK (expires_at > created_at)
);
CREATE INDEX admin_sessions_user_idx ON admin_sessions (admin_user_id);
CREATE INDEX admin_sessions_expiry_idx ON admin_sessions (expires_at);

-- Every login attempt, so that throttling and lockout hold across instances and restarts.
CREATE TABLE admin_login_attempts (
    id          BIGSERIAL PRIMARY KEY,
    email       TEXT NOT NULL,
    ip          TEXT NOT NULL,
    success     BOOLEAN NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX admin_login_attempts_email_idx ON admin_login_attempts (email, at);
CREATE INDEX admin_login_attempts_ip_idx ON admin_login_attempts (ip, at);

-- Append-only: who did what, when, and the state before and after. The one change allowed is the
-- privacy erasure replacing the before/after snapshots (which name people) by a redaction mark.
CREATE TABLE audit_log (
    id              BIGSERIAL PRIMARY KEY,
    admin_user_id   BIGINT REFERENCES admin_users(id),
    actor_email     TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action ~ '^[a-z_.]{3,64}$'),
    target_type     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    before          JSONB,
    after           JSONB,
    ip              TEXT,
    at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);
CREATE FUNCTION audit_log_append_only() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.id, NEW.admin_user_id, NEW.actor_email, NEW.action, NEW.target_type, NEW.target_id, NEW.ip, NEW.at)
           IS NOT DISTINCT FROM (OLD.id, OLD.admin_user_id, OLD.actor_email, OLD.action, OLD.target_type, OLD.target_id, OLD.ip, OLD.at)
       AND (NEW.before IS NULL OR NEW.before = '{"redacted": true}')
       AND (NEW.after IS NULL OR NEW.after = '{"redacted": true}') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Availability views per city event and hour, added in batches by each instance (see
-- docs/design.md): one upsert per city event every few seconds, never one per page view.
CREATE TABLE availability_views (
    city_event_id   BIGINT NOT NULL REFERENCES city_events(id),
    hour            TIMESTAMPTZ NOT NULL CHECK (date_trunc('hour', hour) = hour),
    views           BIGINT NOT NULL CHECK (views >= 0),
    PRIMARY KEY (city_event_id, hour)
);

-- The waiting list of a sold-out city event. An offer is a held booking made for the person by
-- the city event's actor (offer_booking_id); its hold expiry is the offer's deadline.
CREATE TABLE waitlist_entries (
    id                  BIGSERIAL PRIMARY KEY,
    city_event_id       BIGINT NOT NULL REFERENCES city_events(id),
    first_name          TEXT NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
    last_name           TEXT NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
    email               TEXT NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    language            TEXT NOT NULL CHECK (language IN ('fr', 'en')),
    status              TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'offered', 'removed')),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    offered_at          TIMESTAMPTZ,
    offer_booking_id    UUID UNIQUE REFERENCES bookings(id),
    UNIQUE (city_event_id, email),
    CHECK ((status = 'offered') = (offer_booking_id IS NOT NULL AND offered_at IS NOT NULL))
);
CREATE INDEX waitlist_entries_queue_idx ON waitlist_entries (city_event_id, id) WHERE status = 'waiting';

-- Moves: the old booking ends as 'moved' (its seats free), pointing at the new one.
ALTER TABLE bookings
    ADD COLUMN moved_to UUID REFERENCES bookings(id),
    ADD COLUMN moved_from UUID REFERENCES bookings(id);
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
    CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired', 'refunded', 'moved'));
-- (bookings_check3 is the core migration's unnamed "a confirmed booking has confirmed_at".)
ALTER TABLE bookings DROP CONSTRAINT bookings_check3;
ALTER TABLE bookings ADD CONSTRAINT bookings_confirmed_at_check
    CHECK ((status = 'confirmed') = (confirmed_at IS NOT NULL) OR status IN ('refunded', 'moved'));
ALTER TABLE bookings ADD CONSTRAINT bookings_moved_check CHECK ((status = 'moved') = (moved_to IS NOT NULL));
-- A waiting-list offer is held before its person gives a phone number (they give it when they
-- claim the offer); a sale always has one.
ALTER TABLE bookings DROP CONSTRAINT bookings_buyer_phone_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_buyer_phone_check
    CHECK (buyer_phone ~ '^\+[1-9][0-9]{6,14}$' OR (buyer_phone = '' AND status IN ('held', 'expired', 'cancelled')));

ALTER TABLE email_campaigns DROP CONSTRAINT email_campaigns_kind_check;
ALTER TABLE email_campaigns ADD CONSTRAINT email_campaigns_kind_check CHECK (kind IN (
    'confirmation', 'j_minus_30', 'j_minus_14', 'j_minus_7', 'j_minus_1', 'j_plus_1', 'refund_notice', 'waitlist_offer'));
