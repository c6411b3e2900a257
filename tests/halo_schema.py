"""The vendor's OpenAPI description of HaloPSA, as JSON Schema validators of request bodies.

The description (``../shared/vendor/halopsa-openapi.json`` beside the repository, or
``HALOPSA_OPENAPI``) is OpenAPI 3.0: its schemas say ``nullable: true`` where JSON Schema says
``"type": [..., "null"]``. ``body_errors`` converts them once, resolves ``$ref``s against the
description's ``components``, and checks the formats Halo's server would refuse to bind: an
int32 out of range, a malformed uuid or date-time. Every schema we use forbids properties it
does not name (``additionalProperties: false``), as does the real API's binder for these.
"""

import json
import os
import uuid
from datetime import datetime
from functools import cache
from pathlib import Path

from jsonschema import Draft7Validator, FormatChecker

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = Path(os.environ.get("HALOPSA_OPENAPI",
                                ROOT.parent / "shared" / "vendor" / "halopsa-openapi.json"))


def _nullable(schema):
    """One OpenAPI 3.0 schema (and those inside it) as JSON Schema."""
    if isinstance(schema, list):
        return [_nullable(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {}
    for key, value in schema.items():
        if key in ("properties", "definitions") and isinstance(value, dict):
            converted[key] = {name: _nullable(item) for name, item in value.items()}
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            converted[key] = _nullable(value)
        elif key != "nullable":
            converted[key] = value
    if schema.get("nullable"):
        if "type" in converted:
            types = converted["type"] if isinstance(converted["type"], list) else [
                converted["type"]]
            converted["type"] = [*types, "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
        if "$ref" in converted:
            converted = {"anyOf": [{"$ref": converted.pop("$ref")}, {"type": "null"}],
                         **converted}
    return converted


FORMATS = FormatChecker(formats=())


@FORMATS.checks("int32")
def _int32(value):
    """.NET's Int32 binds nothing outside its range."""
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@FORMATS.checks("int64")
def _int64(value):
    """.NET's Int64 likewise."""
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@FORMATS.checks("uuid", raises=ValueError)
def _uuid(value):
    """A Guid must parse."""
    return not isinstance(value, str) or bool(uuid.UUID(value))


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value):
    """A DateTime must parse (with or without a zone, as .NET reads it)."""
    return not isinstance(value, str) or bool(datetime.fromisoformat(value.replace("Z", "+00:00")))


@cache
def _components():
    """The description's schemas, converted once."""
    spec = json.loads(SPEC_PATH.read_text())
    return {"schemas": {name: _nullable(schema)
                        for name, schema in spec["components"]["schemas"].items()}}


@cache
def array_validator(schema_name):
    """A validator of a request body: an array of ``schema_name`` items."""
    schema = {"type": "array", "items": {"$ref": f"#/components/schemas/{schema_name}"},
              "components": _components()}
    return Draft7Validator(schema, format_checker=FORMATS)


def body_errors(schema_name, body):
    """{"[0].field": [messages]} for what the schema forbids in ``body`` (empty: valid)."""
    errors = {}
    # (Sorted by message: ``str(error)`` would print the whole schema.)
    for error in sorted(array_validator(schema_name).iter_errors(body),
                        key=lambda error: (list(map(str, error.absolute_path)), error.message)):
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}"
                        for part in error.absolute_path) or "$"
        errors.setdefault(where.lstrip("."), []).append(error.message)
    return errors
