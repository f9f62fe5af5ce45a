"""The outsider's own machine: what lena controls besides the log.

tests/test_outsider.py's lena, with the rest of what one person holds alone: any Python package
she installs (a plugin of inhouse's, found through the ``inhouse`` entry-point group), any line
of ``inhouse.toml`` in her checkout, any environment variable. Each test tries one of them on a
check or guard that judges her; what it may change is her machine's view alone, and never a
shipped check's judgment, a shipped collector's, or what a program was created as.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from inhouse.errors import ConfigError, PluginError
from inhouse.identity import machine
from inhouse.program import Program
from inhouse.program import collectors as collectors_module
from inhouse.program.checks import registry
from inhouse.testing.standin_idp import StandinIdP
from tests.test_engine import HERE, prove, reproduce
from tests.test_outsider import clock, lena  # noqa: F401 (fixtures)
from tests.test_outsider_more import append_play_two_exit_set_aside, append_without
from tests.test_plugins import install

pytestmark = pytest.mark.own_sign_in

#: installs a plugin of lena's own, made from ``body``, for this test only
Plugin = Callable[[str, str], None]


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Plugin:
    """Lay out a package of lena's (``name``, its ``__init__`` the ``body``) as pip installs a
    wheel, with an entry point in the ``inhouse`` group, and put it on ``sys.path``. The
    collectors are read afresh, and put back as they were afterwards."""
    monkeypatch.setattr(collectors_module, "_registry", {})
    monkeypatch.setattr(collectors_module, "_sources", {})
    monkeypatch.setattr(collectors_module, "_loaded", False)

    def make(name: str, body: str) -> None:
        source = tmp_path / "sources"
        package = source / name / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(textwrap.dedent(body), encoding="utf-8")
        (source / name / "pyproject.toml").write_text(
            f'[project]\nname = "{name.replace("_", "-")}"\nversion = "0.1"\n'
            f'[project.entry-points.inhouse]\n{name} = "{name}"\n',
            encoding="utf-8",
        )
        site = tmp_path / f"site-{name}"
        install(name, site, fixtures=source)
        monkeypatch.syspath_prepend(str(site))

    return make


# -- plugins: her own names only ------------------------------------------------------------------


def test_her_plugin_cannot_replace_the_check_that_asks_someone_else_to_rerun(
    plugin: Plugin,
) -> None:
    """lena's plugin declares ``trial-reproduced`` (play 2's "someone else reran the trial") as
    a check that always holds. The registry refuses a second registration of a shipped name, so
    the shipped check is never replaced on her machine either: the error names both."""
    plugin(
        "lena_rerun_check",
        '''
        from inhouse.hookspecs import hookimpl
        from inhouse.program.checks import passed, register_check

        @register_check("trial-reproduced", reads=("trial.rerun",))
        def trial_reproduced(ctx):
            """Always holds."""
            return passed("reproduced, says lena's plugin")

        @hookimpl
        def inhouse_play_checks():
            return [__name__]
        ''',
    )
    with pytest.raises(PluginError) as refused:
        registry["trial-reproduced"]
    message = str(refused.value)
    assert "play check 'trial-reproduced' is registered twice" in message
    assert "built-in plugin inhouse.default_plugins.play_checks" in message
    assert "plugin 'lena_rerun_check' from lena-rerun-check 0.1" in message


def test_her_plugin_cannot_take_a_shipped_collectors_name(plugin: Plugin) -> None:
    """A collector is what makes a fact "measured": lena's plugin registers one under the name
    of the shipped ``inhouse prove --rerun``. Refused, naming both, before any fact is judged."""
    plugin(
        "lena_collector",
        """
        from inhouse.hookspecs import hookimpl
        from inhouse.program.collectors import Collector

        @hookimpl
        def inhouse_collectors():
            return [Collector("inhouse prove --rerun", ("trial.rerun",), "lena's own rerun")]
        """,
    )
    with pytest.raises(PluginError) as refused:
        collectors_module.collectors()
    assert "collector 'inhouse prove --rerun' is registered twice" in str(refused.value)
    assert "plugin 'lena_collector' from lena-collector 0.1" in str(refused.value)


def test_her_plugin_cannot_take_a_shipped_runtime_family(plugin: Plugin) -> None:
    """A runtime family opens what ``baseline verify`` measures on a colleague's machine; a
    plugin of lena's registering a shipped family's name is refused, naming both."""
    from inhouse.runtimes.registry import BUILTIN_ADAPTERS, adapter_families

    family = next(iter(BUILTIN_ADAPTERS))
    plugin(
        "lena_runtime",
        f"""
        from inhouse.hookspecs import hookimpl

        @hookimpl
        def inhouse_runtimes():
            return {{"{family}": "lena_runtime:Factory"}}
        """,
    )
    with pytest.raises(PluginError, match=f"runtime family '{family}' is registered twice"):
        adapter_families()


def test_a_collector_of_her_own_for_a_shipped_kind_makes_no_one_else(
    lena: Program,  # noqa: F811
    plugin: Plugin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under a name of its own, lena's plugin may measure a shipped kind (a support importer of
    a tracker inhouse does not know measures tickets): she "reruns" her own trial through it.
    It counts for nothing the shipped collector's facts would not: the rerun is still hers, and
    play 2 asks someone else's. On a machine without her plugin it is not even measured."""
    prove(lena)
    plugin(
        "lena_reruns",
        """
        from inhouse.hookspecs import hookimpl
        from inhouse.program.collectors import Collector

        @hookimpl
        def inhouse_collectors():
            return [Collector("lena rerun", ("trial.rerun",), "lena's own rerun")]
        """,
    )
    from tests import test_engine

    monkeypatch.setattr(collectors_module, "_loaded", False)  # read once a process: again here
    assert "lena rerun" in collectors_module.collectors()
    monkeypatch.setitem(test_engine.COLLECTOR, "trial.rerun", "lena rerun")
    reproduce(lena)
    outcome, reason = _reproduced(lena)
    assert outcome == "fail", reason
    # a colleague's machine, without her plugin: her collector is nobody's
    monkeypatch.setattr(collectors_module, "_registry", {})
    monkeypatch.setattr(collectors_module, "_sources", {})
    monkeypatch.setattr(collectors_module, "_loaded", False)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if "site-lena" not in p])
    lena._state = None
    outcome, reason = _reproduced(lena)
    assert outcome == "inconclusive" and "'lena rerun'" in reason, reason


