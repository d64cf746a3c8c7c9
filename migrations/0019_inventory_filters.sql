-- The console's inventory (GET /v1/outfalls with q=, type=, stage=, flag=, overdue=1): indexes on
-- the document's expressions, each ending in id, so a filtered page walks its index in id order
-- (keyset paging) instead of reading every outfall. The expressions are the query's, as written
-- in sync/feed.c (list_filter_sql): SQLite matches them by their text.
CREATE INDEX outfalls_type ON outfalls(json_extract(doc, '$.type'), id);
-- Stages mean something for approved outfalls only (FOUND: approved, no stage yet).
CREATE INDEX outfalls_stage
  ON outfalls(coalesce(json_extract(doc, '$.programme.stage'), 'LIFECYCLE_STAGE_FOUND'), id)
  WHERE approved_version > 0;
CREATE INDEX outfalls_flagged ON outfalls(id) WHERE json_extract(doc, '$.flags') IS NOT NULL;
CREATE INDEX outfalls_open_plans ON outfalls(id)
  WHERE json_extract(doc, '$.programme.planned_on') IS NOT NULL
    AND json_extract(doc, '$.programme.remediated_on') IS NULL;

-- q= looks for part of the code or the name: no index can seek a substring, so the text it reads
-- is kept apart, small (code, a newline, name; ASCII in lower case), and read whole in a few
-- milliseconds instead of decoding every document. Derived data like an index: the triggers keep
-- it as the engine's one write path writes outfalls; nothing else writes it.
CREATE TABLE outfall_search (
  id   TEXT PRIMARY KEY,
  text TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO outfall_search
  SELECT id, lower(coalesce(code, '') || char(10) || coalesce(json_extract(doc, '$.name'), ''))
  FROM outfalls;
CREATE TRIGGER outfall_search_insert AFTER INSERT ON outfalls BEGIN
  INSERT OR REPLACE INTO outfall_search VALUES
    (new.id, lower(coalesce(new.code, '') || char(10) || coalesce(json_extract(new.doc, '$.name'), '')));
END;
CREATE TRIGGER outfall_search_update AFTER UPDATE OF code, doc ON outfalls BEGIN
  INSERT OR REPLACE INTO outfall_search VALUES
    (new.id, lower(coalesce(new.code, '') || char(10) || coalesce(json_extract(new.doc, '$.name'), '')));
END;
CREATE TRIGGER outfall_search_delete AFTER DELETE ON outfalls BEGIN
  DELETE FROM outfall_search WHERE id = old.id;
END;
