-- The mail outbox (issue 15): a mail is queued in the transaction of the change it tells of and
-- sent by a worker after commit, so a crash between the two loses no mail. A row lives until its
-- mail is sent (or given up on), then it is deleted: its body may hold a one-time link.
-- `claimed_until` is the lease of the process sending it; a lease that runs out (the process
-- died) makes the row due again. `invitation_id` and `token_hash` say which invitation's mail
-- state the outcome is recorded on.
CREATE TABLE mail_outbox (
    id            BLOB PRIMARY KEY NOT NULL,
    recipient     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body_text     TEXT NOT NULL,
    body_html     TEXT NOT NULL,
    invitation_id BLOB,
    token_hash    BLOB,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    due_at        TEXT NOT NULL,
    claimed_until TEXT
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (due_at);
