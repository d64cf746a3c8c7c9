-- How many photos each confirmed backup uploaded (GET /v1/backups; 0 when the photos are kept in
-- the photo store's bucket, or for backups confirmed before this column).
ALTER TABLE backups_confirmed ADD COLUMN photos_uploaded INTEGER NOT NULL DEFAULT 0;
