"""Exit rule 11 (``PROVEN_WEIGHTS``) through the command line: play 3's ``workflow-pinned`` asks
that the workflow run on weights a proven trial verdict names and someone other than the
trial's author reproduced, not on any model the lock blesses. The lock here blesses two models;
play 1's trial proved one, and bob reran it. A workflow on the other one (the lock owner's
second choice, which nobody compared with the status quo) passes its tests and its rerun by
another, yet `inhouse status` fails the check naming why and `inhouse handoff offer 3` refuses;
a new version on the proven weights exits.

The evidence is recorded as its collectors record it (measured, each fact signed by the key of
whoever measured it, from their own machine); what is judged is what the CLI says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inhouse.baseline.lock import lock_fact_payload
from inhouse.identity import load_key
from inhouse.program import Program
from inhouse.program.playbook import load_playbook
from tests.clitools import cli
from tests.locks import HERE, JUDGED, made_lock
from tests.people import enrol_cli, lead_env
from tests.test_engine import DIGEST, measured, prove, reproduce

#: the lock's second blessed model: its owner's choice, in no trial
SECOND = "sha256:" + "e" * 64
LOCKED = made_lock(
    "lena", models=[("m0", DIGEST), ("m1", SECOND)], family="llamacpp", rules_hash="r" * 64
)


def _exit_rows(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Play 3's exit checks as `inhouse status --json` shows them to whoever ``env`` acts as."""
    status = json.loads(cli("status", "--json", env=env))
    return {row["check"]: row for row in status["plays"][2]["exit"]}


def _publish(omar: Program, bob: Program, version: str, model: str, digest: str) -> None:
    """omar publishes ``version`` of the workflow on ``model``, tests it, and bob reruns it on
    his own machine: both pass, against the current lock."""
    measured(omar, "workflow.spec", workflow="ticket-summary", content_hash=version,
             author="omar", model=model, model_digest=digest)  # fmt: skip
    run = {"workflow": "ticket-summary", "content_hash": version, "lock_hash": LOCKED.lock_hash,
           "passed": True, "pass_rate": 1.0, "cases": 3, **HERE, **JUDGED}  # fmt: skip
    measured(omar, "workflow.run", **run)
    measured(bob, "workflow.run", **run)


def test_a_workflow_on_the_blessed_model_no_trial_proved_does_not_exit_play_three(
    _isolated: Path,
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", team="platform")
    try:
        lena.change_roles(None, "lena", add=["play-owner"])
        keys = _isolated.parent / "keys"
        omar_env = enrol_cli(lena, "omar", keys, team="support", roles=["play-owner"])
        bob_env = enrol_cli(lena, "bob", keys, team="ops")
        omar = lena.using(load_key(Path(omar_env["INHOUSE_KEY"])))
        bob = lena.using(load_key(Path(bob_env["INHOUSE_KEY"])))
        # play 1: lena's trial proves m0 (DIGEST)
        prove(lena)
        lena.offer_handoff(None, 1, to="lena")
        lena.accept_handoff(None, 1, comment="the trial report")
        # play 2: the lock blesses m0 and m1; bob stands it up and reruns the trial on m0
        omar.request_access(reason="I want the triage model")
        lena.start_play(None, 2)
        measured(lena, "baseline.lock", **lock_fact_payload(LOCKED))
        measured(lena, "baseline.install_script", lock_hash=LOCKED.lock_hash, sha256="c" * 64)
        measured(bob, "baseline.verify", **HERE, lock_hash=LOCKED.lock_hash, passed=True)
        reproduce(bob)
        lena.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2, comment="stood it up from the docs")
        # play 3: omar's workflow on m1, tested by him and rerun by bob
        measured(omar, "task.named", task="ticket-summary", frequency="daily")
        omar.start_play(None, 3)
        _publish(omar, bob, "v1", "m1", SECOND)
        lead = lead_env(lena)
        rows = _exit_rows(lead)
        assert rows["workflow-tests-pass"]["outcome"] == "pass"
        assert rows["workflow-run-by-other"]["outcome"] == "pass"
        pinned = rows["workflow-pinned"]
        assert pinned["outcome"] == "fail", pinned
        assert pinned["reason"].startswith(
            f"workflow ticket-summary runs on m1 ({SECOND[:19]}): no trial proved these weights "
            f"(trial triage proved m0@{DIGEST[:19]}): the lock blesses them, but nobody compared "
            "m1 with the status quo"
        ), pinned["reason"]
        assert "`inhouse prove NAME --rerun`" in pinned["reason"]
        # the text status says the same
        assert "no trial proved these weights" in " ".join(cli("status", env=lead).split())
        # the exit: omar's offer is refused, naming the check and why; nothing is recorded
        before = len(lena.events())
        refused = " ".join(cli("handoff", "offer", "3", "--to", "lena", env=omar_env,
                               code=3).split())  # fmt: skip
        assert "exit criteria are not met" in refused
        assert "no trial proved these weights" in refused
        assert len(lena.events()) == before
        # on the proven weights, a new version exits
        _publish(omar, bob, "v2", "m0", DIGEST)
        pinned = _exit_rows(lead)["workflow-pinned"]
        assert pinned["outcome"] == "pass", pinned
        assert pinned["reason"] == "workflow ticket-summary pinned to m0, the weights trial " \
            "triage proved"  # fmt: skip
        assert {row["outcome"] for row in _exit_rows(lead).values()} == {"pass"}
        offered = cli("handoff", "offer", "3", "--to", "lena", env=omar_env)
        assert "Offered play 3's handoff to lena" in offered
    finally:
        lena.close()


def test_the_exit_title_says_what_workflow_pinned_checks() -> None:
    """The playbook's title for ``workflow-pinned`` said "a workflow whose model is a blessed
    model of the current lock", which a workflow on the lock's unproven second model meets
    while the check fails it. The title is wording, not rules: the rules hash programs record
    (:meth:`Playbook.rules`) is v2's as it shipped, so no version is bumped and no program is
    judged otherwise."""
    book = load_playbook("local-model-program")
    [ref] = [ref for ref in book.play("workflow").exit if ref.check == "workflow-pinned"]
    assert "blessed model of the current lock" not in ref.title
    assert ref.title == (
        "a workflow pinned to weights the current lock blesses and play 1's proven trial names, "
        "reproduced by someone other than the trial's author"
    )
    assert (book.version, book.rules()) == (2, "5f4bc2617852d7cb")
    shown = " ".join(cli("playbook", "show").split())
    assert "weights the current lock blesses and play 1's proven trial names" in shown
