-- A revoked phone's held batches are never applied: released by a filled gap or by their wait,
-- they are kept as 'refused' (without their request) so that the phone asking again learns why.
-- The state's CHECK cannot be widened in place: the table is copied, in its order (0012).

CREATE TABLE batches_0015 (
  batch_id      TEXT NOT NULL PRIMARY KEY,
  device_id     TEXT NOT NULL REFERENCES devices(device_id),
  device_seq    INTEGER NOT NULL,
  user_id       INTEGER NOT NULL REFERENCES users(id),
  content_hash  BLOB NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('held', 'applied', 'refused')),
  received_at_ms INTEGER NOT NULL,
  applied_at_ms INTEGER,
  request       BLOB,
  response      BLOB
);
INSERT INTO batches_0015 (rowid, batch_id, device_id, device_seq, user_id, content_hash, state,
                          received_at_ms, applied_at_ms, request, response)
  SELECT rowid, batch_id, device_id, device_seq, user_id, content_hash, state, received_at_ms,
         applied_at_ms, request, response
  FROM batches ORDER BY rowid;
DROP TABLE batches;
ALTER TABLE batches_0015 RENAME TO batches;
CREATE UNIQUE INDEX batches_device_seq ON batches(device_id, device_seq);

-- Naming a photo's hash does not make it yours. A reference to a photo (an observation's, a
-- public report's) counts only when its author proved possession of the bytes by uploading them
-- (the digest check is the proof). photo_holders records who did: every user whose upload of the
-- photo checked out, the first one storing it, later ones only recorded (one copy is kept).
CREATE TABLE photo_holders (
  hash    TEXT NOT NULL,                       -- 64 lowercase hex, BLAKE2b-256
  user_id INTEGER NOT NULL REFERENCES users(id),
  at_ms   INTEGER NOT NULL,                    -- when their upload checked out
  PRIMARY KEY (hash, user_id)
) WITHOUT ROWID;

-- Who first named the photo in the observation: the reference counts when that user holds it.
ALTER TABLE observation_photos ADD COLUMN author_id INTEGER;

-- When the report's own upload token uploaded the photo: NULL until then, and the reference
-- does not count.
ALTER TABLE public_report_photos ADD COLUMN uploaded_at_ms INTEGER;

-- The observations' references that count.
CREATE VIEW observation_photos_proven AS
  SELECT op.observation_id, op.hash, op.kind, op.division_code, op.author_id
  FROM observation_photos op
  WHERE EXISTS (SELECT 1 FROM photo_holders h WHERE h.hash = op.hash AND h.user_id = op.author_id);

-- What came before holders existed. A reference's author is the user of the earliest field
-- history row whose photo list holds it (the observation's creator when none does). References
-- made before this migration are taken as proven: it cannot tell one made with the bytes in
-- hand from one made by naming a hash, and reads keep answering as they did. So the uploader of
-- every stored photo holds it, and so does the author of every reference to a stored photo.
UPDATE observation_photos SET author_id = COALESCE(
  (SELECT h.user_id FROM field_history h,
          json_each(CASE WHEN json_valid(h.value) THEN h.value ELSE '[]' END) j
   WHERE h.kind = 'observation'
     AND h.entity_rowid = (SELECT rowid FROM observations WHERE id = observation_photos.observation_id)
     AND h.field = 'photos'
     AND CASE WHEN j.type = 'object' THEN json_extract(j.value, '$.hash') END = observation_photos.hash
   ORDER BY h.version LIMIT 1),
  (SELECT created_by FROM observations WHERE id = observation_photos.observation_id));
INSERT OR IGNORE INTO photo_holders (hash, user_id, at_ms)
  SELECT hash, uploaded_by, stored_at_ms FROM photos WHERE uploaded_by IS NOT NULL;
INSERT OR IGNORE INTO photo_holders (hash, user_id, at_ms)
  SELECT op.hash, op.author_id, p.stored_at_ms FROM observation_photos op
  JOIN photos p ON p.hash = op.hash
  WHERE op.author_id IS NOT NULL AND EXISTS (SELECT 1 FROM users u WHERE u.id = op.author_id);
UPDATE public_report_photos SET uploaded_at_ms = (SELECT stored_at_ms FROM photos p
                                                  WHERE p.hash = public_report_photos.hash)
  WHERE EXISTS (SELECT 1 FROM photos p WHERE p.hash = public_report_photos.hash);

-- Uploads in progress are each their uploader's own (an upload by one proves nothing for
-- another): keyed by the photo and its holder, "u<user id>" or "r<report number>", with the bytes
-- in DATA/uploads/<hash>.<holder>.part. Uploads in progress at this migration start over (their
-- old part files are swept with the stale ones).
DROP INDEX uploads_updated;
DROP TABLE uploads;
CREATE TABLE uploads (
  hash          TEXT NOT NULL,                 -- 64 lowercase hex, BLAKE2b-256 of the whole file
  holder        TEXT NOT NULL,                 -- "u<user id>" or "r<report number>"
  length        INTEGER NOT NULL CHECK (length > 0), -- Upload-Length: the whole file's size
  created_by    INTEGER REFERENCES users(id),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,              -- the last bytes received; expiry counts from here
  PRIMARY KEY (hash, holder)
) WITHOUT ROWID;
CREATE INDEX uploads_updated ON uploads(updated_at_ms);
