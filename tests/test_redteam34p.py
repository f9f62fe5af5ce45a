"""Red team of plays 3 and 4 (rt34p): lena, the rollout lead, alone, who writes play 3's
workflow and owns the baseline (her lock blesses two models: m0, which play 1's trial proved
and bob reran, and m1, her own second choice, which nobody compared with the status quo).

**The weights a workflow runs on were its spec's signer's word.** ``workflow-pinned`` (exit rule
11) asks that the workflow run on weights a proven trial named, and reads them from the
version's ``workflow.spec`` fact: its ``model`` and ``model_digest``, which the runner records
from the lock for the model the file names, signed by whoever ran it first. Nothing compared
them with what the version's runs ran: a run did not say which weights it pinned. lena's
workflow runs on m1; she records its spec through the runner's own recording code (the Python
API) saying m0 and m0's digest, beside a run of hers. bob reruns the version on his laptop:
his runner pins m1 (the file says so) and, the spec differing, records one of his own saying
m1; lena records hers again, so the latest spec says m0. Every check of play 3 passed: pinned
"to m0, the weights trial triage proved", its tests passed, and bob (not the author) passed
it, though the workflow people run is m1, which nobody ever tried head to head.

Now a run says the model and digest its runner pinned (``model``, ``model_digest``; one from
before runs said is read by the spec it names, which its runner recorded because the weights
differed), and ``workflow-pinned`` judges a version by those of its passing runs on the
current lock too: a spec naming other weights than a run of the version ran is its signer's
word, and the check names the run. A play 3 that exited on such a spec keeps its exit (the
facts it was judged on).

**A confirmed prompt version covered any day the gateway dated its use** (play 4): see
:func:`test_a_prompt_version_confirmed_once_is_no_use_of_it_the_host_dates_later`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import pytest

from inhouse.baseline.lock import lock_fact_payload
from inhouse.pilot.enablement import record_enablement
from inhouse.pilot.roster import add_member
from inhouse.pilot.usage_confirm import attributed_use
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.program.facts import Fact
from inhouse.workflows import runner
from inhouse.workflows.runner import record_test_facts
from tests.conftest import Clock
from tests.locks import AT_ZERO
from tests.people import enrol, vouch_for_gateway_host
from tests.pilot.world import World, make_world
from tests.test_engine import DIGEST, measured, prove, reproduce
from tests.workflows.test_proven_weights_cli import LOCKED, SECOND

#: the runner's own records, answered on its runner's loopback by the release, judged on decoys
_REPORT = SimpleNamespace(passed=True, pass_rate=1.0, judged=[1, 2, 3, 4], variant="default",
                          proved=3, untested=[], inputs=4)  # fmt: skip


def _run(program: Program, model: str, digest: str, *, version: str = "v1") -> list[Fact]:
    """What `inhouse workflow test triage` (of ``version``) records where its runner pinned
    ``model`` at ``digest``, through the runner's own recording code: what the honest runner
    records for the model the file names, and what its author records through the Python API
    for the model she would rather the spec named."""
    workflow = SimpleNamespace(name="triage", content_hash=version, run_hash="", hashed="")
    pinned = SimpleNamespace(
        model=SimpleNamespace(name=model, digest=digest),
        lock=SimpleNamespace(lock_hash=LOCKED.lock_hash),
        url="http://127.0.0.1:8080",
        peers=frozenset({"127.0.0.1"}),
        test_model=False,
    )
    who = program.whoami().name
    with pytest.MonkeyPatch.context() as here:  # the runner's own laptop (lena's: this one)
        if who != "lena":
            here.setattr(runner, "machine_fingerprint", lambda: f"{who}-laptop")
        return record_test_facts(program, who, workflow, pinned, _REPORT, seed=AT_ZERO)  # type: ignore[arg-type]


@pytest.fixture
def cast(_isolated: Path) -> Iterator[dict[str, Program]]:
    """lena proved m0 (play 1) and locked m0 and m1 (play 2); bob stood the lock up and reran
    her trial on m0; omar, who does the triage most, owns play 3."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform")
    lena.change_roles(None, "lena", add=["play-owner"])
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    bob = enrol(lena, "bob", team="ops")
    prove(lena)
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1, comment="the trial report")
    bob.request_access(reason="I want the triage model")
    lena.start_play(None, 2)
    measured(lena, "baseline.lock", **lock_fact_payload(LOCKED))
    measured(lena, "baseline.install_script", lock_hash=LOCKED.lock_hash, sha256="c" * 64)
    measured(bob, "baseline.verify", runtime_local=True, runtime_peers=["127.0.0.1"],
             lock_hash=LOCKED.lock_hash, passed=True)  # fmt: skip
    reproduce(bob)
    lena.offer_handoff(None, 2, to="omar")
    omar.accept_handoff(None, 2, comment="stood it up from the docs")
    measured(omar, "task.named", task="triage", frequency="daily")
    omar.start_play(None, 3)
    yield {"lena": lena, "omar": omar, "bob": bob}
    lena.close()


