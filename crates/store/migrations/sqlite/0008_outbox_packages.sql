-- The package bytes of an outbox row move to their own table. A delivery updates
-- its row twice (the claim, then the outcome), and SQLite rewrites a whole row on
-- update, overflow pages included: with the ~100 KB package inline, every delivery
-- wrote the package to disk twice more.
CREATE TABLE exchange_outbox_packages (
    outbox_id INTEGER PRIMARY KEY REFERENCES exchange_outbox(id) ON DELETE CASCADE,
    xml       BLOB NOT NULL
);
INSERT INTO exchange_outbox_packages (outbox_id, xml) SELECT id, xml FROM exchange_outbox;
ALTER TABLE exchange_outbox DROP COLUMN xml;

-- A status received is matched to the document sent by its DocumentId and sender.
CREATE INDEX exchange_outbox_sent ON exchange_outbox(edxml_document_id, recipient_code);
