-- Field history joins the tamper-evident chain the audit trail already has. Every row written from
-- now on carries its place in one chain over all records (seq), the hash of the row before it
-- (prev_hash, NULL for the first) and hash = BLAKE2b-256(prev_hash ‖ the row's content), computed
-- by history_write (sync/history.c, history_hash); `outfallctl audit verify` walks it. Rows written
-- before this migration stay unchained: their number is kept here, so any other row without a
-- place in the chain shows as added behind the server's back. Like the audit trail, the history
-- is append-only.
ALTER TABLE field_history ADD COLUMN seq INTEGER;
ALTER TABLE field_history ADD COLUMN prev_hash BLOB;
ALTER TABLE field_history ADD COLUMN hash BLOB;
CREATE UNIQUE INDEX field_history_seq ON field_history(seq) WHERE seq IS NOT NULL;

CREATE TABLE history_chain_base (
  unchained_rows INTEGER NOT NULL       -- field_history rows older than the chain
);
INSERT INTO history_chain_base (unchained_rows) SELECT count(*) FROM field_history;

CREATE TRIGGER field_history_no_update BEFORE UPDATE ON field_history BEGIN SELECT RAISE(ABORT, 'field history is append-only'); END;
CREATE TRIGGER field_history_no_delete BEFORE DELETE ON field_history BEGIN SELECT RAISE(ABORT, 'field history is append-only'); END;
CREATE TRIGGER history_chain_base_no_update BEFORE UPDATE ON history_chain_base BEGIN SELECT RAISE(ABORT, 'history_chain_base is fixed'); END;
CREATE TRIGGER history_chain_base_no_delete BEFORE DELETE ON history_chain_base BEGIN SELECT RAISE(ABORT, 'history_chain_base is fixed'); END;
