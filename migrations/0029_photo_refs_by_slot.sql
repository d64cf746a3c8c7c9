-- Photo references keyed by their place (issue 20, round 13). Since 0027 a reference was a row
-- of a rowid table with UNIQUE (observation_rowid, hash): each new reference went into two
-- b-trees, the table and that index, and the index was as large as the table (about 350 bytes
-- an observation of four photos). Now a reference's key is its observation's rowid times 1024
-- plus its slot (0-1023), so an observation's references are the keys of one range, read by
-- rowid: no index of their own. The engine (sync/entity.c, save_photo_refs) names each photo
-- once a record and gives a new one the lowest free slot, and an observation names at most
-- 1024 photos (too_many_photos). The CHECK keeps every key inside its observation's range, so
-- a migration of an observation with more references than slots fails whole instead of mixing
-- them up.
CREATE TABLE observation_photo_refs_0029 (
  ref_key           INTEGER PRIMARY KEY CHECK (ref_key >> 10 = observation_rowid),
  observation_rowid INTEGER NOT NULL,            -- observations.rowid
  hash              TEXT NOT NULL,               -- 64 lowercase hex, BLAKE2b-256
  kind              INTEGER NOT NULL DEFAULT 0,  -- outfall.v1.PhotoKind
  division_code     TEXT NOT NULL,
  author_id         INTEGER                      -- who first named it here (0015)
);
INSERT INTO observation_photo_refs_0029 (ref_key, observation_rowid, hash, kind, division_code,
                                         author_id)
  SELECT observation_rowid * 1024 + row_number() OVER (PARTITION BY observation_rowid
                                                       ORDER BY rowid) - 1,
         observation_rowid, hash, kind, division_code, author_id
  FROM observation_photo_refs ORDER BY observation_rowid, rowid;

DROP VIEW observation_photos_proven;
DROP VIEW observation_photos;
DROP INDEX observation_photo_refs_hash;
DROP TABLE observation_photo_refs;
ALTER TABLE observation_photo_refs_0029 RENAME TO observation_photo_refs;
-- By photo, as 0027 had it: the hash's first 8 hex digits, the whole hash compared after.
CREATE INDEX observation_photo_refs_hash ON observation_photo_refs(substr(hash, 1, 8));

-- The references as the old table showed them, for reading. The join names the key's range too
-- (the CHECK makes it the same join), so a reader that starts from an observation reads its
-- references by key; one that starts from the observation's rowid names the range itself
-- (PHOTO_REFS_OF, sync/photos.h).
CREATE VIEW observation_photos AS
  SELECT o.id AS observation_id, r.hash, r.kind, r.division_code, r.author_id,
         r.observation_rowid, r.ref_key
  FROM observation_photo_refs r JOIN observations o ON o.rowid = r.observation_rowid
   AND r.ref_key BETWEEN o.rowid * 1024 AND o.rowid * 1024 + 1023;

-- The observations' references that count (0015): their author holds the photo.
CREATE VIEW observation_photos_proven AS
  SELECT o.id AS observation_id, r.hash, r.kind, r.division_code, r.author_id,
         r.observation_rowid, r.ref_key
  FROM observation_photo_refs r JOIN observations o ON o.rowid = r.observation_rowid
   AND r.ref_key BETWEEN o.rowid * 1024 AND o.rowid * 1024 + 1023
  WHERE EXISTS (SELECT 1 FROM photo_holders h WHERE h.hash = r.hash AND h.user_id = r.author_id);
