-- Aurum staging warehouse, schema version 1.
-- Append-only: never edit a released migration; add the next numbered file instead.

-- The run ledger: one row per run, one row per step of a run.
CREATE TABLE runs (
    run_id      INTEGER PRIMARY KEY,
    catalog     TEXT NOT NULL,
    command     TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    error       TEXT,
    pid         INTEGER,
    report      TEXT
);

CREATE TABLE run_steps (
    run_id      INTEGER NOT NULL REFERENCES runs(run_id),
    step_no     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    records_in  INTEGER,
    records_out INTEGER,
    status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    error       TEXT,
    PRIMARY KEY (run_id, step_no)
);

-- Every source the warehouse has staged, and the table that holds its current snapshot.
-- A staged table src_<name> has the columns _rid (row ordinal), _line (line/record number in the
-- source), _key (source key), _hash (content hash), _first_run, _last_run, then the source's columns.
CREATE TABLE sources (
    name         TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    staged_table TEXT NOT NULL UNIQUE,
    columns      TEXT NOT NULL,
    key_columns  TEXT NOT NULL,
    last_run     INTEGER REFERENCES runs(run_id)
);

CREATE TABLE snapshots (
    run_id           INTEGER NOT NULL REFERENCES runs(run_id),
    source           TEXT NOT NULL,
    rows_read        INTEGER NOT NULL,
    rows_staged      INTEGER NOT NULL,
    rows_quarantined INTEGER NOT NULL,
    PRIMARY KEY (run_id, source)
);

-- Rows that did not make it, with why: parse errors, rejected nulls, failed business rules.
CREATE TABLE quarantine (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES runs(run_id),
    source  TEXT NOT NULL,
    step    TEXT NOT NULL,
    line    INTEGER,
    rule    TEXT NOT NULL,
    reason  TEXT NOT NULL,
    raw     TEXT
);
CREATE INDEX quarantine_by_run ON quarantine(run_id, source);

-- Counts per quality check and rule, per run and source.
CREATE TABLE quality_counts (
    run_id  INTEGER NOT NULL REFERENCES runs(run_id),
    source  TEXT NOT NULL,
    check_name TEXT NOT NULL,
    rule    TEXT NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (run_id, source, check_name, rule)
);

-- Column lineage of every output: which source columns, through which rules, made each column.
CREATE TABLE column_lineage (
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    output        TEXT NOT NULL,
    column_name   TEXT NOT NULL,
    source        TEXT NOT NULL,
    source_column TEXT NOT NULL,
    via           TEXT NOT NULL,
    PRIMARY KEY (run_id, output, column_name, source, source_column)
);
