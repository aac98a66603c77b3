-- R7: ownership transfer offers. At most one pending offer per organization; an offer past its
-- expiry counts as expired whatever its stored state says, and is marked so when the next offer
-- is made.
CREATE TABLE transfers (
    id         BLOB PRIMARY KEY NOT NULL,
    org_id     BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    from_user  BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_user    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_at TEXT
);
CREATE UNIQUE INDEX transfers_one_pending ON transfers (org_id) WHERE state = 'pending';
