-- Aurum staging warehouse, schema version 6: sync state.
-- Append-only: never edit a released migration; add the next numbered file instead.

-- One row per output configured for sync (by its name): what it writes and the last sync that
-- succeeded. `synced_run` is the pipeline run whose results the target last received.
CREATE TABLE sync_targets (
    name         TEXT PRIMARY KEY,
    format       TEXT NOT NULL,
    location     TEXT NOT NULL,
    data         TEXT NOT NULL,
    key_columns  TEXT NOT NULL,   -- JSON array of the key columns
    columns      TEXT NOT NULL,   -- JSON array of the columns the hashes cover, in order
    synced_run   INTEGER REFERENCES runs(run_id),
    synced_at    TEXT,
    rows         INTEGER NOT NULL DEFAULT 0
);

-- What each target last received, per key: the key's text (key columns as text, joined by
-- U+001F), a 64-bit hash of the row, a 32-bit hash of each column (4 bytes each, little-endian,
-- in the order of sync_targets.columns) and, for partitioned files, the partition path.
CREATE TABLE sync_rows (
    target   TEXT NOT NULL,
    key      TEXT NOT NULL,
    hash     INTEGER NOT NULL,
    cols     BLOB NOT NULL,
    part     TEXT,
    PRIMARY KEY (target, key)
) WITHOUT ROWID;

-- Every sync: which run did it, the counts, whether it rebuilt the target.
CREATE TABLE sync_log (
    run_id    INTEGER NOT NULL REFERENCES runs(run_id),
    target    TEXT NOT NULL,
    full      INTEGER NOT NULL,
    inserted  INTEGER NOT NULL,
    updated   INTEGER NOT NULL,
    deleted   INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    data_run  INTEGER,
    synced_at TEXT NOT NULL,
    PRIMARY KEY (run_id, target)
);
