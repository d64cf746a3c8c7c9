-- Honest dates and frozen filings (issue 18, points 1 and 2).
-- A transition keeps the date it claims (effective_date) beside the time it was recorded (at_ms);
-- one dated more than --backdate-days before its recording carries a reason and an evidence hash
-- (a stored photo's, or a document's), and how many days it reached back.
ALTER TABLE transitions ADD COLUMN reason TEXT;
ALTER TABLE transitions ADD COLUMN evidence_hash TEXT;   -- 64 lowercase hex (BLAKE2b-256 / SHA-256)
ALTER TABLE transitions ADD COLUMN backdated_days INTEGER; -- NULL: within --backdate-days

-- Every filing of a county's annual report, numbered per county and year (1 the first, 2, 3 ...
-- its corrections): exactly the bytes filed, HTML and CSV as GET /v1/reports/annual rendered them
-- at that moment, with their BLAKE2b-256 (also in the audit row). Never updated nor deleted.
CREATE TABLE report_filing_copies (
  division_code TEXT NOT NULL REFERENCES divisions(code),
  year          INTEGER NOT NULL,
  number        INTEGER NOT NULL,
  filed_at_ms   INTEGER NOT NULL,
  user_id       INTEGER NOT NULL,
  username      TEXT NOT NULL,
  comment       TEXT,               -- a correction's reason
  html          BLOB NOT NULL,
  csv           BLOB NOT NULL,
  html_hash     TEXT NOT NULL,      -- BLAKE2b-256, 64 lowercase hex
  csv_hash      TEXT NOT NULL,
  PRIMARY KEY (division_code, year, number)
) WITHOUT ROWID;
