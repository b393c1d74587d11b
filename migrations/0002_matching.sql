-- Aurum staging warehouse, schema version 2: matching, golden records, xref and value lineage.
-- Append-only: never edit a released migration; add the next numbered file instead.

-- The trained (or hand-set) model of each entity, per run, as JSON: comparisons, levels, m/u,
-- prior, thresholds, training diagnostics. `aurum explain` scores pairs with it.
CREATE TABLE match_models (
    run_id  INTEGER NOT NULL REFERENCES runs(run_id),
    entity  TEXT NOT NULL,
    model   TEXT NOT NULL,
    PRIMARY KEY (run_id, entity)
);

-- Scored candidate pairs at or above the review threshold, for the latest run of each entity.
-- Records are named by their stable identity (source, source key), so pairs survive re-snapshots.
CREATE TABLE match_pairs (
    entity       TEXT NOT NULL,
    run_id       INTEGER NOT NULL REFERENCES runs(run_id),
    source_l     TEXT NOT NULL,
    key_l        TEXT NOT NULL,
    source_r     TEXT NOT NULL,
    key_r        TEXT NOT NULL,
    weight       REAL NOT NULL,
    probability  REAL NOT NULL,
    -- 'link' (at or above the link threshold), 'review' (in the review band), 'rule' (a deterministic rule)
    status       TEXT NOT NULL,
    levels       TEXT NOT NULL,
    PRIMARY KEY (entity, source_l, key_l, source_r, key_r)
);
CREATE INDEX match_pairs_by_status ON match_pairs(entity, status, probability);

-- Steward decisions; they always win over the model and are kept across runs.
CREATE TABLE match_decisions (
    entity     TEXT NOT NULL,
    source_l   TEXT NOT NULL,
    key_l      TEXT NOT NULL,
    source_r   TEXT NOT NULL,
    key_r      TEXT NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('must_link', 'cannot_link')),
    decided_at TEXT NOT NULL,
    decided_by TEXT,
    note       TEXT,
    PRIMARY KEY (entity, source_l, key_l, source_r, key_r)
);

-- Every golden id ever minted: when, and what became of it.
CREATE TABLE golden_ids (
    entity       TEXT NOT NULL,
    golden_id    INTEGER NOT NULL,
    created_run  INTEGER NOT NULL REFERENCES runs(run_id),
    -- 'active', 'merged' (into merged_into), 'retired' (no source record left)
    status       TEXT NOT NULL CHECK (status IN ('active', 'merged', 'retired')),
    merged_into  INTEGER,
    changed_run  INTEGER REFERENCES runs(run_id),
    PRIMARY KEY (entity, golden_id)
);

-- What happened to golden ids in a run: created, merged (golden_id into other_id), split
-- (other_id minted from golden_id), retired.
CREATE TABLE golden_events (
    run_id     INTEGER NOT NULL REFERENCES runs(run_id),
    entity     TEXT NOT NULL,
    golden_id  INTEGER NOT NULL,
    event      TEXT NOT NULL CHECK (event IN ('created', 'merged', 'split', 'retired')),
    other_id   INTEGER
);
CREATE INDEX golden_events_by_id ON golden_events(entity, golden_id);

-- The cross-reference: every source record of an entity and its golden id (current state), with
-- the run that gave the record that id (rows whose id did not change are not rewritten).
CREATE TABLE xref (
    entity      TEXT NOT NULL,
    source      TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    golden_id   INTEGER NOT NULL,
    run_id      INTEGER NOT NULL REFERENCES runs(run_id),
    PRIMARY KEY (entity, source, source_key)
);
CREATE INDEX xref_by_golden ON xref(entity, golden_id);

-- Value lineage, part 1: the survivorship rule of each attribute of an entity in its latest run.
-- Part 2 is a table per entity, `golden_<entity>__lineage` (golden_id INTEGER PRIMARY KEY, then one
-- TEXT column per attribute): for every golden value, the source records it came from
-- (`source:key` separated by ';', in record order; NULL where the golden value is NULL). One row
-- per golden record rather than per value keeps a million-record entity to a few hundred
-- thousand rows instead of millions.
CREATE TABLE golden_rules (
    entity     TEXT NOT NULL,
    attribute  TEXT NOT NULL,
    position   INTEGER NOT NULL,
    rule       TEXT NOT NULL,
    run_id     INTEGER NOT NULL REFERENCES runs(run_id),
    PRIMARY KEY (entity, attribute)
);
