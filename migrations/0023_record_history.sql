-- Issue 20: one history row per record version instead of one per field. A new observation wrote
-- about eleven field_history rows, each a link of the hash chain with its own 32-byte hashes and
-- index entries; it now writes one record_history row: the fields that version set as one
-- canonical JSON object (path -> value, null = cleared; keys sorted, written by history_write in
-- sync/history.c), who and when, and ONE chain link (seq, prev_hash, hash =
-- BLAKE2b-256(prev_hash || the row's content), history_version_hash).
--
-- Nothing older is converted: the per-field rows stay as they are in field_history_frozen, with
-- their own links, and take no new rows. The new chain continues the old one: its first row's seq
-- follows the old chain's last and its prev_hash is that row's hash, so `outfallctl audit verify`
-- walks one chain through both tables. Every version a record has in record_history is newer than
-- every version it has in the frozen table (the frozen table took its last row before this ran).
--
-- field_history is now a view with the columns the table had: one row per field a version set,
-- from both tables, for readers that want rows of (field, value).
ALTER TABLE field_history RENAME TO field_history_frozen;
CREATE TRIGGER field_history_frozen_no_insert BEFORE INSERT ON field_history_frozen BEGIN SELECT RAISE(ABORT, 'field_history_frozen takes no new rows: history goes to record_history'); END;

CREATE TABLE record_history (
  seq          INTEGER PRIMARY KEY,    -- its place in the chain (continues field_history_frozen's)
  kind         TEXT NOT NULL CHECK (kind IN ('outfall', 'observation')),
  entity_id    TEXT NOT NULL,
  entity_rowid INTEGER NOT NULL,       -- the record's rowid in outfalls or observations
  version      INTEGER NOT NULL,
  fields       TEXT NOT NULL,          -- {"path": value, ...}: what this version set
  change_id    TEXT NOT NULL,
  user_id      INTEGER NOT NULL,
  device_id    TEXT,                   -- NULL for decisions made off a phone
  at_ms        INTEGER NOT NULL,
  prev_hash    BLOB,                   -- NULL for the first link of the whole chain
  hash         BLOB NOT NULL
);
CREATE UNIQUE INDEX record_history_version ON record_history(kind, entity_rowid, version);
CREATE TRIGGER record_history_no_delete BEFORE DELETE ON record_history BEGIN SELECT RAISE(ABORT, 'record history is append-only'); END;
-- A version written in several calls (its fields, then the flags the server set) fills its row in
-- place while the row is still the chain's head; no other row ever changes.
CREATE TRIGGER record_history_no_update BEFORE UPDATE ON record_history
  WHEN old.seq <> (SELECT max(seq) FROM record_history) OR new.seq IS NOT old.seq
    OR new.kind IS NOT old.kind OR new.entity_id IS NOT old.entity_id
    OR new.entity_rowid IS NOT old.entity_rowid OR new.version IS NOT old.version
    OR new.change_id IS NOT old.change_id OR new.user_id IS NOT old.user_id
    OR new.device_id IS NOT old.device_id OR new.at_ms IS NOT old.at_ms
    OR new.prev_hash IS NOT old.prev_hash
  BEGIN SELECT RAISE(ABORT, 'record history is append-only'); END;

CREATE VIEW field_history AS
  SELECT kind, entity_id, version, field, value, change_id, user_id, device_id, at_ms, seq,
         prev_hash, hash, entity_rowid
  FROM field_history_frozen
  UNION ALL
  SELECT h.kind, h.entity_id, h.version, j.key,
         CASE j.type WHEN 'null' THEN NULL ELSE h.fields -> j.fullkey END,
         h.change_id, h.user_id, h.device_id, h.at_ms, h.seq, h.prev_hash, h.hash, h.entity_rowid
  FROM record_history h, json_each(h.fields) j;
