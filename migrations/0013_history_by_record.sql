-- Field history's key was (kind, entity_id, field, version). Entity ids are UUIDs the phones
-- make at random, so a new record's fifteen or so key entries (about 70 bytes each) went to a
-- random leaf of the database's largest index, and often split it: in the field-day benchmark
-- that index took 36 % of the pages each commit wrote to the WAL. Rows now also name their
-- record by its rowid in its own table (outfalls or observations), which grows with every new
-- record, and the key is (kind, entity_rowid, field, version): a new record's entries go at the
-- end of the index, beside the previous record's. A record's id and rowid go one to one, so the
-- key keeps the rows unique as before. Same rows, rowids and chain (the chain hashes the
-- columns it hashed; entity_rowid is not one of them), same triggers. Rows whose record is not
-- in its table (none that the server wrote) keep a NULL entity_rowid.

CREATE TABLE field_history_0013 (
  kind         TEXT NOT NULL CHECK (kind IN ('outfall', 'observation')),
  entity_id    TEXT NOT NULL,
  version      INTEGER NOT NULL,
  field        TEXT NOT NULL,
  value        TEXT,
  change_id    TEXT NOT NULL,
  user_id      INTEGER NOT NULL,
  device_id    TEXT,
  at_ms        INTEGER NOT NULL,
  seq          INTEGER,
  prev_hash    BLOB,
  hash         BLOB,
  entity_rowid INTEGER  -- the record's rowid in outfalls (kind 'outfall') or observations
);
INSERT INTO field_history_0013 (rowid, kind, entity_id, version, field, value, change_id, user_id,
                                device_id, at_ms, seq, prev_hash, hash, entity_rowid)
  SELECT h.rowid, h.kind, h.entity_id, h.version, h.field, h.value, h.change_id, h.user_id,
         h.device_id, h.at_ms, h.seq, h.prev_hash, h.hash,
         CASE h.kind WHEN 'outfall' THEN (SELECT o.rowid FROM outfalls o WHERE o.id = h.entity_id)
                     ELSE (SELECT b.rowid FROM observations b WHERE b.id = h.entity_id) END
  FROM field_history h ORDER BY h.rowid;
DROP TABLE field_history;
ALTER TABLE field_history_0013 RENAME TO field_history;
CREATE UNIQUE INDEX field_history_record ON field_history(kind, entity_rowid, field, version);
CREATE UNIQUE INDEX field_history_seq ON field_history(seq) WHERE seq IS NOT NULL;
CREATE TRIGGER field_history_no_update BEFORE UPDATE ON field_history BEGIN SELECT RAISE(ABORT, 'field history is append-only'); END;
CREATE TRIGGER field_history_no_delete BEFORE DELETE ON field_history BEGIN SELECT RAISE(ABORT, 'field history is append-only'); END;
