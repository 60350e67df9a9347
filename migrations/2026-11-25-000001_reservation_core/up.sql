-- The reservation core. The database is the arbiter: every invariant an actor keeps in memory is
-- also a constraint here, so a bypassed or buggy actor (or a second instance) cannot oversell.

CREATE TABLE masterclass_events (
    id              BIGSERIAL PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,64}$'),
    title_en        TEXT NOT NULL CHECK (length(title_en) BETWEEN 1 AND 200),
    title_fr        TEXT NOT NULL CHECK (length(title_fr) BETWEEN 1 AND 200),
    summary_en      TEXT NOT NULL,
    summary_fr      TEXT NOT NULL,
    presenter       TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Sales tax is data: one row per tax line that applies in a province (Québec has two).
-- rate_per_100k: 5 % = 5000, 9.975 % = 9975.
CREATE TABLE sales_taxes (
    id                  BIGSERIAL PRIMARY KEY,
    province            CHAR(2) NOT NULL CHECK (province IN
                        ('AB','BC','MB','NB','NL','NS','NT','NU','ON','PE','QC','SK','YT')),
    code                TEXT NOT NULL CHECK (code IN ('GST','HST','QST','PST')),
    label_en            TEXT NOT NULL,
    label_fr            TEXT NOT NULL,
    rate_per_100k       INTEGER NOT NULL CHECK (rate_per_100k > 0 AND rate_per_100k < 100000),
    registration_number TEXT NOT NULL,
    position            SMALLINT NOT NULL DEFAULT 0,
    UNIQUE (province, code)
);

CREATE TABLE cities (
    id          BIGSERIAL PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,64}$'),
    name_en     TEXT NOT NULL,
    name_fr     TEXT NOT NULL,
    province    CHAR(2) NOT NULL CHECK (province IN
                ('AB','BC','MB','NB','NL','NS','NT','NU','ON','PE','QC','SK','YT')),
    -- Three letters that open every booking reference of the city, e.g. TOR-7KQ2-M9XD.
    code        CHAR(3) NOT NULL UNIQUE CHECK (code ~ '^[A-Z]{3}$')
);

CREATE TABLE venues (
    id          BIGSERIAL PRIMARY KEY,
    city_id     BIGINT NOT NULL REFERENCES cities(id),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address     TEXT NOT NULL,
    postal_code TEXT NOT NULL CHECK (postal_code ~ '^[A-Z][0-9][A-Z] [0-9][A-Z][0-9]$'),
    -- IANA zone; the application checks the name against its zone database when it loads the row.
    time_zone   TEXT NOT NULL CHECK (time_zone ~ '^[A-Za-z_]+/[A-Za-z_]+$'),
    UNIQUE (id, city_id)
);
CREATE INDEX venues_city_id_idx ON venues (city_id);

CREATE TABLE city_events (
    id                      BIGSERIAL PRIMARY KEY,
    masterclass_event_id    BIGINT NOT NULL REFERENCES masterclass_events(id),
    city_id                 BIGINT NOT NULL REFERENCES cities(id),
    venue_id                BIGINT NOT NULL,
    starts_at               TIMESTAMPTZ NOT NULL,
    ends_at                 TIMESTAMPTZ NOT NULL,
    -- Copied from the venue so the event keeps its zone even if the venue row is edited later.
    time_zone               TEXT NOT NULL CHECK (time_zone ~ '^[A-Za-z_]+/[A-Za-z_]+$'),
    capacity                INTEGER NOT NULL CHECK (capacity > 0),
    -- Maintained by the triggers on bookings below, never written by the application.
    seats_held              INTEGER NOT NULL DEFAULT 0 CHECK (seats_held >= 0),
    seats_sold              INTEGER NOT NULL DEFAULT 0 CHECK (seats_sold >= 0),
    currency                CHAR(3) NOT NULL DEFAULT 'CAD' CHECK (currency = 'CAD'),
    regular_price_cents     BIGINT NOT NULL CHECK (regular_price_cents > 0),
    early_bird_price_cents  BIGINT CHECK (early_bird_price_cents > 0),
    early_bird_until        TIMESTAMPTZ,
    group_price_cents       BIGINT CHECK (group_price_cents > 0),
    group_min_quantity      INTEGER CHECK (group_min_quantity >= 2),
    status                  TEXT NOT NULL DEFAULT 'on_sale'
                            CHECK (status IN ('draft', 'on_sale', 'closed', 'cancelled')),
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (venue_id, city_id) REFERENCES venues (id, city_id),
    CONSTRAINT city_events_no_oversell CHECK (seats_sold + seats_held <= capacity),
    CHECK (ends_at > starts_at),
    CHECK ((early_bird_price_cents IS NULL) = (early_bird_until IS NULL)),
    CHECK ((group_price_cents IS NULL) = (group_min_quantity IS NULL)),
    UNIQUE (masterclass_event_id, venue_id, starts_at)
);
CREATE INDEX city_events_masterclass_idx ON city_events (masterclass_event_id);
CREATE INDEX city_events_city_idx ON city_events (city_id);

