"""Custom data classes from ``inhouse.toml``: ``[policy.classes.NAME]``.

::

    [policy.classes.project-falcon]
    description = "the codename of the merger"
    keywords = ["Project Falcon", "Falcon deal"]     # whole words, case-insensitive by default
    patterns = ['FAL-\\d{6}']                        # RE2 syntax (no look-arounds/backrefs)

A class becomes a data class like any built-in one: the scanner finds it, the data rules name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import re2  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from inhouse.errors import ConfigError
from inhouse.policy._config import problems
from inhouse.policy.detectors import Detector, known_classes

__all__ = ["CustomClass", "custom_detectors", "parse_custom_classes"]

_NAME = r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$"


class CustomClass(BaseModel):
    """One ``[policy.classes.NAME]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    patterns: tuple[str, ...] = Field(default=(), description="RE2 regexes")
    keywords: tuple[str, ...] = Field(default=(), description="words or phrases")
    case_sensitive: bool = Field(default=False, description="for keywords")

    @model_validator(mode="after")
    def _something_to_find(self) -> CustomClass:
        if not self.patterns and not self.keywords:
            raise ValueError("give patterns, keywords or both")
        if any(not keyword.strip() for keyword in self.keywords):
            raise ValueError("keywords: an empty keyword would match everywhere")
        return self


def _check_pattern(pattern: str, where: str) -> None:
    try:
        compiled = re2.compile(pattern)
    except re2.error as err:
        raise ConfigError(f"{where}: not a valid RE2 pattern ({err}): {pattern!r}") from None
    if compiled.fullmatch("") is not None:
        raise ConfigError(f"{where}: the pattern matches empty text: {pattern!r}")


def parse_custom_classes(
    raw: Mapping[str, Any] | None, *, where: str = "policy.classes"
) -> dict[str, CustomClass]:
    """Validate the ``[policy.classes]`` table; errors name the class and the field."""
    classes: dict[str, CustomClass] = {}
    builtin = set(known_classes())
    for name, body in (raw or {}).items():
        here = f"{where}.{name}"
        if not re2.fullmatch(_NAME, name):
            raise ConfigError(f"{here}: a class name is lower-case words joined by - or _")
        if name in builtin:
            raise ConfigError(f"{here}: {name!r} is a built-in data class; choose another name")
        if isinstance(body, CustomClass):
            spec = body
        else:
            try:
                spec = CustomClass.model_validate(body)
            except ValidationError as err:
                raise ConfigError(problems(err, here)) from None
        for index, pattern in enumerate(spec.patterns):
            _check_pattern(pattern, f"{here}.patterns[{index}]")
        classes[name] = spec
    return classes


def _word_char(char: str) -> bool:
    # RE2's \b knows ASCII word characters only; elsewhere no boundary is required
    return char.isascii() and (char.isalnum() or char == "_")


def _keyword_regex(keyword: str) -> str:
    word = keyword.strip()
    head = r"\b" if _word_char(word[0]) else ""
    tail = r"\b" if _word_char(word[-1]) else ""
    return f"{head}{re2.escape(word)}{tail}"


def custom_detectors(classes: Mapping[str, CustomClass]) -> list[Detector]:
    """The detectors that find the custom classes (their anchors are the findings)."""
    found: list[Detector] = []
    for name, spec in classes.items():
        for index, pattern in enumerate(spec.patterns):
            found.append(
                Detector(
                    name=f"custom:{name}:patterns[{index}]",
                    data_class=name,
                    anchor=pattern,
                    description=spec.description or f"custom class {name}",
                )
            )
        if spec.keywords:
            flags = "" if spec.case_sensitive else "(?i)"
            words = "|".join(_keyword_regex(k) for k in sorted(set(spec.keywords), key=len)[::-1])
            found.append(
                Detector(
                    name=f"custom:{name}:keywords",
                    data_class=name,
                    anchor=f"{flags}(?:{words})",
                    description=spec.description or f"custom class {name}",
                )
            )
    return found
