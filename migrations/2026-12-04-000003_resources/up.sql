-- A masterclass's resources: files the organiser uploads (stored on disk under their SHA-256,
-- which is kept here to check what is served) and links (recordings), http(s) only.
CREATE TABLE resources (
    id                   BIGSERIAL PRIMARY KEY,
    masterclass_event_id BIGINT NOT NULL REFERENCES masterclass_events(id),
    title                TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    url                  TEXT CHECK (url ~ '^https?://[^[:space:]]+$' AND length(url) <= 2000),
    filename             TEXT CHECK (length(filename) BETWEEN 1 AND 200),
    content_type         TEXT,
    size_bytes           BIGINT CHECK (size_bytes > 0),
    sha256               TEXT CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A link or a file, never both nor neither.
    CONSTRAINT resources_link_or_file CHECK (
        (url IS NOT NULL AND filename IS NULL AND sha256 IS NULL)
        OR (url IS NULL AND filename IS NOT NULL AND content_type IS NOT NULL AND size_bytes IS NOT NULL AND sha256 IS NOT NULL))
);
CREATE INDEX resources_masterclass_idx ON resources (masterclass_event_id, id);
