-- Changes found by change id through entries made in bulk, in order (issue 20, round 16).
-- Since 0012 a change's id was the unique key of an index of changes. Change ids are random
-- UUIDs, so a batch of 500 changes put 500 entries into pages all over that index: at 36 000
-- changes it wrote about 330 of its 450 pages each batch, a quarter of the batch's WAL, and more
-- as the database grew.
--
-- Now a change's id is found in one of two tables keyed by it. change_ids_recent takes each new
-- change's entry: it is small, so a batch writes few of its pages. When CHANGE_IDS_MERGE_AT
-- entries wait there, the engine moves them into change_ids in one pass in key order and
-- empties change_ids_recent (sync/change_log.c), so each page of change_ids is written once a
-- merge, not once a batch. A change id is in at most one of the two; the engine looks in both before it writes a
-- change (a retry is answered from the first), and nothing else writes changes. The changes
-- keep their rowids, which the entries name (nothing runs VACUUM).
CREATE TABLE changes_0031 (
  change_id    TEXT NOT NULL,
  content_hash BLOB NOT NULL,
  batch_id     TEXT NOT NULL,
  kind         TEXT NOT NULL,
  entity_id    TEXT NOT NULL,
  status       INTEGER NOT NULL,
  version      INTEGER NOT NULL,
  result       BLOB NOT NULL
);
INSERT INTO changes_0031 (rowid, change_id, content_hash, batch_id, kind, entity_id, status,
                          version, result)
  SELECT rowid, change_id, content_hash, batch_id, kind, entity_id, status, version, result
  FROM changes ORDER BY rowid;
DROP TABLE changes;
ALTER TABLE changes_0031 RENAME TO changes;

CREATE TABLE change_ids (
  change_id    TEXT NOT NULL PRIMARY KEY,
  change_rowid INTEGER NOT NULL  -- changes.rowid
) WITHOUT ROWID;

CREATE TABLE change_ids_recent (
  change_id    TEXT NOT NULL PRIMARY KEY,
  change_rowid INTEGER NOT NULL  -- changes.rowid
) WITHOUT ROWID;

INSERT INTO change_ids (change_id, change_rowid)
  SELECT change_id, rowid FROM changes ORDER BY change_id;
