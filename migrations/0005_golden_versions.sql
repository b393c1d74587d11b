-- Aurum staging warehouse, schema version 5: golden record versions.
-- Append-only: never edit a released migration; add the next numbered file instead.

-- Every state a golden record has had: one row per version, valid from the run that produced it up
-- to (not including) the run that replaced or ended it. The state of golden record G at run R is
-- the row with valid_from_run <= R AND (valid_to_run IS NULL OR valid_to_run > R).
CREATE TABLE golden_versions (
    entity            TEXT NOT NULL,
    golden_id         INTEGER NOT NULL,
    -- 1, 2, … per golden id
    version           INTEGER NOT NULL,
    valid_from_run    INTEGER NOT NULL REFERENCES runs(run_id),
    -- NULL while this is the current version
    valid_to_run      INTEGER REFERENCES runs(run_id),
    -- why this version began
    reason            TEXT NOT NULL CHECK (reason IN ('created', 'source change', 'merge', 'split', 'steward decision')),
    -- why it ended: 'superseded' by the next version, or the id 'merged' (into merged_into) or 'retired'
    end_reason        TEXT CHECK (end_reason IN ('superseded', 'merged', 'retired')),
    merged_into       INTEGER,
    -- the golden values: a JSON object, attributes in the entity's order
    attribute_values  TEXT NOT NULL,
    -- the member source records: a JSON array of 'source:key', in byte order of (source, key)
    members           TEXT NOT NULL,
    record_count      INTEGER NOT NULL,
    -- a hash of the attribute names and values and the member set; equal hashes, equal content
    content_hash      INTEGER NOT NULL
);
-- The versions of a golden id.
CREATE UNIQUE INDEX golden_versions_by_id ON golden_versions(entity, golden_id, version);
-- The open versions a run compares its golden records with (covering: id and hash).
CREATE INDEX golden_versions_current ON golden_versions(entity, golden_id, content_hash) WHERE valid_to_run IS NULL;
-- The state of an entity at a run.
CREATE INDEX golden_versions_at_run ON golden_versions(entity, valid_from_run, valid_to_run);

-- The runs that recorded the versions of an entity (also those in which nothing changed): the
-- previous one bounds which steward decisions are new.
CREATE TABLE golden_version_runs (
    entity    TEXT NOT NULL,
    run_id    INTEGER NOT NULL REFERENCES runs(run_id),
    opened    INTEGER NOT NULL,
    closed    INTEGER NOT NULL,
    PRIMARY KEY (entity, run_id)
);

-- A run's merge, split and retire events, found without reading its 'created' ones.
CREATE INDEX golden_events_by_run ON golden_events(run_id, entity, event);
