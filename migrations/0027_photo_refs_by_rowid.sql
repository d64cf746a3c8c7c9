-- Photo references keyed by the observation's rowid (issue 20, round 11). Keyed by the
-- observation's uuid, each of a new observation's references landed on a random page of the
-- table, and its foreign key looked the observation up again; keyed by its rowid, a new
-- observation's references go at the end of the table. No foreign key on the rowid: the engine
-- (sync/entity.c, save_photo_refs) writes it from the row it has just saved or loaded, and no
-- observation row is ever deleted or given another rowid (the history keys them the same way,
-- record_history.entity_rowid; nothing runs VACUUM).
CREATE TABLE observation_photo_refs (
  observation_rowid INTEGER NOT NULL,            -- observations.rowid
  hash              TEXT NOT NULL,               -- 64 lowercase hex, BLAKE2b-256
  kind              INTEGER NOT NULL DEFAULT 0,  -- outfall.v1.PhotoKind
  division_code     TEXT NOT NULL,
  author_id         INTEGER,                     -- who first named it here (0015)
  UNIQUE (observation_rowid, hash)
);
-- A rowid table appended in the observations' order, the pair kept once by UNIQUE (its index
-- appended too). By photo: only the hash's first 8 hex digits, about 14 bytes an entry where the
-- whole hash with the division took about 80, so a new reference's one entry that lands at a
-- random place dirties fewer pages (a shared prefix costs a row read, never a wrong answer: the
-- whole hash is compared). Readers by photo ask
--   substr(hash, 1, 8) = substr(?1, 1, 8) AND +hash = ?1
-- (the + keeps SQLite from putting ?1 for hash in the first term, which would lose the index).
CREATE INDEX observation_photo_refs_hash ON observation_photo_refs(substr(hash, 1, 8));

INSERT INTO observation_photo_refs (observation_rowid, hash, kind, division_code, author_id)
  SELECT o.rowid, op.hash, op.kind, op.division_code, op.author_id
  FROM observation_photos op JOIN observations o ON o.id = op.observation_id;

DROP VIEW observation_photos_proven;
DROP INDEX observation_photos_hash;
DROP TABLE observation_photos;

-- The references as the old table showed them, for reading.
CREATE VIEW observation_photos AS
  SELECT o.id AS observation_id, r.hash, r.kind, r.division_code, r.author_id,
         r.observation_rowid
  FROM observation_photo_refs r JOIN observations o ON o.rowid = r.observation_rowid;

-- The observations' references that count (0015): their author holds the photo.
CREATE VIEW observation_photos_proven AS
  SELECT o.id AS observation_id, r.hash, r.kind, r.division_code, r.author_id,
         r.observation_rowid
  FROM observation_photo_refs r JOIN observations o ON o.rowid = r.observation_rowid
  WHERE EXISTS (SELECT 1 FROM photo_holders h WHERE h.hash = r.hash AND h.user_id = r.author_id);
