-- Partial photo uploads made with a public report's upload token (programme/report_photos.h) are kept
-- apart from the staff's: they expire within hours (--report-upload-expiry, and always when the
-- report's token expires), and the Upload-Length of those still unfinished counts against the
-- quota of the client address that created them (--report-upload-quota bytes, for at most
-- --report-upload-max-reports reports). Staff uploads (report_number NULL) keep --upload-expiry.
ALTER TABLE uploads ADD COLUMN report_number TEXT; -- the report whose token created it; NULL: staff
ALTER TABLE uploads ADD COLUMN client_addr TEXT;   -- the address that created it (reports only)
CREATE INDEX uploads_report_addr ON uploads(client_addr) WHERE report_number IS NOT NULL;
