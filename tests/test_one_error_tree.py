"""Every exception inhouse raises on purpose is declared in ``inhouse.errors`` (one tree, drawn in
its docstring), so each edge has one mapper: the CLI's message and exit code, the gateway's
OpenAI-shaped error."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import inhouse
import inhouse.errors

_PACKAGE = Path(inhouse.__file__).parent


def _error_names() -> set[str]:
    return {
        name
        for name, value in vars(inhouse.errors).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    } | {"Exception", "BaseException", "ValueError", "RuntimeError", "TypeError", "OSError"}


def test_no_exception_class_outside_inhouse_errors() -> None:
    names = _error_names()
    found = []
    for path in sorted(_PACKAGE.rglob("*.py")):
        if path == _PACKAGE / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                }
                if bases & names or any(b.endswith(("Error", "Exception")) for b in bases):
                    found.append(f"{path.relative_to(_PACKAGE)}:{node.lineno} {node.name}")
    assert found == [], "exception classes outside inhouse.errors: " + ", ".join(found)


def test_every_error_class_is_drawn_in_the_tree() -> None:
    drawn = inhouse.errors.__doc__ or ""
    missing = [
        name
        for name in _error_names()
        if name in vars(inhouse.errors) and name not in drawn and name != "ValidationError"
    ]
    assert missing == []
