-- The durable horizon (docs/sync.md "Kept until durable"): the store's epoch, the sequence that
-- numbers every batch the server acknowledges, and the backups confirmed off the machine.
-- store_identity has one row. epoch is random, made when the database is created (here, for
-- databases made before) and made anew by every restore; ack_seq is the last number given to an
-- acknowledged batch (applied or held), bumped in the batch's own transaction, so a copy of the
-- database holds every batch numbered up to the ack_seq it carries.
CREATE TABLE store_identity (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  epoch   TEXT NOT NULL,
  ack_seq INTEGER NOT NULL DEFAULT 0
);
INSERT INTO store_identity (id, epoch, ack_seq) VALUES (1, lower(hex(randomblob(16))), 0);

-- Backups confirmed off the machine: uploaded, read back, digest checked, manifest written.
-- durable_seq is the highest seq here.
CREATE TABLE backups_confirmed (
  name            TEXT PRIMARY KEY,      -- the backup's name under the prefix (UTC stamp)
  location        TEXT NOT NULL,         -- s3://bucket/prefix it went to
  seq             INTEGER NOT NULL,      -- store_identity.ack_seq in the copy
  epoch           TEXT NOT NULL,         -- store_identity.epoch in the copy
  digest          TEXT NOT NULL,         -- BLAKE2b-256 of the copy, hex
  size            INTEGER NOT NULL,      -- bytes
  schema_version  INTEGER NOT NULL,
  confirmed_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
-- Every sync answer reads max(seq): an index keeps that a lookup however many backups are kept.
CREATE INDEX backups_confirmed_seq ON backups_confirmed(seq);
