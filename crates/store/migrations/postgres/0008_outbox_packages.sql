-- The package bytes of an outbox row move to their own table. A delivery updates
-- its row twice (the claim, then the outcome); PostgreSQL then copies only the
-- small row (the bytes are TOASTed), but SQLite rewrites a whole row, overflow
-- pages included, and both backends keep one schema.
CREATE TABLE exchange_outbox_packages (
    outbox_id BIGINT PRIMARY KEY REFERENCES exchange_outbox(id) ON DELETE CASCADE,
    xml       BYTEA NOT NULL
);
INSERT INTO exchange_outbox_packages (outbox_id, xml) SELECT id, xml FROM exchange_outbox;
ALTER TABLE exchange_outbox DROP COLUMN xml;

-- A status received is matched to the document sent by its DocumentId and sender.
CREATE INDEX exchange_outbox_sent ON exchange_outbox(edxml_document_id, recipient_code);
