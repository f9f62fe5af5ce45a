"""The plugin seam through real installed packages.

A third-party package (``tests/fixtures/inhouse_example_plugin``) is laid out on ``sys.path`` as
pip lays out a wheel, so inhouse finds it the way it finds any plugin: an entry point in the
``inhouse`` group, read through ``importlib.metadata``. It adds a play check that a custom
playbook uses, a data detector, and a command group. A package that re-declares built-in names
(``tests/fixtures/inhouse_clashing_plugin``) is refused, naming both sources, in each registry.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inhouse import hookspecs
from inhouse.cli.app import app
from inhouse.errors import ConfigError, PluginError
from inhouse.plugins import DEFAULT_PLUGINS, plugin_manager
from inhouse.policy import Scanner, decide, known_classes, load_rules
from inhouse.program.checks import registry

FIXTURES = Path(__file__).parent / "fixtures"
DOCS = Path(__file__).parent.parent / "docs" / "plugins.md"

runner = CliRunner()

CAREFUL_PLAYBOOK = """\
name: careful-program
version: 1
title: A careful program
plays:
  - id: prove-value
    title: Prove value on one machine
    purpose: Try one model against the status quo on one real task.
    owner: {role: play-owner, who: one technical person}
    trigger:
      - check: hypothesis-recorded
        title: a hypothesis is recorded
      - check: hypothesis-without-personal-data
        title: the hypothesis names no personal data
    exit:
      - check: value-proven
        title: a trial proved value
"""


def install(package: str, site: Path, fixtures: Path = FIXTURES) -> None:
    """Lay a fixture package out in ``site`` as pip installs a wheel: the package folder, and a
    dist-info whose METADATA and entry_points.txt come from the fixture's own pyproject."""
    root = fixtures / package
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    shutil.copytree(root / package, site / package)
    dist = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    (dist / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in points.items())
            for group, points in project["entry-points"].items()
        )
    )


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Install a fixture package for this test only (sys.path is restored afterwards, and
    inhouse reads its plugins again when sys.path changes)."""

    def install_on_path(package: str) -> None:
        site = tmp_path / f"site-{package}"
        install(package, site)
        monkeypatch.syspath_prepend(str(site))

    return install_on_path


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


def refused(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, f"{args}: {result.stdout}{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr
    return " ".join(result.stderr.split())  # unwrapped: the console folds long lines


def trigger_row(check: str) -> dict[str, Any]:
    status = json.loads(ok("status", "--json"))
    rows = [row for row in status["plays"][0]["trigger"] if row["check"] == check]
    assert len(rows) == 1, status["plays"][0]["trigger"]
    row: dict[str, Any] = rows[0]
    return row


def test_a_custom_playbook_uses_a_plugins_play_check(
    installed: Callable[[str], None], _isolated: Path
) -> None:
    (_isolated / "careful.yaml").write_text(CAREFUL_PLAYBOOK)
    without = refused("init", "Careful", "--lead", "lena", "--playbook", "careful.yaml")
    assert "unknown check 'hypothesis-without-personal-data'" in without

    installed("inhouse_example_plugin")
    ok("init", "Careful", "--lead", "lena", "--playbook", "careful.yaml")
    ok("hypothesis", "Replace the bot that reads EMP-204518's tickets", "--replaces", "vendor-bot")
    row = trigger_row("hypothesis-without-personal-data")
    assert row["outcome"] == "fail"
    assert row["reason"] == "the hypothesis names employee-id data; record it without"
    assert [evidence["kind"] for evidence in row["evidence"]] == ["hypothesis"]

    ok("hypothesis", "Replace the bot that reads support tickets", "--replaces", "vendor-bot")
    row = trigger_row("hypothesis-without-personal-data")
    assert (row["outcome"], row["reason"]) == ("pass", "the hypothesis names no personal data")
    assert "the hypothesis names no personal data" in ok("status")


def test_a_plugins_detector_finds_its_class_in_a_scan(installed: Callable[[str], None]) -> None:
    text = "escalated by EMP-204518 on Friday"
    rules = {"data_rules": {"default": "allow", "classes": {"employee-id": "redact"}}}
    assert Scanner.build().scan(text) == []
    with pytest.raises(ConfigError, match="employee-id"):
        load_rules(rules)

    installed("inhouse_example_plugin")
    found = Scanner.build().scan(text)
    assert [(m.data_class, m.text, m.detector) for m in found] == [
        ("employee-id", "204518", "employee-number")
    ]
    assert known_classes()[-1] == "employee-id"  # after the built-ins, which come first
    decision = decide(Scanner.build(), load_rules(rules), "any-model", text)
    assert decision.action == "redact" and "204518" not in decision.text
    assert "example" in ok("--help")
    assert ok("example", "scan", text) == "employee-id: 204518\n"


def test_a_plugin_that_re_declares_built_in_names_is_refused_naming_both(
    installed: Callable[[str], None],
) -> None:
    ok("init", "Acme", "--lead", "lena")
    installed("inhouse_clashing_plugin")
    plugin = "plugin 'clashing' from inhouse-clashing-plugin 0.1"

    # the forged trigger check never runs: status refuses to read the playbook's checks
    message = refused("status")
    assert "play check 'hypothesis-recorded' is registered twice" in message
    assert (
        "by built-in plugin inhouse.default_plugins.play_checks "
        "(inhouse.program.playchecks.prove.hypothesis_recorded)"
    ) in message
    assert f"and by {plugin} (inhouse_clashing_plugin.hypothesis_recorded)" in message

    with pytest.raises(PluginError) as detector:
        Scanner.build()
    assert str(detector.value) == (
        "data detector 'email' is registered twice: by built-in plugin "
        f"inhouse.default_plugins.detectors and by {plugin}"
    )

    assert refused("--help").endswith(
        "command 'status' is registered twice: by built-in plugin "
        f"inhouse.default_plugins.commands and by {plugin}"
    )


def test_a_hook_spelled_wrong_is_refused_naming_the_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "inhouse_typo_plugin"
    (package / "inhouse_typo_plugin").mkdir(parents=True)
    (package / "inhouse_typo_plugin" / "__init__.py").write_text(
        "from inhouse.hookspecs import hookimpl\n\n\n@hookimpl\ndef inhouse_detector():\n"
        "    return []\n"
    )
    (package / "pyproject.toml").write_text(
        '[project]\nname = "inhouse-typo-plugin"\nversion = "1.0"\n\n'
        '[project.entry-points.inhouse]\ntypo = "inhouse_typo_plugin"\n'
    )
    install("inhouse_typo_plugin", tmp_path / "site", fixtures=tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    broken = "plugin 'typo' from inhouse-typo-plugin 1.0 is broken: unknown hook 'inhouse_detector'"
    with pytest.raises(PluginError, match=broken):
        Scanner.build()


def test_uninstalling_a_plugin_takes_what_it_added_away(tmp_path: Path) -> None:
    install("inhouse_example_plugin", tmp_path / "site")
    with pytest.MonkeyPatch.context() as scope:
        scope.syspath_prepend(str(tmp_path / "site"))
        assert "employee-id" in known_classes()
        assert "hypothesis-without-personal-data" in registry
    assert "employee-id" not in known_classes()
    assert "hypothesis-without-personal-data" not in registry
    assert "example" not in ok("--help")


def test_a_plugin_committed_to_the_checkout_is_not_read(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lead commits a ``*.dist-info`` naming a module of the checkout in the ``inhouse``
    group. A colleague who puts the checkout on PYTHONPATH (a ``python`` check's module needs
    it) and runs any command would import that module inside their inhouse, their key at hand:
    it could sign anything in their name. It is refused, naming it, and never imported."""
    ok("init", "Acme", "--lead", "lena")
    (_isolated / "team_helpers.py").write_text(
        "from pathlib import Path\n\nPath('ran-in-my-inhouse').write_text('signed anything')\n"
    )
    dist = _isolated / "team_helpers-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: team-helpers\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[inhouse]\nhelpers = team_helpers\n")
    monkeypatch.syspath_prepend(str(_isolated))  # PYTHONPATH=. in the checkout
    said = refused("status")
    assert "entry point helpers = team_helpers in 'inhouse' (from team-helpers 1.0)" in said
    assert f"inside the program folder {_isolated.resolve()}" in said
    assert "Take" in said and "off PYTHONPATH" in said
    assert not (_isolated / "ran-in-my-inhouse").exists()


