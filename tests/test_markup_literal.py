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
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import inhouse.cli._common
from inhouse.program import Program
from tests.clitools import cli
from tests.engine import Engine, needs_engine
from tests.people import enrol, enrol_cli, lead_env

CLI = Path(inhouse.cli._common.__file__).parent  # the package the tests import, wherever it lies

#: what prints with markup: a console's print/log/rule, a table's rows and headers, a panel;
#: ``_say`` is baseline's print without wrapping (``lines.append``/``parts.append`` build the
#: lines gateway and status print, checked too)
PRINTERS = {"print", "log", "rule", "Panel", "add_row", "Table", "add_column", "_say"}
PRINTERS |= {"ask_before_signing"}  # its heading is printed with markup
#: a progress bar's label (its task's description) is read as markup when the bar draws it:
#: ``add_task``'s first argument, and ``description=`` given to it, ``update`` or ``reset``
PROGRESS = {"add_task", "update", "reset"}
#: a markup tag the program writes: ``[/]``, ``[bold]``, ``[bold red]``, ``[/yellow]``,
#: ``[link=…]`` (a tag with a style after its first word was missed: ``[bold red]x[/bold red]``)
TAG = re.compile(
    r"\[/?(?:(?:bold|dim|italic|red|green|yellow|cyan|magenta|blue|white|link)\b[^\]\[]*)?\]"
)
#: lists of lines a command prints (each with markup) once built: what they are built with is
#: checked (``lines = [...]``, ``+=``, ``append``, ``extend``, ``insert``)
LINE_LISTS = {"lines", "parts"}
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
    "bench.py": {"column", "line", "estimated"},
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
        if (
            called in FIGURES
            and all(
                not isinstance(a, ast.Constant)
                or isinstance(a.value, int | float)
                or a is node.args[-1]
                for a in node.args
            )
            and (len(node.args) < 2 or isinstance(node.args[-1], ast.Constant))
        ):
            # a figure: a number, with a unit the program names (a constant) or none; a unit
            # from a variable (``count(n, name)``) is text like any other
            return []
        if (
            called == "join"
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Constant)
            and len(node.args) == 1
        ):  # ", ".join(parts): its parts are what is printed
            return _unsafe(node.args[0], module)
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
            found += [
                (node.lineno, k.value)
                for k in node.keywords
                if k.arg in ("title", "header", "subtitle", "footer", "caption")
            ]
        elif isinstance(node, ast.Call) and _name(node.func) in PROGRESS:
            found += (
                [(node.lineno, node.args[0])]
                if node.args and _name(node.func) == "add_task"
                else []
            )
            found += [(node.lineno, k.value) for k in node.keywords if k.arg == "description"]
        elif (
            isinstance(node, ast.Call)
            and _name(node.func) in ("append", "extend", "insert")
            and _name(node.func.value) in LINE_LISTS  # type: ignore[attr-defined]
        ):
            found += [(node.lineno, node.args[-1])] if node.args else []
        elif (  # lines = [...], lines += [...]: each line is printed
            isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign)
            and isinstance(node.value, ast.List | ast.ListComp)
            and any(
                isinstance(t, ast.Name) and t.id in LINE_LISTS
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            )
        ):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr) and any(
            isinstance(p, ast.Constant) and TAG.search(p.value) for p in node.values
        ):
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


#: reviewed: what an allow-listed name is assigned that the rule cannot read as safe itself,
#: by module: a number, a Text, a function or parameter that returns the program's own markup
ASSIGNED_SAFE = {
    "_common.py": {"column.cells", "cells(row)"},  # print_rows's Text cells
    "pilot.py": {"item.met"},  # a count
    "render.py": {"_words(row)", "label", "handoff['status']"},  # escapes; a constant; a state
    "workflow.py": {"_cell(v.cases[row])"},  # escapes the output it quotes
}


def _assignments(tree: ast.AST) -> Iterator[tuple[int, str, ast.expr]]:
    """Every (line, name, value) ``tree`` binds a plain name to: ``=``, ``+=``, ``:=``, and a
    ``for`` (the value is what it iterates)."""
    for node in ast.walk(tree):
        pairs: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(node, ast.Assign):
            pairs = [(target, node.value) for target in node.targets]
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and node.value:
            pairs = [(node.target, node.value)]
        elif isinstance(node, ast.For | ast.comprehension):
            pairs = [(node.target, node.iter)]
        for target, value in pairs:
            if isinstance(target, ast.Name):
                yield getattr(node, "lineno", getattr(value, "lineno", 0)), target.id, value


