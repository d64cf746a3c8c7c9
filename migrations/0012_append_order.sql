-- The three tables every applied change writes rows to (field history, changes, batches) were
-- WITHOUT ROWID tables clustered by client-made UUIDs, so each change's rows landed at a random
-- place of a B-tree of large rows: a field-history row is about 300 bytes, and a new record's
-- fifteen or so of them split a leaf and rebalanced its siblings. In the field-day benchmark
-- field history was 48 % of the pages each commit wrote to the WAL (about five pages a change)
-- and changes 18 %. As rowid tables their rows go in arrival order, at the end of the table, and
-- only the small key index takes the random insert. Same columns in the same order, same keys
-- (now unique indexes), same triggers; the history chain (seq, prev_hash, hash) is copied as it
-- is, rows without a place in the chain first, so `outfallctl audit verify` reads what it read.

CREATE TABLE field_history_0012 (
  kind        TEXT NOT NULL CHECK (kind IN ('outfall', 'observation')),
  entity_id   TEXT NOT NULL,
  version     INTEGER NOT NULL,
  field       TEXT NOT NULL,
  value       TEXT,
  change_id   TEXT NOT NULL,
  user_id     INTEGER NOT NULL,
  device_id   TEXT,
  at_ms       INTEGER NOT NULL,
  seq         INTEGER,
  prev_hash   BLOB,
  hash        BLOB,
  PRIMARY KEY (kind, entity_id, field, version)
);
INSERT INTO field_history_0012
  SELECT kind, entity_id, version, field, value, change_id, user_id, device_id, at_ms, seq,
         prev_hash, hash
  FROM field_history ORDER BY seq, kind, entity_id, field, version;
DROP TABLE field_history;
ALTER TABLE field_history_0012 RENAME TO field_history;
CREATE UNIQUE INDEX field_history_seq ON field_history(seq) WHERE seq IS NOT NULL;
CREATE TRIGGER field_history_no_update BEFORE UPDATE ON field_history BEGIN SELECT RAISE(ABORT, 'field history is append-only'); END;
CREATE TRIGGER field_history_no_delete BEFORE DELETE ON field_history BEGIN SELECT RAISE(ABORT, 'field history is append-only'); END;

CREATE TABLE changes_0012 (
  change_id    TEXT NOT NULL PRIMARY KEY,
  content_hash BLOB NOT NULL,
  batch_id     TEXT NOT NULL,
  kind         TEXT NOT NULL,
  entity_id    TEXT NOT NULL,
  status       INTEGER NOT NULL,
  version      INTEGER NOT NULL,
  result       BLOB NOT NULL
);
INSERT INTO changes_0012 SELECT change_id, content_hash, batch_id, kind, entity_id, status,
                                version, result FROM changes;
DROP TABLE changes;
ALTER TABLE changes_0012 RENAME TO changes;

CREATE TABLE batches_0012 (
  batch_id      TEXT NOT NULL PRIMARY KEY,
  device_id     TEXT NOT NULL REFERENCES devices(device_id),
  device_seq    INTEGER NOT NULL,
  user_id       INTEGER NOT NULL REFERENCES users(id),
  content_hash  BLOB NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('held', 'applied')),
  received_at_ms INTEGER NOT NULL,
  applied_at_ms INTEGER,
  request       BLOB,
  response      BLOB
);
INSERT INTO batches_0012 SELECT batch_id, device_id, device_seq, user_id, content_hash, state,
                                received_at_ms, applied_at_ms, request, response
  FROM batches ORDER BY received_at_ms, batch_id;
DROP TABLE batches;
ALTER TABLE batches_0012 RENAME TO batches;
CREATE UNIQUE INDEX batches_device_seq ON batches(device_id, device_seq);
