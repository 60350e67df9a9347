-- The day itself: who may check in, tickets that can be voided, who came, invoices and credit
-- notes numbered without gaps.

-- Staff check people in at the door and do nothing else; owners do everything.
ALTER TABLE admin_users ADD COLUMN role text NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'staff'));

-- A ticket's QR carries a random code (signed by the server); a new name gets a new code and the
-- old one is kept as voided, so a scan of the old ticket says so instead of "unknown".
ALTER TABLE attendees
    ADD COLUMN ticket_code text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', ''),
    ADD COLUMN licence_number text CHECK (char_length(licence_number) <= 60),
    ADD COLUMN checked_in_at timestamptz,
    ADD COLUMN checked_in_by bigint REFERENCES admin_users (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX attendees_ticket_code_key ON attendees (ticket_code);

CREATE TABLE voided_tickets (
    ticket_code text PRIMARY KEY,
    attendee_id bigint NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
    voided_at timestamptz NOT NULL DEFAULT now()
);

-- Every path that corrects a name (the buyer's form, the API, the back office) goes through an
-- UPDATE of the row, so the trigger is the one place a ticket is reissued.
CREATE FUNCTION attendees_reissue_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.first_name IS DISTINCT FROM OLD.first_name OR NEW.last_name IS DISTINCT FROM OLD.last_name THEN
        INSERT INTO voided_tickets (ticket_code, attendee_id) VALUES (OLD.ticket_code, OLD.id)
            ON CONFLICT DO NOTHING;
        NEW.ticket_code := replace(gen_random_uuid()::text, '-', '');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER attendees_reissue_ticket BEFORE UPDATE OF first_name, last_name ON attendees
    FOR EACH ROW EXECUTE FUNCTION attendees_reissue_ticket();

-- What the buyer's employer needs on the invoice (all optional).
ALTER TABLE bookings
    ADD COLUMN company_name text CHECK (char_length(company_name) <= 200),
    ADD COLUMN billing_address text CHECK (char_length(billing_address) <= 500),
    ADD COLUMN purchase_order text CHECK (char_length(purchase_order) <= 60);

-- Gap-free numbering: a number is taken by updating its sequence's row in the transaction that
-- writes the document, so a rollback gives the number back (a PostgreSQL SEQUENCE would not).
CREATE TABLE invoice_sequences (
    kind text PRIMARY KEY CHECK (kind IN ('invoice', 'credit_note')),
    last_number bigint NOT NULL DEFAULT 0
);
INSERT INTO invoice_sequences (kind) VALUES ('invoice'), ('credit_note');

CREATE TABLE invoices (
    id bigserial PRIMARY KEY,
    kind text NOT NULL REFERENCES invoice_sequences (kind),
    number bigint NOT NULL,
    booking_id uuid NOT NULL REFERENCES bookings (id),
    -- what the credit note gives back (the invoice's own: the booking's total)
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    -- a credit note's refund: the mail occurrence that told it
    occurrence text NOT NULL DEFAULT '',
    issued_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, number),
    UNIQUE (booking_id, kind, occurrence)
);
