-- A capped promotion code's uses are bookings held or paid with it, plus claims in flight: a
-- buyer claims a use (the code's row locked only for that short transaction), the actor holds
-- the seats, then the claim is deleted. Two buyers of the last use cannot both pass, and no
-- connection waits on a lock while an actor commits. A claim left by a crash stops counting
-- after a minute (holds commit in milliseconds).
CREATE TABLE promo_claims (
    id              BIGSERIAL PRIMARY KEY,
    promo_code_id   BIGINT NOT NULL REFERENCES promo_codes(id) ON DELETE CASCADE,
    claimed_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX promo_claims_code_idx ON promo_claims (promo_code_id);

CREATE INDEX bookings_promo_code_idx ON bookings (promo_code) WHERE promo_code IS NOT NULL;
