-- Documents: registers (sổ văn bản) with their yearly counters, documents,
-- attachments, the readers of classified documents, and each document's timeline.

CREATE TABLE registers (
    id          INTEGER PRIMARY KEY,
    agency_id   INTEGER NOT NULL REFERENCES agencies(id),
    direction   TEXT NOT NULL,
    name        TEXT NOT NULL,
    classified  INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX registers_agency ON registers(agency_id, direction);

-- The last number given in a register's series for a year. Updated in the same
-- transaction as the document that takes the number, so numbers are gapless.
CREATE TABLE register_counters (
    register_id INTEGER NOT NULL REFERENCES registers(id),
    year        INTEGER NOT NULL,
    series      TEXT NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (register_id, year, series)
);

CREATE TABLE documents (
    id               INTEGER PRIMARY KEY,
    agency_id        INTEGER NOT NULL REFERENCES agencies(id),
    direction        TEXT NOT NULL,
    register_id      INTEGER NOT NULL REFERENCES registers(id),
    year             INTEGER NOT NULL,
    series           TEXT NOT NULL,
    number           INTEGER,
    symbol           TEXT NOT NULL,
    symbol_folded    TEXT NOT NULL,
    doc_type         TEXT NOT NULL,
    legal_normative  INTEGER NOT NULL,
    issuer_agency_id INTEGER REFERENCES agencies(id),
    issuer_name      TEXT NOT NULL,
    issuer_key       TEXT NOT NULL,
    issued_on        TEXT,
    subject          TEXT NOT NULL,
    urgency          TEXT NOT NULL,
    classification   TEXT NOT NULL,
    page_count       INTEGER,
    due_on           TEXT,
    signer_name      TEXT NOT NULL,
    arrived_on       TEXT,
    status           TEXT NOT NULL,
    note             TEXT NOT NULL,
    created_by       INTEGER REFERENCES people(id),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE UNIQUE INDEX documents_number ON documents(register_id, year, series, number);
CREATE INDEX documents_register_by_arrival ON documents(agency_id, direction, arrived_on, number);
CREATE INDEX documents_register_by_issue ON documents(agency_id, direction, issued_on);
CREATE INDEX documents_duplicates ON documents(agency_id, direction, symbol_folded, issuer_key);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    document_id  INTEGER NOT NULL REFERENCES documents(id),
    position     INTEGER NOT NULL,
    file_name    TEXT NOT NULL,
    blob_sha256  TEXT NOT NULL REFERENCES blobs(sha256),
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX attachments_document ON attachments(document_id);

-- Text extracted from a blob, for search (once per content, not per attachment).
CREATE TABLE blob_texts (
    sha256 TEXT PRIMARY KEY REFERENCES blobs(sha256),
    text   TEXT NOT NULL
);

-- Who may read a classified document; nobody else sees it exists.
CREATE TABLE document_readers (
    document_id INTEGER NOT NULL REFERENCES documents(id),
    person_id   INTEGER NOT NULL REFERENCES people(id),
    granted_by  TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (document_id, person_id)
);
CREATE INDEX document_readers_person ON document_readers(person_id);

CREATE TABLE document_events (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    at          TEXT NOT NULL,
    actor_id    INTEGER,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX document_events_document ON document_events(document_id, id);
