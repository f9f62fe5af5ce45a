"""Walk 54: a new lead follows the README's tour and docs/trials, baseline and workflows on a
real program, with a colleague on a machine of his own (tests/trials/test_nothing_passed.py
holds the trial's part).

A checkout whose inhouse.toml names another program than its log (a colleague's stale
checkout, or a log rebuilt from scratch) stops at event 1. `inhouse status` said so, and then
also warned that "the program was created with playbook  v0" and that "the program's first
event says it was created with playbook  v0 (no rules recorded)": nothing of event 1 was
folded, so there was no first event to compare, and a reader was sent after a playbook
problem that does not exist.

The README's tour has the colleague run `inhouse sign-in login` right after `inhouse join`, on
his machine "with the program folder checked out from git": a checkout without the log. There
it said "cannot tell whose key … is here" and listed the commands that sign into the outbox,
which sign-in is not, leaving him to guess that his sign-in, unlike his verify, needs the log
itself.

`inhouse workflow test` closed with "run by pia, author omar" for a version pia published (she
ran it first): "author" was the YAML's `owner:`, which the checks never read; play 3's line
under it said the author was pia. Its JSON report and JUnit properties said the same.

`inhouse handoff offer 3 --to lena` by play 3's owner lena: "needs a different owner than play
3's (lena); hand it to the person who will own it", without saying who may (play 4 is owned by
a rollout lead, and lena was the only one); the next try, to bob, named the role.

A workflow of one case (docs/workflows.md: "a workflow of one case is told apart from
nothing"): `inhouse workflow test` said "case printer passes on the model's answers to its
other cases ... too" of a workflow that has none, and to "give a case checks that judge what its
own answer must say", when its checks did; play 3's own reason said to add a case.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import NotAllowed
from inhouse.program import Program
from tests.engine import needs_engine
from tests.test_cli import invitations, ok, own_machine, program, refused  # noqa: F401
from tests.test_engine import cast, through_play_one  # noqa: F401
from tests.workflows.conftest import baseline_program, people  # noqa: F401

runner = CliRunner()


def test_status_of_a_log_that_stops_at_event_one_warns_of_that_alone(_isolated: Path) -> None:
    Program.init(_isolated, "Acme", "lena", team="platform").close()
    toml = _isolated / "inhouse.toml"
    text = toml.read_text(encoding="utf-8")
    named = text.split('program_id = "', 1)[1][:64]
    toml.write_text(text.replace(named, "e" * 64), encoding="utf-8")  # another program's

    shown = runner.invoke(app, ["status"])
    said = " ".join((shown.stdout + shown.stderr).split())
    assert shown.exit_code == 1, said
    assert "TAMPERED: the event log does not verify at event 1" in said, said
    assert "is not the first event of the program inhouse.toml names" in said, said
    assert "created with playbook" not in said, said
    assert "v0" not in said, said


def test_sign_in_on_a_checkout_without_the_log_says_it_needs_the_log(
    program: Path,  # noqa: F811
    invitations: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    shutil.copy(program / "inhouse.toml", laptop / "inhouse.toml")
    env = own_machine("omar", tmp_path / "keys")
    ok("join", invitations["omar"], "--program", str(laptop), env=env)
    said = " ".join(refused("sign-in", "login", "--program", str(laptop), code=2, env=env).split())
    assert "cannot sign in here" in said, said
    assert "sign-in has no outbox" in said and "INHOUSE_DATABASE_URL" in said, said


@needs_engine
def test_workflow_test_names_the_author_play_three_counts_not_the_yaml_owner(
    baseline_program: Path,  # noqa: F811
    people: dict[str, dict[str, str]],  # noqa: F811
) -> None:
    """omar is the spec's `owner:`; pia runs the version first, so she published it."""
    from tests.workflows.test_workflow_engine import cli

    said = " ".join(cli("workflow", "test", "summary", env=people["pia"]).stdout.split())
    assert "run by pia, author pia," in said, said
    assert "author omar" not in said, said
    report = json.loads(cli("workflow", "test", "summary", "--json", env=people["omar"]).stdout)
    assert (report["runner"], report["author"], report["owner"]) == ("omar", "pia", "omar")


def test_a_handoff_to_its_own_owner_names_who_may_take_the_next_play(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """Play 3 needs another owner than play 2's: lena hands play 2 to herself, and is told
    who holds the role play 3 is owned by (omar, a play-owner); with nobody else holding it,
    how to give it."""
    lena, omar = cast["lena"], cast["omar"]
    through_play_one(lena)
    omar.request_access(reason="I want the triage model")
    lena.start_play(None, 2)
    with pytest.raises(NotAllowed) as refused:
        lena.offer_handoff(None, 2, to="lena")
    assert "a play-owner other than lena: omar" in str(refused.value), refused.value
    lena.change_roles(None, "omar", remove=["play-owner"])
    with pytest.raises(NotAllowed) as refused:
        lena.offer_handoff(None, 2, to="lena")
    said = str(refused.value)
    assert "(nobody is yet: `inhouse person role NAME --add play-owner`)" in said, said


@needs_engine
def test_a_one_case_workflow_is_told_to_add_a_case(
    baseline_program: Path,  # noqa: F811
    people: dict[str, dict[str, str]],  # noqa: F811
) -> None:
    import yaml

    from tests.workflows.test_workflow_engine import cli

    spec = baseline_program / "workflows" / "summary.yaml"
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data["tests"] = data["tests"][:1]
    spec.write_text(yaml.safe_dump(data), encoding="utf-8")
    said = " ".join(cli("workflow", "test", "summary", env=people["omar"]).stdout.split())
    case = data["tests"][0]["name"]
    assert f"case {case} is the workflow's only case" in said, said
    assert "its other cases" not in said, said
    assert "add a case with another input and another right answer" in said, said
