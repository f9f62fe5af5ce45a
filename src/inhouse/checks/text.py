"""Checks on the output's text: equality, substrings, patterns, size and edit distance."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from inhouse.checks.base import Finding, QualityContext
from inhouse.checks.registry import Params, RunFunc, register_check_type

__all__ = ["Bounds", "Text", "TextList", "TextValue"]


def _as_text(value: Any) -> Any:
    """YAML reads ``value: 42`` as a number; a text check means the characters ``42``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_as_text)]


def _snip(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


class TextValue(Params):
    value: Text


class TextList(Params):
    value: list[Text] = Field(min_length=1)

    @field_validator("value", mode="before")
    @classmethod
    def _one_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | int | float) else value


class EqualsParams(Params):
    #: text, or a mapping/list compared as JSON with the parsed output
    value: Text | dict[str, Any] | list[Any]


@register_check_type("equals", params=EqualsParams, summary="the output is exactly the value")
async def equals(params: EqualsParams, output: str, ctx: QualityContext) -> Finding:
    expected = params.value
    if not isinstance(expected, str):
        try:
            parsed = json.loads(output)
        except ValueError:
            return Finding.of(False, "the output is not JSON, so it cannot equal the expected JSON")
        same = parsed == expected
        return Finding.of(same, "the output equals the expected JSON" if same else
                          "the output's JSON differs from the expected JSON")  # fmt: skip
    if output == expected:
        return Finding.of(True, "the output equals the expected text")
    at = next(
        (i for i, (a, b) in enumerate(zip(output, expected, strict=False)) if a != b),
        min(len(output), len(expected)),
    )
    return Finding.of(
        False,
        f"the output differs from the expected text at character {at}: "
        f"expected {_snip(expected[at:])}, got {_snip(output[at:])}",
    )


def _find(output: str, needle: str, fold: bool) -> int:
    if fold:
        return output.casefold().find(needle.casefold())
    return output.find(needle)


def _contains(params: TextValue, output: str, fold: bool) -> Finding:
    at = _find(output, params.value, fold)
    case = " (ignoring case)" if fold else ""
    if at >= 0:
        return Finding.of(True, f"found {_snip(params.value)}{case} at character {at}")
    return Finding.of(False, f"{_snip(params.value)} not found in the output{case}")


def _contains_all(params: TextList, output: str, fold: bool) -> Finding:
    missing = [v for v in params.value if _find(output, v, fold) < 0]
    found = len(params.value) - len(missing)
    case = " (ignoring case)" if fold else ""
    score = found / len(params.value)
    if not missing:
        return Finding(True, 1.0, f"all {len(params.value)} values found{case}")
    shown = ", ".join(_snip(v) for v in missing)
    return Finding(False, score, f"missing {shown}{case} (found {found} of {len(params.value)})")


def _contains_any(params: TextList, output: str, fold: bool) -> Finding:
    case = " (ignoring case)" if fold else ""
    for value in params.value:
        at = _find(output, value, fold)
        if at >= 0:
            return Finding.of(True, f"found {_snip(value)}{case} at character {at}")
    shown = ", ".join(_snip(v) for v in params.value)
    return Finding.of(False, f"none of {shown} found{case}")


def _register_with_case_twin(
    name: str, params: type[Params], judge: Callable[[Any, str, bool], Finding], summary: str
) -> None:
    """Register ``name`` and its twin ``i<name>``, the same check ignoring case."""
    for type_name, fold, said in (
        (name, False, summary),
        (f"i{name}", True, f"{name}, ignoring case"),
    ):
        register_check_type(type_name, params=params, summary=said)(
            _judging(judge, fold, type_name.replace("-", "_"))
        )


def _judging(judge: Callable[[Any, str, bool], Finding], fold: bool, name: str) -> RunFunc:
    async def check(params: Any, output: str, ctx: QualityContext) -> Finding:
        return judge(params, output, fold)

    check.__name__ = check.__qualname__ = name  # where a clashing plugin is told it is declared
    return check


