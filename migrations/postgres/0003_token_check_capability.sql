-- API tokens may carry the `check` capability: they may then ask the check API, within the
-- organizations where their owner holds `members.read`.
ALTER TABLE api_tokens ADD COLUMN can_check BOOLEAN NOT NULL DEFAULT FALSE;
