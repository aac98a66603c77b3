-- Plans, billing profiles, vouchers and invoices (issue #6).

-- A project's plan history: one row per stretch of time with one plan; `valid_to` NULL is the
-- current plan. No foreign key to projects: the rows outlive a deleted project, so the month it
-- was deleted in is still billed for its days (the project's name is kept for the invoice line).
CREATE TABLE plan_periods (
    id              BLOB PRIMARY KEY NOT NULL,
    org_id          BLOB NOT NULL,
    project_id      BLOB NOT NULL,
    project_name    TEXT NOT NULL,
    tier            TEXT NOT NULL,
    storage_gb      BIGINT NOT NULL CHECK (storage_gb >= 0),
    environments    BIGINT NOT NULL CHECK (environments >= 0),
    licenses        BIGINT NOT NULL CHECK (licenses >= 0),
    monthly_price   BIGINT NOT NULL CHECK (monthly_price >= 0),
    valid_from      TEXT NOT NULL,
    valid_to        TEXT,
    ended_by_delete BOOLEAN NOT NULL DEFAULT FALSE
);
-- One current plan per project.
CREATE UNIQUE INDEX plan_periods_current_uq ON plan_periods (project_id) WHERE valid_to IS NULL;
CREATE INDEX plan_periods_org_idx ON plan_periods (org_id, valid_from);

-- Projects created before plans existed start on the built-in default tier (`free`, 1 GB,
-- no environment, 1 license) since their creation.
INSERT INTO plan_periods (id, org_id, project_id, project_name, tier, storage_gb, environments,
                          licenses, monthly_price, valid_from)
SELECT id, org_id, id, name, 'free', 1, 0, 1, 0, created_at FROM projects;

-- The billing profile, as one JSON document (name, address, VAT number, currency, payment
-- method: brand, last four digits and expiry only).
CREATE TABLE billing_profiles (
    org_id     BLOB PRIMARY KEY NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    profile    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE vouchers (
    code       TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('amount', 'percent')),
    value      BIGINT NOT NULL CHECK (value > 0),
    org_id     BLOB,
    expires_on TEXT NOT NULL,
    max_uses   BIGINT NOT NULL CHECK (max_uses > 0),
    uses       BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    CHECK (uses <= max_uses)
);

-- A code is redeemed at most once per organization; `invoice_id` is set when an invoice used it.
CREATE TABLE voucher_redemptions (
    code        TEXT NOT NULL REFERENCES vouchers (code),
    org_id      BLOB NOT NULL,
    redeemed_at TEXT NOT NULL,
    invoice_id  BLOB,
    CONSTRAINT voucher_redemptions_pk PRIMARY KEY (code, org_id)
);
CREATE INDEX voucher_redemptions_pending_idx ON voucher_redemptions (org_id) WHERE invoice_id IS NULL;

-- Invoices: one per organization and month, kept after the organization is gone.
CREATE TABLE invoices (
    id        BLOB PRIMARY KEY NOT NULL,
    org_id    BLOB NOT NULL,
    month     TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    number    TEXT NOT NULL,
    currency  TEXT NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('open', 'paid', 'void')),
    subtotal  BIGINT NOT NULL,
    total     BIGINT NOT NULL CHECK (total >= 0),
    lines     TEXT NOT NULL,
    bill_to   TEXT,
    issued_at TEXT NOT NULL,
    CONSTRAINT invoices_org_month_uq UNIQUE (org_id, month),
    CONSTRAINT invoices_number_uq UNIQUE (number)
);
CREATE INDEX invoices_month_idx ON invoices (month, org_id);

-- The server's invoice counter: incremented in the transaction that inserts the invoice, so
-- numbers have no gaps.
CREATE TABLE invoice_counter (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last BIGINT NOT NULL
);
INSERT INTO invoice_counter (id, last) VALUES (1, 0);