def test_a_plugin_committed_to_the_checkout_beside_the_program_folder_is_not_read(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The program folder is one folder of the team's repository (``ai/``), and the python
    check's module lies at its top, which the colleague puts on PYTHONPATH. The lead commits a
    ``*.dist-info`` there: it lies in the checkout, not in the program folder, and was read,
    inside the colleague's inhouse. The checkout that holds the program in use is the
    program's as much as its folder is."""
    (_isolated / ".git").mkdir()  # the repository's top
    program = _isolated / "ai"
    program.mkdir()
    monkeypatch.chdir(program)
    ok("init", "Acme", "--lead", "lena")
    (_isolated / "team_helpers.py").write_text(
        "from pathlib import Path\n\nPath('ran-in-my-inhouse').write_text('signed anything')\n"
    )
    dist = _isolated / "team_helpers-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: team-helpers\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[inhouse]\nhelpers = team_helpers\n")
    monkeypatch.syspath_prepend(str(_isolated))  # PYTHONPATH= the repository's top
    said = refused("status")
    assert "entry point helpers = team_helpers in 'inhouse' (from team-helpers 1.0)" in said
    assert f"inside the checkout {_isolated.resolve()}" in said
    assert f"program folder {program.resolve()}" in said
    assert not (program / "ran-in-my-inhouse").exists()


