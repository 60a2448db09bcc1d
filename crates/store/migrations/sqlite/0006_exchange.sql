-- Exchange (liên thông văn bản): signed edXML packages sent to and received from
-- other agencies, on this instance or on peer systems.

-- The peer directory: where the system of an agency outside this instance answers.
-- `code_pattern` is an org code whose zero groups match anything, so
-- `000.00.00.H63` routes a whole province and `000.00.11.H63` one department; the
-- most specific pattern wins.
CREATE TABLE exchange_peers (
    id           INTEGER PRIMARY KEY,
    code_pattern TEXT NOT NULL UNIQUE,
    base_url     TEXT NOT NULL,
    note         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

-- The outbox: one row per package to deliver, written in the same transaction as
-- the change that produces it (issuing a document, a step on a received one).
-- `document` rows are signed when written; `status` rows are signed by the
-- delivery worker before their first attempt (`signed` = 0 until then), so that
-- the workflow steps that queue them need no key. Rows from one sender to one
-- recipient are delivered in id order. A worker claims a row by setting
-- claimed_by/claimed_until (a lease: a crashed worker's rows are claimed again
-- when it runs out).
CREATE TABLE exchange_outbox (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL,             -- document | status
    sender_agency_id  INTEGER NOT NULL REFERENCES agencies(id),
    sender_code       TEXT NOT NULL,
    recipient_code    TEXT NOT NULL,
    recipient_name    TEXT NOT NULL,
    edxml_document_id TEXT NOT NULL,             -- the DocumentId sent, or the one a status is about
    document_id       INTEGER REFERENCES documents(id),
    status_code       TEXT,                      -- for status rows: 01 … 16
    signed            INTEGER NOT NULL,
    state             TEXT NOT NULL,             -- pending | delivered | dead
    attempts          INTEGER NOT NULL,
    next_attempt_at   TEXT NOT NULL,
    claimed_by        TEXT,
    claimed_until     TEXT,
    last_error        TEXT,
    created_at        TEXT NOT NULL,
    delivered_at      TEXT,
    -- Last: SQLite then reads the other columns without walking this value's overflow pages.
    xml               BLOB NOT NULL
);
CREATE INDEX exchange_outbox_due ON exchange_outbox(state, next_attempt_at);
CREATE INDEX exchange_outbox_stream ON exchange_outbox(sender_code, recipient_code, state, id);
CREATE INDEX exchange_outbox_document ON exchange_outbox(document_id);

-- Document packages received for our agencies (the "arrived" queue of the clerk).
-- One row per (recipient agency, DocumentId): receiving the same package again
-- changes nothing.
CREATE TABLE exchange_inbox (
    id                   INTEGER PRIMARY KEY,
    recipient_agency_id  INTEGER NOT NULL REFERENCES agencies(id),
    edxml_document_id    TEXT NOT NULL,
    from_code            TEXT NOT NULL,
    from_name            TEXT NOT NULL,
    symbol               TEXT NOT NULL,
    doc_type_name        TEXT NOT NULL,
    subject              TEXT NOT NULL,
    issued_on            TEXT NOT NULL,
    urgency              TEXT NOT NULL,
    due_on               TEXT,
    signer_name          TEXT NOT NULL,
    page_count           INTEGER,
    attachment_count     INTEGER NOT NULL,
    state                TEXT NOT NULL,          -- arrived | registered | refused
    incoming_document_id INTEGER REFERENCES documents(id),
    reason               TEXT,
    received_at          TEXT NOT NULL,
    decided_at           TEXT,
    decided_by           INTEGER REFERENCES people(id),
    -- Last, for the same reason as the outbox's.
    xml                  BLOB NOT NULL,
    UNIQUE (recipient_agency_id, edxml_document_id)
);
CREATE INDEX exchange_inbox_queue ON exchange_inbox(recipient_agency_id, state, id);
CREATE INDEX exchange_inbox_document ON exchange_inbox(incoming_document_id);

-- Packages refused on receipt, kept byte for byte with the exact reason. The same
-- bytes received twice are one row.
CREATE TABLE exchange_quarantine (
    id                  INTEGER PRIMARY KEY,
    sha256              TEXT NOT NULL UNIQUE,
    raw                 BLOB NOT NULL,
    reason              TEXT NOT NULL,
    from_code           TEXT,
    recipient_agency_id INTEGER REFERENCES agencies(id),
    edxml_document_id   TEXT,
    refusal_queued      INTEGER NOT NULL,         -- a status 02 went back to the sender
    received_at         TEXT NOT NULL
);
CREATE INDEX exchange_quarantine_recipient ON exchange_quarantine(recipient_agency_id, id);

-- Status packages received about documents we sent: the sender's timeline.
CREATE TABLE exchange_statuses (
    id                   INTEGER PRIMARY KEY,
    outgoing_document_id INTEGER NOT NULL REFERENCES documents(id),
    recipient_code       TEXT NOT NULL,
    recipient_name       TEXT NOT NULL,
    code                 TEXT NOT NULL,
    description          TEXT,
    staff                TEXT,
    at                   TEXT NOT NULL,          -- the status's own Timestamp, UTC
    received_at          TEXT NOT NULL,
    UNIQUE (outgoing_document_id, recipient_code, code, at)
);
