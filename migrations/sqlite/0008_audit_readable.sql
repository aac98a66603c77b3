-- What a reader of the audit log needs beside the ids, written with each event: the actor's kind,
-- email and name then, and the target's name then (an id alone says nothing once it is gone).
-- Events written before this migration have NULLs here and read as before.
ALTER TABLE audit_events ADD COLUMN actor_kind TEXT;
ALTER TABLE audit_events ADD COLUMN actor_email TEXT;
ALTER TABLE audit_events ADD COLUMN actor_name TEXT;
ALTER TABLE audit_events ADD COLUMN target_name TEXT;
