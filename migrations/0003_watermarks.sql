-- Aurum staging warehouse, schema version 3: watermarks of incremental sources.
-- (Version 2 is reserved for the matching tables, which land separately.)

-- The largest cursor value each run read from a source with an incremental cursor
-- (`options.cursor`, e.g. updated_at). The next run reads only rows past the latest one.
-- `value` is text the source reads back as the column's type (ISO 8601 for timestamps).
-- `rows_read` is how many rows that run read past the previous watermark.
CREATE TABLE watermarks (
    source      TEXT NOT NULL,
    run_id      INTEGER NOT NULL REFERENCES runs(run_id),
    column_name TEXT NOT NULL,
    value       TEXT,
    rows_read   INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (source, run_id)
);
