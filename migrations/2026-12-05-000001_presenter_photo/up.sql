-- The presenter's photo on the site's presenter page: an https address the organiser sets in
-- the back office. Empty until then, and the page shows no picture rather than a placeholder.
ALTER TABLE masterclass_events ADD COLUMN presenter_photo_url TEXT NOT NULL DEFAULT '';
