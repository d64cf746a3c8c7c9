-- The programme: lifecycle transitions by their client-made id, and protection zones.
-- An outfall's stage, dates and plan live in its document (outfalls.doc, $.programme), written
-- through the engine's one write path, so they have versions, field history and feed entries.

-- Every lifecycle transition by its client-made id: a retry answers the first result.
CREATE TABLE transitions (
  transition_id  TEXT PRIMARY KEY,
  content_hash   BLOB NOT NULL,            -- BLAKE2b-256 of the packed LifecycleTransition
  outfall_id     TEXT NOT NULL,
  from_stage     INTEGER NOT NULL,         -- outfall.v1.LifecycleStage
  to_stage       INTEGER NOT NULL,
  effective_date TEXT NOT NULL,            -- YYYY-MM-DD, China Standard Time
  user_id        INTEGER NOT NULL REFERENCES users(id),
  comment        TEXT,
  at_ms          INTEGER NOT NULL,
  result         BLOB NOT NULL             -- packed TransitionResult as first answered
) WITHOUT ROWID;
CREATE INDEX transitions_outfall ON transitions(outfall_id, at_ms);

-- Protection zones (饮用水水源保护区, 自然保护地, other special areas) as imported GeoJSON.
-- The bounding box finds candidates; the exact test runs on the geometry (sync/geo.c).
CREATE TABLE protection_zones (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  kind           INTEGER NOT NULL,         -- outfall.v1.ZoneKind
  geometry       TEXT NOT NULL,            -- GeoJSON Polygon or MultiPolygon, [lon, lat] WGS-84
  polygons       INTEGER NOT NULL,
  holes          INTEGER NOT NULL,
  min_lat        REAL NOT NULL,
  max_lat        REAL NOT NULL,
  min_lon        REAL NOT NULL,
  max_lon        REAL NOT NULL,
  imported_at_ms INTEGER NOT NULL,
  imported_by    INTEGER REFERENCES users(id)
) WITHOUT ROWID;
