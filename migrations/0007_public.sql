-- Public reports (举报, 四.四): filed without an account, answered by a supervisor.
-- The contact and the client's address are never shown to the public.

CREATE TABLE public_reports (
  number         TEXT PRIMARY KEY,          -- tracking number: 16 random Crockford base32 characters
  kind           INTEGER NOT NULL,          -- outfall.v1.ReportKind
  lat            REAL NOT NULL,
  lon            REAL NOT NULL,
  division_code  TEXT NOT NULL REFERENCES divisions(code),
  description    TEXT NOT NULL,
  contact        TEXT,
  outfall_code   TEXT,                      -- as the reporter gave it
  client_addr    TEXT NOT NULL,             -- for the per-address rate limit
  status         INTEGER NOT NULL,          -- outfall.v1.ReportStatus
  received_at_ms INTEGER NOT NULL,
  answer         TEXT,
  answer_id      TEXT UNIQUE,               -- the answer's client-made id: a retry answers the first
  answered_by    INTEGER REFERENCES users(id),
  answered_at_ms INTEGER,
  outfall_id     TEXT REFERENCES outfalls(id)
) WITHOUT ROWID;
CREATE INDEX public_reports_addr ON public_reports(client_addr, received_at_ms);
CREATE INDEX public_reports_queue ON public_reports(status, division_code, received_at_ms);

-- Random inspection draws (programme/inspect.h): each stored as its published InspectionDraw.
CREATE TABLE inspection_draws (
  id          TEXT PRIMARY KEY,          -- the client-made draw_id
  drawn_at_ms INTEGER NOT NULL,
  user_id     INTEGER NOT NULL REFERENCES users(id),
  doc         TEXT NOT NULL              -- InspectionDraw as protobuf JSON
);
CREATE INDEX inspection_draws_at ON inspection_draws(drawn_at_ms);
