"""Checks on structured output: valid JSON, JSON that matches a JSON Schema, JSON inside text."""

from __future__ import annotations

import json
from typing import Any

from pydantic import field_validator

from inhouse.checks.base import Finding, QualityContext
from inhouse.checks.registry import Params, register_check_type

__all__: list[str] = []


def _check_schema(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    if schema is None:
        return None
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as err:
        raise ValueError(f"not a valid JSON Schema: {err.message}") from None
    return schema


def _schema_problem(document: Any, schema: dict[str, Any]) -> str | None:
    """The first way ``document`` breaks ``schema`` (with where), or None when it conforms."""
    from jsonschema.validators import validator_for

    validator = validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    first = errors[0]
    where = "/".join(str(part) for part in first.absolute_path) or "(top level)"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.message}{more}"


class OptionalSchema(Params):
    #: a JSON Schema the document must also match (promptfoo's ``is-json`` takes one too)
    value: dict[str, Any] | None = None

    @field_validator("value")
    @classmethod
    def _valid(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _check_schema(value)


class Schema(Params):
    value: dict[str, Any]

    @field_validator("value")
    @classmethod
    def _valid(cls, value: dict[str, Any]) -> dict[str, Any]:
        schema = _check_schema(value)
        assert schema is not None
        return schema


def _judge(document: Any, schema: dict[str, Any] | None, what: str) -> Finding:
    if schema is None:
        return Finding.of(True, f"{what} is valid JSON ({type(document).__name__})")
    problem = _schema_problem(document, schema)
    if problem is None:
        return Finding.of(True, f"{what} is JSON matching the schema")
    return Finding.of(False, f"{what} is JSON but does not match the schema: {problem}")


def _whole_output(output: str, schema: dict[str, Any] | None) -> Finding:
    try:
        document = json.loads(output)
    except ValueError as err:
        return Finding.of(False, f"the output is not JSON: {err}")
    return _judge(document, schema, "the output")


@register_check_type("is-json", params=OptionalSchema, summary="the output is valid JSON")
async def is_json(params: OptionalSchema, output: str, ctx: QualityContext) -> Finding:
    return _whole_output(output, params.value)


@register_check_type("json-schema", params=Schema, summary="the output is JSON matching a schema")
async def json_schema(params: Schema, output: str, ctx: QualityContext) -> Finding:
    return _whole_output(output, params.value)


@register_check_type(
    "contains-json", params=OptionalSchema, summary="a JSON object or array appears in the output"
)
async def contains_json(params: OptionalSchema, output: str, ctx: QualityContext) -> Finding:
    decoder = json.JSONDecoder()
    last: Finding | None = None
    for start, char in enumerate(output):
        if char not in "{[":
            continue
        try:
            document, end = decoder.raw_decode(output, start)
        except ValueError:
            continue
        finding = _judge(document, params.value, f"the text at characters {start}..{end}")
        if finding.passed:
            return finding
        last = finding
    return last or Finding.of(False, "no JSON object or array found in the output")
