-- Accounts, sessions, tokens, organizations, memberships, custom roles and the audit log.
-- Uuids are stored as 16-byte blobs, times as RFC 3339 text (sqlx's encodings).

CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT,
    created_at    TEXT NOT NULL,
    disabled_at   TEXT
);
CREATE UNIQUE INDEX users_email_key_uq ON users (email_key);

CREATE TABLE sessions (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE UNIQUE INDEX sessions_token_hash_uq ON sessions (token_hash);

CREATE TABLE signin_failures (
    key             TEXT PRIMARY KEY NOT NULL,
    failures        INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL
);

CREATE TABLE orgs (
    id         BLOB PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    slug       TEXT NOT NULL,
    personal   INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX orgs_name_key_uq ON orgs (name_key);
CREATE UNIQUE INDEX orgs_slug_uq ON orgs (slug);

CREATE TABLE api_tokens (
    id          BLOB PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    token_hash  BLOB NOT NULL,
    org_id      BLOB REFERENCES orgs (id) ON DELETE CASCADE,
    permissions TEXT,
    created_at  TEXT NOT NULL,
    expires_at  TEXT
);
CREATE UNIQUE INDEX api_tokens_token_hash_uq ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE memberships (
    org_id     BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE custom_roles (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX custom_roles_name_uq ON custom_roles (org_id, name_key);

-- A member's roles: exactly one of `builtin` and `custom_role_id` is set.
CREATE TABLE member_roles (
    org_id         BLOB NOT NULL,
    user_id        BLOB NOT NULL,
    builtin        TEXT,
    custom_role_id BLOB REFERENCES custom_roles (id),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE,
    CHECK ((builtin IS NULL) <> (custom_role_id IS NULL))
);
CREATE UNIQUE INDEX member_roles_builtin_uq ON member_roles (org_id, user_id, builtin) WHERE builtin IS NOT NULL;
CREATE UNIQUE INDEX member_roles_custom_uq ON member_roles (org_id, user_id, custom_role_id) WHERE custom_role_id IS NOT NULL;
-- R3: at most one owner per organization, whatever races happen above this layer.
CREATE UNIQUE INDEX member_roles_one_owner ON member_roles (org_id) WHERE builtin = 'owner';
CREATE INDEX member_roles_custom_idx ON member_roles (custom_role_id);

-- R13: append-only. No foreign key to orgs: the record of a deleted organization stays.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          BLOB NOT NULL,
    at          TEXT NOT NULL,
    org_id      BLOB,
    actor_id    BLOB,
    token_id    BLOB,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    data        TEXT NOT NULL,
    ip          TEXT
);
CREATE INDEX audit_events_org_idx ON audit_events (org_id, seq);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