CREATE TABLE promo_codes (
    id              BIGSERIAL PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9-]{3,32}$'),
    -- NULL: valid for every city event.
    city_event_id   BIGINT REFERENCES city_events(id),
    percent_off     INTEGER NOT NULL CHECK (percent_off BETWEEN 1 AND 100),
    valid_until     TIMESTAMPTZ,
    active          BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE bookings (
    id                  UUID PRIMARY KEY,
    reference           TEXT NOT NULL UNIQUE CHECK (reference ~ '^[A-Z]{3}-[0-9A-Z]{4}-[0-9A-Z]{4}$'),
    city_event_id       BIGINT NOT NULL REFERENCES city_events(id),
    quantity            INTEGER NOT NULL CHECK (quantity > 0 AND quantity <= 50),
    status              TEXT NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired', 'refunded')),
    buyer_first_name    TEXT NOT NULL CHECK (length(buyer_first_name) BETWEEN 1 AND 100),
    buyer_last_name     TEXT NOT NULL CHECK (length(buyer_last_name) BETWEEN 1 AND 100),
    buyer_email         TEXT NOT NULL CHECK (buyer_email = lower(buyer_email) AND buyer_email LIKE '%_@_%'),
    buyer_phone         TEXT NOT NULL CHECK (buyer_phone ~ '^\+[1-9][0-9]{6,14}$'),
    act_experience      TEXT NOT NULL CHECK (act_experience IN ('none', 'beginner', 'intermediate', 'advanced')),
    language            TEXT NOT NULL CHECK (language IN ('fr', 'en')),
    promo_code          TEXT,
    unit_price_cents    BIGINT NOT NULL CHECK (unit_price_cents > 0),
    subtotal_cents      BIGINT NOT NULL CHECK (subtotal_cents = unit_price_cents * quantity),
    discount_cents      BIGINT NOT NULL DEFAULT 0 CHECK (discount_cents >= 0 AND discount_cents <= subtotal_cents),
    -- [{"code","label_en","label_fr","rate_per_100k","registration_number","amount_cents"}], in receipt order.
    taxes               JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(taxes) = 'array'),
    tax_cents           BIGINT NOT NULL CHECK (tax_cents >= 0),
    total_cents         BIGINT NOT NULL CHECK (total_cents = subtotal_cents - discount_cents + tax_cents),
    currency            CHAR(3) NOT NULL DEFAULT 'CAD' CHECK (currency = 'CAD'),
    hold_expires_at     TIMESTAMPTZ NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    confirmed_at        TIMESTAMPTZ,
    closed_at           TIMESTAMPTZ,
    CHECK ((status = 'confirmed') = (confirmed_at IS NOT NULL) OR status = 'refunded')
);
CREATE INDEX bookings_city_event_idx ON bookings (city_event_id, status);
CREATE INDEX bookings_buyer_email_idx ON bookings (buyer_email);
CREATE INDEX bookings_held_expiry_idx ON bookings (hold_expires_at) WHERE status = 'held';

CREATE TABLE attendees (
    id          BIGSERIAL PRIMARY KEY,
    booking_id  UUID NOT NULL REFERENCES bookings(id) ON DELETE CASCADE,
    -- 1..quantity: one row per ticket; names may come later for group bookings.
    position    INTEGER NOT NULL CHECK (position > 0),
    first_name  TEXT CHECK (length(first_name) BETWEEN 1 AND 100),
    last_name   TEXT CHECK (length(last_name) BETWEEN 1 AND 100),
    email       TEXT CHECK (email = lower(email) AND email LIKE '%_@_%'),
    UNIQUE (booking_id, position),
    CHECK ((first_name IS NULL) = (last_name IS NULL))
);
CREATE INDEX attendees_email_idx ON attendees (email);

