-- Aurum staging warehouse, schema version 9: stable row ids and the incremental transform.
-- Append-only: never edit a released migration; add the next numbered file instead.

-- The largest `__rid` any snapshot of the source has given. A keyed source's rows keep their rid
-- from snapshot to snapshot (a re-read key keeps it, a new key gets one above this, a deleted
-- key's rid is never given again), so a row id names the same source record in every snapshot.
ALTER TABLE sources ADD COLUMN max_rid INTEGER;

-- The staged row id of each change: the new row's for an insert or update, the deleted row's for
-- a delete (NULL in change sets written before schema version 9).
ALTER TABLE change_sets ADD COLUMN rid INTEGER;

-- A row quarantined by a quality check: its staged row id and source key, and the run whose check
-- quarantined it. An incremental transform re-checks only changed rows; the rows an earlier run
-- quarantined that did not change are quarantined again in the new run (so every run's quarantine
-- is complete), with `checked_run` the earlier run (for the others, `checked_run` = `run_id`).
ALTER TABLE quarantine ADD COLUMN rid INTEGER;
ALTER TABLE quarantine ADD COLUMN source_key TEXT;
ALTER TABLE quarantine ADD COLUMN checked_run INTEGER;
CREATE INDEX quarantine_by_rid ON quarantine(run_id, source, rid);

-- What the last transform of each source left for the next one: the run, the hash of everything
-- that shapes `w_<source>` (the generated SQL of its rules, quality checks, null tokens, columns
-- and numeric column kinds, and the quarantine rules), the path it took ('full', 'incremental',
-- 'view'), and the work table's row count. A different hash, a source without a key, duplicate
-- keys, duplicate removal or `aurum run --full` rebuild `w_<source>` whole; otherwise only the rows
-- of the keys changed since are deleted and re-evaluated.
CREATE TABLE prep_state (
    source       TEXT PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(run_id),
    config_hash  TEXT NOT NULL,
    path         TEXT NOT NULL,
    rows         INTEGER NOT NULL
);

-- Whether a cursor source's read was a full one (no watermark: a first read, or every Nth read
-- with `options.full_diff_every: N`), whose snapshot diffed every key, so that keys the source no
-- longer holds became deletes. NULL for reads recorded before schema version 9.
ALTER TABLE watermarks ADD COLUMN full_read INTEGER;
