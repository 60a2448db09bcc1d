-- Foundation: agencies and their history, units, people, sessions, audit, blobs.
-- Dates are TEXT 'YYYY-MM-DD', timestamps TEXT RFC 3339 UTC with microseconds,
-- so the same SQL compares them on SQLite and PostgreSQL.

CREATE TABLE agencies (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    valid_from  TEXT NOT NULL,
    valid_to    TEXT,
    created_at  TEXT NOT NULL
);

-- Name and parent of an agency from a date on (a rename or a move adds a row).
CREATE TABLE agency_versions (
    agency_id   INTEGER NOT NULL REFERENCES agencies(id),
    valid_from  TEXT NOT NULL,
    name        TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    parent_id   INTEGER REFERENCES agencies(id),
    PRIMARY KEY (agency_id, valid_from)
);
CREATE INDEX agency_versions_parent ON agency_versions(parent_id);

CREATE TABLE reorganisations (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    note         TEXT NOT NULL,
    recorded_by  INTEGER,
    recorded_at  TEXT NOT NULL
);

CREATE TABLE reorganisation_subjects (
    reorganisation_id INTEGER NOT NULL REFERENCES reorganisations(id),
    agency_id         INTEGER NOT NULL REFERENCES agencies(id),
    PRIMARY KEY (reorganisation_id, agency_id)
);

-- Who took over an agency that ended; position 0 is the primary successor.
CREATE TABLE agency_successors (
    agency_id         INTEGER NOT NULL REFERENCES agencies(id),
    successor_id      INTEGER NOT NULL REFERENCES agencies(id),
    position          INTEGER NOT NULL,
    reorganisation_id INTEGER NOT NULL REFERENCES reorganisations(id),
    PRIMARY KEY (agency_id, successor_id)
);

-- A unit that moves to another agency ends and reopens there (previous_unit_id).
CREATE TABLE units (
    id               INTEGER PRIMARY KEY,
    agency_id        INTEGER NOT NULL REFERENCES agencies(id),
    name             TEXT NOT NULL,
    short_name       TEXT NOT NULL,
    valid_from       TEXT NOT NULL,
    valid_to         TEXT,
    previous_unit_id INTEGER REFERENCES units(id),
    created_at       TEXT NOT NULL
);
CREATE INDEX units_agency ON units(agency_id);

CREATE TABLE people (
    id                  INTEGER PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    full_name           TEXT NOT NULL,
    email               TEXT,
    kind                TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    lang                TEXT,
    disabled_at         TEXT,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

CREATE TABLE memberships (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people(id),
    agency_id  INTEGER NOT NULL REFERENCES agencies(id),
    unit_id    INTEGER REFERENCES units(id),
    role       TEXT NOT NULL,
    title      TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to   TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX memberships_person ON memberships(person_id);
CREATE INDEX memberships_agency ON memberships(agency_id);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES people(id),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_person ON sessions(person_id);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- Failed sign-ins per account and per address within a window.
CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY,
    window_start TEXT NOT NULL,
    failures     INTEGER NOT NULL
);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    INTEGER,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    changes     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_record ON audit_log(record_type, record_id);
CREATE INDEX audit_log_actor ON audit_log(actor);

-- The end of the chain. Every write transaction locks this row first, which both
-- orders audit entries and serialises writers (SQLite takes its write lock here).
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE blobs (
    sha256       TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
