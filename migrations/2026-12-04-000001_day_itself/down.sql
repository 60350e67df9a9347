DROP TABLE IF EXISTS invoices;
DROP TABLE IF EXISTS invoice_sequences;
ALTER TABLE bookings DROP COLUMN IF EXISTS company_name, DROP COLUMN IF EXISTS billing_address, DROP COLUMN IF EXISTS purchase_order;
DROP TRIGGER IF EXISTS attendees_reissue_ticket ON attendees;
DROP FUNCTION IF EXISTS attendees_reissue_ticket();
DROP TABLE IF EXISTS voided_tickets;
DROP INDEX IF EXISTS attendees_ticket_code_key;
ALTER TABLE attendees DROP COLUMN IF EXISTS ticket_code, DROP COLUMN IF EXISTS licence_number,
    DROP COLUMN IF EXISTS checked_in_at, DROP COLUMN IF EXISTS checked_in_by;
ALTER TABLE admin_users DROP COLUMN IF EXISTS role;