@pytest.mark.parametrize("where", ["root", "sub-command"])
def test_a_plugin_in_the_checkout_of_the_program_named_by_program_is_not_read(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """As above, but the colleague runs the command from elsewhere (their home folder) and
    names the program with ``--program``, which is parsed after plugin discovery could have
    run: the checkout that holds the program the command names is refused the same way."""
    repo = _isolated / "repo"
    (repo / ".git").mkdir(parents=True)
    program = repo / "ai"
    program.mkdir()
    monkeypatch.chdir(program)
    ok("init", "Acme", "--lead", "lena")
    (repo / "team_helpers.py").write_text(
        f"from pathlib import Path\n\nPath({str(_isolated / 'ran')!r}).write_text('signed')\n"
    )
    dist = repo / "team_helpers-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: team-helpers\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[inhouse]\nhelpers = team_helpers\n")
    elsewhere = _isolated / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no program here or above
    monkeypatch.syspath_prepend(str(repo))  # PYTHONPATH= the repository's top
    args = (
        ("--program", str(program), "status")
        if where == "root"
        else ("status", "--program", str(program))
    )
    said = refused(*args)
    assert "entry point helpers = team_helpers in 'inhouse' (from team-helpers 1.0)" in said
    assert f"inside the checkout {repo.resolve()}" in said
    assert f"program folder {program.resolve()}" in said
    assert not (_isolated / "ran").exists()


def test_a_plugin_command_named_with_program_before_it_is_refused_too(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line names a command no built-in has (a plugin's): the root reads the
    plugins before its callback runs, with --program parsed; that checkout is refused."""
    repo = _isolated / "repo"
    (repo / ".git").mkdir(parents=True)
    program = repo / "ai"
    program.mkdir()
    monkeypatch.chdir(program)
    ok("init", "Acme", "--lead", "lena")
    dist = repo / "team_helpers-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: team-helpers\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[inhouse]\nhelpers = team_helpers\n")
    (repo / "team_helpers.py").write_text(
        f"from pathlib import Path\n\nPath({str(_isolated / 'ran')!r}).write_text('signed')\n"
    )
    elsewhere = _isolated / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.syspath_prepend(str(repo))
    said = refused("--program", str(program), "helpers-command")
    assert f"inside the checkout {repo.resolve()}" in said
    assert not (_isolated / "ran").exists()


def test_a_plugin_on_pythonpath_outside_the_programs_checkout_is_read(
    _isolated: Path, installed: Callable[[str], None]
) -> None:
    """The honest side: a plugin folder of one's own on PYTHONPATH, outside the checkout that
    holds the program, is read as before."""
    (_isolated / ".git").mkdir()
    ok("init", "Acme", "--lead", "lena")
    installed("inhouse_example_plugin")
    ok("status")
    assert "hypothesis-without-personal-data" in registry


def test_a_command_from_a_folder_deleted_since_reads_the_plugins(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command reads the plugins, and the checkout check asks which program the current
    folder lies in: from a folder deleted under the shell (a branch switched away, ``rm -rf``
    in another terminal) the current folder cannot be read, and every command, ``playbook
    show`` included, ended in a traceback (review56). Such a folder holds no program: no
    checkout's plugin is in use there."""
    gone = _isolated / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    monkeypatch.syspath_prepend(str(_isolated / "elsewhere"))  # the plugins are read again
    assert "prove-value" in ok("playbook", "show")


@pytest.mark.xfail(
    strict=True,
    reason="hole left: Python itself imports a sitecustomize.py (or usercustomize.py) from any "
    "folder on PYTHONPATH when the interpreter starts, before inhouse's first line runs; a "
    "colleague who puts the checkout on PYTHONPATH (as a python check's module needs) runs the "
    "lead's sitecustomize inside their inhouse, their key at hand. Nothing in inhouse runs "
    "early enough to refuse it: the remedy is not to put a checkout on PYTHONPATH (install a "
    "check package once it is read), or to run python -I / PYTHONSAFEPATH-like isolation",
)
def test_a_sitecustomize_committed_to_the_checkout_does_not_run(_isolated: Path) -> None:
    ok("init", "Acme", "--lead", "lena")
    (_isolated / "sitecustomize.py").write_text(
        "from pathlib import Path\n\nPath('ran-in-my-inhouse').write_text('signed anything')\n"
    )
    path = os.pathsep.join(filter(None, (os.environ.get("PYTHONPATH"), str(_isolated))))
    subprocess.run(
        [sys.executable, "-P", "-c", "from inhouse.cli.app import main; main()", "status"],
        cwd=_isolated, env={**os.environ, "PYTHONPATH": path}, capture_output=True, check=False,
    )  # fmt: skip
    assert not (_isolated / "ran-in-my-inhouse").exists()


def test_built_ins_come_through_the_same_hooks_as_plugins() -> None:
    names = [name for name, _ in plugin_manager().list_name_plugin()]
    assert names[: len(DEFAULT_PLUGINS)] == list(DEFAULT_PLUGINS)
    for hook in _hooks():
        assert getattr(plugin_manager().hook, hook).get_hookimpls(), hook


def _hooks() -> list[str]:
    functions = inspect.getmembers(hookspecs, inspect.isfunction)
    return [name for name, _ in functions if name.startswith("inhouse_")]


def test_the_plugin_docs_describe_every_hook() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert len(_hooks()) == 6
    for hook in _hooks():
        assert f"## `{hook}`" in text, hook
