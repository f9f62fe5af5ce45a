"""A check as written in a spec, validated: ``parse_checks`` turns the YAML list into
:class:`CheckSpec` objects, or raises :class:`~inhouse.errors.InvalidInput` naming the field.

The shape follows promptfoo's ``assert`` entries, so a promptfoo config imports naturally::

    checks:
      - type: icontains-any        # any registered type, or not-<type> for its negation
        value: [refund, return]
        weight: 2                  # optional, default 1; 0 = report only
        metric: mentions-refund    # optional label shown in reports
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from inhouse.checks.registry import NEGATION, Params, check_type, check_types
from inhouse.errors import InvalidInput, first_validation_problem

__all__ = ["COMMON_FIELDS", "CheckSpec", "parse_check", "parse_checks"]

#: fields every check takes, whatever its type (``transform``: JavaScript that reshapes the
#: output for this check alone, as promptfoo's assertion-level ``transform``)
COMMON_FIELDS = ("type", "weight", "metric", "transform")


@dataclass(frozen=True)
class CheckSpec:
    """One validated check: ``type`` as written (``not-contains``), the ``base`` type it runs
    (``contains``), whether it is negated, its weight and its type's parameters."""

    type: str
    base: str
    negate: bool
    weight: float
    metric: str | None
    params: Params
    where: str
    transform: str | None = None

    def describe(self) -> str:
        """A short human label: ``not-contains 'zzz'``."""
        fields = self.params.model_dump(exclude_none=True)
        shown = ", ".join(
            _short(value) if name == "value" else f"{name}={_short(value)}"
            for name, value in fields.items()
        )
        return f"{self.type} {shown}".strip()

    def to_raw(self) -> dict[str, Any]:
        """Back to the YAML shape it was parsed from (normalised)."""
        raw: dict[str, Any] = {"type": self.type}
        raw.update(self.params.model_dump(exclude_none=True, by_alias=True))
        if self.weight != 1:
            raw["weight"] = self.weight
        if self.metric:
            raw["metric"] = self.metric
        if self.transform:
            raw["transform"] = self.transform
        return raw


def _short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fail(where: str, message: str) -> InvalidInput:
    return InvalidInput(f"{where}: {message}")


def parse_check(raw: Any, *, where: str) -> CheckSpec:
    """Validate one check; ``where`` names it (``workflows/x.yaml: tests[0].checks[2]``)."""
    if not isinstance(raw, Mapping):
        raise _fail(where, f"a check is a mapping with a 'type', got {type(raw).__name__}")
    name = raw.get("type")
    if not isinstance(name, str) or not name:
        raise _fail(f"{where}.type", "missing: every check names its type, e.g. `type: contains`")
    negate = name.startswith(NEGATION)
    base = name.removeprefix(NEGATION) if negate else name
    kind = check_type(base)
    if kind is None:
        known = list(check_types())
        close = difflib.get_close_matches(base, known, n=2)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise _fail(
            f"{where}.type",
            f"unknown check type {name!r}{hint}; known: {', '.join(known)} "
            "(each also as not-<type>)",
        )
    weight = raw.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
        raise _fail(f"{where}.weight", f"must be a number ≥ 0, got {weight!r}")
    metric = raw.get("metric")
    if metric is not None and not isinstance(metric, str):
        raise _fail(f"{where}.metric", f"must be text, got {metric!r}")
    transform = raw.get("transform")
    if transform is not None and (not isinstance(transform, str) or not transform.strip()):
        raise _fail(f"{where}.transform", f"must be JavaScript text, got {transform!r}")
    fields = {key: value for key, value in raw.items() if key not in COMMON_FIELDS}
    try:
        params = kind.params.model_validate(fields)
    except ValidationError as err:
        field, message = _explain(err, name, kind.params)
        raise _fail(f"{where}.{field}" if field else where, message) from None
    return CheckSpec(name, base, negate, float(weight), metric, params, where, transform)


def parse_checks(raw: Any, *, where: str) -> list[CheckSpec]:
    """Validate a list of checks; ``where`` names the list (``trials/x.yaml: checks``), and an
    error names the entry and field (``trials/x.yaml: checks[2].value: …``)."""
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise _fail(where, f"checks are a list of mappings, got {type(raw).__name__}")
    return [parse_check(item, where=f"{where}[{index}]") for index, item in enumerate(raw)]


def _explain(err: ValidationError, name: str, params: type[Params]) -> tuple[str, str]:
    """(the field at fault, what is wrong with it) from pydantic's errors; an unknown field
    first, since a misspelt field also shows up as the right one missing."""
    first = first_validation_problem(err)
    field = first.field
    takes = ", ".join([*params.model_fields, *COMMON_FIELDS[1:]])
    if first.kind == "extra_forbidden":
        return field, f"{name} does not take {field!r}; it takes {takes}"
    if first.kind == "missing":
        return field, f"missing: {name} needs {field!r} (it takes {takes})"
    return field, f"{name}: {first.message}"
