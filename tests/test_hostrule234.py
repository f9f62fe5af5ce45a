"""The gateway's host rule (a key made on the gateway's host after a lead enrolled its key there
is that lead's: she runs the box and holds the key files made there) reaches plays 2 and 3's
second-person checks and play 4's "someone else's prompt" step. Each test is the forgery: lena,
who enrolled the gateway's key on its host, has "gus" join there and has him verify her lock,
rerun her trial, rerun her workflow or write the prompt she "used". Beside it, the honest way (a
colleague on a laptop of her own) still passes, and an exit already judged on gus's evidence
keeps it, whatever rules it says it was judged by."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from inhouse.baseline.verify import _not_elsewhere
from inhouse.identity import SigningKey
from inhouse.program import Program, Provenance
from inhouse.program.checks import (
    EXIT_RULES,
    GATEWAY_HOST,
    CheckContext,
    Outcome,
    Person,
    Result,
    evaluate,
)
from inhouse.program.counting import build_context
from inhouse.program.facts import Fact, FactSet
from inhouse.program.payloads import PromptBody
from inhouse.program.prompt_versions import body_hash
from inhouse.usage.authentic import GATEWAY_SERVICE
from tests.conftest import Clock
from tests.locks import HERE, JUDGED, lock_payload
from tests.people import enrol
from tests.test_playchecks import (
    COLLECTOR,
    ISSUER,
    NOW,
    OWNERS,
    enabled,
    fact,
    reproducible,
    rerun,
    roster,
    signed_in,
    step_terms,
)
from tests.test_redteam4 import _gateway_host


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Any:
    """lena's program (she leads and owns plays 1 to 3), the gateway's key enrolled on its
    host by her."""
    program = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    program.enrol_service(GATEWAY_SERVICE, SigningKey.generate())  # on gateway-host
    yield program
    program.close()


def _record(program: Program, kind: str, payload: dict[str, Any]) -> Fact:
    return program.record_fact(
        None, kind, payload, provenance=Provenance.MEASURED, collector=COLLECTOR[kind]
    )


def _judge(program: Program, check: str, *, exited: str = "", rules: int = 0) -> Result:
    """``check`` on ``program``'s log now; ``exited``: as if that play's exit had been recorded
    now, judged on every fact so far, saying it was judged by ``rules``."""
    ctx = build_context(program.state(), program.clock())
    if exited:
        mark = (program.clock(), program.state().head_seq)
        ctx = replace(
            ctx,
            exited={**ctx.exited, exited: mark},
            exit_rules={**ctx.exit_rules, exited: rules},
        )
    return evaluate(check, ctx)


def _kept(program: Program, check: str, play: str) -> None:
    """An exit of ``play`` judged on what is in the log keeps its pass: one recorded under the
    rules before the gateway's host rule, and one recorded under today's (which did not yet
    apply the rule here)."""
    assert EXIT_RULES >= GATEWAY_HOST
    for rules in (0, GATEWAY_HOST - 1, EXIT_RULES):
        kept = _judge(program, check, exited=play, rules=rules)
        assert kept.outcome is Outcome.PASS, (rules, kept.reason)


# -- play 2: second-person-verified ---------------------------------------------------------------


def _verify(program: Program, lock_hash: str, machine: str) -> Fact:
    return _record(program, "baseline.verify", {
        "lock_hash": lock_hash, "passed": True, "machine": machine,
        "models": [{"name": "m", "digest": lock_payload("lena")["models"][0]["digest"]}],
        **HERE})  # fmt: skip


def test_a_verify_with_a_key_made_on_the_gateways_host_is_no_second_persons(
    lena: Program, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = _gateway_host(monkeypatch)
    gus = enrol(lena, "gus", team="ops", machine=host)
    locked = lock_payload("lena")
    _record(lena, "baseline.lock", locked)
    clock.advance(hours=1)
    verified = _verify(gus, locked["lock_hash"], host)
    result = _judge(lena, "second-person-verified")
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        "gus's keys were all enrolled from the gateway's host after lena enrolled its key there"
    ) in result.reason
    # and `inhouse baseline verify` tells gus so, by the check's own rule
    said = _not_elsewhere(lena, verified, {"lena"})
    assert said is not None and "the gateway's host after lena enrolled its key" in said
    _kept(lena, "second-person-verified", "baseline")

    # honest: pia verifies at her own laptop
    pia = enrol(lena, "pia", team="sales")
    clock.advance(hours=1)
    honest = _verify(pia, locked["lock_hash"], "pia-laptop")
    result = _judge(lena, "second-person-verified")
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("pia verified lock"), result.reason
    assert _not_elsewhere(lena, honest, {"lena"}) is None


# -- play 2: trial-reproduced ---------------------------------------------------------------------


def test_a_trial_rerun_with_a_key_made_on_the_gateways_host_reproduces_nothing(
    lena: Program, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = _gateway_host(monkeypatch)
    gus = enrol(lena, "gus", team="ops", machine=host)
    _record(lena, "trial.verdict", dict(reproducible().payload))
    clock.advance(hours=1)
    _record(gus, "trial.rerun", dict(rerun(by="gus").payload))
    result = _judge(lena, "trial-reproduced")
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        "gus's keys were all enrolled from the gateway's host after lena enrolled its key there"
    ) in result.reason
    _kept(lena, "trial-reproduced", "baseline")

    pia = enrol(lena, "pia", team="sales")
    clock.advance(hours=1)
    _record(pia, "trial.rerun", dict(rerun(by="pia").payload))
    result = _judge(lena, "trial-reproduced")
    assert result.outcome is Outcome.PASS, result.reason
    assert "pia reran trial t on their own machine" in result.reason


# -- play 3: workflow-run-by-other ----------------------------------------------------------------


def _workflow_run(program: Program, lock_hash: str) -> Fact:
    return _record(program, "workflow.run", {
        **HERE, "workflow": "triage", "content_hash": "v1", "lock_hash": lock_hash,
        "passed": True, "pass_rate": 1.0, **JUDGED})  # fmt: skip


def test_a_workflow_rerun_with_a_key_made_on_the_gateways_host_is_the_authors_own(
    lena: Program, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = _gateway_host(monkeypatch)
    gus = enrol(lena, "gus", team="ops", machine=host)
    locked = lock_payload("lena")
    _record(lena, "baseline.lock", locked)
    digest = locked["models"][0]["digest"]
    _record(lena, "workflow.spec", {"workflow": "triage", "content_hash": "v1", "author": "lena",
                                    "model": "m", "model_digest": digest})  # fmt: skip
    _workflow_run(lena, locked["lock_hash"])
    clock.advance(hours=1)
    _workflow_run(gus, locked["lock_hash"])
    result = _judge(lena, "workflow-run-by-other")
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        "gus's keys were all enrolled from the gateway's host after lena enrolled its key there"
    ) in result.reason
    _kept(lena, "workflow-run-by-other", "workflow")

    pia = enrol(lena, "pia", team="sales")
    clock.advance(hours=1)
    _workflow_run(pia, locked["lock_hash"])
    result = _judge(lena, "workflow-run-by-other")
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("pia (not the author, lena) passed it"), result.reason


# -- play 4: a step asking for a prompt someone else wrote ---------------------------------------


def test_a_prompt_written_with_a_key_made_on_the_members_gateway_host_is_their_own() -> None:
    """p0, a member who enrolled the gateway's key on its host (a lead the others added), has
    gus join there after it and publish the prompt her step says someone else wrote: its
    author was told apart from her by his own machines alone. A colleague's, from a laptop of
    his own, still counts; a play 4 exit judged on the step keeps it."""
    shared = step_terms("first", "used-shared-prompt", "prompt.usage", others=True)
    people, added = roster(1, 1, steps=[shared])
    people = {
        **people,
        "gus": Person(name="gus", team="ops"),
        "gateway": Person(name="gateway", service=True),
    }
    body = {"messages": [{"role": "user", "content": "Sort {{ ticket }}"}]}
    digest = body_hash(PromptBody.model_validate(body))

    def version(name: str, by: str) -> Fact:
        return fact("prompt.version", by=by, prompt=name, version=1, body=body,
                    content_hash=digest)  # fmt: skip

    def used(name: str) -> Fact:
        return fact("prompt.usage", by="gateway", prompt=name, version=1, uses=1, users=1,
                    uses_by_others=0, people=["p0"])  # fmt: skip

    def judged(*facts: Fact, exited: bool = False) -> Result:
        context = CheckContext(
            facts=FactSet([*added, *facts]),
            people=people,
            owners=OWNERS,
            now=NOW,
            machines={
                **{w: frozenset({f"{w}-laptop"}) for w in people},
                "gateway": frozenset({"gw-host"}),
                "gus": frozenset({"gw-host"}),
            },
            # p0 enrolled the gateway's key on its host (event 5), gus joined there after
            machine_since={"gateway": {"gw-host": 5}, "gus": {"gw-host": 9}},
            invited_by={"gateway": "p0", "gus": "p0"},
            exited={"pilot": (NOW, 10**9)} if exited else {},
            exit_rules={"pilot": EXIT_RULES} if exited else {},
            signed_in=signed_in(set(people) - {"gateway"}),
            sign_in_issuer=ISSUER,
        )
        return evaluate("pilot-enabled", context)

    guses, use = version("triage", "gus"), used("triage")
    result = judged(guses, use, *enabled("p0", [use]))
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        "the step asks for a prompt someone else wrote, and triage@1's author, gus, enrolled "
        "every key from the gateway's host after p0 enrolled its key there"
    ) in result.reason, result.reason
    kept = judged(guses, use, *enabled("p0", [use]), exited=True)
    assert kept.outcome is Outcome.PASS, kept.reason

    omars, use = version("replies", "omar"), used("replies")
    result = judged(omars, use, *enabled("p0", [use]))
    assert result.outcome is Outcome.PASS, result.reason
