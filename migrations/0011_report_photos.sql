-- Photos of public reports (举报, 四.四): a reporter lists the BLAKE2b-256 digests of up to 5
-- photos with the report, and uploads them through the same photo upload (tus or PUT) with a
-- short-lived upload token scoped to exactly those digests of that report. The token is stored
-- only as its BLAKE2b-256 hash. Supervisors of the report's division see the photos; the public
-- page of the report never does.

CREATE TABLE public_report_photos (
  number   TEXT NOT NULL REFERENCES public_reports(number),
  position INTEGER NOT NULL,                 -- order as the reporter listed them, from 0
  hash     TEXT NOT NULL,                    -- 64 lowercase hex; the photo may not be stored yet
  PRIMARY KEY (number, position),
  UNIQUE (number, hash)
) WITHOUT ROWID;
CREATE INDEX public_report_photos_hash ON public_report_photos(hash);

CREATE TABLE public_report_tokens (
  hash          BLOB PRIMARY KEY,            -- BLAKE2b-256 of the token's 32 random bytes
  number        TEXT NOT NULL UNIQUE REFERENCES public_reports(number),
  expires_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
