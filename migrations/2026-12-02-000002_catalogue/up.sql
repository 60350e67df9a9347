-- Promo codes: a percentage or a fixed amount off (CAD cents, before tax), a usage cap and a
-- validity window. Existing rows are percentages with no cap, valid from their creation.
ALTER TABLE promo_codes
    ADD COLUMN kind             TEXT NOT NULL DEFAULT 'percent' CHECK (kind IN ('percent', 'fixed')),
    ADD COLUMN amount_off_cents BIGINT CHECK (amount_off_cents > 0 AND amount_off_cents <= 10000000),
    ADD COLUMN max_uses         INTEGER CHECK (max_uses > 0),
    ADD COLUMN valid_from       TIMESTAMPTZ,
    ADD COLUMN created_at       TIMESTAMPTZ NOT NULL DEFAULT now();

ALTER TABLE promo_codes ALTER COLUMN percent_off DROP NOT NULL;

ALTER TABLE promo_codes ADD CONSTRAINT promo_codes_kind_amount CHECK (
    (kind = 'percent' AND percent_off IS NOT NULL AND amount_off_cents IS NULL)
    OR (kind = 'fixed' AND amount_off_cents IS NOT NULL AND percent_off IS NULL)
);

ALTER TABLE promo_codes ADD CONSTRAINT promo_codes_window CHECK (
    valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until
);
