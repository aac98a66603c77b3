-- R1: name keys become NFKC + case fold (issue 15), so `Café` typed composed or decomposed, and
-- fullwidth `ＡＣＭＥ` beside `ACME`, collide. SQL cannot compute such keys, so the store recomputes
-- every stored `name_key` (orgs, projects, groups, custom_roles) in Rust right after the
-- migrations (`store::sql::rekey`). This row says which version of the key function made the
-- stored keys: 1, full-Unicode lowercase, until the store has re-keyed them.
CREATE TABLE name_key_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO name_key_version (id, version) VALUES (1, 1);
