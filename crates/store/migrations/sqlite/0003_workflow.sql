-- Work administration (điều hành): assignments of a document to units and people,
-- and what outgoing documents need (drafting, review, approval, recipients).

ALTER TABLE documents ADD COLUMN submitted_to INTEGER REFERENCES people(id);
ALTER TABLE documents ADD COLUMN drafting_unit_id INTEGER REFERENCES units(id);
ALTER TABLE documents ADD COLUMN drafter_id INTEGER REFERENCES people(id);
ALTER TABLE documents ADD COLUMN reviewer_id INTEGER REFERENCES people(id);
ALTER TABLE documents ADD COLUMN approver_id INTEGER REFERENCES people(id);
ALTER TABLE documents ADD COLUMN in_reply_to INTEGER REFERENCES documents(id);
ALTER TABLE documents ADD COLUMN copies INTEGER;
ALTER TABLE documents ADD COLUMN retained_copy TEXT;
ALTER TABLE documents ADD COLUMN issued_at TEXT;

-- One assignment: a lead (chủ trì), coordinating (phối hợp) or for-information
-- (để biết) task on a document, to a person or to a unit (whose head splits it).
CREATE TABLE assignments (
    id                INTEGER PRIMARY KEY,
    document_id       INTEGER NOT NULL REFERENCES documents(id),
    parent_id         INTEGER REFERENCES assignments(id),
    role              TEXT NOT NULL,
    person_id         INTEGER REFERENCES people(id),
    unit_id           INTEGER REFERENCES units(id),
    instruction       TEXT NOT NULL,
    deadline          TEXT,
    assigned_by       INTEGER NOT NULL REFERENCES people(id),
    status            TEXT NOT NULL,
    result            TEXT NOT NULL,
    reply_document_id INTEGER REFERENCES documents(id),
    created_at        TEXT NOT NULL,
    closed_at         TEXT
);
CREATE INDEX assignments_person ON assignments(person_id, status);
CREATE INDEX assignments_unit ON assignments(unit_id, status);
CREATE INDEX assignments_document ON assignments(document_id);

-- Where an outgoing document is sent (nơi nhận): agencies of the province or others.
CREATE TABLE document_recipients (
    document_id INTEGER NOT NULL REFERENCES documents(id),
    position    INTEGER NOT NULL,
    agency_id   INTEGER REFERENCES agencies(id),
    name        TEXT NOT NULL,
    PRIMARY KEY (document_id, position)
);
