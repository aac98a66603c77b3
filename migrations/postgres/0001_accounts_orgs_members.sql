-- Accounts, sessions, tokens, organizations, memberships, custom roles and the audit log.

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    disabled_at   TIMESTAMPTZ,
    CONSTRAINT users_email_key_uq UNIQUE (email_key)
);

CREATE TABLE sessions (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT sessions_token_hash_uq UNIQUE (token_hash)
);

CREATE TABLE signin_failures (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE orgs (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    slug       TEXT NOT NULL,
    personal   BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT orgs_name_key_uq UNIQUE (name_key),
    CONSTRAINT orgs_slug_uq UNIQUE (slug)
);

CREATE TABLE api_tokens (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    token_hash  BYTEA NOT NULL,
    org_id      UUID REFERENCES orgs (id) ON DELETE CASCADE,
    permissions JSONB,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ,
    CONSTRAINT api_tokens_token_hash_uq UNIQUE (token_hash)
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE memberships (
    org_id     UUID NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT memberships_pk PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE custom_roles (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    permissions JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT custom_roles_name_uq UNIQUE (org_id, name_key)
);

-- A member's roles: exactly one of `builtin` and `custom_role_id` is set.
CREATE TABLE member_roles (
    org_id         UUID NOT NULL,
    user_id        UUID NOT NULL,
    builtin        TEXT,
    custom_role_id UUID REFERENCES custom_roles (id),
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
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          UUID NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    org_id      UUID,
    actor_id    UUID,
    token_id    UUID,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    data        JSONB NOT NULL,
    ip          TEXT
);
CREATE INDEX audit_events_org_idx ON audit_events (org_id, seq);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
