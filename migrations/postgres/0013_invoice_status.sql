-- Invoices a business can send, and their status (issue 16): each invoice keeps the seller it
-- was issued by, its tax and its due date as they were when it was produced (a later change of
-- the server's configuration never rewrites an issued invoice), and when its status last
-- changed (`open` to `paid` or `void`). Invoices produced before this carry none of them:
-- no seller, no VAT, no due date.
ALTER TABLE invoices ADD COLUMN seller TEXT;
ALTER TABLE invoices ADD COLUMN tax TEXT;
ALTER TABLE invoices ADD COLUMN due_on TEXT;
ALTER TABLE invoices ADD COLUMN status_changed_at TIMESTAMPTZ;
