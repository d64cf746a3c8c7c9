-- Inspection results (双随机、一公开, programme/inspect.h) and retry-safe draws.

-- A draw's request hash (sync/replay.c) and its first answer, packed: a retried draw_id with the
-- same request answers those bytes; with another request it is refused (draw_id_reused).
-- Draws stored before this migration have neither and answer their stored document.
ALTER TABLE inspection_draws ADD COLUMN content_hash BLOB;
ALTER TABLE inspection_draws ADD COLUMN result BLOB;

-- One result per pick of a draw: the observation that carries it, kept beside the observation by
-- the engine's write path (sync/entity.c). The first result for a pick wins.
CREATE TABLE inspection_results (
  draw_id          TEXT NOT NULL REFERENCES inspection_draws(id),
  code             TEXT NOT NULL,          -- the pick's outfall code
  observation_id   TEXT NOT NULL UNIQUE REFERENCES observations(id),
  outfall_id       TEXT NOT NULL,          -- the observation's outfall (follows merges)
  division_code    TEXT NOT NULL,
  user_id          INTEGER NOT NULL,       -- the inspector who sent it
  decision_state   INTEGER NOT NULL,       -- outfall.v1.ReviewState of the last decision, 0 = none
  pending          INTEGER NOT NULL,       -- 1: waits for a supervisor (new, or changed by the phone)
  approved_version INTEGER NOT NULL DEFAULT 0, -- the observation's version a supervisor approved
  updated_at_ms    INTEGER NOT NULL,
  PRIMARY KEY (draw_id, code)
) WITHOUT ROWID;
CREATE INDEX inspection_results_outfall ON inspection_results(outfall_id, approved_version);
CREATE INDEX inspection_results_pending ON inspection_results(pending, division_code);
