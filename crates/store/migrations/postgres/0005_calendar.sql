-- The government's yearly changes to the working-day calendar (moved days off,
-- make-up working days, the Tết split), as the JSON of `calendar::Overrides`.
-- No row means "the decisions shipped with this version".
CREATE TABLE calendar_overrides (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    overrides  TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
