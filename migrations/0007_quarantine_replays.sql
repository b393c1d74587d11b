-- Aurum staging warehouse, schema version 7: quarantine replays.
-- Append-only: never edit a released migration; add the next numbered file instead.

-- Which quarantined rows `aurum quarantine replay` sent through the pipeline again, in which run,
-- and what came of it: 'passed' (staged and prepared in that run), 'failed' (quarantined again:
-- `requarantine_id` is the new quarantine row, with its new reason) or 'gone' (the current
-- snapshot no longer holds the row, or the catalog no longer has its source).
CREATE TABLE quarantine_replays (
    quarantine_id    INTEGER NOT NULL REFERENCES quarantine(id),
    replay_run       INTEGER NOT NULL REFERENCES runs(run_id),
    outcome          TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'gone')),
    requarantine_id  INTEGER REFERENCES quarantine(id),
    PRIMARY KEY (quarantine_id, replay_run)
);
CREATE INDEX quarantine_replays_by_run ON quarantine_replays(replay_run);
