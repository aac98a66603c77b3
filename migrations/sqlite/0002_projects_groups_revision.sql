-- Projects, groups, project roles, and the grant revision the authorization index follows.

CREATE TABLE projects (
    id         BLOB PRIMARY KEY NOT NULL,
    org_id     BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX projects_name_uq ON projects (org_id, name_key);

CREATE TABLE groups (
    id         BLOB PRIMARY KEY NOT NULL,
    org_id     BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX groups_name_uq ON groups (org_id, name_key);

-- R4: a group place belongs to a membership and goes with it.
CREATE TABLE group_members (
    group_id BLOB NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    org_id   BLOB NOT NULL,
    user_id  BLOB NOT NULL,
    PRIMARY KEY (group_id, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX group_members_member_idx ON group_members (org_id, user_id);

CREATE TABLE group_projects (
    group_id   BLOB NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    project_id BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'contributor', 'admin')),
    PRIMARY KEY (group_id, project_id)
);
CREATE INDEX group_projects_project_idx ON group_projects (project_id);

-- R4: a direct project role belongs to a membership and goes with it.
CREATE TABLE project_members (
    project_id BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    org_id     BLOB NOT NULL,
    user_id    BLOB NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'contributor', 'admin')),
    PRIMARY KEY (project_id, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX project_members_member_idx ON project_members (org_id, user_id);

-- The global grant revision. Every transaction that changes who may do what bumps it as its
-- last write (the row lock makes revisions commit in order) and logs the organization it touched,
-- so another process (or the periodic poll) reloads exactly what changed after what it knows.
CREATE TABLE grant_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO grant_revision (id, revision) VALUES (1, 0);

CREATE TABLE grant_changes (
    revision BIGINT NOT NULL,
    org_id   BLOB NOT NULL
);
CREATE INDEX grant_changes_revision_idx ON grant_changes (revision);
