-- One row rewritten by the readiness check after the disk was found full: whether a write
-- works again is only known by writing.
CREATE TABLE store_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at TEXT NOT NULL
);
