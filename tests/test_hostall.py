"""The gateway's host rule reads every lead who enrolled one of its keys, on the host each
enrolled it on (rules 7, :data:`~inhouse.program.checks.EVERY_ENROLLER`): rob set the gateway
up first, on a host since rebuilt; lena enrolled the new key on the host she runs now, and a
key made there afterwards is hers, as it would be had she enrolled the first. Each forgery of
plays 2-4 is tests/test_hostrule234.py's, played on that program (with its honest way, and an
exit already judged on the forged fact keeping it); rob's enrolment on the old host makes
nothing on lena's his. A play that exited under rules 6 keeps the first enroller's reading
for the start it let through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.checks import (
    EVERY_ENROLLER,
    EXIT_RULES,
    TEAM_READING,
    CheckContext,
    Person,
    evaluate,
)
from inhouse.program.facts import FactSet
from inhouse.program.guards import start_blockers
from inhouse.program.payloads import PromptBody
from inhouse.program.playchecks._shared import services_enrolled_by
from inhouse.program.prompt_versions import body_hash
from inhouse.usage.authentic import GATEWAY_SERVICE
from tests import test_hostrule234 as played
from tests.conftest import ENROL_SERVICE_HERE, OTHER_COMPUTER, Clock
from tests.people import enrol
from tests.test_handoff_machines import _play_two_met
from tests.test_playchecks import (
    ISSUER,
    NOW,
    OWNERS,
    enabled,
    fact,
    roster,
    signed_in,
    step_terms,
)
from tests.test_redteam4 import _gateway_host


def _rebuilt(lena: Program, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Program:
    """rob, a co-lead, enrols the gateway's first key on its first host; the host is rebuilt
    and lena, having revoked that key, enrols the new one on the host she runs (gateway-host).
    Returns rob."""
    rob = enrol(lena, "rob", team="platform", roles=["rollout-lead"])
    first = SigningKey.generate()
    with monkeypatch.context() as patch:
        patch.setenv(OTHER_COMPUTER, "old-gateway-host")
        ENROL_SERVICE_HERE(rob, GATEWAY_SERVICE, first)
    clock.advance(hours=1)
    lena.revoke_key(first.key_id)
    lena.enrol_service(GATEWAY_SERVICE, SigningKey.generate())  # on gateway-host
    clock.advance(hours=1)
    return rob


@pytest.fixture
def lena(_isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Any:
    """lena's program (she leads and owns plays 1 to 3), the gateway's first key enrolled by
    rob on its first host, its second by lena on the host she runs since."""
    program = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    _rebuilt(program, clock, monkeypatch)
    yield program
    program.close()


def test_each_lead_holds_only_the_host_they_enrolled_a_key_on(
    lena: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inhouse.program.counting import build_context

    ctx = build_context(lena.state(), lena.clock())
    gateway_host = _gateway_host(monkeypatch)
    old = ctx.machines[GATEWAY_SERVICE] - {gateway_host}
    assert old, ctx.machines[GATEWAY_SERVICE]
    assert {(h.machine, h.lead) for h in services_enrolled_by(ctx, {"lena"})} == {
        (gateway_host, "lena")
    }
    assert {(h.machine, h.lead) for h in services_enrolled_by(ctx, {"rob"})} == {
        (m, "rob") for m in old
    }
    # the rule before: rob, who enrolled the first key, held every host it ran on; lena none
    before = services_enrolled_by(ctx, {"lena", "rob"}, first_only=True)
    assert {h.lead for h in before} == {"rob"}
    assert {h.machine for h in before} == set(ctx.machines[GATEWAY_SERVICE])
    assert services_enrolled_by(ctx, {"lena"}, first_only=True) == set()


def test_a_verify_with_a_key_made_where_the_second_lead_enrolled_the_gateways_key(
    lena: Program, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    played.test_a_verify_with_a_key_made_on_the_gateways_host_is_no_second_persons(
        lena, clock, monkeypatch
    )


def test_a_trial_rerun_with_a_key_made_where_the_second_lead_enrolled_the_gateways_key(
    lena: Program, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    played.test_a_trial_rerun_with_a_key_made_on_the_gateways_host_reproduces_nothing(
        lena, clock, monkeypatch
    )


def test_a_workflow_rerun_with_a_key_made_where_the_second_lead_enrolled_the_gateways_key(
    lena: Program, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    played.test_a_workflow_rerun_with_a_key_made_on_the_gateways_host_is_the_authors_own(
        lena, clock, monkeypatch
    )


def test_the_first_enrollers_old_host_makes_nothing_on_the_new_one_his(
    lena: Program, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rob locks the baseline; gus, who joined on lena's host (rob never enrolled a key
    there), verifies it: the host rule makes him no one of rob's. (Play 2 sets him aside all
    the same since exit rule 17: lena, who enrolled its key there, is a rollout lead, whose
    machines a second person keeps away from too.)"""
    host = _gateway_host(monkeypatch)
    gus = enrol(lena, "gus", team="ops", machine=host)
    locked = played.lock_payload("lena")
    played._record(lena, "baseline.lock", locked)
    clock.advance(hours=1)
    verified = played._verify(gus, locked["lock_hash"], host)
    from inhouse.baseline.verify import _not_elsewhere
    from inhouse.program.counting import build_context
    from inhouse.program.playchecks._shared import other_person_elsewhere

    ctx = build_context(lena.state(), lena.clock())
    assert other_person_elsewhere(ctx, verified, {"rob"}, play="baseline") is None
    said = _not_elsewhere(lena, verified, {"lena"})
    assert said is not None and "after lena enrolled its key there" in said, said
    said = _not_elsewhere(lena, verified, {"rob"})
    assert said is not None and "after lena enrolled its key there" in said, said