def _reproduced(program: Program) -> tuple[str, str]:
    from inhouse.program.evaluation import exit_results

    checked = exit_results(program.playbook.play("baseline"), program.state(), program.clock())
    found = {item.ref.check: item.result for item in checked}["trial-reproduced"]
    return str(found.outcome.value), found.reason


def test_an_exit_kept_by_making_every_someone_else_check_err_is_set_aside(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """tests/test_outsider_more.py's exit appended around the API, with the rest done honestly:
    lena locks the baseline (lock, install script, data rules pass), then appends a trial.rerun
    of her own without ``trial`` and baseline.verify facts of her own each without one field,
    so play 2's two "someone else" checks err instead of failing. An error was excused as "a
    plugin's check this process lacks", so every check judged passed and the fold kept play 2's
    exit as its first (``ctx.exited``), opening the rules kept for programs whose play 2 exited.
    Only a check this process lacks is excused now: a registered one that raised did not hold,
    and status names the exit set aside."""
    from tests.test_engine import LOCK, lock_baseline, measured
    from tests.test_outsider import _alias
    from tests.test_sign_in import _sign_in

    prove(lena)
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1)
    omar = _alias(lena, "omar", "support")
    lena.change_roles(None, "omar", add=["play-owner"])
    _sign_in(omar, idp, "u-omar")
    lock_baseline(lena)

    append_without(lena, "trial.rerun", reproduce(lena).payload, "trial")
    verify = measured(lena, "baseline.verify", **HERE, lock_hash=LOCK, passed=True).payload
    for field in list(verify):
        append_without(lena, "baseline.verify", verify, field)
    append_play_two_exit_set_aside(lena, omar)


# -- inhouse.toml: what the program was created as is the log's -----------------------------------


def test_her_toml_cannot_make_a_real_program_a_demo(lena: Program) -> None:  # noqa: F811
    """A demo program passes checks a real one does not (one computer may play several
    people). lena writes ``demo = true`` into her ``inhouse.toml``: under ``[program]`` it is
    refused as an unknown setting; at the top level nothing reads it. The program stays what
    its signed first event says it was created as."""
    toml = lena.folder / "inhouse.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("[program]\n", "[program]\ndemo = true\n", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="demo"):
        Program.open(lena.folder)
    toml.write_text("demo = true\n" + text, encoding="utf-8")
    reopened = Program.open(lena.folder)
    try:
        assert reopened.state().demo is False
        assert not reopened.status()["program"]["demo"]
    finally:
        reopened.close()


# -- the environment: a machine id she names is not a second machine ------------------------------


def test_a_machine_id_she_sets_as_a_second_user_names_her_own_machine(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second OS user on lena's laptop sets ``INHOUSE_MACHINE_ID=pia-laptop``: its
    fingerprint carries her laptop's own after the one it names, and outside a demo program the
    two are one machine (only a demo's judging believes the name)."""
    own = machine.machine_fingerprint()
    monkeypatch.setenv("INHOUSE_MACHINE_ID", "pia-laptop")
    named = machine.machine_fingerprint()
    assert named != own and named.endswith(own)
    assert machine.same_machine(named, own)
    assert not machine.same_machine(named, own, demo=True)


def test_code_she_installs_cannot_re_declare_a_shipped_fact_kind() -> None:
    """What a dashboard host may sign, and what a survey answer needs (its person's own
    approval), is declared with the fact kind. A package of lena's that re-declares
    ``survey.response`` without ``needs_approval`` (so a host she runs could answer the survey
    for everyone signed in) is refused, naming the kind: it never replaces the shipped one."""
    from pydantic import BaseModel

    from inhouse.program.facts import FACT_KINDS, fact_kind

    shipped = FACT_KINDS["survey.response"]

    class Answer(BaseModel):
        person: str

    with pytest.raises(PluginError, match="fact kind 'survey\\.response' is declared twice"):
        fact_kind("survey.response", produced_by="lena", description="any answer",
                  from_dashboard=True, needs_approval=False)(Answer)  # fmt: skip
    assert FACT_KINDS["survey.response"] is shipped and shipped.needs_approval
