-- Photo references found by hash through entries made in bulk, in order (issue 20, round 15).
-- Since 0027 the hash's first 8 hex digits were an index of observation_photo_refs. Photo hashes
-- are random, so a batch of 500 observations of four photos put 2 000 entries into pages all
-- over that index: at 20 000 observations it wrote 370 of its pages each batch, nearly all of
-- them and a quarter of the batch's WAL, and more as the database grew.
--
-- Now the entries are rows of photo_ref_hashes, made for the references keyed up to
-- photo_ref_hashes_upto.upto. The references keyed after it, the newest (a new observation's
-- rowid is the largest), have none yet: a lookup reads them in key order and compares their
-- hashes. When there are enough of them, the engine makes their entries in one ordered pass and
-- moves upto past them (sync/photo_refs.c, PHOTO_HASHES_MERGE_AT), so each page of
-- photo_ref_hashes is written once a merge, not once a batch. A new reference keyed up to upto
-- (an edit of an older observation) gets its entry at once. A lookup compares the whole hash on
-- the reference found, so an entry whose reference went, or whose key a later reference took, is
-- read past; such entries stay.
CREATE TABLE photo_ref_hashes (
  hash8   TEXT NOT NULL,     -- substr(hash, 1, 8) of the reference
  ref_key INTEGER NOT NULL,  -- observation_photo_refs.ref_key
  PRIMARY KEY (hash8, ref_key)
) WITHOUT ROWID;

CREATE TABLE photo_ref_hashes_upto (
  one  INTEGER PRIMARY KEY CHECK (one = 1),
  upto INTEGER NOT NULL  -- every reference keyed up to this has its entry
);

INSERT INTO photo_ref_hashes (hash8, ref_key)
  SELECT substr(hash, 1, 8), ref_key FROM observation_photo_refs ORDER BY 1, 2;
INSERT INTO photo_ref_hashes_upto (one, upto)
  SELECT 1, coalesce(max(ref_key), 0) FROM observation_photo_refs;

DROP INDEX observation_photo_refs_hash;
