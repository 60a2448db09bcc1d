-- Recall, update and replace (thu hồi, cập nhật, thay thế): a document package
-- whose Bussiness block is 1, 2 or 3 refers to an earlier package with the same
-- DocumentId. Before the clerk registered the earlier one it is handled at once
-- (status 13 or 15 back, decided_by NULL); once it is registered or refused, the
-- request waits here for the clerk, who agrees (15) or refuses (16).
-- One row per (recipient agency, request package): receiving the same bytes again
-- changes nothing. Outbox rows of kind `request` carry the ones we send.
CREATE TABLE exchange_requests (
    id                  INTEGER PRIMARY KEY,
    sha256              TEXT NOT NULL,
    recipient_agency_id INTEGER NOT NULL REFERENCES agencies(id),
    inbox_id            INTEGER REFERENCES exchange_inbox(id),
    edxml_document_id   TEXT NOT NULL,
    from_code           TEXT NOT NULL,
    from_name           TEXT NOT NULL,
    kind                TEXT NOT NULL,          -- recall | update | replace
    reason              TEXT NOT NULL,          -- BussinessDocReason, as sent
    subject             TEXT NOT NULL,          -- the package's subject
    attachment_count    INTEGER NOT NULL,
    xml                 BLOB NOT NULL,
    state               TEXT NOT NULL,          -- pending | agreed | refused
    answer              TEXT,                   -- the status code sent back: 13 | 15 | 16
    decision_reason     TEXT,                   -- why it was refused
    decided_by          INTEGER REFERENCES people(id),
    decided_at          TEXT,
    received_at         TEXT NOT NULL,
    UNIQUE (recipient_agency_id, sha256)
);
CREATE INDEX exchange_requests_queue ON exchange_requests(recipient_agency_id, state, id);
CREATE INDEX exchange_requests_inbox ON exchange_requests(inbox_id);