def _unsafe_assignments(tree: ast.AST, module: str) -> list[str]:
    """Where ``module`` gives a name :data:`MARKUP_VALUES` lets through a value not known to be
    literal: the allow-list names a variable, so every value the variable takes is checked
    (a later ``line = report["x"]`` in render.py printed as markup, unseen, otherwise)."""
    names = {name for name in MARKUP_VALUES.get(module, ()) if name.isidentifier()}
    reviewed = ASSIGNED_SAFE.get(module, set())
    bad = []
    for line, name, value in _assignments(tree):
        if name not in names:
            continue
        if isinstance(value, ast.Name) and value.id in ("lines", "parts"):
            continue  # for line in lines: each appended line is checked where it is built
        for part in _unsafe(value, module):
            if part not in reviewed:
                bad.append(f"{module}:{line}: {name} = {part}")
    return bad


def test_every_value_an_allow_listed_name_takes_is_literal() -> None:
    problems = []
    for path in sorted(CLI.glob("*.py")):
        if path.name in MARKUP_VALUES:
            problems += _unsafe_assignments(ast.parse(path.read_text(encoding="utf-8")), path.name)
    assert not problems, (
        "a name MARKUP_VALUES lets through is assigned a value not known to be literal (wrap "
        "it in literal(), or rename the variable; a reviewed source goes in ASSIGNED_SAFE):\n"
        + "\n".join(problems)
    )


def test_the_guard_checks_what_an_allow_listed_name_is_assigned() -> None:
    """The allow-list names variables, not values: each assignment is what is checked."""
    source = (
        'line = f"[red]{literal(problem)}[/]"\n'
        "line = report['detail']\n"
        "for line in report.splitlines():\n    pass\n"
        "for line in lines:\n    pass\n"
        "line += f' by {who}'\n"
    )
    found = _unsafe_assignments(ast.parse(source), "gateway.py")
    assert found == [
        "gateway.py:2: line = report['detail']",
        "gateway.py:3: line = report.splitlines()",
        "gateway.py:7: line = who",
    ], found


def test_the_guard_finds_a_value_printed_as_markup() -> None:
    """The rule fails where it should: a name in a printed f-string, a cell, a concatenation."""
    unsafe = (
        'out_console().print(f"Enrolled {name}")\n'
        "table.add_row(person.name, literal(person.team))\n"
        'console.print("Wrote " + _where(path))\n'
        'parts.append(f"[dim]owner {owner}[/]")\n'
        "lines += [f\"  {n['url']}: up\" for n in nodes]\n"
        'lines = [f"completed {done}"]\n'
        'note = f"[bold red]{why}[/bold red]"\n'
        'console.print(Panel("x", subtitle=person.name))\n'
        "console.print(f\"{count(n, unit)} by {', '.join(names)}\")\n"
        'bar.add_task(f"running {name}", total=3)\n'
        'progress.update(task, description=f"testing {case}", completed=2)\n'
    )
    safe = (
        'out_console().print(f"Enrolled {literal(name)} ({count:,d}, {share(rate)})")\n'
        'out_console().print(f"Enrolled {name}", markup=False)\n'
        "table.add_row(literal(person.name), _e(person.team), '[green]ok[/]')\n"
        "self._bar.add_task(literal(phase), total=total)\n"
        "progress.update(task, completed=done, total=total)\n"
    )
    found = [bad for _, v in _printed(ast.parse(unsafe)) for bad in _unsafe(v, "x.py")]
    assert sorted(found) == sorted(
        [
            *("name", "person.name", "_where(path)", "owner", "person.name"),
            *("count(n, unit)", "names", "n['url']", "done", "why"),
            *("name", "case"),
        ]
    ), found
    assert [bad for _, v in _printed(ast.parse(safe)) for bad in _unsafe(v, "x.py")] == []


