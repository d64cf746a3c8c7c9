-- The sync core: divisions, rivers, accounts, devices, the inventory, field history,
-- the change feed, batches and their idempotency, duplicates, conflicts, audit.

CREATE TABLE divisions (
  code        TEXT PRIMARY KEY,          -- GB/T 2260, or a local code for zones without one
  name        TEXT NOT NULL,
  parent_code TEXT REFERENCES divisions(code),
  level       TEXT NOT NULL CHECK (level IN ('city', 'county'))
);

CREATE TABLE basins (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL
);

CREATE TABLE rivers (
  code       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  basin_code TEXT NOT NULL REFERENCES basins(code)
);

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,             -- crypto_pwhash_str (argon2id)
  role          INTEGER NOT NULL,          -- outfall.v1.Role
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE user_divisions (
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  division_code TEXT NOT NULL REFERENCES divisions(code),
  PRIMARY KEY (user_id, division_code)
) WITHOUT ROWID;

CREATE TABLE tokens (
  hash          BLOB PRIMARY KEY,          -- BLAKE2b-256 of the 32 random bytes; the token itself is never stored
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  revoked       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE devices (
  device_id      TEXT PRIMARY KEY,
  user_id        INTEGER NOT NULL REFERENCES users(id),
  name           TEXT NOT NULL DEFAULT '',
  public_key     BLOB NOT NULL CHECK (length(public_key) = 32),
  revoked        INTEGER NOT NULL DEFAULT 0,
  last_seq       INTEGER NOT NULL DEFAULT 0,  -- the last device_seq applied
  enrolled_at_ms INTEGER NOT NULL
);

-- The inventory. `doc` is the record's full current state as protobuf JSON (proto field names);
-- the other columns are copies of fields that queries filter on.
CREATE TABLE outfalls (
  id            TEXT PRIMARY KEY,
  version       INTEGER NOT NULL,
  river_code    TEXT NOT NULL REFERENCES rivers(code),
  division_code TEXT NOT NULL REFERENCES divisions(code),
  review_state  INTEGER NOT NULL,
  lat           REAL NOT NULL,
  lon           REAL NOT NULL,
  merged_into   TEXT REFERENCES outfalls(id),
  created_by    INTEGER NOT NULL REFERENCES users(id),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  doc           TEXT NOT NULL
);
CREATE INDEX outfalls_division ON outfalls(division_code, river_code);

-- Neighbour search for duplicate suspects (id = outfalls.rowid). R*Tree keeps 32-bit floats,
-- so it only finds candidates; the exact distance comes from outfalls.lat/lon.
CREATE VIRTUAL TABLE outfall_pos USING rtree(id, min_lat, max_lat, min_lon, max_lon);

CREATE TABLE observations (
  id            TEXT PRIMARY KEY,
  outfall_id    TEXT NOT NULL REFERENCES outfalls(id),
  version       INTEGER NOT NULL,
  division_code TEXT NOT NULL REFERENCES divisions(code),
  created_by    INTEGER NOT NULL REFERENCES users(id),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  doc           TEXT NOT NULL
);
CREATE INDEX observations_outfall ON observations(outfall_id);

-- Field-level history: which version set which field to which value, by whom.
-- `field` is a proto path ("landmark", "responsible_party.phone"); `value` is JSON text, NULL when cleared.
CREATE TABLE field_history (
  kind        TEXT NOT NULL CHECK (kind IN ('outfall', 'observation')),
  entity_id   TEXT NOT NULL,
  version     INTEGER NOT NULL,
  field       TEXT NOT NULL,
  value       TEXT,
  change_id   TEXT NOT NULL,
  user_id     INTEGER NOT NULL,
  device_id   TEXT,                      -- NULL for decisions made off a phone
  at_ms       INTEGER NOT NULL,
  PRIMARY KEY (kind, entity_id, field, version)
) WITHOUT ROWID;

-- Every change ever applied, by its client-made id: replay answers come from here.
CREATE TABLE changes (
  change_id    TEXT PRIMARY KEY,
  content_hash BLOB NOT NULL,            -- BLAKE2b-256 of the packed Change
  batch_id     TEXT NOT NULL,
  kind         TEXT NOT NULL,
  entity_id    TEXT NOT NULL,
  status       INTEGER NOT NULL,
  version      INTEGER NOT NULL,
  result       BLOB NOT NULL             -- packed ChangeResult as first answered
) WITHOUT ROWID;

-- Batches by their client-made id. A held batch keeps its request until it applies.
CREATE TABLE batches (
  batch_id      TEXT PRIMARY KEY,
  device_id     TEXT NOT NULL REFERENCES devices(device_id),
  device_seq    INTEGER NOT NULL,
  user_id       INTEGER NOT NULL REFERENCES users(id),
  content_hash  BLOB NOT NULL,           -- BLAKE2b-256 of the packed SyncRequest
  state         TEXT NOT NULL CHECK (state IN ('held', 'applied')),
  received_at_ms INTEGER NOT NULL,
  applied_at_ms INTEGER,
  request       BLOB,                    -- packed SyncRequest, kept while held
  response      BLOB                     -- packed SyncResponse as first answered (results only)
) WITHOUT ROWID;
CREATE UNIQUE INDEX batches_device_seq ON batches(device_id, device_seq);

-- The change feed: one row per record, moved to a new seq each time the record changes.
CREATE TABLE feed (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT NOT NULL CHECK (kind IN ('outfall', 'observation', 'redirect')),
  entity_id     TEXT NOT NULL UNIQUE,
  division_code TEXT NOT NULL
);
CREATE INDEX feed_division ON feed(division_code, seq);

CREATE TABLE duplicates (
  id           INTEGER PRIMARY KEY,
  outfall_id   TEXT NOT NULL REFERENCES outfalls(id),
  neighbour_id TEXT NOT NULL REFERENCES outfalls(id),
  distance_m   REAL NOT NULL,
  state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'merged', 'kept_apart')),
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE conflicts (
  id            INTEGER PRIMARY KEY,
  kind          TEXT NOT NULL,
  entity_id     TEXT NOT NULL,
  field         TEXT NOT NULL,
  base_value    TEXT,
  server_value  TEXT,
  client_value  TEXT,
  change_id     TEXT NOT NULL,
  device_id     TEXT,
  user_id       INTEGER NOT NULL,
  state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX conflicts_entity ON conflicts(entity_id, state);

-- Photos known to the server (the content-addressed files live under photos/ab/cd/<hash>).
-- The EXIF facts are read once, on upload; NULL where the file has none.
CREATE TABLE photos (
  hash            TEXT PRIMARY KEY,        -- 64 lowercase hex, BLAKE2b-256
  size            INTEGER NOT NULL,
  media_type      TEXT NOT NULL,           -- image/jpeg, image/png, image/heic
  width           INTEGER,
  height          INTEGER,
  gps_lat         REAL,
  gps_lon         REAL,
  gps_alt         REAL,
  taken_at_ms     INTEGER,                 -- Unix ms
  taken_at_source TEXT,                    -- 'offset' (OffsetTimeOriginal), 'gps' (UTC stamps), 'local' (+08:00 assumed)
  make            TEXT,
  model           TEXT,
  uploaded_by     INTEGER REFERENCES users(id),
  stored_at_ms    INTEGER NOT NULL
) WITHOUT ROWID;

-- Every photo an observation names, whether or not the server has it yet. Reads of a photo follow
-- the divisions of the observations that name it.
CREATE TABLE observation_photos (
  observation_id TEXT NOT NULL REFERENCES observations(id),
  hash           TEXT NOT NULL,
  kind           INTEGER NOT NULL DEFAULT 0,  -- outfall.v1.PhotoKind
  division_code  TEXT NOT NULL,
  PRIMARY KEY (observation_id, hash)
) WITHOUT ROWID;
CREATE INDEX observation_photos_hash ON observation_photos(hash, division_code);

-- Append-only audit trail: each row carries the hash of the one before it.
CREATE TABLE audit (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms     INTEGER NOT NULL,
  user_id   INTEGER,
  username  TEXT,
  action    TEXT NOT NULL,
  target    TEXT,
  outcome   TEXT NOT NULL,               -- 'ok', or the refusal's error code
  detail    TEXT,
  prev_hash BLOB,
  hash      BLOB NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
