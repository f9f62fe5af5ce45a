"""A ``baseline.lock`` fact is the lock it names: it carries the lock's body, and counts only
when its ``lock_hash`` is that body's hash and its runtime, models, rules and owner are the
body's. A ``baseline.verify`` names the digests the machine served, and play 2 counts it only
for the weights the lock pins. The forgeries: the owner alone, with the Python API, re-records
"the lock" a colleague verified with other weights (the ones play 1's trial proved, which nobody
stood up), or a verify names the lock's hash while its runtime served other weights."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result
from inhouse.program.evaluation import context_for, exit_results
from tests.conftest import Clock
from tests.locks import HERE, lock_payload, made_lock
from tests.people import enrol

SERVED = "sha256:" + "b" * 64  # what vic's runtime served and his verify checked
PROVEN = "sha256:" + "c" * 64  # what play 1's trial proved
HONEST = made_lock("lena", models=[("m", SERVED)])
H1 = HONEST.lock_hash
PLAY_TWO = ("baseline-pinned", "install-script-written", "data-rules-written",
            "second-person-verified")  # fmt: skip


def judge(program: Program, check: str) -> Result:
    """Play 2's exit check ``check`` as status judges it (the counting rule included)."""
    for item in exit_results(program.playbook.play(2), program.state(), program.clock()):
        if item.ref.check == check:
            return item.result
    raise AssertionError(f"play 2 has no exit check {check}")


def record(program: Program, kind: str, payload: dict[str, Any], collector: str) -> None:
    program.record_fact(None, kind, payload, provenance=Provenance.MEASURED, collector=collector)


def verify(lock_hash: str, models: list[tuple[str, str]] | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "lock_hash": lock_hash,
        "passed": True,
        "machine": "vic-laptop",
        **HERE,
    }
    if models is not None:
        payload["models"] = [{"name": name, "digest": digest} for name, digest in models]
    return payload


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Program:
    """Play 1 proved weights PROVEN; lena locked SERVED, wrote its install script, and play 2
    runs. Nobody has verified anything yet."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    lena.grant_waiver(None, "calendar-driven-advance", reason="executive-decision", note="s",
                      expires=clock.now + timedelta(days=30), play="prove-value")  # fmt: skip
    lena.start_play(None, 1)
    trial = {"trial": "t", "verdict": "proven", "proven_on": ["cheaper"], "quality_ok": True,
             "candidate": {"model": "m", "digest": PROVEN}}  # fmt: skip
    record(lena, "trial.verdict", trial, "inhouse prove")
    record(lena, "baseline.lock", lock_payload("lena", models=[("m", SERVED)]),
           "inhouse baseline lock")  # fmt: skip
    record(lena, "baseline.install_script", {"lock_hash": H1, "sha256": "s" * 64},
           "inhouse baseline install-script")  # fmt: skip
    return lena


def _forged(how: str) -> dict[str, Any]:
    """The lead's re-recorded lock: the hash vic verified, the weights the trial proved."""
    proven = made_lock("lena", models=[("m", PROVEN)])
    if how == "no body":  # as a fact from before lock facts carried their body
        payload = lock_payload("lena", models=[("m", PROVEN)])
        del payload["body"]
        return {**payload, "lock_hash": H1}
    if how == "honest body, other models":
        return {**lock_payload("lena", models=[("m", SERVED)]),
                "models": [{"name": "m", "digest": PROVEN}]}  # fmt: skip
    assert how == "body edited, hash kept"
    return {**lock_payload("lena", models=[("m", PROVEN)]), "lock_hash": H1,
            "body": proven.body()}  # fmt: skip


@pytest.mark.parametrize(
    ("how", "why"),
    [
        ("no body", "recorded before lock facts carried the lock's body"),
        ("honest body, other models", "its models differ from what the lock it carries pins"),
        ("body edited, hash kept", f"its lock_hash {H1[:19]} is not the hash of the lock"),
    ],
)
def test_a_lock_hash_typed_over_other_weights_does_not_count(
    lena: Program, how: str, why: str
) -> None:
    vic = enrol(lena, "vic", team="ops")  # a real colleague, on his own laptop
    record(vic, "baseline.verify", verify(H1, [("m", SERVED)]), "inhouse baseline verify")
    assert judge(lena, "baseline-pinned").outcome is Outcome.FAIL  # SERVED is not PROVEN
    record(lena, "baseline.lock", _forged(how), "inhouse baseline lock")  # the forgery
    pinned = judge(lena, "baseline-pinned")
    assert pinned.outcome is not Outcome.PASS, pinned.reason
    assert (
        f"trial t's verdict names m@{PROVEN[:19]} as proven" in pinned.reason
    )  # judged on the lock vic verified
    ctx = context_for(lena.state(), lena.clock())
    (aside,) = ctx.uncounted_by_kind["baseline.lock"]
    assert why in aside.why and "re-lock: `inhouse baseline lock`" in aside.why


def test_a_verify_counts_only_for_the_weights_the_lock_pins(lena: Program) -> None:
    vic = enrol(lena, "vic", team="ops")
    # vic names the current lock, but his runtime served other weights
    record(vic, "baseline.verify", verify(H1, [("m", PROVEN)]), "inhouse baseline verify")
    result = judge(lena, "second-person-verified")
    assert result.outcome is Outcome.FAIL
    assert f"found other weights than it pins (m@{SERVED[:19]})" in result.reason
    assert f"vic was served m@{PROVEN[:19]}" in result.reason
    # the locked weights, on his own machine: it counts
    record(vic, "baseline.verify", verify(H1, [("m", SERVED)]), "inhouse baseline verify")
    assert judge(lena, "second-person-verified").outcome is Outcome.PASS


def test_a_verify_from_before_verifies_named_digests_counts_by_its_lock_hash(
    lena: Program,
) -> None:
    """The lock hash of a counted lock is the hash of the digests it pins, and `baseline verify`
    refuses a lock file whose content is not its hash: such a verify checked those digests."""
    vic = enrol(lena, "vic", team="ops")
    record(vic, "baseline.verify", verify(H1, None), "inhouse baseline verify")
    assert judge(lena, "second-person-verified").outcome is Outcome.PASS


def test_the_honest_lock_passes_play_two(lena: Program) -> None:
    """Lock, install script, a second person's verify on their own machine: every exit check
    passes, on the weights the trial proved."""
    proven = lock_payload("lena", models=[("m", PROVEN)])
    record(lena, "baseline.lock", proven, "inhouse baseline lock")
    record(lena, "baseline.install_script", {"lock_hash": proven["lock_hash"], "sha256": "t" * 64},
           "inhouse baseline install-script")  # fmt: skip
    vic = enrol(lena, "vic", team="ops")
    record(vic, "baseline.verify", verify(proven["lock_hash"], [("m", PROVEN)]),
           "inhouse baseline verify")  # fmt: skip
    assert context_for(lena.state(), lena.clock()).uncounted == ()
    for check in PLAY_TWO:
        result = judge(lena, check)
        assert result.outcome is Outcome.PASS, (check, result.reason)
    assert "the weights trial t's verdict names as proven" in judge(lena, "baseline-pinned").reason
