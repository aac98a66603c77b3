-- API tokens expire (SPEC §5, issue 15): a token is made with `expires_at`, or the server's
-- default lifetime. Tokens made before had none unless asked; they get 90 days (the default
-- lifetime) from this upgrade.
UPDATE api_tokens
SET expires_at = now() + interval '90 days'
WHERE expires_at IS NULL;

-- `GET /tokens` pages a user's tokens newest first.
CREATE INDEX api_tokens_user_created_idx ON api_tokens (user_id, created_at, id);