def _play_three(program: Program) -> dict[str, Result]:
    ctx = context_for(program.state(), program.clock())
    return {
        check: evaluate(check, ctx)
        for check in ("workflow-pinned", "workflow-tests-pass", "workflow-run-by-other")
    }


def test_a_spec_naming_the_proven_weights_does_not_pin_a_workflow_its_runs_ran_on_others(
    cast: dict[str, Program],
) -> None:
    lena, bob = cast["lena"], cast["bob"]
    # lena's spec of v1 says m0 (proven); the file says m1, which bob's runner pins
    _run(lena, "m0", DIGEST)
    _run(bob, "m1", SECOND)
    _run(lena, "m0", DIGEST)  # her spec again: the latest says m0
    specs = [f for f in lena.state().facts if f.kind == "workflow.spec"]
    assert [(f.by, f.payload["model"]) for f in specs] == [
        ("lena", "m0"), ("bob", "m1"), ("lena", "m0")
    ]  # fmt: skip
    results = _play_three(lena)
    assert results["workflow-tests-pass"].outcome is Outcome.PASS
    assert results["workflow-run-by-other"].outcome is Outcome.PASS, results[
        "workflow-run-by-other"
    ].reason
    pinned = results["workflow-pinned"]
    assert pinned.outcome is Outcome.FAIL, pinned.reason
    assert "bob's run of it (fact #" in pinned.reason, pinned.reason
    assert f"ran on m1 ({SECOND[:19]})" in pinned.reason, pinned.reason
    assert "no trial proved these weights" in pinned.reason, pinned.reason
    # the honest way: a version on the proven weights, which bob's runner pins too
    _run(lena, "m0", DIGEST, version="v2")
    _run(bob, "m0", DIGEST, version="v2")
    results = _play_three(lena)
    assert {check: r.outcome for check, r in results.items()} == dict.fromkeys(
        results, Outcome.PASS
    ), {check: r.reason for check, r in results.items()}
    assert results["workflow-pinned"].reason == (
        "workflow triage pinned to m0, the weights trial triage proved"
    )


