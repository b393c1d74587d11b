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
        "outputs": { "type": "array", "minItems": 1, "items": { "$ref": "#/$defs/output" } }
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
        "key": { "$ref": "#/$defs/stringOrList" }
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
      "type": "object", "required": ["format", "path"], "additionalProperties": false,
      "properties": {
        "format": { "enum": ["csv", "tsv", "json", "ndjson", "sqlite", "parquet", "excel", "postgresql", "mongodb", "redis"] },
        "path": { "type": "string" },
        "table": { "type": "string" },
        "partition": { "$ref": "#/$defs/partition" }
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
            "buckets": { "type": "integer", "minimum": 1, "maximum": 4096 } } } } }
      }
    }
  }
}
"""#
}
