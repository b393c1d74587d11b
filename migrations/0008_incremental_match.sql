-- Aurum staging warehouse, schema version 8: incremental matching and survivorship.
-- Append-only: never edit a released migration; add the next numbered file instead.

-- What the last run that built an entity left for the next one: the hash of the entity's
-- configuration (entity spec, its sources and the catalog's transformation and quality rules),
-- the run whose model scores incremental runs, and the state blocking needs (candidate pairs per
-- rule, as JSON). A run whose configuration hash differs, or `aurum run --full`, runs the full path.
-- The blocking keys themselves are a table per entity, `ent_<entity>__blocks` (key INTEGER, rec
-- INTEGER, src INTEGER, PRIMARY KEY (key, rec)) WITHOUT ROWID: per record of `ent_<entity>`
-- (rec = rec_id) the 64-bit FNV-1a hash of each blocking rule's index and key text.
CREATE TABLE match_state (
    entity        TEXT PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    config_hash   TEXT NOT NULL,
    -- the run whose row of match_models (and match_term_frequencies) incremental runs score with
    model_run     INTEGER REFERENCES runs(run_id),
    -- 'full' or 'incremental': the path that run took
    path          TEXT NOT NULL,
    state         TEXT NOT NULL
);

-- Term frequencies are part of the model: the count of each value of a term-frequency attribute
-- among the records of the run that built the model. Incremental runs score exact matches with
-- these counts (as Splink and Zingg score with a trained model), so a pair's weight never depends
-- on which path scored it; a full run recomputes them.
CREATE TABLE match_term_frequencies (
    entity     TEXT NOT NULL,
    attribute  TEXT NOT NULL,
    value      TEXT NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (entity, attribute, value)
) WITHOUT ROWID;

-- Pairs by their right-hand record (the primary key serves the left one): an incremental run
-- deletes and follows the pairs of the records it touches.
CREATE INDEX match_pairs_by_right ON match_pairs(entity, source_r, key_r);
