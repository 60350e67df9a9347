ALTER TABLE promo_codes DROP CONSTRAINT promo_codes_window;
ALTER TABLE promo_codes DROP CONSTRAINT promo_codes_kind_amount;
DELETE FROM promo_codes WHERE kind = 'fixed';
ALTER TABLE promo_codes ALTER COLUMN percent_off SET NOT NULL;
ALTER TABLE promo_codes
    DROP COLUMN created_at,
    DROP COLUMN valid_from,
    DROP COLUMN max_uses,
    DROP COLUMN amount_off_cents,
    DROP COLUMN kind;
