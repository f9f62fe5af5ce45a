"""Reading the JSON, JSONL and YAML files a person writes (workflow inputs, trial tasks, prompt
sets, specs) or inhouse keeps (manifests): one reader, whose errors name the file and the line.

    rows = read_jsonl_objects(path, shown="data/tickets.jsonl", what="an object of variables")
    for line, row in rows: ...

Every error is an :class:`~inhouse.errors.InvalidInput` a person can act on: ``no file X``,
``cannot read X: …``, ``X:3: not JSON (Expecting value)``, ``X:3: expected an object of …``.

Every JSON, YAML or TOML value a person hands inhouse (a file, ``fact record --data``, a
workflow variable, ``inhouse.toml``) is read here, or through :func:`loads` or
:func:`toml_loads`, so one nesting limit, :data:`MAX_DEPTH`, holds for all of them: deeper text
is refused as not JSON (not valid YAML or TOML), naming the limit, before Python's own
recursion limit turns it into a traceback.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from inhouse.errors import InvalidInput, TooDeep

__all__ = [
    "MAX_DEPTH",
    "TOO_DEEP",
    "TooDeep",
    "check_depth",
    "load_yaml",
    "loads",
    "nests_too_deep",
    "read_json",
    "read_jsonl",
    "read_jsonl_objects",
    "read_text",
    "toml_loads",
    "yaml_with",
]

#: how deep lists and objects may nest in what a person writes. Real payloads, specs and
#: variables nest a handful of levels; the parsers, and the canonical JSON a fact is hashed and
#: signed as, recurse once a level, and Python stops them near 1,000 levels with a traceback.
MAX_DEPTH = 100

#: a JSON string (skipped whole: brackets inside it do not nest) or one bracket
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def loads(text: str | bytes) -> Any:
    """``json.loads``, refusing a value nested deeper than :data:`MAX_DEPTH` with
    :class:`TooDeep`, at the bracket that goes too deep."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep(text) from None
    if _brackets(text) > MAX_DEPTH and nests_too_deep(value):
        raise _too_deep(text)
    return value


def toml_loads(text: str) -> dict[str, Any]:
    """``tomllib.loads``, refusing a value nested deeper than :data:`MAX_DEPTH` (or than
    Python's own recursion limit, a traceback before) as :class:`tomllib.TOMLDecodeError`,
    which every TOML reader already reports as not valid TOML, naming its file."""
    too_deep = f"nested deeper than {MAX_DEPTH} levels"
    try:
        value = tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError(too_deep) from None
    if nests_too_deep(value):
        raise tomllib.TOMLDecodeError(too_deep)
    return value


def check_depth(value: Any, *, where: str) -> None:
    """Refuse ``value`` (built from a person's input) with :class:`InvalidInput` naming
    ``where`` if it nests deeper than :data:`MAX_DEPTH`."""
    if nests_too_deep(value):
        raise InvalidInput(f"{where}: nested deeper than {MAX_DEPTH} levels")


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
        return loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{name}:{err.lineno}: not JSON ({err.msg})") from None


def load_yaml(text: str, *, where: str) -> Any:
    """YAML ``text``, loaded safely; an error names the file (``where``) and line."""
    return yaml_with(yaml.SafeLoader, text, where=where)


def yaml_with(loader: type[yaml.SafeLoader], text: str, *, where: str) -> Any:
    """:func:`load_yaml` with another safe ``loader`` (promptfoo's, the playbook's)."""
    try:
        value = yaml.load(text, Loader=loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise InvalidInput(f"{where}:{line}: not valid YAML: {problem}") from None
    except RecursionError:
        value = TOO_DEEP
    if nests_too_deep(value):
        raise InvalidInput(f"{where}: not valid YAML: nested deeper than {MAX_DEPTH} levels")
    return value


def read_jsonl(path: Path, *, shown: str | None = None) -> list[tuple[int, Any]]:
    """Each non-blank line's JSON value, with its line number (counted from 1)."""
    name = shown or str(path)
    values: list[tuple[int, Any]] = []
    for number, line in enumerate(read_text(path, shown=name).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values.append((number, loads(line)))
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


def _brackets(text: str | bytes) -> int:
    """How many lists and objects ``text`` opens at most: when no more than
    :data:`MAX_DEPTH`, they cannot nest deeper, and the value need not be walked."""
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


_NESTS = (dict, list, tuple)

#: stands for a value whose parser ran out of stack (a RecursionError): too deep to hold
TOO_DEEP: Any = object()


def nests_too_deep(value: Any) -> bool:
    """Whether lists and dicts nest in ``value`` deeper than :data:`MAX_DEPTH`. Walked without
    recursion; a value YAML shares between places (an alias) is walked again only when met
    deeper, so one that holds itself counts as too deep rather than walked forever."""
    if value is TOO_DEEP:
        return True
    seen: dict[int, int] = {}
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, _NESTS):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        if seen.get(id(item), 0) >= depth:
            continue
        seen[id(item)] = depth
        stack.extend((child, depth + 1) for child in children if isinstance(child, _NESTS))
    return False


def _too_deep(text: str | bytes) -> TooDeep:
    """The error for ``text`` nesting too deep, at the first bracket past the limit."""
    doc = text if isinstance(text, str) else text.decode("utf-8", "replace")
    depth, where = 0, 0
    for token in _TOKEN.finditer(doc):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                where = token.start()
                break
        elif mark in "]}":
            depth -= 1
    return TooDeep(f"nested deeper than {MAX_DEPTH} levels", doc, where)