def test_a_prompt_written_where_the_member_enrolled_the_gateways_second_key() -> None:
    """Play 4: p1 enrolled the gateway's first key on its first host; p0, a member, enrolled
    its second on the host she runs since, and gus joined there after her: the prompt he
    "wrote" for her step is hers. A play 4 exit judged on the step keeps it."""
    shared = step_terms("first", "used-shared-prompt", "prompt.usage", others=True)
    people, added = roster(1, 1, steps=[shared])
    people = {
        **people,
        "gus": Person(name="gus", team="ops"),
        "gateway": Person(name="gateway", service=True),
    }
    body = {"messages": [{"role": "user", "content": "Sort {{ ticket }}"}]}
    digest = body_hash(PromptBody.model_validate(body))
    version = fact("prompt.version", by="gus", prompt="triage", version=1, body=body,
                   content_hash=digest)  # fmt: skip
    used = fact("prompt.usage", by="gateway", prompt="triage", version=1, uses=1, users=1,
                uses_by_others=0, people=["p0"])  # fmt: skip

    def judged(*, exited: bool = False) -> str:
        context = CheckContext(
            facts=FactSet([*added, version, used, *enabled("p0", [used])]),
            people=people,
            owners=OWNERS,
            now=NOW,
            machines={
                **{w: frozenset({f"{w}-laptop"}) for w in people},
                "gateway": frozenset({"old-host", "gw-host"}),
                "gus": frozenset({"gw-host"}),
            },
            machine_since={"gateway": {"old-host": 3, "gw-host": 5}, "gus": {"gw-host": 9}},
            invited_by={"gateway": "p1", "gus": "p0"},
            enrolled_by={"gateway": frozenset({"p0", "p1"})},
            enrolled_where={"gateway": (("old-host", "p1", 3), ("gw-host", "p0", 5))},
            exited={"pilot": (NOW, 10**9)} if exited else {},
            exit_rules={"pilot": TEAM_READING} if exited else {},
            signed_in=signed_in(set(people) - {"gateway"}),
            sign_in_issuer=ISSUER,
        )
        result = evaluate("pilot-enabled", context)
        return f"{result.outcome}: {result.reason}"

    assert judged().startswith("fail"), judged()
    assert (
        "triage@1's author, gus, enrolled every key from the gateway's host after p0 enrolled "
        "its key there"
    ) in judged()
    assert judged(exited=True).startswith("pass"), judged(exited=True)


def _handed_to_omar(
    folder: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, rules: int
) -> list[str]:
    """Play 2's handoff, from lena to omar who joined on the host where she enrolled the
    gateway's second key, accepted around the API by an inhouse judging by ``rules``: what
    holds play 3 back."""
    from inhouse.program import handoffs
    from tests.test_exit_rules_floor import _older_inhouse

    _older_inhouse(monkeypatch, rules)
    lena = Program.init(folder, "Acme", "lena", clock=clock)
    try:
        _play_two_met(lena, clock)
        _rebuilt(lena, clock, monkeypatch)
        omar = enrol(lena, "omar", team="support", roles=["play-owner"],
                     machine=_gateway_host(monkeypatch))  # fmt: skip
        monkeypatch.setattr(handoffs.PlaysMixin, "_refuse_same_machine", lambda *a, **k: None)
        lena.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2)
        state = lena.state()
        assert state.first_rules["baseline"] == rules
        found = start_blockers(lena.playbook, lena.playbook.play(3), state, clock.now)
        return [b.message for b in found if "omar, whose keys were all enrolled from" in b.message]
    finally:
        lena.close()


@pytest.mark.parametrize("rules", [EVERY_ENROLLER, TEAM_READING])
def test_a_handoff_to_a_receiver_on_the_second_leads_gateway_host_hands_nothing_on(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, rules: int
) -> None:
    """The start guard holds play 3 back on it; a play 2 that exited under rules 6 (the first
    enroller's reading: rob's, not lena's) keeps the start it let through."""
    assert EXIT_RULES >= EVERY_ENROLLER == TEAM_READING + 1
    found = _handed_to_omar(_isolated, clock, monkeypatch, rules)
    if rules >= EVERY_ENROLLER:
        assert found and "after lena enrolled its key there" in found[0], found
    else:
        assert found == [], found
