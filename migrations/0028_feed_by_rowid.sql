-- The feed's one-row-per-record rule was a UNIQUE index on entity_id, the record's UUID: every
-- change's INSERT OR REPLACE probed and inserted a key at a random leaf of that index, one more
-- page each commit wrote to the WAL (444 pages after 20 000 observations of 16 494 outfalls).
-- Rows now name their record by its table (entity_table: 0 outfalls, for kinds 'outfall' and
-- 'redirect'; 1 observations) and its rowid there, which grows with every new record, and the
-- rule is UNIQUE (entity_table, entity_rowid): a new record's key goes at the end of the index,
-- and a merged outfall's redirect still replaces that outfall's row. entity_id stays, a plain
-- column, for the readers. Same rows and seq values, same AUTOINCREMENT sequence (no seq is
-- ever given out twice), same feed_division index, the same rule on kind. A row whose record is
-- not in its table (none that the server wrote) keeps its place under the key -seq, which no
-- record's rowid takes.

CREATE TABLE feed_0028 (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  -- Written as ORs: SQLite 3.40 checks an IN list of three constants through a temporary b-tree
  -- it opens and fills for every row (12 % of the feed write); two or fewer it compares.
  kind          TEXT NOT NULL CHECK (kind = 'outfall' OR kind = 'observation' OR kind = 'redirect'),
  entity_id     TEXT NOT NULL,
  division_code TEXT NOT NULL,
  entity_table  INTEGER NOT NULL CHECK (entity_table IN (0, 1)), -- 0 outfalls, 1 observations
  entity_rowid  INTEGER NOT NULL,                                 -- the record's rowid there
  UNIQUE (entity_table, entity_rowid)
);
INSERT INTO feed_0028 (seq, kind, entity_id, division_code, entity_table, entity_rowid)
  SELECT f.seq, f.kind, f.entity_id, f.division_code, f.kind = 'observation',
         coalesce(CASE f.kind WHEN 'observation'
                    THEN (SELECT b.rowid FROM observations b WHERE b.id = f.entity_id)
                    ELSE (SELECT o.rowid FROM outfalls o WHERE o.id = f.entity_id) END, -f.seq)
  FROM feed f ORDER BY f.seq;
-- The old table's sequence (at least every seq it gave out) carries over, not just the highest
-- row's.
DELETE FROM sqlite_sequence WHERE name = 'feed_0028';
INSERT INTO sqlite_sequence (name, seq) SELECT 'feed_0028', seq FROM sqlite_sequence
  WHERE name = 'feed';
DROP TABLE feed;
ALTER TABLE feed_0028 RENAME TO feed;
CREATE INDEX feed_division ON feed(division_code, seq);
