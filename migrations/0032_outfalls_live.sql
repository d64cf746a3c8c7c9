-- An outfall found by id with what a new observation needs of it, in the index alone (issue 20,
-- round 17). Every observation the engine writes asks which outfall it belongs to (following
-- merges) and that outfall's division (sync/entity.c, live_outfall). Through the primary key's
-- index that took a second search, in the table, for two short columns of a row that holds the
-- whole document: 7.5 % of the writer's time for a batch of 500 new observations (perf). This
-- index holds both columns beside the id, so the search ends in it: 3.4 %. The query names it
-- (INDEXED BY), since SQLite prefers the unique index for an equality on id.
CREATE INDEX outfalls_live ON outfalls(id, merged_into, division_code);
