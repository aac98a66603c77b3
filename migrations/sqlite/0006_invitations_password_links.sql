-- R9: invitations. The token is stored only as its SHA-256; re-sending replaces the hash in the
-- same row, so the old token dies at once. `state` is what was decided; a pending invitation past
-- `expires_at` shows as expired without any job, and is marked `expired` when a new invitation to
-- the same email is made, so the one-pending index below makes room for it.
CREATE TABLE invitations (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    email_key   TEXT NOT NULL,
    roles       TEXT NOT NULL,
    invited_by  BLOB REFERENCES users (id) ON DELETE SET NULL,
    token_hash  BLOB NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    mail_state  TEXT NOT NULL CHECK (mail_state IN ('pending', 'sent', 'failed')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    decided_at  TEXT
);
CREATE UNIQUE INDEX invitations_token_hash_uq ON invitations (token_hash);
-- One pending invitation per organization and email: a second is refused (409 invitation_pending).
CREATE UNIQUE INDEX invitations_one_pending ON invitations (org_id, email_key) WHERE state = 'pending';
CREATE INDEX invitations_email_idx ON invitations (email_key);

-- R10 and "forgot password": one-time links to set a password, stored as SHA-256 only; valid 24
-- hours; at most one live link per user (a new one replaces the old).
CREATE TABLE password_tokens (
    token_hash BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('set', 'reset')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE UNIQUE INDEX password_tokens_one_per_user ON password_tokens (user_id);
