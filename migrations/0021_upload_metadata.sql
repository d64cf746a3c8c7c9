-- tus: an upload keeps the Upload-Metadata its creation sent (at most 1024 bytes, as given), so a
-- tus HEAD returns it (server/api_photos.c).
ALTER TABLE uploads ADD COLUMN metadata TEXT; -- Upload-Metadata as sent; NULL: none
