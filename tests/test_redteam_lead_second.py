"""Red team: the rollout lead as play 2's "second person" behind an owner she put in charge.

lena leads the program and owns no play. She makes omar, a friendly colleague, the owner of
plays 1 and 2: he types the owner's commands she dictates (the hypothesis, the trial, the lock)
on his own laptop, against whatever she set up. Then lena herself verifies the lock and reruns
the proven trial on her laptop, as "someone other than the owner". Every measurement play 2
asks of a second person is then hers: the person who set the play up checked her own work.

Exit rule 17 (:data:`~inhouse.program.checks.LEAD_APART`): play 2's second person held no
rollout lead's role when they measured, nor measured from a machine such a lead enrolled from.
Play 2's own trigger already asks for someone who is neither an owner nor a lead (whoever asked
to get in), so an honest team that can start play 2 has a colleague who can verify. A play 2
that exited under the rules before keeps its exit for the verify and rerun it was judged on.

Real parts: SQLite, each person's own key from their own laptop, the stand-in identity provider
on loopback (:mod:`inhouse.testing.standin_idp`), facts recorded as their collectors record
them (tests/test_sign_in_walk.py walks the honest program the same way).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from inhouse.baseline.verify import _not_elsewhere
from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.checks import EXIT_RULES, LEAD_APART, Outcome, Result, evaluate
from inhouse.program.counting import build_context
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.locks import lock_payload
from tests.test_engine import CLAIM, DIGEST, HERE, SPEC, measured, reproduce
from tests.test_forgery import _checks
from tests.test_sign_in import _sign_in, signed_in_team

LEAD = "lena was a rollout lead when it was measured"
#: the lock the owner makes: its manifest names him (a lock naming lena would make her its owner)
LOCKED = {"omar": lock_payload("omar"), "lena": lock_payload("lena")}
LOCK = LOCKED["omar"]["lock_hash"]


def lock_baseline(owner: Program, name: str) -> None:
    measured(owner, "baseline.lock", **LOCKED[name])
    lock_hash = LOCKED[name]["lock_hash"]
    measured(owner, "baseline.install_script", lock_hash=lock_hash, sha256="c" * 64)


def _judge(program: Program, check: str, *, rules: int | None = None) -> Result:
    """``check`` on ``program``'s log now; ``rules``: as if play 2's exit had been recorded now,
    judged on every fact so far, saying it was judged by those rules."""
    ctx = build_context(program.state(), program.clock())
    if rules is not None:
        mark = (program.clock(), program.state().head_seq)
        ctx = replace(
            ctx,
            exited={**ctx.exited, "baseline": mark},
            exit_rules={**ctx.exit_rules, "baseline": rules},
        )
    return evaluate(check, ctx)


def _puppet_owner(lena: Program, omar: Program, pia: Program) -> None:
    """lena puts omar in charge of plays 1 and 2; he types what she dictates: the hypothesis,
    the trial's verdict, the handoff to himself, play 2's start and the lock. pia asks in."""
    omar.record_hypothesis(None, "triage locally", aim="replace-dependency", target="OpenAI")
    lena.start_play(None, 1, owner="omar")
    measured(
        omar, "trial.verdict", trial="triage", verdict="proven", proven_on=["cheaper"],
        quality_ok=True, candidate={"model": "m0", "digest": DIGEST}, spec_hash=SPEC,
        candidate_pass_rate=0.9, inputs=10, quality_floor=5.0, claim_hash=CLAIM,
    )  # fmt: skip
    omar.offer_handoff(None, 1, to="omar")
    omar.accept_handoff(None, 1, comment="the trial report is the use case")
    pia.request_access(reason="legal wants contract summaries off the cloud")
    omar.start_play(None, 2)
    lock_baseline(omar, "omar")


@pytest.fixture
def team(_isolated: Path, clock: Clock) -> Any:
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    with StandinIdP(path="/realms/acme", clock=clock) as idp:
        people = signed_in_team(lena, idp, {"omar": "support", "pia": "legal"})
        # lena leads and owns no play: what signed_in_team gave her for its own walk goes
        lena.change_roles(None, "lena", remove=["play-owner"])
        yield lena, people["omar"], people["pia"], idp
    lena.close()


def test_the_lead_behind_an_owner_she_put_in_charge_is_no_second_person(team: Any) -> None:
    lena, omar, pia, idp = team
    _puppet_owner(lena, omar, pia)
    state = lena.state()
    assert state.owners["prove-value"] == state.owners["baseline"] == "omar"

    # the forgery: lena verifies the lock and reruns the trial herself, on her own laptop
    verify = measured(lena, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(lena)
    checks = _checks(lena.status(), 2)
    for name in ("second-person-verified", "trial-reproduced"):
        assert checks[name]["outcome"] == "fail", (name, checks[name]["reason"])
        assert LEAD in checks[name]["reason"], (name, checks[name]["reason"])
    assert lena.status()["plays"][1]["state"] != "exit-met"
    # `inhouse baseline verify` tells her so, by the check's own rule
    said = _not_elsewhere(lena, verify, {"omar"})
    assert said is not None and LEAD in said, said

    # nor from a second machine of hers (a VM she enrolled another key from, signed in as her)
    vm = SigningKey.generate()
    lena.join(str(lena.invite("lena")), vm, at_machine="lena-vm")
    _sign_in(lena.using(vm), idp, "u-lena")
    measured(lena.using(vm), "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(lena.using(vm))
    for name in ("second-person-verified", "trial-reproduced"):
        result = _judge(lena, name)
        assert result.outcome is Outcome.FAIL and LEAD in result.reason, (name, result.reason)

    # a play 2 that exited on her verify and rerun under the rules before keeps its exit; one
    # judged by today's rules does not pass on them
    assert EXIT_RULES >= LEAD_APART
    for name in ("second-person-verified", "trial-reproduced"):
        for rules in (0, LEAD_APART - 1):
            kept = _judge(lena, name, rules=rules)
            assert kept.outcome is Outcome.PASS, (name, rules, kept.reason)
            assert kept.reason.startswith("lena "), (name, rules, kept.reason)
        now = _judge(lena, name, rules=EXIT_RULES)
        assert now.outcome is Outcome.FAIL, (name, now.reason)

    # honest: pia, who asked to get in, stands the baseline up on her laptop and reruns it
    measured(pia, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(pia)
    checks = _checks(lena.status(), 2)
    assert {n: checks[n]["outcome"] for n in checks} == dict.fromkeys(
        ("baseline-pinned", "install-script-written", "data-rules-written",
         "second-person-verified", "trial-reproduced"), "pass",
    )  # fmt: skip
    assert checks["second-person-verified"]["reason"].startswith(f"pia verified lock {LOCK[:12]}")
    assert lena.status()["plays"][1]["state"] == "exit-met"


def test_a_colleague_on_the_leads_machine_is_no_second_person(team: Any) -> None:
    """The lead's machine counts against the second person as an owner's does: a colleague
    who verifies at her laptop measured what she set up there."""
    lena, omar, pia, idp = team
    _puppet_owner(lena, omar, pia)
    lena_machine = sorted(lena.state().machines("lena"))[0]
    key = SigningKey.generate()
    lena.join(str(lena.invite("carl", team="ops")), key, at_machine=lena_machine)
    carl = lena.using(key)
    _sign_in(carl, idp, "u-carl")
    measured(carl, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(carl)
    for name in ("second-person-verified", "trial-reproduced"):
        result = _judge(lena, name)
        assert result.outcome is Outcome.FAIL, (name, result.reason)
        assert "carl's evidence came from a machine" in result.reason, (name, result.reason)
        assert "lena" in result.reason, (name, result.reason)


def test_a_lead_who_owns_plays_one_and_two_is_judged_as_before(team: Any) -> None:
    """Nothing changes where the lead owns the plays herself (the demo's shape): a colleague's
    verify counts, hers never did."""
    lena, omar, pia, _ = team
    lena.change_roles(None, "lena", add=["play-owner"])
    lena.record_hypothesis(None, "triage locally", aim="replace-dependency", target="OpenAI")
    lena.start_play(None, 1)
    measured(
        lena, "trial.verdict", trial="triage", verdict="proven", proven_on=["cheaper"],
        quality_ok=True, candidate={"model": "m0", "digest": DIGEST}, spec_hash=SPEC,
        candidate_pass_rate=0.9, inputs=10, quality_floor=5.0, claim_hash=CLAIM,
    )  # fmt: skip
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1)
    pia.request_access(reason="legal wants in")
    lena.start_play(None, 2)
    lock_baseline(lena, "lena")
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCKED["lena"]["lock_hash"], passed=True)
    reproduce(omar)
    for name in ("second-person-verified", "trial-reproduced"):
        result = _judge(lena, name)
        assert result.outcome is Outcome.PASS, (name, result.reason)
        assert result.reason.startswith("omar "), (name, result.reason)
