-- Accounts that can be managed (issue 18): a password an admin reset must be changed at the next
-- login, and a signed-in token shows when it was last used (sync/accounts.c, at most once a
-- minute per token). A device's "last seen" is its newest batch (batches.received_at_ms).
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0; -- 1 after a reset
ALTER TABLE tokens ADD COLUMN last_used_at_ms INTEGER NOT NULL DEFAULT 0;     -- 0: never since login