def test_a_progress_label_shows_as_written() -> None:
    """A progress bar's label is drawn as Rich markup: ``running {workflow}`` with a name
    holding ``[green]✓ met[/green]`` drew a tick (safe only while workflow names keep to
    ``[a-z0-9_-]``). The bar shows the label as itself."""
    import io

    from rich.console import Console

    from inhouse.cli.render import ProgressBar

    drawn = io.StringIO()
    with ProgressBar(Console(file=drawn, width=200)) as bar:
        bar.update(f"running {TICK}", 1, 2)
        bar.update(f"testing {LINK}", 0, 2)
    assert f"running {TICK}" in drawn.getvalue(), drawn.getvalue()
    assert f"testing {LINK}" in drawn.getvalue(), drawn.getvalue()


#: what a colleague could choose as a name: a fake tick, a stray closing tag (Rich raised on
#: it), a line hidden black on black, a hyperlink
TICK = "om[green]✓ met[/green]ar"
HIDDEN = "sup[/]port [black on black]hidden[/]"
LINK = "[link=https://evil.example]docs[/link]"
OFTEN = "daily [black on black]hidden[/]"


def _words(out: str) -> str:
    return " ".join(out.split())  # as the console wrapped it


@pytest.fixture
def bracketed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A program folder at ``…/[work]``, a home (and so the lead's key) at ``…/[home]``."""
    folder, home = tmp_path / "[work]", tmp_path / "[home]"
    folder.mkdir()
    home.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("HOME", str(home))
    return folder


def test_init_and_whoami_show_a_bracketed_folder_and_key_path(bracketed: Path) -> None:
    """`/home/a/[work]/key` printed as `/home/a//key`: the folder and the key the lead must
    keep, each named wrong."""
    key = bracketed.parent / "[home]" / ".config" / "inhouse" / "id_ed25519"
    said = cli("init", "Acme", "--lead", "lena")
    # the sentence naming the log's path keeps its own line (a path in it is not one line)
    assert "\nEach colleague signs in with " in said and "\\u000a" not in said, said
    out = _words(said)
    assert f"Created program Acme in {bracketed} (playbook" in out, out
    assert f"on this machine ({bracketed / '.inhouse' / 'inhouse.db'})" in out, out
    assert f"at {key}; keep inhouse.toml in git" in out, out
    assert f"at {key}" in _words(cli("whoami")), out
    out = _words(cli("models", "list", env={"INHOUSE_MODELS_DIR": str(bracketed / "models")}))
    assert f"No model files in {bracketed / 'models'}." in out, out


def test_a_person_who_joins_under_markup_is_shown_by_that_name(
    bracketed: Path, tmp_path: Path
) -> None:
    """The name someone joins under, and their team, are theirs to choose: printed as markup,
    ``om[green]✓ met[/green]ar`` showed a green tick in `join`, `whoami` and `person list`,
    and a team's stray ``[/]`` stopped the listing with Rich's traceback."""
    cli("init", "Acme", "--lead", "lena")
    out = _words(cli("person", "invite", TICK, "--team", HIDDEN))
    assert f"Invitation for {TICK} (valid 7 days, one use). Give it to {TICK} alone" in out, out
    invitation = re.search(r"inhouse join (inhouse-invite:\S+)", out)
    assert invitation is not None
    keys = tmp_path / "[keys]"
    keys.mkdir()
    env = {"INHOUSE_KEY": str(keys / "omar.key"), "INHOUSE_MACHINE_ID": "omar-laptop"}
    out = _words(cli("join", invitation.group(1), env=env))
    assert f"Enrolled {TICK} with key " in out and f"({keys / 'omar.key'})" in out, out
    out = _words(cli("whoami", env=env))
    assert out.startswith(f"{TICK} (no roles), key ") and f"at {keys / 'omar.key'}" in out, out
    listed = cli("person", "list")
    assert TICK in listed and HIDDEN in listed, listed
    status = _words(cli("status"))
    assert f"warning: {TICK} enrolled from the same machine as lena" in status, status


WORKFLOW = f"""\
name: summary
description: d
owner: "{TICK}"
frequency: "{OFTEN}"
model: "{LINK}"
prompt:
  user: "Ticket: {{{{ ticket }}}}"
variables:
  ticket: string
tests:
  - name: "jam [bold]x[/bold]"
    vars: {{ticket: "x"}}
    checks:
      - {{type: icontains, value: x}}
"""


def test_a_workflow_whose_fields_carry_markup_is_listed_and_validated_as_written(
    bracketed: Path,
) -> None:
    """A workflow's owner, frequency and model are whatever its author typed: as table cells
    they were markup (a stray ``[/]`` made `workflow list` a traceback, a hyperlink a link)."""
    cli("init", "Acme", "--lead", "lena")
    (bracketed / "workflows").mkdir()
    (bracketed / "workflows" / "summary.yaml").write_text(WORKFLOW, encoding="utf-8")
    listed = cli("workflow", "list")
    assert all(text in listed for text in (TICK, OFTEN, LINK)), listed
    out = _words(cli("workflow", "validate", "summary"))
    assert f"workflows/summary.yaml is valid: 1 test case, model {LINK}, version" in out, out
    assert f"recorded the recurring task 'summary' ({OFTEN})" in out, out


TRACK = """\
title: Everyone in the pilot
role: all
steps:
  - {id: first-request, type: first-answered-request}
"""


@pytest.fixture
def lead(bracketed: Path) -> Iterator[Program]:
    """A rollout lead whose program lets a pilot in early (a waiver), with one track."""
    lead = Program.init(bracketed, "Acme", "lena", team="platform")
    (lead.folder / "enablement").mkdir()
    (lead.folder / "enablement" / "everyone.yaml").write_text(TRACK, encoding="utf-8")
    lead.grant_waiver(
        None,
        "scaling-before-proving",
        reason="time-boxed-experiment",
        note="a pilot before play 3 exits, for this test",
        expires=datetime.now(UTC) + timedelta(days=30),
    )
    yield lead
    lead.close()


def test_a_pilot_member_named_with_markup_shows_as_named(lead: Program) -> None:
    """`pilot adoption`'s table took a member's name as markup: the lead read a green tick
    beside a name the log holds with its tags."""
    enrol(lead, TICK, team="support")
    env = lead_env(lead)
    out = _words(cli("pilot", "add", TICK, "--track", "everyone", env=env))
    assert f"Added {TICK} to the pilot on track everyone" in out, out
    assert TICK in cli("pilot", "list", env=env)
    adoption = cli("pilot", "adoption", env=env)
    # the table's row, where the name was read as markup (the reasons below it were escaped)
    assert re.search(rf"^ *{re.escape(TICK)} +everyone +0 ", adoption, re.M), adoption
    enablement = _words(cli("pilot", "enablement", env=env))
    assert f"{TICK} — track everyone" in enablement, enablement


def test_an_error_quoting_a_bracketed_path_shows_the_path(bracketed: Path) -> None:
    """An error names the file it could not use, brackets and all (errors were escaped
    before this change too: this holds it)."""
    cli("init", "Acme", "--lead", "lena")
    out = _words(cli("baseline", "lock", code=2))
    assert f"error: {bracketed / 'inhouse.toml'} has no [baseline] table" in out, out


def test_a_signing_key_at_a_bracketed_path_is_named_whole(bracketed: Path, tmp_path: Path) -> None:
    """``enrol_cli`` gives a person a key file; its path, with brackets, is what `whoami`
    names (the lead reads where the key that signs for them lies)."""
    opened = Program.init(bracketed, "Acme", "lena")
    env = enrol_cli(opened, "omar", tmp_path / "[keys]")
    opened.close()
    assert f"at {tmp_path / '[keys]' / 'omar.key'}" in _words(cli("whoami", env=env))


def _escaped_names(function: ast.FunctionDef) -> set[str]:
    """Names ``function`` assigns text already escaped, or holding markup it wrote."""
    tag = re.compile(r"\[/?(bold|dim|red|green|yellow|cyan|magenta|link)?\b[^\]]*\]")
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            called = {_name(c.func) for c in ast.walk(node.value) if isinstance(c, ast.Call)}
            marked = any(
                isinstance(c, ast.Constant) and isinstance(c.value, str) and tag.search(c.value)
                for c in ast.walk(node.value)
            )
            if called & ESCAPES or marked:
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def test_no_value_is_escaped_twice() -> None:
    """``literal()`` over text already escaped (or holding the program's own markup) shows its
    backslashes, or the tags as text: `pilot remove` read "(track \\[x])"."""
    twice = []
    for path in sorted(CLI.glob("*.py")):
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef):
                continue
            escaped = _escaped_names(function)
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and _name(node.func) in ESCAPES
                    and node.args
                    and (
                        (isinstance(node.args[0], ast.Name) and node.args[0].id in escaped)
                        or any(  # escape(f"[{literal(x)}]"): escaped inside, then whole
                            isinstance(inner, ast.Call) and _name(inner.func) in ESCAPES
                            for inner in ast.walk(node.args[0])
                        )
                    )
                ):
                    twice.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert not twice, "escaped twice:\n" + "\n".join(twice)


