-- Aurum staging warehouse, schema version 4: change sets.
-- Append-only: never edit a released migration; add the next numbered file instead.

-- What each snapshot changed, against the source's previous snapshot: one row per inserted,
-- updated or deleted source record (by declared key; by content hash when the source has none, so
-- a changed keyless row is a delete and an insert). A first snapshot records its counts only.
CREATE TABLE change_sets (
    run_id      INTEGER NOT NULL REFERENCES runs(run_id),
    source      TEXT NOT NULL,
    change      TEXT NOT NULL CHECK (change IN ('insert', 'update', 'delete')),
    source_key  TEXT,
    hash        INTEGER
);
CREATE INDEX change_sets_by_run ON change_sets(run_id, source, change);

-- Per run and source: how many records were inserted, updated, deleted and unchanged.
CREATE TABLE change_counts (
    run_id     INTEGER NOT NULL REFERENCES runs(run_id),
    source     TEXT NOT NULL,
    first      INTEGER NOT NULL,
    inserted   INTEGER NOT NULL,
    updated    INTEGER NOT NULL,
    deleted    INTEGER NOT NULL,
    unchanged  INTEGER NOT NULL,
    PRIMARY KEY (run_id, source)
);
