-- outfall_search's triggers (0019) wrote with INSERT OR REPLACE. SQLite lets the outer statement's
-- conflict policy override a trigger's OR clause, so an upsert of an outfall (INSERT ... ON
-- CONFLICT (id) DO UPDATE, as the benchmark's baseline writes) aborted with "UNIQUE constraint
-- failed: outfall_search.id". The triggers now write without a conflict clause: a new outfall
-- inserts its row (its id is new), a changed one updates it.
DROP TRIGGER outfall_search_insert;
DROP TRIGGER outfall_search_update;
CREATE TRIGGER outfall_search_insert AFTER INSERT ON outfalls BEGIN
  INSERT INTO outfall_search VALUES
    (new.id, lower(coalesce(new.code, '') || char(10) || coalesce(json_extract(new.doc, '$.name'), '')));
END;
CREATE TRIGGER outfall_search_update AFTER UPDATE OF code, doc ON outfalls BEGIN
  UPDATE outfall_search
     SET text = lower(coalesce(new.code, '') || char(10) || coalesce(json_extract(new.doc, '$.name'), ''))
   WHERE id = new.id;
END;