@needs_engine
def test_baseline_lock_and_show_name_a_bracketed_folder_and_owner(
    bracketed: Path, engine: Engine
) -> None:
    """`baseline lock` names the lock file it wrote and `baseline show` the owner the lead
    named: a folder at ``…/[work]`` printed as ``…/``, an owner ``[green]…`` as a tick."""
    cli("init", "Acme", "--lead", "lena")
    opened = Program.open(bracketed)
    enrol(opened, TICK, team="platform")
    opened.close()
    (bracketed / "models").mkdir()
    shutil.copyfile(engine.model, bracketed / "models" / "inhouse-test-model.gguf")
    config = bracketed / "inhouse.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[runtimes.local]\nfamily = "openai"\nurl = "{engine.url}"\n\n'
        + f'[baseline]\nowner = "{TICK}"\nruntime = "local"\n'
        + 'models = [{ name = "inhouse-test-model", path = "models/inhouse-test-model.gguf" }]\n',
        encoding="utf-8",
    )
    out = _words(cli("baseline", "lock"))
    assert f"Wrote {bracketed / 'inhouse.lock'} (lock " in out, out
    out = _words(cli("baseline", "show"))
    assert f"(owner {TICK})" in out, out


def test_an_expired_fact_is_listed_with_its_lapse_in_red_not_its_tags(bracketed: Path) -> None:
    """`fact list` put `` [red](expired)[/]`` in a cell print_rows shows as itself: the reader
    saw the tags, and no colour. The lapse is a styled cell the program writes; the label
    beside it, a person's word, stays as typed."""
    then = datetime.now(UTC) - timedelta(days=3)
    Program.init(bracketed, "Acme", "lena", team="platform", clock=lambda: then).close()
    lena = Program.open(bracketed, clock=lambda: then)
    try:
        lena.attest(
            None, "task.named", {"task": TICK, "frequency": "daily"}, "[b]my[/b] word",
            expires=then + timedelta(days=1),
        )  # fmt: skip
    finally:
        lena.close()
    plain = cli("fact", "list", env={"COLUMNS": "250"})
    assert "(expired)" in plain and "[red]" not in plain and "[/]" not in plain, plain
    coloured = cli("fact", "list", env={"COLUMNS": "250", "FORCE_COLOR": "1", "TERM": "xterm"})
    assert re.search(r"\x1b\[31m ?\(expired\)", coloured), repr(coloured)
    assert 'attested by lena: "[b]my[/b] word" (expired)' in plain, plain


