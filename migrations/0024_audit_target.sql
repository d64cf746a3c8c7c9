-- An outfall's page reads the audit entries naming it (OutfallHistory.audit, sync/queue.c): an
-- index on the target, so that read does not walk the whole trail.
CREATE INDEX audit_target ON audit(target, id);
