"""Prompt templates: Jinja2 in a sandbox, with declared, typed variables.

Templates render in Jinja2's :class:`~jinja2.sandbox.SandboxedEnvironment` with
:class:`~jinja2.StrictUndefined`, so an unknown name is an error rather than an empty string.
Before a template is ever rendered it is checked: every name it uses must be a declared variable,
and no attribute or key starting with ``_`` may be reached (``{{ ''.__class__.__mro__ }}`` is
refused when the spec loads, and the sandbox refuses it again at render time).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Literal, Protocol

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from inhouse.errors import InvalidInput
from inhouse.jsonfiles import loads

__all__ = [
    "Declared",
    "VariableType",
    "bind",
    "coerce",
    "render",
    "short_variables",
    "template_names",
]

VariableType = Literal["string", "integer", "number", "boolean", "list", "object"]

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def _dump(value: Any, indent: int | None = None) -> str:
    """Nunjucks' ``dump`` (``JSON.stringify``), which promptfoo prompts use to show a value."""
    return json.dumps(value, indent=indent, ensure_ascii=False, default=str)


def _load(value: Any) -> Any:
    """promptfoo's ``load`` (``JSON.parse``): text holding JSON becomes its value, so a prompt
    can reach into a variable given as JSON (``{{ (style | load).tone }}``); a value that is
    already data passes as it is."""
    if not isinstance(value, str):
        return value
    try:
        return loads(value)
    except ValueError as err:
        # reported by render() with the template's name in front
        raise InvalidInput(f"the load filter needs JSON text, got {value[:60]!r} ({err})") from None


@cache
def _environment() -> SandboxedEnvironment:
    environment = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    environment.filters["dump"] = _dump
    environment.filters["load"] = _load
    return environment


def _refuse_private(tree: nodes.Template, where: str) -> None:
    """Refuse ``x._y``, ``x['_y']`` and blocks that reach outside the template."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem):
            key = node.arg
            name = key.value if isinstance(key, nodes.Const) and isinstance(key.value, str) else ""
        elif isinstance(node, nodes.Name):
            name = node.name
        else:
            continue
        if name.startswith("_"):
            raise InvalidInput(
                f"{where}: refused: the template reaches for {name!r}; names starting with '_' "
                "are off limits in the prompt sandbox"
            )
    for call in tree.find_all(nodes.Filter):
        if call.name == "attr":
            raise InvalidInput(
                f"{where}: refused: the attr filter is off limits in the prompt sandbox"
            )
    for block in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        raise InvalidInput(
            f"{where}: refused: {type(block).__name__.lower()} is not available in prompt "
            "templates; write the whole prompt in the spec"
        )


def template_names(source: str, *, where: str) -> set[str]:
    """The variable names ``source`` uses, after checking it parses and stays in the sandbox."""
    try:
        tree = _environment().parse(source)
        _refuse_private(tree, where)
        # finding the names compiles the template, which is where an unknown filter or test
        # (one of promptfoo's custom nunjucks filters, say) is found: the same clear error,
        # never a traceback
        return set(meta.find_undeclared_variables(tree))
    except TemplateSyntaxError as err:  # TemplateAssertionError is one of these
        raise InvalidInput(
            f"{where}: template error on line {err.lineno}: {err.message}{_hint(err)}"
        ) from None


def _hint(err: TemplateSyntaxError) -> str:
    message = err.message or ""
    if message.startswith(("No filter named", "No test named")):
        return (
            " (the prompt sandbox has Jinja2's built-in filters and tests, dump and load; custom "
            "filters are not run)"
        )
    return ""


def render(source: str, values: Mapping[str, Any], *, where: str) -> str:
    """Render ``source`` with ``values`` in the sandbox."""
    template_names(source, where=where)
    try:
        return _environment().from_string(source).render(dict(values))
    except SecurityError as err:
        raise InvalidInput(f"{where}: refused by the prompt sandbox: {err}") from None
    except UndefinedError as err:
        if "unsafe" in str(err.message):  # the sandbox answers unsafe attributes as undefined
            raise InvalidInput(f"{where}: refused by the prompt sandbox: {err.message}") from None
        raise InvalidInput(f"{where}: {err.message}") from None
    except TemplateSyntaxError as err:
        raise InvalidInput(f"{where}: template error on line {err.lineno}: {err.message}") from None
    except InvalidInput as err:  # a filter met a value it cannot take
        raise InvalidInput(f"{where}: {err}") from None


def coerce(kind: VariableType, value: Any, *, where: str, from_text: bool = False) -> Any:
    """``value`` as a variable of ``kind``. With ``from_text`` (``--var k=v``), text is parsed
    into the type; otherwise the value must already be of it (numbers pass as text)."""
    if from_text and isinstance(value, str):
        value = _parse_text(kind, value, where)
    ok: bool
    if kind == "string":
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        ok = isinstance(value, str)
    elif kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "list":
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, dict)
    if not ok:
        raise InvalidInput(f"{where}: must be {_article(kind)}, got {_shown(value)}")
    return value


def short_variables(value: Any) -> Any:
    """Declared variables with the short form spelled out: ``ticket: string`` is short for
    ``ticket: {type: string}`` (a pydantic ``mode="before"`` validator's body)."""
    if isinstance(value, Mapping):
        return {k: {"type": v} if isinstance(v, str) else v for k, v in value.items()}
    return value


class Declared(Protocol):
    """A declared variable (a workflow's, a library prompt's): its type, what it is, and the
    value used when it is left out (``None``: it must be given)."""

    @property
    def type(self) -> VariableType: ...
    @property
    def description(self) -> str: ...
    @property
    def default(self) -> Any: ...


def bind(
    declared: Mapping[str, Declared],
    given: Mapping[str, Any],
    *,
    where: str,
    subject: str,
    declared_in: str = "",
    hint: Callable[[str], str] | None = None,
    from_text: bool = False,
) -> dict[str, Any]:
    """``given`` checked against ``declared`` (an unknown one, a missing one, each type) with
    defaults filled in. Errors name the variable, ``subject`` (``workflow NAME``) and where the
    variables are declared; ``hint(name)`` ends the message for a missing one."""
    extra = sorted(set(given) - set(declared))
    if extra:
        known = ", ".join(declared) or "none"
        place = f" in {declared_in}" if declared_in else ""
        raise InvalidInput(
            f"{where}: unknown variable {extra[0]!r} for {subject} (declared{place}: {known})"
        )
    values: dict[str, Any] = {}
    for name, variable in declared.items():
        if name in given:
            values[name] = coerce(
                variable.type, given[name], where=f"{where}.{name}", from_text=from_text
            )
        elif variable.default is not None:
            values[name] = variable.default
        else:
            about = f" ({variable.description})" if variable.description else ""
            raise InvalidInput(
                f"{where}: missing variable {name!r}{about} for {subject}"
                + (hint(name) if hint else "")
            )
    return values


def _parse_text(kind: VariableType, text: str, where: str) -> Any:
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
        if kind == "boolean":
            word = text.strip().lower()
            if word in _TRUE | _FALSE:
                return word in _TRUE
            raise ValueError(text)
        if kind in ("list", "object"):
            return loads(text)
    except ValueError:
        raise InvalidInput(
            f"{where}: must be {_article(kind)}, got {text!r}"
            + (" (write it as JSON)" if kind in ("list", "object") else "")
        ) from None
    return text


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 60 else text[:57] + '...'}"