CREATE TABLE payments (
    id                  BIGSERIAL PRIMARY KEY,
    booking_id          UUID NOT NULL REFERENCES bookings(id),
    provider            TEXT NOT NULL DEFAULT 'stripe' CHECK (provider = 'stripe'),
    payment_intent_id   TEXT NOT NULL UNIQUE,
    amount_cents        BIGINT NOT NULL CHECK (amount_cents >= 0),
    amount_refunded_cents BIGINT NOT NULL DEFAULT 0 CHECK (amount_refunded_cents >= 0 AND amount_refunded_cents <= amount_cents),
    currency            CHAR(3) NOT NULL CHECK (currency = 'CAD'),
    status              TEXT NOT NULL CHECK (status IN ('requires_payment_method', 'requires_confirmation',
                        'requires_action', 'processing', 'requires_capture', 'canceled', 'succeeded')),
    flagged_reason      TEXT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX payments_booking_idx ON payments (booking_id);

CREATE TABLE email_campaigns (
    id              BIGSERIAL PRIMARY KEY,
    booking_id      UUID NOT NULL REFERENCES bookings(id),
    attendee_id     BIGINT REFERENCES attendees(id),
    kind            TEXT NOT NULL CHECK (kind IN ('confirmation', 'j_minus_30', 'j_minus_14', 'j_minus_7',
                    'j_minus_1', 'j_plus_1')),
    recipient_email TEXT NOT NULL CHECK (recipient_email = lower(recipient_email)),
    language        TEXT NOT NULL CHECK (language IN ('fr', 'en')),
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      TEXT,
    scheduled_for   TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    opened_at       TIMESTAMPTZ,
    clicked_at      TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The claim that makes a mail go out once: one row per (booking, kind, address).
    UNIQUE (booking_id, kind, recipient_email)
);
CREATE INDEX email_campaigns_due_idx ON email_campaigns (scheduled_for) WHERE status = 'pending';
CREATE INDEX email_campaigns_recipient_idx ON email_campaigns (recipient_email);

-- Seat counters follow the bookings table, statement by statement, so they can never drift from
-- the rows that justify them. A held booking counts as held, a confirmed one as sold; the other
-- statuses count for nothing. Statement-level triggers with transition tables: a batch of 500
-- holds is one UPDATE of the city_events row, not 500.
-- Transition tables need one trigger per event (PostgreSQL allows them only on single-event triggers).
CREATE FUNCTION bookings_seats_after_insert() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    WITH delta AS (
        SELECT city_event_id,
               sum(CASE WHEN status = 'held' THEN quantity ELSE 0 END) AS held,
               sum(CASE WHEN status = 'confirmed' THEN quantity ELSE 0 END) AS sold
        FROM new_rows GROUP BY city_event_id
    )
    UPDATE city_events ce
       SET seats_held = ce.seats_held + delta.held, seats_sold = ce.seats_sold + delta.sold
      FROM delta
     WHERE ce.id = delta.city_event_id AND (delta.held <> 0 OR delta.sold <> 0);
    RETURN NULL;
END $$;

CREATE FUNCTION bookings_seats_after_delete() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    WITH delta AS (
        SELECT city_event_id,
               sum(CASE WHEN status = 'held' THEN quantity ELSE 0 END) AS held,
               sum(CASE WHEN status = 'confirmed' THEN quantity ELSE 0 END) AS sold
        FROM old_rows GROUP BY city_event_id
    )
    UPDATE city_events ce
       SET seats_held = ce.seats_held - delta.held, seats_sold = ce.seats_sold - delta.sold
      FROM delta
     WHERE ce.id = delta.city_event_id AND (delta.held <> 0 OR delta.sold <> 0);
    RETURN NULL;
END $$;

CREATE FUNCTION bookings_seats_after_update() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    WITH changes AS (
        SELECT city_event_id, status, quantity, 1 AS sign FROM new_rows
        UNION ALL
        SELECT city_event_id, status, quantity, -1 AS sign FROM old_rows
    ), delta AS (
        SELECT city_event_id,
               sum(CASE WHEN status = 'held' THEN quantity * sign ELSE 0 END) AS held,
               sum(CASE WHEN status = 'confirmed' THEN quantity * sign ELSE 0 END) AS sold
        FROM changes GROUP BY city_event_id
    )
    UPDATE city_events ce
       SET seats_held = ce.seats_held + delta.held, seats_sold = ce.seats_sold + delta.sold
      FROM delta
     WHERE ce.id = delta.city_event_id AND (delta.held <> 0 OR delta.sold <> 0);
    RETURN NULL;
END $$;

CREATE TRIGGER bookings_seats_insert AFTER INSERT ON bookings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bookings_seats_after_insert();
CREATE TRIGGER bookings_seats_update AFTER UPDATE ON bookings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bookings_seats_after_update();
CREATE TRIGGER bookings_seats_delete AFTER DELETE ON bookings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bookings_seats_after_delete();

-- Quantity and event are fixed once a booking exists: moving a booking is a cancel + a new hold.
CREATE FUNCTION bookings_freeze_seats() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.quantity <> OLD.quantity OR NEW.city_event_id <> OLD.city_event_id THEN
        RAISE EXCEPTION 'bookings.quantity and bookings.city_event_id cannot change' USING ERRCODE = 'check_violation';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER bookings_freeze BEFORE UPDATE ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_freeze_seats();
