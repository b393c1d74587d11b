/// The JSON Schema of a catalog (both dialects), printed by `aurum schema` for editors.
public enum CatalogSchema {
    public static let json = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://aurum.dev/schema/catalog-v1.json",
  "title": "Aurum catalog",
  "description": "An Aurum catalog (YAML or JSON), or an integration config of the original JSON interface.",
  "oneOf": [
    { "$ref": "#/$defs/catalog" },
    { "type": "object", "required": ["integration_config"], "additionalProperties": false,
      "properties": { "integration_config": { "$ref": "#/$defs/integrationConfig" } } },
    { "$ref": "#/$defs/integrationConfig" }
  ],
  "$defs": {
    "catalog": {
      "type": "object",
      "required": ["sources"],
      "not": { "anyOf": [ { "required": ["integration_config"] }, { "required": ["data_sources"] } ] },
      "additionalProperties": false,
      "properties": {
        "version": { "const": 1 },
        "name": { "type": "string" },
        "warehouse": { "type": "string", "description": "Staging warehouse file; default aurum.db beside the catalog." },
        "defaults": { "type": "object", "additionalProperties": false,
          "properties": { "phone_country": { "type": "string", "description": "ISO 3166 alpha-2 country for normalize_phone." } } },
        "sources": { "type": "array", "minItems": 1, "items": { "$ref": "#/$defs/source" } },
        "rules": { "type": "array", "items": { "$ref": "#/$defs/rule" } },
        "quality": { "$ref": "#/$defs/quality" },
        "integration": { "$ref": "#/$defs/integration" },
        "entities": { "type": "object", "description": "Entities built by matching and survivorship, by name.",
          "additionalProperties": { "$ref": "#/$defs/entity" } },
        "outputs": { "type": "array", "items": { "$ref": "#/$defs/output" } }
      }
    },
    "stringOrList": { "oneOf": [ { "type": "string" }, { "type": "array", "items": { "type": "string" } } ] },
    "source": {
      "type": "object", "required": ["name", "type", "path"], "additionalProperties": false,
      "properties": {
        "name": { "type": "string", "pattern": "^[^.]+$" },
        "type": { "enum": ["csv", "tsv", "json", "ndjson", "sqlite", "excel", "parquet", "postgresql", "mongodb", "redis", "api", "xml"] },
        "path": { "type": "string", "description": "File path, relative to the catalog's folder." },
        "query": { "type": "string", "description": "sqlite: a SELECT." },
        "table": { "type": "string", "description": "sqlite: a table to read whole." },
        "delimiter": { "type": "string", "description": "One character, or tab/comma/semicolon/pipe." },
        "header": { "type": "boolean", "default": true },
        "encoding": { "enum": ["utf-8", "utf8", "latin-1", "latin1", "iso-8859-1"] },
        "columns": { "type": "array", "items": { "type": "string" } },
        "records": { "type": "string", "description": "json: path to the array of records, e.g. data.customers." },
        "flatten": { "type": "boolean", "default": true },
        "key": { "$ref": "#/$defs/stringOrList" },
        "options": { "type": "object", "description": "Connector-specific settings.",
          "properties": {
            "cursor": { "type": "string", "description": "Incremental cursor column (e.g. updated_at): each run reads the rows past the last watermark." },
            "watermark": { "type": "string", "description": "A cursor value to read from instead of the recorded watermark." },
            "overlap": { "type": ["string", "number"], "description": "Re-read a window before the watermark (\"5 minutes\", or a number)." },
            "deleted_column": { "type": "string", "description": "Soft-delete column: a row read with it set is a delete." },
            "full_diff_every": { "type": "integer", "minimum": 1,
              "description": "With a cursor: every Nth read reads the whole source (cursor ignored) so that keys it no longer holds become deletes; the watermark is still recorded." }
          } }
      }
    },
    "rule": {
      "type": "object", "required": ["name", "type"], "additionalProperties": false,
      "properties": {
        "name": { "type": "string" },
        "type": { "enum": ["mapping", "calculation", "formatting", "validation"] },
        "source": { "type": "string", "description": "Apply to this source only." },
        "column": { "type": "string" },
        "target": { "type": "string" },
        "expression": { "type": "string", "description": "An SQL expression over the row's columns." },
        "values": { "type": "object", "description": "mapping: value map." },
        "default": { "description": "mapping: replacement for values the map does not list." }
      }
    },
    "nullPolicy": { "oneOf": [ { "enum": ["keep", "reject"] },
      { "type": "object", "required": ["default"], "additionalProperties": false, "properties": { "default": {} } } ] },
    "quality": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "duplicates": { "oneOf": [ { "type": "boolean" },
          { "type": "object", "additionalProperties": false, "properties": { "columns": { "$ref": "#/$defs/stringOrList" } } } ] },
        "nulls": { "oneOf": [ { "type": "boolean" },
          { "type": "object", "additionalProperties": false, "properties": {
            "policy": { "$ref": "#/$defs/nullPolicy" },
            "tokens": { "type": "array", "items": { "type": "string" } },
            "columns": { "type": "object", "additionalProperties": { "$ref": "#/$defs/nullPolicy" } } } } ] },
        "formats": { "oneOf": [ { "type": "boolean" },
          { "type": "object", "additionalProperties": { "enum": ["email", "phone", "date", "postcode"] } } ] },
        "business_rules": { "type": "boolean", "default": true }
      }
    },
    "conflict": { "oneOf": [ { "enum": ["first", "last", "average", "sum"] },
      { "type": "string", "pattern": "^custom:" },
      { "type": "object", "required": ["custom"], "additionalProperties": false, "properties": { "custom": { "type": "string" } } } ] },
    "integration": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "join": { "enum": ["inner", "left", "right", "outer", "cross"] },
        "keys": { "type": "array", "items": { "type": "object", "required": ["left", "right"], "additionalProperties": false,
          "properties": { "left": { "type": "string" }, "right": { "type": "string" } } } },
        "merge": { "enum": ["union", "intersection", "complement"] },
        "conflict": { "oneOf": [ { "$ref": "#/$defs/conflict" },
          { "type": "object", "additionalProperties": false, "properties": {
            "default": { "$ref": "#/$defs/conflict" },
            "columns": { "type": "object", "additionalProperties": { "$ref": "#/$defs/conflict" } } } } ] }
      }
    },
    "partition": {
      "type": "object", "required": ["by", "type"], "additionalProperties": false,
      "properties": { "by": { "type": "string" }, "type": { "enum": ["date", "category", "hash"] },
        "buckets": { "type": "integer", "minimum": 1, "maximum": 4096 } }
    },
    "output": {
      "type": "object", "required": ["format"], "additionalProperties": false,
      "properties": {
        "format": { "enum": ["csv", "tsv", "json", "ndjson", "sqlite", "parquet", "excel", "postgresql", "mongodb", "redis"] },
        "path": { "type": "string" },
        "table": { "type": "string" },
        "partition": { "$ref": "#/$defs/partition" },
        "data": { "type": "string", "pattern": "^(integrated|golden|xref|pairs)(\\.[A-Za-z_][A-Za-z0-9_]*)?$",
          "description": "What to write: integrated rows, or an entity's golden records, xref or scored pairs (golden.person)." },
        "connection": { "type": "string", "description": "Connection string of a server target (postgresql, mongodb, redis)." },
        "auth": { "type": "object", "additionalProperties": false, "properties": {
          "username": { "type": "string" }, "password": { "type": "string" }, "api_key": { "type": "string" }, "token": { "type": "string" } } },
        "options": { "type": "object", "description": "Connector-specific settings." },
        "name": { "$ref": "#/$defs/outputName" },
        "sync": { "$ref": "#/$defs/outputSync" },
        "key": { "$ref": "#/$defs/outputKey" }
      }
    },
    "outputName": { "type": "string", "pattern": "^\\S+$",
      "description": "The output's name for aurum sync --target, status and reconcile; default: the table, collection, key prefix or file name." },
    "outputSync": { "type": "boolean", "default": false,
      "description": "Write only what changed since the target's last sync (upserts and deletes by key) instead of everything." },
    "outputKey": { "$ref": "#/$defs/stringOrList",
      "description": "The columns that identify a row in the target; default golden_id (golden), source, source_key (xref), the integration's join key (integrated)." },
    "standardizer": { "oneOf": [
      { "enum": ["trim", "lower", "upper", "fold_accents", "punctuation", "digits", "nickname", "email", "phone", "postcode", "date"] },
      { "type": "object", "additionalProperties": false, "properties": { "date": { "$ref": "#/$defs/stringOrList" }, "sql": { "type": "string" } } } ] },
    "level": { "oneOf": [
      { "enum": ["exact", "soundex", "double_metaphone", "day_month_transposed"] },
      { "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": false, "properties": {
        "jaro_winkler": { "type": "number", "minimum": 0, "maximum": 1 }, "jaccard": { "type": "number", "minimum": 0, "maximum": 1 },
        "levenshtein": { "type": "integer", "minimum": 0 }, "damerau_levenshtein": { "type": "integer", "minimum": 0 },
        "abs_diff": { "type": "number", "minimum": 0 }, "rel_diff": { "type": "number", "minimum": 0 },
        "date_days": { "type": "integer", "minimum": 0 }, "swapped_with": { "type": "string" }, "sql": { "type": "string" } } } ] },
    "blockingRule": { "oneOf": [ { "$ref": "#/$defs/stringOrList" },
      { "type": "object", "required": ["keys"], "additionalProperties": false, "properties": { "keys": { "$ref": "#/$defs/stringOrList" } } } ] },
    "survivorshipRule": { "oneOf": [
      { "enum": ["source_priority", "most_frequent", "longest", "most_complete", "first", "last", "average", "sum"] },
      { "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": false, "properties": {
        "source_priority": { "type": "array", "items": { "type": "string" } }, "most_recent": { "type": "string" },
        "custom": { "type": "string" } } } ] },
    "entity": {
      "type": "object", "required": ["attributes", "sources"], "additionalProperties": false,
      "properties": {
        "attributes": { "oneOf": [ { "type": "array", "items": { "type": "string" } },
          { "type": "object", "additionalProperties": { "oneOf": [ { "type": "null" }, { "$ref": "#/$defs/standardizer" },
            { "type": "array", "items": { "$ref": "#/$defs/standardizer" } },
            { "type": "object", "additionalProperties": false, "properties": {
              "type": { "enum": ["text", "date", "number"] },
              "standardize": { "oneOf": [ { "$ref": "#/$defs/standardizer" }, { "type": "array", "items": { "$ref": "#/$defs/standardizer" } } ] } } } ] } } ] },
        "sources": { "type": "object", "description": "Per source: attribute → column or SQL expression.",
          "additionalProperties": { "oneOf": [ { "type": "array", "items": { "type": "string" } },
            { "type": "object", "additionalProperties": { "type": "string" } } ] } },
        "match": { "type": "object", "additionalProperties": false, "properties": {
          "mode": { "enum": ["probabilistic", "deterministic", "both"] },
          "link_type": { "enum": ["link_and_dedupe", "link_only", "dedupe_only"] },
          "blocking": { "type": "array", "items": { "$ref": "#/$defs/blockingRule" } },
          "pair_budget": { "type": "integer", "minimum": 1 },
          "comparisons": { "type": "object", "additionalProperties": { "oneOf": [ { "type": "array", "items": { "$ref": "#/$defs/level" } },
            { "type": "object", "required": ["levels"], "additionalProperties": false, "properties": {
              "attribute": { "type": "string" }, "levels": { "type": "array", "items": { "$ref": "#/$defs/level" } },
              "term_frequency": { "type": "boolean" },
              "m": { "type": "array", "items": { "type": "number" } }, "u": { "type": "array", "items": { "type": "number" } } } } ] } },
          "deterministic": { "type": "array", "items": { "$ref": "#/$defs/stringOrList" } },
          "exclusions": { "type": "array", "items": { "$ref": "#/$defs/stringOrList" } },
          "training": { "type": "object", "additionalProperties": false, "properties": {
            "u_sample_pairs": { "type": "integer", "minimum": 1000 }, "em_blocks": { "type": "array", "items": { "$ref": "#/$defs/blockingRule" } },
            "max_iterations": { "type": "integer", "minimum": 1 }, "tolerance": { "type": "number", "exclusiveMinimum": 0 },
            "seed": { "type": "integer" }, "max_block_pairs": { "type": "integer", "minimum": 100 } } },
          "prior": { "type": "number", "exclusiveMinimum": 0, "maximum": 1 },
          "thresholds": { "type": "object", "additionalProperties": false, "properties": {
            "link": { "type": "number", "minimum": 0, "maximum": 1 }, "review": { "type": "number", "minimum": 0, "maximum": 1 } } },
          "chain_bound": { "type": "number", "minimum": 0, "maximum": 1 } } },
        "survivorship": { "type": "object", "additionalProperties": false, "properties": {
          "default": { "$ref": "#/$defs/survivorshipRule" },
          "attributes": { "type": "object", "additionalProperties": { "$ref": "#/$defs/survivorshipRule" } } } }
      }
    },
    "integrationConfig": {
      "type": "object", "required": ["data_sources", "output_config"], "additionalProperties": false,
      "properties": {
        "data_sources": { "type": "array", "minItems": 1, "items": {
          "type": "object", "required": ["source_name", "source_type", "connection_string"], "additionalProperties": false,
          "properties": {
            "source_name": { "type": "string" },
            "source_type": { "enum": ["csv", "json", "excel", "sql", "mongodb", "redis", "api", "parquet", "xml"] },
            "connection_string": { "type": "string" },
            "query": {},
            "key": { "$ref": "#/$defs/stringOrList" },
            "authentication": { "type": "object", "additionalProperties": false, "properties": {
              "username": { "type": "string" }, "password": { "type": "string" }, "api_key": { "type": "string" } } } } } },
        "integration_strategy": { "type": "object", "additionalProperties": false, "properties": {
          "join_type": { "enum": ["inner", "left", "right", "outer", "cross"] },
          "join_keys": { "type": "array", "items": { "type": "object", "required": ["source1_key", "source2_key"], "additionalProperties": false,
            "properties": { "source1_key": { "type": "string" }, "source2_key": { "type": "string" } } } },
          "merge_strategy": { "enum": ["union", "intersection", "complement"] },
          "conflict_resolution": { "enum": ["first", "last", "average", "sum", "custom"] },
          "custom_resolution": { "type": "string", "description": "Extension: the SQL aggregate over value used by conflict_resolution custom." } } },
        "transformation_rules": { "type": "array", "items": { "type": "object", "required": ["rule_name", "transformation_type"], "additionalProperties": false,
          "properties": {
            "rule_name": { "type": "string" }, "source_column": { "type": "string" }, "target_column": { "type": "string" },
            "transformation_type": { "enum": ["mapping", "calculation", "formatting", "validation"] },
            "transformation_logic": {} } } },
        "data_quality_checks": { "type": "object", "additionalProperties": false, "properties": {
          "duplicate_check": { "type": "boolean" }, "null_check": { "type": "boolean" },
          "format_check": { "type": "boolean" }, "business_rule_check": { "type": "boolean" } } },
        "output_config": { "type": "object", "required": ["output_format", "output_destination"], "additionalProperties": false, "properties": {
          "output_format": { "enum": ["csv", "json", "parquet", "sql", "mongodb", "ndjson", "tsv", "excel"] },
          "output_destination": { "type": "string" },
          "partitioning": { "type": "object", "required": ["partition_by", "partition_type"], "additionalProperties": false, "properties": {
            "partition_by": { "type": "string" }, "partition_type": { "enum": ["date", "category", "hash"] },
            "buckets": { "type": "integer", "minimum": 1, "maximum": 4096 } } },
          "name": { "$ref": "#/$defs/outputName" },
          "sync": { "$ref": "#/$defs/outputSync" },
          "key": { "$ref": "#/$defs/outputKey" } } }
      }
    }
  }
}
"""#
}
