DROP TABLE venue_facts;
DROP TABLE programme_items;
ALTER TABLE masterclass_events
    DROP COLUMN ce_hours, DROP COLUMN refund_window_days, DROP COLUMN name_change_days,
    DROP COLUMN resources_days, DROP COLUMN certificate_days;
DROP TABLE organiser;
