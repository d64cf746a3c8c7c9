-- Resumable photo uploads in progress (tus). The bytes received so far live in
-- DATA/uploads/<hash>.part, apart from finished photos; the upload's offset is that file's size.
-- When the last byte arrives and the file checks out, it moves to photos/ab/cd/<hash>, its
-- photos row is written and this row goes, in one transaction. Rows untouched for longer than
-- --upload-expiry are deleted with their file; finished photos are never deleted.
CREATE TABLE uploads (
  hash          TEXT PRIMARY KEY,              -- 64 lowercase hex, BLAKE2b-256 of the whole file
  length        INTEGER NOT NULL CHECK (length > 0), -- Upload-Length: the whole file's size
  created_by    INTEGER REFERENCES users(id),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL               -- the last bytes received; expiry counts from here
) WITHOUT ROWID;
CREATE INDEX uploads_updated ON uploads(updated_at_ms);
