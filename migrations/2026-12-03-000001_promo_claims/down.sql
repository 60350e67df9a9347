DROP INDEX IF EXISTS bookings_promo_code_idx;
DROP TABLE IF EXISTS promo_claims;
