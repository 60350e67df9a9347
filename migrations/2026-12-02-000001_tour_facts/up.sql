-- One source for every fact the pages, the mails, the calendar file and the receipt print:
-- the organiser, each masterclass's policies and programme, each venue's practical facts.
-- Edited in the back office; nothing here is repeated in the locale files or the settings.

-- The organiser: one row. Empty until the organiser fills it in; production refuses to start
-- while a date is on sale and any of it is missing (config::facts).
CREATE TABLE organiser (
    id              SMALLINT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    legal_name      TEXT NOT NULL DEFAULT '',
    address         TEXT NOT NULL DEFAULT '',
    support_email   TEXT NOT NULL DEFAULT '',
    support_phone   TEXT NOT NULL DEFAULT '',
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO organiser (id) VALUES (1);

-- A masterclass's policies, in whole days, and its continuing-education hours.
ALTER TABLE masterclass_events
    ADD COLUMN ce_hours INTEGER NOT NULL DEFAULT 6 CHECK (ce_hours BETWEEN 0 AND 100),
    ADD COLUMN refund_window_days INTEGER NOT NULL DEFAULT 30 CHECK (refund_window_days BETWEEN 0 AND 365),
    ADD COLUMN name_change_days INTEGER NOT NULL DEFAULT 2 CHECK (name_change_days BETWEEN 0 AND 365),
    ADD COLUMN resources_days INTEGER NOT NULL DEFAULT 60 CHECK (resources_days BETWEEN 1 AND 3650),
    ADD COLUMN certificate_days INTEGER NOT NULL DEFAULT 7 CHECK (certificate_days BETWEEN 0 AND 90);

-- The day's timeline: minutes from the date's start (negative before it), so one programme
-- serves every city in its own zone.
CREATE TABLE programme_items (
    id                      BIGSERIAL PRIMARY KEY,
    masterclass_event_id    BIGINT NOT NULL REFERENCES masterclass_events(id) ON DELETE CASCADE,
    position                SMALLINT NOT NULL CHECK (position >= 0),
    starts_minutes          INTEGER NOT NULL CHECK (starts_minutes BETWEEN -240 AND 1440),
    ends_minutes            INTEGER CHECK (ends_minutes > starts_minutes AND ends_minutes <= 1440),
    label_en                TEXT NOT NULL CHECK (length(label_en) BETWEEN 1 AND 200),
    label_fr                TEXT NOT NULL CHECK (length(label_fr) BETWEEN 1 AND 200),
    -- Also in the short version of the day (J-1 mail, a late confirmation).
    brief                   BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (masterclass_event_id, position)
);

-- A venue's practical facts, in both languages where they are words.
CREATE TABLE venue_facts (
    venue_id            BIGINT PRIMARY KEY REFERENCES venues(id) ON DELETE CASCADE,
    transit_en          TEXT NOT NULL DEFAULT '',
    transit_fr          TEXT NOT NULL DEFAULT '',
    parking_en          TEXT NOT NULL DEFAULT '',
    parking_fr          TEXT NOT NULL DEFAULT '',
    hotels_en           TEXT NOT NULL DEFAULT '',
    hotels_fr           TEXT NOT NULL DEFAULT '',
    restaurants_en      TEXT NOT NULL DEFAULT '',
    restaurants_fr      TEXT NOT NULL DEFAULT '',
    accessibility_en    TEXT NOT NULL DEFAULT '',
    accessibility_fr    TEXT NOT NULL DEFAULT '',
    wifi_network        TEXT NOT NULL DEFAULT '',
    wifi_password       TEXT NOT NULL DEFAULT '',
    emergency_phone     TEXT NOT NULL DEFAULT '',
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