@pytest.mark.parametrize("first", ["her spec", "the honest spec"])
def test_a_run_from_before_runs_named_their_weights_is_read_by_the_spec_it_ran_under(
    cast: dict[str, Program], monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    """The next cheapest way: bob's inhouse is a release from before runs said which weights
    they pinned. His runner compared its weights with the latest spec of the workflow and
    recorded one of its own where they differed (lena's spec came first, saying m0), its run
    naming it; or, where they did not (she typed a spec saying m1 first, one that publishes
    alone as a spec from before runs named theirs did, and the one saying m0 after his run),
    it recorded none: the spec it ran under says what it ran, either way."""
    lena, bob = cast["lena"], cast["bob"]
    with monkeypatch.context() as older:
        # an older release said nothing of the weights it pinned (lena's runs too: hers are
        # typed through the API, saying what she likes)
        older.setattr(runner, "_ran_on", lambda pinned: {}, raising=False)
        if first == "her spec":
            _run(lena, "m0", DIGEST)
        else:  # a spec as one from before runs named theirs: it publishes alone
            measured(lena, "workflow.spec", workflow="triage", content_hash="v1",
                     author="lena", model="m1", model_digest=SECOND)  # fmt: skip
        _run(bob, "m1", SECOND)
        [bobs] = [f for f in lena.state().facts if f.kind == "workflow.run" and f.by == "bob"]
        assert not bobs.payload.get("model_digest")
        assert bool(bobs.payload["spec"]) is (first == "her spec")
        _run(lena, "m0", DIGEST)
    pinned = _play_three(lena)["workflow-pinned"]
    assert pinned.outcome is Outcome.FAIL, pinned.reason
    assert f"ran on m1 ({SECOND[:19]})" in pinned.reason, pinned.reason


# -- play 4: a library prompt's use, dated by the gateway's host -----------------------------------


#: a role track whose one step is a shared prompt's use through the gateway (a gateway step)
PROMPTS_TRACK = """\
title: Prompt users
role: analyst
steps:
  - id: shared-prompt
    type: used-shared-prompt
    others: true
"""


class Tried(NamedTuple):
    """The prompts world after bob tried carol's triage@1 through his own key on 3 November,
    the day signed and confirmed (the world's members confirm), before he joined the pilot."""

    world: World
    bob: Program
    gateway: Program  # the gateway's host, run by lena: its key signs the gateway's facts
    v1: str


def triage_tried(isolated: Path, clock: Clock) -> Tried:
    world = make_world(isolated, clock)
    (world.folder / "enablement" / "prompts.yaml").write_text(PROMPTS_TRACK, encoding="utf-8")
    world.waive()
    bob = world.enrol("bob", "support")
    carol = world.enrol("carol", "legal")
    gateway = world.lead.as_service("gateway")
    vouch_for_gateway_host(carol)
    v1 = world.share_prompt("carol", "triage")
    world.send("bob", datetime(2026, 11, 3, 10, tzinfo=UTC), prompt=v1)
    world.sign()
    return Tried(world, bob, gateway, v1)


def sign_use_again(gateway: Program, *, dated: bool = True) -> Fact:
    """The host's key signs triage@1's use again, bob's "last on the 12th" (``dated``: per
    person, ``used_by``, as today's gateway writes it; else in the older shape, without)."""
    payload = {"prompt": "triage", "version": 1, "uses": 2, "users": 1, "uses_by_others": 1,
               "last_used": "2026-11-12", "people": ["bob"]}  # fmt: skip
    if dated:
        payload["used_by"] = {"bob": "2026-11-12"}
    return gateway.record_fact(
        None, "prompt.usage", payload,
        provenance=Provenance.MEASURED, collector="inhouse pilot adoption",
    )  # fmt: skip


def _enabled(lead: Program) -> Result:
    ctx = context_for(lead.state(), lead.clock())
    return evaluate("pilot-enabled", ctx)


def test_a_prompt_version_confirmed_once_is_no_use_of_it_the_host_dates_later(
    _isolated: Path, clock: Clock
) -> None:
    """**A confirmed prompt version covered any day the gateway's host dated its use.** bob
    tried carol's triage prompt once through his own key on 3 November, before lena added him
    to the pilot, and confirmed it truthfully (`inhouse usage confirm`: "triage@1: a library
    prompt sent to you, written by carol"). A member's ``used-shared-prompt`` step rests on
    the gateway's signed use of it from the day they were onboarded on (a gateway step, exit
    rule 13); a confirmation named prompt versions, not days, so lena, who runs the gateway's
    host, signed the version's use again "last on 12 November" for bob, and his track was
    finished on a use he never made. Now a confirmation says, per version, the latest day of
    its use it was shown (the gateway's signed day, else the day it is made), and the
    gateway's use of it on a later day counts once its person confirms that (`inhouse usage
    confirm` asks, showing the day)."""
    world, bob, gateway, v1 = triage_tried(_isolated, clock)
    # its rollup, and bob confirmed what it gave him (the world's members do)
    [said] = [f for f in world.lead.state().facts if f.kind == "usage.confirmed"]
    assert [(r["prompt"], r["version"]) for r in said.payload["prompts"]] == [("triage", 1)]
    clock.now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    add_member(world.lead, "bob", track="prompts")  # onboarded on the 10th
    clock.now = datetime(2026, 11, 12, 18, tzinfo=UTC)
    # FORGERY: the host's key signs triage@1's use again, bob's "last on the 12th"
    forged = sign_use_again(gateway)
    # `inhouse pilot enablement` reads the dated use as the check does: nothing to record
    # (review4: it said "met" and recorded the step the check then called unborne)
    _, facts = record_enablement(bob)
    assert [f.kind for f in facts if f.kind == "enablement.step"] == []
    result = _enabled(world.lead)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "enablement not complete for bob" in result.reason, result.reason
    # a step written around the preview, naming that use, is not borne out either
    bob.record_fact(
        None, "enablement.step",
        {"person": "bob", "track": "prompts", "step": "shared-prompt", "how": "measured",
         "evidence": [forged.id]},
        provenance=Provenance.MEASURED, collector="inhouse pilot enablement",
    )  # fmt: skip
    bob.record_fact(
        None, "enablement.completed", {"person": "bob", "track": "prompts",
                                       "steps": ["shared-prompt"]},
        provenance=Provenance.MEASURED, collector="inhouse pilot enablement",
    )  # fmt: skip
    result = _enabled(world.lead)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "whose use of it by bob on 2026-11-12 the gateway signed and bob has not confirmed" in (
        result.reason
    ), result.reason
    # what `inhouse usage confirm` asks him: the day is shown, and he never used it then
    asked = attributed_use(bob)
    assert asked.prompts == [("triage", 1)], asked
    assert "triage@1: a library prompt sent to you, last on 2026-11-12, written by carol" in (
        asked.lines()
    ), asked.lines()
    # the honest way: bob really uses it after joining, and confirms what he is shown
    world.send("bob", datetime(2026, 11, 13, 10, tzinfo=UTC), prompt=v1)
    world.sign()
    record_enablement(bob)
    result = _enabled(world.lead)
    assert result.outcome is Outcome.PASS, result.reason
