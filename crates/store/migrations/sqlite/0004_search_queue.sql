-- Documents waiting to be (re)indexed for search, written in the same transaction
-- as the change, drained by a background task. The index is derived data: it can
-- always be rebuilt from the database.
CREATE TABLE search_queue (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id),
    queued_at   TEXT NOT NULL
);
