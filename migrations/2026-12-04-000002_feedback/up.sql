-- The feedback form of each seat: answered once (the UNIQUE on the attendee is what refuses a
-- second answer, whatever the number of tabs or servers), read per date by the organiser.
CREATE TABLE feedback_answers (
    id              BIGSERIAL PRIMARY KEY,
    attendee_id     BIGINT NOT NULL UNIQUE REFERENCES attendees(id) ON DELETE CASCADE,
    -- Copied from the booking so the results of a date are one index scan.
    city_event_id   BIGINT NOT NULL REFERENCES city_events(id),
    language        TEXT NOT NULL CHECK (language IN ('fr', 'en')),
    overall         INTEGER NOT NULL CHECK (overall BETWEEN 1 AND 5),
    content         INTEGER NOT NULL CHECK (content BETWEEN 1 AND 5),
    presenter       INTEGER NOT NULL CHECK (presenter BETWEEN 1 AND 5),
    venue           INTEGER NOT NULL CHECK (venue BETWEEN 1 AND 5),
    would_recommend BOOLEAN NOT NULL,
    comments        TEXT NOT NULL DEFAULT '' CHECK (length(comments) <= 2000),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX feedback_answers_city_event_idx ON feedback_answers (city_event_id, created_at);
