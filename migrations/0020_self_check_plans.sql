-- County self-check annual plans (市县自查, programme/self_checks.h): what a county will check in a
-- year. One plan per county and year; recording it again replaces it (each recording is audited).
CREATE TABLE self_check_plans (
  division_code  TEXT NOT NULL REFERENCES divisions(code), -- a county
  year           INTEGER NOT NULL,
  planned_count  INTEGER NOT NULL,        -- outfalls the county will check in the year
  plan           BLOB NOT NULL,           -- the outfall.v1.SelfCheckPlan as recorded, packed
  user_id        INTEGER NOT NULL,
  username       TEXT NOT NULL,
  recorded_at_ms INTEGER NOT NULL,
  PRIMARY KEY (division_code, year)
) WITHOUT ROWID;
