"""The outsider, round 16: paths through plays 2 to 4 the earlier walks do not try.

The cast of tests/workflows/test_author_flip.py: lena leads the program, omar owns play 3 (the
one it judges), vic is a real colleague, signed in with his own account. vic does only what he
would honestly do: run, once, on his own machine, the command omar asks him to run.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.program.facts import Fact
from inhouse.testing.standin_idp import StandinIdP
from inhouse.workflows.runner import record_test_facts
from tests.conftest import Clock
from tests.locks import AT_ZERO
from tests.people import at_own_machine, enrol
from tests.test_engine import DIGEST, HERE, LOCK, _lock, lock_baseline, measured
from tests.test_outsider import clock, lena  # noqa: F401
from tests.test_playchecks import NOW, fact, lock, run, run3, spec
from tests.test_sign_in import _judge, _sign_in
from tests.workflows.test_author_flip import _play_three
from tests.workflows.test_play3_checks import NEW_LOCK, OLD_LOCK, wrun

RELOCKED = _lock("b4600").lock_hash


def _test_run(program: Program, lock_hash: str) -> list[Fact]:
    """What a passing `inhouse workflow test triage` of version v1 on ``lock_hash`` records,
    through the runner's own recording code."""
    workflow = SimpleNamespace(name="triage", content_hash="v1", run_hash="", hashed="")
    pinned = SimpleNamespace(
        model=SimpleNamespace(name="m0", digest=DIGEST),
        lock=SimpleNamespace(lock_hash=lock_hash),
        url="http://127.0.0.1:8080",
        peers=frozenset({"127.0.0.1"}),  # what answered the run: this machine
        test_model=False,
    )
    report = SimpleNamespace(passed=True, pass_rate=1.0, judged=[1, 2, 3], variant="default",
                             proved=3, untested=[], inputs=3)  # fmt: skip
    with at_own_machine(program):
        return record_test_facts(
            program, program.whoami().name, workflow, pinned, report, seed=AT_ZERO
        )  # type: ignore[arg-type]


# -- play 2: the second person's verify -----------------------------------------------------------


