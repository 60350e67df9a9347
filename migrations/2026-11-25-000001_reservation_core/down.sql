DROP TABLE IF EXISTS email_campaigns, payments, attendees, bookings, promo_codes, city_events, venues, cities, sales_taxes, masterclass_events CASCADE;
DROP FUNCTION IF EXISTS bookings_seats_after_insert(), bookings_seats_after_update(), bookings_seats_after_delete(), bookings_freeze_seats();
