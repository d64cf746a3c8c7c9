-- Failed logins against existing accounts (sync/login_limits.c). They used to live only in a
-- table in memory, where a flood of cheap failures for names that are not accounts could push an
-- account's count out. Here nothing evicts them, a restart keeps them, and they grow only with
-- real accounts: rows quiet for --login-lock-max (and successes older than 30 days) are deleted.
-- Names that are not accounts, and client addresses across names, are still counted in memory.
-- Counts are bookkeeping of refusals, like the audit trail: not inventory, no history.

-- One row per account and client address (an IPv6 address's /64) that failed or logged in.
CREATE TABLE login_pairs (
  user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  addr            TEXT NOT NULL,
  failures        INTEGER NOT NULL DEFAULT 0, -- since the last lock, success or quiet spell
  locks           INTEGER NOT NULL DEFAULT 0, -- locks in a row: the next lasts lock x 2^locks
  locked_until_ms INTEGER NOT NULL DEFAULT 0,
  failed_at_ms    INTEGER NOT NULL DEFAULT 0, -- the last failure
  ok_at_ms        INTEGER NOT NULL DEFAULT 0, -- the last success: a known address
  PRIMARY KEY (user_id, addr)
) WITHOUT ROWID;

-- Per account: failures from addresses it has not logged in from lately, all of them together.
CREATE TABLE login_accounts (
  user_id         INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  failures        INTEGER NOT NULL DEFAULT 0,
  locks           INTEGER NOT NULL DEFAULT 0,
  locked_until_ms INTEGER NOT NULL DEFAULT 0,
  failed_at_ms    INTEGER NOT NULL DEFAULT 0
);
