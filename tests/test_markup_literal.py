"""Text the program did not write shows as itself: Rich reads ``[…]`` in a printed string as
markup, so a name a colleague chose (the name they join under, a team, a trial, a workflow, a
model file), a path (a folder named ``[work]``) or a server's word, interpolated into a line
printed with markup, was mangled (``/home/a/[work]/key`` printed as ``/home/a//key``) or, worse,
styled: a name carrying ``[green]✓ met[/green]`` showed the lead a tick the log does not hold,
``[black on black]`` hid a line, ``[link=…]`` made a hyperlink.

The guard is structural (:func:`test_every_value_a_command_prints_with_markup_is_literal`): in
``src/inhouse/cli/``, every value put into a string a console prints with markup, a table cell,
a panel or a rule passes :func:`inhouse.cli._common.literal` (or an escape), save a short,
reviewed list of values that hold markup the program wrote itself. The commands below show it
end to end, each on a name or path that main printed wrongly."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "src" / "inhouse" / "cli"

#: what prints with markup: a console's print/log/rule, a table's rows and headers, a panel;
#: ``_say`` is baseline's print without wrapping (``lines.append``/``parts.append`` build the
#: lines gateway and status print, checked too)
PRINTERS = {"print", "log", "rule", "Panel", "add_row", "Table", "add_column", "_say"}
PRINTERS |= {"ask_before_signing"}  # its heading is printed with markup
#: functions whose answer is safe to read as markup: the escapes (``_e``, ``_plain`` are a
#: module's own name for ``rich.markup.escape``), and figures (digits and a unit a caller names)
ESCAPES = {"literal", "escape", "_e", "_plain", "_escape"}
FIGURES = {"share", "count", "len", "figures_whole"}
#: a number or a time formatted: digits, never markup
NUMERIC_SPEC = re.compile(r"(^|[^a-zA-Z])([bcdeEfFgGnoxX%]|%[^ ]*.*)$")
#: reviewed: values holding markup the program wrote itself (a coloured word, a tick), or text
#: it already escaped, by module. Each is assigned in that module from constants and escaped
#: values only; read its assignment before adding a name here.
MARKUP_VALUES = {
    "_common.py": {"heading", "columns", "c"},  # print_rows's cells are Texts; headers named
    "baseline.py": {"mark", "verdict", "rules", "text"},
    "bench.py": {"column", "line"},
    "gateway.py": {
        "why",
        "rotate",
        "more",
        "nodes or 'no node'",
        "failing",
        "redis",
        "share",
        "line",
    },
    "prove.py": {"tail", "column"},
    "support.py": {"tail", "columns", "question"},
    "survey.py": {"_HEADS[a]"},
    "models.py": {"marks[entry.status]", "name", "digest", "source"},
    "pilot.py": {
        *("head", "state", "mark", "who", "reuse", "tickets", "word"),
        "_team_counts(person, team, team_word(opened, person))",
        "_team_counts(member.person, member.team, member.says)",
    },
    "review.py": {"state"},
    "workflow.py": {"verdict", "mark", "cells"},
    "program.py": {"label"},
    "render.py": {
        *("head", "evidence", "reason", "line", "title", "owner", "'; '.join(words)"),
        *("_MARK[row['outcome']]", "_STATE_STYLE[play['state']]"),
    },
}
#: a renderable that is not a string (a table, a panel, a group of them): its own cells and
#: lines are what the rule checks, where they are built
RENDERABLES = {"table", "members", "roles", "figures_whole", "Group", "_play_panel", "Panel"}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _unsafe(node: ast.expr, module: str) -> list[str]:
    """The parts of ``node``, a value printed with markup, that are not known to be literal."""
    allowed = MARKUP_VALUES.get(module, set())
    if ast.unparse(node) in allowed:
        return []
    if isinstance(node, ast.Constant):
        return []
    if isinstance(node, ast.JoinedStr):
        bad = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                spec = ast.unparse(part.format_spec)[2:-1] if part.format_spec else ""
                if spec and NUMERIC_SPEC.search(spec):
                    continue
                bad += _unsafe(part.value, module)
        return bad
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _unsafe(node.left, module) + _unsafe(node.right, module)
    if isinstance(node, ast.IfExp):
        return _unsafe(node.body, module) + _unsafe(node.orelse, module)
    if isinstance(node, ast.Starred):
        return _unsafe(node.value, module)
    if isinstance(node, ast.GeneratorExp | ast.ListComp):
        return _unsafe(node.elt, module)
    if isinstance(node, ast.List | ast.Tuple):
        return [bad for item in node.elts for bad in _unsafe(item, module)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):  # ["—"] * 7
        return _unsafe(node.left, module)
    if isinstance(node, ast.Call):
        called = _name(node.func)
        if called in ESCAPES or called in RENDERABLES or called == "Text":
            return []
        if called in FIGURES and all(
            not isinstance(a, ast.Constant)
            or isinstance(a.value, int | float)
            or a is node.args[-1]
            for a in node.args
        ):
            # a figure: a number, with a unit the program names (a constant) or none
            return []
        if called == "replace" and isinstance(node.func, ast.Attribute):
            return _unsafe(node.func.value, module)
    if isinstance(node, ast.Name) and node.id in RENDERABLES:
        return []
    return [ast.unparse(node)]


def _printed(tree: ast.AST) -> list[tuple[int, ast.expr]]:
    """Every value a command prints with markup: the arguments of a printer not told
    ``markup=False``, a panel's title, and every f-string that holds a markup tag itself
    (a line built to be printed, a table cell)."""
    found: list[tuple[int, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in PRINTERS:
            if any(
                k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in node.keywords
            ):
                continue
            found += [(node.lineno, arg) for arg in node.args]
            found += [(node.lineno, k.value) for k in node.keywords if k.arg in ("title", "header")]
        elif (
            isinstance(node, ast.Call)
            and _name(node.func) == "append"
            and _name(node.func.value) in ("lines", "parts")  # type: ignore[attr-defined]
        ):
            found += [(node.lineno, arg) for arg in node.args]
        elif isinstance(node, ast.JoinedStr) and any(
            isinstance(p, ast.Constant) and re.search(r"\[/?(bold|dim|red|green|yellow|cyan|"
                                                      r"magenta|link)?\]", p.value)
            for p in node.values
        ):  # fmt: skip
            found.append((node.lineno, node))
    seen: set[int] = set()  # an f-string both tagged and printed is one value
    return [(line, v) for line, v in found if not (id(v) in seen or seen.add(id(v)))]


def test_every_value_a_command_prints_with_markup_is_literal() -> None:
    problems = []
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, value in _printed(tree):
            for bad in _unsafe(value, path.name):
                problems.append(f"{path.name}:{line}: {bad}")
    assert not problems, (
        "printed as Rich markup without literal(): a name or path with [brackets] in it is "
        "mangled or styled (wrap it in literal(), or, for markup the program wrote itself, "
        "add it to MARKUP_VALUES after review):\n" + "\n".join(sorted(set(problems)))
    )


def test_the_guard_finds_a_value_printed_as_markup() -> None:
    """The rule fails where it should: a name in a printed f-string, a cell, a concatenation."""
    unsafe = (
        'out_console().print(f"Enrolled {name}")\n'
        "table.add_row(person.name, literal(person.team))\n"
        'console.print("Wrote " + _where(path))\n'
        'parts.append(f"[dim]owner {owner}[/]")\n'
    )
    safe = (
        'out_console().print(f"Enrolled {literal(name)} ({count:,d}, {share(rate)})")\n'
        'out_console().print(f"Enrolled {name}", markup=False)\n'
        "table.add_row(literal(person.name), _e(person.team), '[green]ok[/]')\n"
    )
    found = [bad for _, v in _printed(ast.parse(unsafe)) for bad in _unsafe(v, "x.py")]
    assert found == ["name", "person.name", "_where(path)", "owner"], found
    assert [bad for _, v in _printed(ast.parse(safe)) for bad in _unsafe(v, "x.py")] == []
