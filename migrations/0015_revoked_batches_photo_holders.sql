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
