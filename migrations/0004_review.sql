-- Review: approval pins a version, local codes, decisions and their idempotency.

ALTER TABLE outfalls ADD COLUMN approved_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outfalls ADD COLUMN code TEXT;
-- 1 once a supervisor returned the record; cleared by approval. A returned record the field
-- changes again goes back to PENDING and shows in the queue as resubmitted.
ALTER TABLE outfalls ADD COLUMN returned INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX outfalls_code ON outfalls(code) WHERE code IS NOT NULL;
CREATE INDEX outfalls_review ON outfalls(review_state, division_code);
CREATE INDEX outfalls_merged ON outfalls(merged_into) WHERE merged_into IS NOT NULL;

-- The next sequence number of each code prefix (division-river-type).
CREATE TABLE code_sequences (
  prefix TEXT PRIMARY KEY,
  next   INTEGER NOT NULL
) WITHOUT ROWID;

-- Every supervisor decision by its client-made id: a retry answers the first result.
CREATE TABLE decisions (
  decision_id  TEXT PRIMARY KEY,
  content_hash BLOB NOT NULL,             -- BLAKE2b-256 of the packed Decision
  kind         INTEGER NOT NULL,          -- outfall.v1.DecisionKind
  outfall_id   TEXT NOT NULL,
  user_id      INTEGER NOT NULL REFERENCES users(id),
  comment      TEXT,
  at_ms        INTEGER NOT NULL,
  result       BLOB NOT NULL              -- packed DecisionResult as first answered
) WITHOUT ROWID;
CREATE INDEX decisions_outfall ON decisions(outfall_id, at_ms);

ALTER TABLE conflicts ADD COLUMN decision_id TEXT;
ALTER TABLE duplicates ADD COLUMN decision_id TEXT;
CREATE INDEX duplicates_open ON duplicates(state, outfall_id);