_register_with_case_twin("contains", TextValue, _contains, "the output contains the value")
_register_with_case_twin("contains-all", TextList, _contains_all, "contains every value")
_register_with_case_twin("contains-any", TextList, _contains_any, "contains at least one value")


@register_check_type("starts-with", params=TextValue, summary="the output starts with the value")
async def starts_with(params: TextValue, output: str, ctx: QualityContext) -> Finding:
    if output.startswith(params.value):
        return Finding.of(True, f"the output starts with {_snip(params.value)}")
    return Finding.of(
        False, f"the output starts with {_snip(output[: len(params.value) or 20])}, "
        f"not {_snip(params.value)}"
    )  # fmt: skip


class RegexParams(Params):
    #: a Python regular expression, searched anywhere in the output (anchor it with ^…$)
    value: str

    @field_validator("value")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as err:
            raise ValueError(f"not a valid regular expression: {err}") from None
        return value


@register_check_type("regex", params=RegexParams, summary="the regular expression matches")
async def regex(params: RegexParams, output: str, ctx: QualityContext) -> Finding:
    match = re.search(params.value, output)
    if match:
        return Finding.of(True, f"/{params.value}/ matched {_snip(match.group(0))} "
                          f"at character {match.start()}")  # fmt: skip
    return Finding.of(False, f"no match for /{params.value}/ in the output")


class Bounds(Params):
    """``min`` and/or ``max`` (inclusive); ``value: N`` means exactly N, and promptfoo's
    ``value: {min: …, max: …}`` is read too."""

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_value(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "value" not in data:
            return data
        data = dict(data)
        value = data.pop("value")
        if isinstance(value, dict):
            unknown = set(value) - {"min", "max"}
            if unknown:
                raise ValueError(f"value takes min and max, not {', '.join(sorted(unknown))}")
            data.update(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            data["min"] = data["max"] = value
        else:
            raise ValueError(f"value must be a whole number or {{min, max}}, got {value!r}")
        return data

    @model_validator(mode="after")
    def _some_bound(self) -> Bounds:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self

    def judge(self, count: int, unit: str) -> Finding:
        if self.min is not None and count < self.min:
            return Finding.of(False, f"{count} {unit}, below the minimum of {self.min}")
        if self.max is not None and count > self.max:
            return Finding.of(False, f"{count} {unit}, above the maximum of {self.max}")
        low = self.min if self.min is not None else 0
        high = "∞" if self.max is None else str(self.max)
        return Finding.of(True, f"{count} {unit}, within {low}..{high}")


@register_check_type("length", params=Bounds, summary="the output's length in characters")
async def length(params: Bounds, output: str, ctx: QualityContext) -> Finding:
    return params.judge(len(output), "characters")


@register_check_type("word-count", params=Bounds, summary="the output's length in words")
async def word_count(params: Bounds, output: str, ctx: QualityContext) -> Finding:
    return params.judge(len(output.split()), "words")


class LevenshteinParams(Params):
    value: Text
    #: the largest edit distance that passes (promptfoo's default: 5)
    threshold: int = Field(default=5, ge=0)


@register_check_type(
    "levenshtein", params=LevenshteinParams, summary="edit distance to the value at most threshold"
)
async def levenshtein(params: LevenshteinParams, output: str, ctx: QualityContext) -> Finding:
    from rapidfuzz.distance import Levenshtein

    distance = Levenshtein.distance(output, params.value)
    longest = max(len(output), len(params.value), 1)
    score = 1.0 - distance / longest
    verdict = "within" if distance <= params.threshold else "above"
    return Finding(
        distance <= params.threshold,
        score,
        f"edit distance {distance} to {_snip(params.value)}, {verdict} the maximum of "
        f"{params.threshold}",
        {"distance": distance},
    )
