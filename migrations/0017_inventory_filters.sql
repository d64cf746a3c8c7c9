-- The console's inventory (GET /v1/outfalls with type=, stage=, flag=, overdue=1): indexes on the
-- document's expressions, each ending in id, so a filtered page walks its index in id order
-- (keyset paging) instead of reading every outfall. The expressions are the query's, as written
-- in sync/feed.c (list_filter_sql): SQLite matches them by their text.
CREATE INDEX outfalls_type ON outfalls(json_extract(doc, '$.type'), id);
CREATE INDEX outfalls_stage
  ON outfalls(coalesce(json_extract(doc, '$.programme.stage'), 'LIFECYCLE_STAGE_FOUND'), id);
CREATE INDEX outfalls_flagged ON outfalls(id) WHERE json_extract(doc, '$.flags') IS NOT NULL;
CREATE INDEX outfalls_open_plans ON outfalls(id)
  WHERE json_extract(doc, '$.programme.planned_on') IS NOT NULL
    AND json_extract(doc, '$.programme.remediated_on') IS NULL;
