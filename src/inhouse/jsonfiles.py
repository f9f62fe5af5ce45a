"""Reading the JSON, JSONL and YAML files a person writes (workflow inputs, trial tasks, prompt
sets, specs) or inhouse keeps (manifests): one reader, whose errors name the file and the line.

    rows = read_jsonl_objects(path, shown="data/tickets.jsonl", what="an object of variables")
    for line, row in rows: ...

Every error is an :class:`~inhouse.errors.InvalidInput` a person can act on: ``no file X``,
``cannot read X: …``, ``X:3: not JSON (Expecting value)``, ``X:3: expected an object of …``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from inhouse.errors import InvalidInput

__all__ = ["load_yaml", "read_json", "read_jsonl", "read_jsonl_objects", "read_text"]


def read_text(path: Path, *, shown: str | None = None) -> str:
    """The file's text (UTF-8). ``shown`` is how the error names it (default: the path)."""
    name = shown or str(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"no file {name}") from None
    except UnicodeDecodeError as err:
        raise InvalidInput(f"cannot read {name}: not UTF-8 text ({err.reason})") from None
    except OSError as err:
        raise InvalidInput(f"cannot read {name}: {err.strerror or err}") from None


def read_json(path: Path, *, shown: str | None = None) -> Any:
    """The one JSON document in the file."""
    name = shown or str(path)
    text = read_text(path, shown=name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{name}:{err.lineno}: not JSON ({err.msg})") from None


def load_yaml(text: str, *, where: str) -> Any:
    """YAML ``text``, loaded safely; an error names the file (``where``) and line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise InvalidInput(f"{where}:{line}: not valid YAML: {problem}") from None


def read_jsonl(path: Path, *, shown: str | None = None) -> list[tuple[int, Any]]:
    """Each non-blank line's JSON value, with its line number (counted from 1)."""
    name = shown or str(path)
    values: list[tuple[int, Any]] = []
    for number, line in enumerate(read_text(path, shown=name).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values.append((number, json.loads(line)))
        except json.JSONDecodeError as err:
            raise InvalidInput(f"{name}:{number}: not JSON ({err.msg})") from None
    return values


def read_jsonl_objects(
    path: Path, *, shown: str | None = None, what: str = "a JSON object"
) -> list[tuple[int, dict[str, Any]]]:
    """:func:`read_jsonl` where every line must be a JSON object; ``what`` says what a line is
    for, in the error (``an object of variables``)."""
    name = shown or str(path)
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, value in read_jsonl(path, shown=name):
        if not isinstance(value, dict):
            raise InvalidInput(f"{name}:{number}: expected {what}, got {_kind(value)}")
        rows.append((number, value))
    return rows


def _kind(value: Any) -> str:
    names = {list: "a list", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(type(value), "a number")
