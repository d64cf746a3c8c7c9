-- Applications to set up, change or enlarge an outfall (设置审核, 三.一.2): each as its packed
-- OutfallApplication (the whole record, server-owned fields included), and every decision on one
-- by its client-made id, so a retry answers its first result.
CREATE TABLE applications (
  id             TEXT PRIMARY KEY,
  content_hash   BLOB NOT NULL,            -- BLAKE2b-256 of the packed filing as received
  division_code  TEXT NOT NULL REFERENCES divisions(code),
  status         INTEGER NOT NULL,         -- outfall.v1.ApplicationStatus
  version        INTEGER NOT NULL,
  user_id        INTEGER NOT NULL,         -- who recorded the filing
  received_at_ms INTEGER NOT NULL,
  record         BLOB NOT NULL             -- packed OutfallApplication
) WITHOUT ROWID;

CREATE TABLE application_decisions (
  decision_id    TEXT PRIMARY KEY,
  content_hash   BLOB NOT NULL,            -- BLAKE2b-256 of the packed ApplicationDecision
  application_id TEXT NOT NULL REFERENCES applications(id),
  to_status      INTEGER NOT NULL,
  user_id        INTEGER NOT NULL,
  comment        TEXT,
  at_ms          INTEGER NOT NULL,
  result         BLOB NOT NULL             -- packed ApplicationResult as first answered
) WITHOUT ROWID;
CREATE INDEX application_decisions_app ON application_decisions(application_id, at_ms);

-- The annual county report (四.一) marked filed with the city: once per county and year.
CREATE TABLE report_filings (
  division_code TEXT NOT NULL REFERENCES divisions(code),
  year          INTEGER NOT NULL,
  filed_at_ms   INTEGER NOT NULL,
  user_id       INTEGER NOT NULL,
  username      TEXT NOT NULL,
  PRIMARY KEY (division_code, year)
) WITHOUT ROWID;
