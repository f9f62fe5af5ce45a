"""Red team, round 13: lena alone through plays 1 to 3 once more, on the trial's task inputs.

A trial's verdict needs at least five paired inputs (``MIN_INPUTS``) and an interval that
clears its threshold; play 2's rerun by a colleague must reproduce it on the same files (the
spec hash covers the inputs as read). Neither asked whether the inputs are distinct tasks.
lena's trial held one real ticket five times over, each copy with an ``id`` of its own (or a
field the prompt does not show, or the ticket's words in another case and spacing): five
"paired inputs" cleared the bound, every interval narrowed as if five tickets had been
measured, and omar's honest rerun of the same files reproduced it on the same one ticket.
Closed: ``inhouse prove`` and ``inhouse prove --rerun`` refuse a trial whose inputs ask what an
earlier one asks (their messages' words, case, spacing and punctuation set aside), naming the
copies, before any request is sent; verdicts and reruns say how many distinct tasks they ran,
and a rerun that does not say it (made by an older inhouse: the release lena's lock pins) is
set aside as reruns that do not say what their checks did on decoys are; a play 2 that exited
on one keeps its exit, said.
Left: a copy reworded (a synonym, one word more) is no copy to any rule; the colleague who
reruns reads the inputs, as they read a workflow's cases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inhouse.cli.app import app
from inhouse.errors import InvalidInput
from inhouse.program import Program
from inhouse.program.facts import Provenance
from inhouse.testing.standin_idp import StandinIdP
from inhouse.testing.standin_upstream import StandinTiming, standin_in_thread
from inhouse.trials.plan import plan_trial
from inhouse.trials.rerun import rerun_trial
from tests.locks import HERE
from tests.test_engine import (
    LOCK,
    cast,  # noqa: F401
    lock_baseline,
    measured,
    omar,  # noqa: F401
    play,
    prove,
    reproduce,
    through_play_one,
)
from tests.test_engine import program as engine_program  # noqa: F401
from tests.test_outsider import _alias, clock, lena  # noqa: F401
from tests.test_outsider_more import _judge
from tests.test_sign_in import _sign_in
from tests.trials.test_prove import COST, ok, program, runner, write_inputs, write_trial  # noqa: F401

#: checks that judge what an answer says: the stand-ins answer "tok0 tok1 …", which an empty
#: answer and off-topic prose do not
_SAYS = [{"type": "icontains", "value": "tok0"}]


@pytest.fixture
def real(_isolated: Path) -> Path:
    """lena's program, not a demo: play 1's exit wants a real candidate and real checks."""
    ok("init", "Acme", "--lead", "lena")
    ok("person", "role", "lena", "--add", "play-owner")
    ok("hypothesis", "a local model summarises tickets", "--replaces", "hosted API")
    ok("play", "start", "1")
    (_isolated / "data").mkdir()
    return _isolated


#: one real ticket, five times: each copy's id differs, one carries a field the prompt does not
#: show, one says the ticket in another case, spacing and punctuation
_ONE_TICKET_FIVE_TIMES = [
    {"id": "T-1", "text": "The printer on floor 2 jams on every duplex job"},
    {"id": "T-2", "text": "The printer on floor 2 jams on every duplex job"},
    {"id": "T-3", "text": "The printer on floor 2 jams on every duplex job", "team": "ops"},
    {"id": "T-4", "text": "the PRINTER on floor 2   jams on every duplex job!"},
    {"id": "T-5", "text": "The printer on floor 2 jams on every duplex job."},
]


def _api(url: str) -> dict[str, Any]:
    return {"kind": "api", "url": url, "model": "standin-hosted", "price_input_per_mtok": 2.5,
            "price_output_per_mtok": 10.0}  # fmt: skip


def test_one_ticket_five_times_is_no_trial_of_five(real: Path) -> None:
    """lena's candidate answers at once and her "hosted API" a second later: on five copies of
    one ticket the old inhouse recorded a proven verdict and play 1's exit passed, outside a
    demo, on checks that judge what the answers say."""
    folder = real
    write_inputs(folder, _ONE_TICKET_FIVE_TIMES)
    with (
        standin_in_thread(StandinTiming(0, 0, 4), model="standin-a", record=True) as candidate,
        standin_in_thread(StandinTiming(1000, 10, 4), model="standin-hosted", record=True) as quo,
    ):
        write_trial(folder, _api(quo.url), candidate={"url": candidate.url, "cost": COST},
                    meaningful={"faster": 30}, checks=_SAYS)  # fmt: skip
        result = runner.invoke(app, ["prove", "tickets"])
        served = (candidate.requests_served, quo.requests_served)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "trials/tickets.yaml: task.inputs: T-2 asks what T-1 asks" in said, said
    assert "T-3 asks what T-1 asks" in said and "T-5 asks what T-1 asks" in said, said
    assert "5 inputs hold only 1 distinct tasks" in said, said
    assert "keep each real task once in data/tickets.jsonl" in said, said
    assert "Traceback" not in result.stdout + result.stderr
    assert served == (0, 0)  # refused before either side was sent a task
    facts = json.loads(runner.invoke(app, ["fact", "list", "--json"]).stdout)
    assert all(f["kind"] != "trial.verdict" for f in facts)


def test_a_verdict_on_copies_is_not_rerun_into_a_reproduction(program: Path) -> None:  # noqa: F811
    """A verdict on the five copies (an older inhouse's, or typed through the Python API) is
    not reproduced by an honest rerun of the same files: the rerun refuses before it runs,
    and says what comes next."""
    write_inputs(program, _ONE_TICKET_FIVE_TIMES)
    with (
        standin_in_thread(StandinTiming(0, 0, 4), model="standin-a", record=True) as candidate,
        standin_in_thread(StandinTiming(1000, 10, 4), model="standin-hosted", record=True) as quo,
    ):
        write_trial(program, _api(quo.url), candidate={"url": candidate.url, "cost": COST},
                    meaningful={"faster": 30})  # fmt: skip
        plan = plan_trial(program, "tickets")
        lena = Program.open(program)
        lena.record_fact(
            None,
            "trial.verdict",
            {"trial": "tickets", "verdict": "proven", "proven_on": ["faster"],
             "quality_ok": True, "spec_hash": plan.spec_hash, "claim_hash": plan.claim_hash,
             "candidate_pass_rate": 1.0, "inputs": 5, "quality_floor": 5.0},
            provenance=Provenance.MEASURED,
            collector="inhouse prove",
        )  # fmt: skip
        with pytest.raises(InvalidInput) as refused:
            rerun_trial(lena, "tickets")
        served = (candidate.requests_served, quo.requests_served)
    said = str(refused.value)
    assert "T-4 asks what T-1 asks" in said and "1 distinct tasks" in said, said
    assert "`inhouse prove tickets --rerun`" in said, said
    assert "its owner proves it again (`inhouse prove tickets`), and you rerun that" in said
    assert served == (0, 0)
    assert all(f.kind != "trial.rerun" for f in lena.state().facts)


def test_distinct_tickets_alike_in_words_are_distinct_tasks(
    program: Path,  # noqa: F811
) -> None:
    """The honest path: tickets that share most words, or differ only in a field the prompt
    shows, or in the system message, are different tasks, and none is refused."""
    rows = [{"id": f"T-{i}", "text": f"printer {i} on floor {i % 3} jams"} for i in range(6)]
    rows.append({"id": "T-x", "text": "printer 1 on floor 1 jams", "team": "ops"})  # = T-1
    write_inputs(program, rows)
    write_trial(program, _api("http://127.0.0.1:9"), candidate={"url": "http://127.0.0.1:9",
                "cost": COST})  # fmt: skip
    plan = plan_trial(program, "tickets")
    assert [(a.id, b.id) for a, b in plan.repeated] == [("T-x", "T-1")]
    # the field that told them apart, shown by the prompt: no copy is left
    write_trial(program, _api("http://127.0.0.1:9"), candidate={"url": "http://127.0.0.1:9",
                "cost": COST}, task={"prompt": "{{ text }} ({{ team | default('-') }})",
                "inputs": "data/tickets.jsonl"})  # fmt: skip
    assert plan_trial(program, "tickets").repeated == []
    plan_trial(program, "tickets").refuse_repeats("inhouse prove tickets")  # nothing to refuse


# -- play 2: a rerun by an inhouse that does not look at the inputs ------------------------------


@pytest.mark.own_sign_in
def test_an_older_inhouse_s_rerun_of_copies_reproduces_nothing(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """lena proves her five copies with the release she pins in the lock (it does not look at
    the inputs, so its verdict says nothing of them). omar, a real colleague signed in with his
    own account, runs the install script, which gives him that release, and reruns her trial
    honestly: his rerun reproduces the one ticket five times. Before, it counted; now it
    reproduces nothing until he upgrades, whose inhouse refuses the copies (above)."""
    prove(lena)
    assert lena.state().facts[-1].payload.get("distinct_inputs") is None
    colleague = _alias(lena, "omar", "support")
    _sign_in(colleague, idp, "u-omar")
    reproduce(colleague, distinct_inputs=None)  # the release the lock pins
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "fail", reason
    assert (
        "omar's rerun of trial triage (fact #" in reason
        and "was made by an inhouse older than this one: it did not look whether its task "
        "inputs are distinct tasks"
        in reason
        and "omar upgrades inhouse and reruns it (`inhouse prove triage --rerun`)" in reason
    ), reason
    reproduce(colleague)  # today's inhouse, on ten distinct tasks
    assert _judge(lena, "trial-reproduced")[0] == "pass"


def test_a_play_two_that_exited_on_a_rerun_that_did_not_look_keeps_its_exit(
    engine_program: Program,  # noqa: F811
    omar: Program,  # noqa: F811
) -> None:
    """Programs already running: play 2 exited on omar's rerun by the inhouse before this one
    (it counted). The exit keeps its pass on the same evidence, said, and the handoff its
    acceptance."""
    lead = engine_program
    through_play_one(lead)
    omar.request_access(reason="I want the triage model")
    lead.start_play(None, 2)
    lock_baseline(lead)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    before_this = reproduce(omar, distinct_inputs=None)
    from inhouse.program.playchecks import baseline as checks

    judged_on = {**checks._JUDGED_ON}
    with pytest.MonkeyPatch.context() as before_the_rule:
        del judged_on["distinct_inputs"]
        before_the_rule.setattr(checks, "_JUDGED_ON", judged_on)
        before = {r["check"]: r for r in play(lead, 2)["exit"]}["trial-reproduced"]
        assert before["outcome"] == "pass", before
        lead.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2, comment="stood it up from the docs")
    row = {r["check"]: r for r in play(lead, 2)["exit"]}["trial-reproduced"]
    assert row["outcome"] == "pass" and row["evidence"] == before["evidence"], row
    assert "or how many of its inputs are distinct tasks" in row["reason"], row["reason"]
    assert [e["fact"] for e in row["evidence"] if e["kind"] == "trial.rerun"] == [before_this.id]
    assert play(lead, 2)["state"] == "exited"
    assert play(lead, 2)["handoff"]["stale"] is False


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: a copy of a ticket reworded (a synonym, a number spelled out, one "
    "word more) asks what the ticket asks, but no rule on the rendered words tells it from a "
    "different ticket that shares most of them (printer 1 and printer 2 on the same floor are "
    "two tasks); telling them apart needs the task's meaning, which the colleague who reruns "
    "the trial reads in its inputs (or an embedding judge, whose threshold its author would "
    "tune): the lead's to weigh",
)
def test_a_ticket_reworded_five_times_is_one_task(program: Path) -> None:  # noqa: F811
    rows = [
        {"id": "T-1", "text": "The printer on floor 2 jams on every duplex job"},
        {"id": "T-2", "text": "The printer on floor two jams on every duplex job"},
        {"id": "T-3", "text": "The printer on the 2nd floor jams on each duplex job"},
        {"id": "T-4", "text": "Printer, floor 2: jams on every double-sided job"},
        {"id": "T-5", "text": "The floor 2 printer jams whenever a duplex job is sent"},
    ]
    write_inputs(program, rows)
    write_trial(program, _api("http://127.0.0.1:9"), candidate={"url": "http://127.0.0.1:9",
                "cost": COST})  # fmt: skip
    assert len(plan_trial(program, "tickets").repeated) == 4


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: lena's 'hosted API' status quo is her candidate's own weights "
    "behind a proxy of hers that waits a second before it answers (and calls itself gpt-4o): "
    "both sides answer word for word alike on every input, the candidate is 'faster' at equal "
    "quality, and the colleague who reruns it reaches the same proxy and confirms the endpoint "
    "its name claims. Answers alike on every input would tell it (two different models rarely "
    "write the same sentences), but an honest trial of short labels (a category, yes/no, JSON "
    "of one field) answers alike too; a rule needs a length or kind of answer below which "
    "likeness says nothing: the lead's to weigh",
)
def test_a_status_quo_that_answers_as_the_candidate_word_for_word_is_no_status_quo(
    real: Path,
) -> None:
    folder = real
    write_inputs(folder, [{"id": f"T-{i}", "text": f"printer {i} on floor {i % 3} jams"}
                          for i in range(6)])  # fmt: skip
    with (
        standin_in_thread(StandinTiming(0, 0, 12), model="standin-a") as candidate,
        standin_in_thread(StandinTiming(1000, 10, 12), model="gpt-4o") as proxy,
    ):
        write_trial(folder, _api(proxy.url), candidate={"url": candidate.url, "cost": COST},
                    meaningful={"faster": 30}, checks=_SAYS)  # fmt: skip
        runner.invoke(app, ["prove", "tickets"])
    status = json.loads(ok("status", "--json"))
    exit_ = status["plays"][0]["exit"][0]
    assert exit_["check"] == "value-proven"
    assert exit_["outcome"] != "pass", exit_["reason"]
