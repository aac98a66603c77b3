-- R7: ownership transfer offers. At most one pending offer per organization; an offer past its
-- expiry counts as expired whatever its stored state says, and is marked so when the next offer
-- is made.
CREATE TABLE transfers (
    id         UUID PRIMARY KEY,
    org_id     UUID NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    from_user  UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_user    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    decided_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX transfers_one_pending ON transfers (org_id) WHERE state = 'pending';
