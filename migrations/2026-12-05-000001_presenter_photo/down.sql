ALTER TABLE masterclass_events DROP COLUMN presenter_photo_url;
