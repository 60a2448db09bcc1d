-- A package received is kept in the blob store, under its SHA-256, and no longer
-- in its inbox row: its bytes are then written to disk once, outside the single
-- writer's transaction, instead of twice inside it (the log, then the checkpoint).
-- Rows received before keep their package inline in xml; new rows leave xml empty.
ALTER TABLE exchange_inbox ADD COLUMN package_sha256 TEXT;