def test_a_verify_from_a_stale_install_at_her_server_verifies_nothing(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    lock_baseline(lena)
    vic = enrol(lena, "vic", team="ops")
    _sign_in(vic, idp, "u-vic")  # a real colleague, signed in with his own account
    # what vic's old inhouse records of a verify answered by lena's server: no served digests,
    # nothing that says where it was answered
    measured(vic, "baseline.verify", lock_hash=LOCK, passed=True, machine="vic-laptop",
             failures=[])  # fmt: skip
    result = _judge(lena, "baseline", "second-person-verified")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "vic's verify (fact #" in result.reason
    assert "does not say its runtime answered on their machine" in result.reason
    assert "update inhouse and run `inhouse baseline install` again" in result.reason


# -- play 3: the rerun by someone other than the author ------------------------------------------


def test_a_colleague_made_author_on_an_old_lock_leaves_the_owner_alone_on_the_current_one(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """omar, play 3's owner, writes triage v1 and asks vic to try it before he does: vic's
    passing run publishes the version, so vic is its author. omar then re-locks the baseline
    (a runtime upgrade, say) and runs v1 himself on the new lock: his pass was "someone other
    than the author's", though on the lock the check asks about only omar, the one it judges,
    ran it. The rerun by the owner now counts beside the author's own pass on the current lock;
    vic's rerun there proves it."""
    cast = _play_three(_isolated, clock, idp)
    omar, vic = cast["omar"], cast["vic"]
    try:
        _test_run(vic, LOCK)  # vic, first: the author
        lock_baseline(omar, "b4600")  # omar re-locks
        _test_run(omar, RELOCKED)  # and passes it on the new lock, alone
        assert _judge(omar, "workflow", "workflow-tests-pass").outcome is Outcome.PASS
        result = _judge(omar, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.FAIL, result.reason
        assert "on the current lock only omar, play 3's owner, passed workflow triage" in (
            result.reason
        )
        assert "its author, vic, who published this version, has no passing run" in result.reason
        # vic runs it again, on his own laptop, on the current lock: two people told apart
        _test_run(vic, RELOCKED)
        result = _judge(omar, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.PASS, result.reason
    finally:
        cast["lena"].close()


def test_an_author_s_stale_run_answered_at_the_owner_s_server_stands_beside_nothing(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """vic, on a stale install (an inhouse from before runs said where they were answered or
    what decoys they were judged on, which still counts "as before"), tests omar's version
    first, so he is its author; omar's inhouse.toml points the runtime at omar's address, which
    the old runner never checked, and a server there could answer anything. omar then passes it
    with a current runner. The author's pass stands beside the owner's only where it says it
    was answered on the author's own machine."""
    cast = _play_three(_isolated, clock, idp)
    omar, vic = cast["omar"], cast["vic"]
    try:
        # what an inhouse from before runs said where they were answered records
        measured(vic, "workflow.spec", workflow="triage", content_hash="v1", author="vic",
                 model="m0", model_digest=DIGEST)  # fmt: skip
        measured(vic, "workflow.run", workflow="triage", content_hash="v1", lock_hash=LOCK,
                 passed=True, pass_rate=1.0, cases=3, machine="vic-laptop")  # fmt: skip
        _test_run(omar, LOCK)
        result = _judge(omar, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.FAIL, result.reason
        # (rule 14: his stale pass says neither where it was answered nor whether the test
        # model answered it, so it measured nothing as far as the log can tell)
        assert "has no passing run of it that measured it on their own machine" in result.reason
        assert "was made by an inhouse too old to say where it was answered" in result.reason
        # vic upgrades and runs it again, answered on his laptop: a rerun beside omar's
        _test_run(vic, LOCK)
        result = _judge(omar, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.PASS, result.reason
    finally:
        cast["lena"].close()


def test_a_stale_rerun_when_every_run_is_stale_is_answered_anywhere(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
) -> None:
    cast = _play_three(_isolated, clock, idp)
    omar, vic = cast["omar"], cast["vic"]
    try:
        measured(omar, "workflow.spec", workflow="triage", content_hash="v1", author="omar",
                 model="m0", model_digest=DIGEST)  # fmt: skip
        for who in (omar, vic):
            machine = f"{who.whoami().name}-laptop"
            measured(who, "workflow.run", workflow="triage", content_hash="v1", lock_hash=LOCK,
                     passed=True, pass_rate=1.0, cases=3, machine=machine)  # fmt: skip
        result = _judge(omar, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.FAIL, result.reason
        assert "vic's run (fact #" in result.reason
        # an inhouse that old judged no decoy answers either: that is said first
        assert "was made by an inhouse older than this one: it judged no decoy" in result.reason
        assert "upgrade inhouse and run `inhouse workflow test triage` again" in result.reason
        # what omar's next step on the dashboard says: the same
        from inhouse.web.pages import program_page

        steps = program_page(omar)["next_steps"]
        said = [s["text"] for p in steps if p["person"] == "omar" for s in p["steps"]]
        assert any("run `inhouse workflow test triage` again" in text for text in said), said
    finally:
        cast["lena"].close()


def test_a_rerun_by_anyone_but_the_owner_or_beside_the_author_counts_as_before() -> None:
    """The honest paths the rule leaves alone: omar (the owner) authors and vic reruns on the
    current lock alone; vic authors and omar reruns beside his own pass on it, answered on his
    machine (a run that says so: one that does not stands beside nothing)."""
    current = lock(lock_hash=NEW_LOCK)
    by_lena = run3("workflow-run-by-other", current, spec(), wrun("omar", lock_hash=OLD_LOCK),
                  wrun("vic", lock_hash=NEW_LOCK))  # fmt: skip
    assert by_lena.outcome is Outcome.PASS, by_lena.reason
    hers = spec(by="vic")
    beside = run3("workflow-run-by-other", current, hers, wrun("vic", lock_hash=NEW_LOCK),
                 wrun("omar", lock_hash=NEW_LOCK))  # fmt: skip
    assert beside.outcome is Outcome.PASS, beside.reason
    stale = {k: v for k, v in wrun("vic", lock_hash=NEW_LOCK).payload.items()  # type: ignore[attr-defined]
             if not k.startswith("runtime")}  # fmt: skip
    unsaid = run3("workflow-run-by-other", current, hers, fact("workflow.run", by="vic", **stale),
                 wrun("omar", lock_hash=NEW_LOCK))  # fmt: skip
    assert unsaid.outcome is Outcome.FAIL, unsaid.reason
    alone = run3("workflow-run-by-other", current, hers, wrun("vic", lock_hash=OLD_LOCK),
                wrun("omar", lock_hash=NEW_LOCK))  # fmt: skip
    assert alone.outcome is Outcome.FAIL, alone.reason


def test_a_workflow_only_its_owner_passed_does_not_hide_one_another_proved() -> None:
    """With several workflows, the one judged is the newest someone other than its author
    passed: a newer one only the owner passed on the current lock (its author's pass on an
    earlier one) must not hide an older one a colleague reran."""
    current = lock(lock_hash=NEW_LOCK)
    replies = fact("workflow.spec", by="omar", workflow="replies", content_hash="v1",
                   author="omar", model="m0", model_digest=DIGEST)  # fmt: skip
    reran = wrun("vic", workflow="replies", lock_hash=NEW_LOCK)
    triage = spec(by="vic")
    facts = (current, replies, reran, triage, wrun("vic", lock_hash=OLD_LOCK),
             wrun("omar", lock_hash=NEW_LOCK))  # fmt: skip
    result = run3("workflow-run-by-other", *facts)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("vic (not the author, omar) passed it")
    assert any(f.payload.get("workflow") == "replies" for f in result.evidence)


def test_a_workflow_only_a_stale_rerun_passed_does_not_hide_one_another_proved() -> None:
    """The one judged is the newest someone other than its author passed by a run that counts:
    a newer workflow whose only rerun does not say where it was answered (or says elsewhere)
    must not hide an older one a colleague reran on their own machine."""
    current = lock(lock_hash=NEW_LOCK)
    replies = fact("workflow.spec", by="omar", workflow="replies", content_hash="v1",
                   author="omar", model="m0", model_digest=DIGEST)  # fmt: skip
    reran = wrun("vic", workflow="replies", lock_hash=NEW_LOCK)
    triage = spec()  # omar's, newer
    said = wrun("vic", lock_hash=NEW_LOCK).payload  # type: ignore[attr-defined]
    stale = {k: v for k, v in said.items() if not k.startswith("runtime")}
    served = {**said, "runtime_local": False, "runtime_peers": ["10.0.0.9"]}
    for rerun in (stale, served):
        facts = (current, replies, reran, triage, fact("workflow.run", by="vic", **rerun))
        result = run3("workflow-run-by-other", *facts)
        assert result.outcome is Outcome.PASS, result.reason
        assert any(f.payload.get("workflow") == "replies" for f in result.evidence)
    # a play 3 that exited is judged on the workflow it exited on, as before the rule
    exited = run3(
        "workflow-run-by-other",
        *facts[:-1],
        fact("workflow.run", by="vic", **stale),
        exited={"workflow": (NOW, 10**9)},  # it exited after every one of them
    )
    assert exited.outcome is Outcome.PASS, exited.reason
    assert all(f.payload.get("workflow") != "replies" for f in exited.evidence)


def test_a_play_three_that_exited_on_the_owner_s_rerun_alone_keeps_its_exit() -> None:
    """Programs already running: a play 3 that exited on its owner's pass beside an author's
    on an earlier lock keeps the exit, saying what today's rule asks."""
    current = lock(lock_hash=NEW_LOCK)
    facts = (current, spec(by="lena"), wrun("lena", lock_hash=OLD_LOCK),
             wrun("omar", lock_hash=NEW_LOCK))  # fmt: skip
    kept = run("workflow-run-by-other", *facts, exited={"workflow": (NOW, facts[-1].id)})
    assert kept.outcome is Outcome.PASS, kept.reason
    assert kept.reason.startswith("omar (not the author, lena) passed it")
    assert "note: play 3 exited before a rerun by its owner needed the author's own pass" in (
        kept.reason
    )


@pytest.mark.parametrize("said_first", [False, True], ids=["stale-only", "said-then-stale"])
def test_a_play_three_that_exited_on_a_rerun_that_does_not_say_where_keeps_its_exit(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
    monkeypatch: pytest.MonkeyPatch,
    said_first: bool,
) -> None:
    """Upgrade effect of the rule that a rerun by another must say where it was answered:
    before it, vic's rerun from a stale install (every run of the program one, so no newer
    runner to judge it by) counted, and play 3 exited on it (the latest, where a rerun of his
    that says so came first). Play 3 exited: the exit keeps its outcome and the evidence its
    acceptance hashed, and the handoff does not go stale; the rerun that says so, which it was
    not judged on, is judged by today's runner (its decoys), not spared by the exit's mark."""
    from inhouse.program.playchecks import _shared
    from inhouse.program.playchecks import workflow as checks

    cast = _play_three(_isolated, clock, idp)
    lead, omar, vic = cast["lena"], cast["omar"], cast["vic"]
    # runs from before they said where they were answered said no seed either: the seed rule
    # (35) came later still, and is judged apart (tests/test_workflow_seed_verdicts.py)
    monkeypatch.setattr(checks, "replayed_seed", lambda ctx, run: None)
    try:
        measured(omar, "workflow.spec", workflow="triage", content_hash="v1", author="omar",
                 model="m0", model_digest=DIGEST)  # fmt: skip
        run = {"workflow": "triage", "content_hash": "v1", "lock_hash": LOCK, "passed": True,
               "pass_rate": 1.0, "cases": 3}  # fmt: skip
        # the author's own pass says where it was answered and that no test model answered it
        # (rule 14 asks it of an author's pass; this test is about vic's rerun)
        measured(omar, "workflow.run", **run, **HERE, test_model=False, machine="omar-laptop")
        if said_first:  # a release that said where its runs were answered, before decoys
            measured(vic, "workflow.run", **run, **HERE, machine="vic-laptop")
        measured(vic, "workflow.run", **run, machine="vic-laptop")  # a stale install's
        with monkeypatch.context() as before_the_rule:
            for module in (_shared, checks):
                before_the_rule.setattr(module, "unsaid_where", lambda run: None)
                # and before a run that judged no decoys was older whatever ran before it
                before_the_rule.setattr(
                    module, "stale_runner", lambda ctx, runs, run: _shared.older_runner(runs, run)
                )
            before = _judge(omar, "workflow", "workflow-run-by-other")
            assert before.outcome is Outcome.PASS, before.reason
            omar.offer_handoff(None, 3, to="lena")
            lead.accept_handoff(None, 3, comment="a workflow I can pilot")
        after = _judge(omar, "workflow", "workflow-run-by-other")
        assert after.outcome is Outcome.PASS, after.reason
        # the rule it exited on, said beside today's
        assert after.evidence == before.evidence
        assert "note: play 3 exited before a rerun by another had to say it was answered " \
            "on the rerunner's own machine" in after.reason  # fmt: skip
        assert "run `inhouse workflow test triage` again" in after.reason
        if said_first:  # the rerun that says so, which the exit was not judged on, is today's
            # rule's (followups53): it judged no decoy answers, so it proves nothing
            said = before.evidence[-1].id - 1
            assert f"vic's run (fact #{said}) was made by an inhouse older than this one" in (
                after.reason
            )
        view = lead.status()["plays"][2]
        assert view["state"] == "exited" and view["handoff"]["stale"] is False, view
    finally:
        lead.close()
