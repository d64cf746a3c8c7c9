-- Observations found by their outfall through the first 8 characters of its id (issue 20, round
-- 17). Outfall ids are random UUIDs, and observations of every outfall come in together, so the
-- index on the whole id (41 bytes an entry) took a batch of 500 new observations into pages all
-- over it: about 220 of a batch's 930 WAL pages at 20 000 observations. Its entries now hold 8
-- characters (13 bytes with the rowid): a third as many pages, and a batch writes about 80
-- of them. A reader names the prefix and the whole id (OBSERVATIONS_OF, sync/observations.h):
-- SQLite uses an index on an expression only for that expression, and a prefix shared by two
-- outfalls costs a row read, never a wrong answer.
DROP INDEX observations_outfall;
CREATE INDEX observations_outfall8 ON observations(substr(outfall_id, 1, 8));