def test_a_survey_benefit_in_brackets_is_shown_once_escaped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`survey results` escaped each benefit line whole after literal() had escaped its
    parts: a benefit written ``[b]drafts[/b]`` showed as ``\\[b]drafts\\[/b]``, a backslash
    the person never typed. (Its results, rendered from what `survey_results` answers: an
    answer whose benefit is listed needs two days of signed gateway use.)"""
    from types import SimpleNamespace as Found

    from inhouse.cli import survey

    group = Found(track="everyone", members=1, answered=1, counts={"very": 1, "somewhat": 0,
                  "not": 0, "no-longer-use": 0}, very_share=1.0, pilot_share=1.0)  # fmt: skip
    found = Found(
        open=True, survey=Found(name="ellis-1", closes=datetime(2026, 12, 14, tzinfo=UTC)),
        not_judged="", too_old="", groups=[group], pilot=Found(**{**vars(group), "track": "*"}),
        most=True, share=0.5, meets_benchmark=True, uncounted=[],
        benefits=[Found(track="[x]", answer="very", text="[b]drafts[/b] my replies")],
    )  # fmt: skip
    inhouse.cli._common.out_console.cache_clear()
    survey._render(found)
    out = capsys.readouterr().out
    assert "  - [[x], very] [b]drafts[/b] my replies" in out, out
    assert "\\" not in out, out
