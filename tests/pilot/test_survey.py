"""The "would you miss it" survey, on real SQLite and PostgreSQL: only members who used the tool
(through the real gateway, with their own keys; a stand-in upstream answers) on two days of the
last fourteen answer, each in their own signed name; nobody answers for someone else, nor after
the survey closed; the results by role track sit beside Ellis's 40 % and the playbook's "most"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.survey import app
from inhouse.errors import NotAllowed
from inhouse.pilot.survey import (
    answer_survey,
    eligibility,
    open_survey,
    own_answer,
    survey_results,
)
from inhouse.program import Provenance
from inhouse.program.checks import Outcome
from inhouse.program.collectors import measured_kinds
from inhouse.program.counting import why_uncounted
from inhouse.program.evaluation import context_for, run_checks
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot, Use, at, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

TEAMS = {
    "bob": ("support", "support"),
    "pia": ("legal", "support"),
    "dora": ("finance", "analyst"),
    "carl": ("sales", "analyst"),
}
CLOSES = at("2026-11-30T17:00")

runner = CliRunner()


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    made = start_pilot(_isolated, clock, TEAMS)
    made.signs = True  # an answer counts from use the gateway signed
    yield made
    made.lead.close()


def _regulars(pilot: Pilot, *people: str) -> None:
    """``people`` used the tool on 10 and 12 November."""
    pilot.use(Use(p, f"2026-11-{d}T10:00") for p in people for d in (10, 12))


def test_an_ineligible_member_is_refused_with_their_count(pilot: Pilot) -> None:
    # bob used it on three days, but only one of them in the last fourteen
    pilot.use(Use("bob", when) for when in ("2026-10-31T10:00", "2026-11-01T10:00",
                                             "2026-11-15T10:00"))  # fmt: skip
    pilot.clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, CLOSES)
    with pytest.raises(NotAllowed) as refused:
        answer_survey(pilot.people["bob"], "very", "faster triage")
    assert "at least 2 distinct days in the last 14" in str(refused.value)
    assert "bob used it on 1 day from 2026-11-03 to 2026-11-16" in str(refused.value)
    # someone outside the pilot is told so, whatever their use
    assert eligibility(pilot.lead, "omar").reason.startswith(
        "only pilot members answer the survey; omar is not in the pilot"
    )
    # a second day of use makes him eligible, and his own answer is recorded
    pilot.use([Use("bob", "2026-11-16T11:00")])
    pilot.clock.now = at("2026-11-16T12:00")
    assert eligibility(pilot.people["bob"]).eligible
    fact = answer_survey(pilot.people["bob"], "very", "faster triage")
    assert (fact.by, fact.collector, fact.payload["person"]) == ("bob", "inhouse survey", "bob")
    assert fact.payload["would_resist_losing"] is True and fact.payload["survey"] == "ellis-1"
    state = pilot.lead.state()
    assert why_uncounted(fact, state, measured_kinds()) is None


def test_no_answers_yet_says_when_a_member_may_answer(pilot: Pilot) -> None:
    """A survey open and nobody answered: play 4's check names the command, and the use it
    asks first. It said only "each member runs `inhouse survey answer`", which refuses every
    member who has not used the tool on 2 days of 14 (an outsider walking the docs on
    a pilot's first day was sent to a command that refused them)."""
    pilot.use([Use("bob", "2026-11-10T10:00")])  # one day: not yet eligible
    pilot.clock.now = at("2026-11-10T12:00")
    open_survey(pilot.lead, CLOSES)
    with pytest.raises(NotAllowed, match="at least 2 distinct days in the last 14"):
        answer_survey(pilot.people["bob"], "very", "faster triage")
    refs = [r for r in pilot.lead.playbook.play("pilot").exit
            if r.check == "pilot-would-resist-losing"]  # fmt: skip
    (checked,) = run_checks(refs, context_for(pilot.lead.state(), pilot.lead.clock()))
    assert checked.result.outcome is Outcome.FAIL
    assert checked.result.reason.startswith(
        "no survey answers from the pilot yet: each member runs `inhouse survey answer` once "
        "they have used the tool through their own gateway key on 2 distinct days in 14"
    ), checked.result.reason


def test_the_lead_answering_for_someone_is_refused(pilot: Pilot) -> None:
    _regulars(pilot, "bob", "pia")
    pilot.clock.now = at("2026-11-13T09:00")
    open_survey(pilot.lead, CLOSES)
    with pytest.raises(NotAllowed, match="lena cannot answer for bob"):
        answer_survey(pilot.lead, "very", "it is great", person="bob")
    # not as a measurement made on bob's behalf either
    with pytest.raises(NotAllowed, match="cannot record one on behalf of bob"):
        pilot.lead.record_fact(
            "bob", "survey.response", _answer("bob"), provenance=Provenance.MEASURED,
            collector="inhouse survey",
        )  # fmt: skip
    # the cheapest forgery, through the Python API: recorded, shown, never counted
    typed = pilot.lead.record_fact(
        None, "survey.response", _answer("bob"), provenance=Provenance.MEASURED,
        collector="inhouse survey",
    )  # fmt: skip
    why = "signed by lena, not by bob: only bob's own signed survey.response counts"
    assert why_uncounted(typed, pilot.lead.state(), measured_kinds()) == why
    results = survey_results(pilot.lead)
    assert results.pilot.answered == 0 and results.uncounted == ((typed.id, why),)
    # bob's own answer is what counts
    answer_survey(pilot.people["bob"], "somewhat")
    assert survey_results(pilot.lead).pilot.counts["somewhat"] == 1


def _answer(person: str) -> dict[str, object]:
    return {"person": person, "would_resist_losing": True, "survey": "ellis-1", "answer": "very"}


def test_a_closed_survey_no_survey_and_a_second_open_one_are_refused(pilot: Pilot) -> None:
    _regulars(pilot, "bob")
    pilot.clock.now = at("2026-11-13T09:00")
    with pytest.raises(NotAllowed, match="no survey is open"):
        answer_survey(pilot.people["bob"], "very")
    with pytest.raises(NotAllowed, match="only a rollout lead opens a survey; bob is not one"):
        open_survey(pilot.people["bob"], CLOSES)
    survey = open_survey(pilot.lead, at("2026-11-14T17:00"))
    with pytest.raises(NotAllowed, match="survey ellis-1 is still open"):
        open_survey(pilot.lead, CLOSES)
    pilot.clock.now = at("2026-11-14T17:00")
    with pytest.raises(NotAllowed, match="survey ellis-1 closed on 2026-11-14 17:00 UTC"):
        answer_survey(pilot.people["bob"], "very")
    assert survey.name == "ellis-1" and own_answer(pilot.people["bob"]) is None
    # once it closed, the lead may open the next
    assert open_survey(pilot.lead, CLOSES).name == "ellis-2"


def test_a_survey_too_old_to_count_makes_way_for_the_next_though_still_open(pilot: Pilot) -> None:
    """A survey opened more than 28 days ago no longer speaks for the pilot (play 4's check
    fails on it until play 4 exits): one whose lead set its closing years ahead must not keep
    the next one out."""
    pilot.clock.now = at("2026-11-03T09:00")
    open_survey(pilot.lead, at("2029-01-01T00:00"))
    pilot.clock.now = at("2026-12-01T09:00")  # 28 days: it still counts, one at a time
    with pytest.raises(NotAllowed, match="survey ellis-1 is still open"):
        open_survey(pilot.lead, at("2026-12-20T17:00"))
    pilot.clock.now = at("2026-12-02T09:00")
    refs = [r for r in pilot.lead.playbook.play("pilot").exit
            if r.check == "pilot-would-resist-losing"]  # fmt: skip
    (checked,) = run_checks(refs, context_for(pilot.lead.state(), pilot.lead.clock()))
    assert checked.result.outcome is Outcome.FAIL
    assert "(ellis-1, fact #" in checked.result.reason
    assert "more than 28 days before today" in checked.result.reason
    assert open_survey(pilot.lead, at("2026-12-20T17:00")).name == "ellis-2"


def test_a_survey_a_member_opened_around_the_cli_is_no_survey_to_answer(pilot: Pilot) -> None:
    """Play 4's check judges the latest survey a rollout lead opened; so do the commands. dora,
    a member, appends a survey.opened of her own through the Python API (named ellis-2, open
    for a year, after the lead's ellis-1): bob's `survey answer` still answers ellis-1, where
    the check counts it (else his honest answer goes to a survey that counts for nothing), the
    results show ellis-1, and the lead opens the next survey when hers closes."""
    _regulars(pilot, "bob")
    pilot.clock.now = at("2026-11-13T09:00")
    open_survey(pilot.lead, at("2026-11-14T17:00"))
    pilot.people["dora"].record_fact(
        None, "survey.opened", {"survey": "ellis-2", "closes": "2027-11-13T00:00:00+00:00"},
        provenance=Provenance.MEASURED, collector="inhouse survey",
    )  # fmt: skip
    answer = answer_survey(pilot.people["bob"], "very", "faster triage")
    assert answer.payload["survey"] == "ellis-1"
    assert own_answer(pilot.people["bob"]) == answer
    assert survey_results(pilot.lead).survey.name == "ellis-1"
    refs = [r for r in pilot.lead.playbook.play("pilot").exit
            if r.check == "pilot-would-resist-losing"]  # fmt: skip
    (checked,) = run_checks(refs, context_for(pilot.lead.state(), pilot.lead.clock()))
    assert checked.result.reason.startswith("1 of 4 pilot members would be very disappointed")
    pilot.clock.now = at("2026-11-15T09:00")  # ellis-1 closed; dora's "survey" blocks nothing
    assert open_survey(pilot.lead, CLOSES).name == "ellis-3"  # never a name opened before


def test_results_by_role_beside_the_benchmark_and_the_playbooks_share(pilot: Pilot) -> None:
    _regulars(pilot, *TEAMS)
    pilot.clock.now = at("2026-11-13T09:00")
    open_survey(pilot.lead, CLOSES)
    answer_survey(pilot.people["bob"], "somewhat", "faster triage")
    answer_survey(pilot.people["bob"], "very", "triage in half the time")  # replaces the first
    answer_survey(pilot.people["pia"], "very", "drafts that stay in the building")
    answer_survey(pilot.people["dora"], "somewhat", "")
    answer_survey(pilot.people["carl"], "no-longer-use", "")
    found = survey_results(pilot.lead).to_dict()
    tracks = {t["track"]: t for t in found["tracks"]}
    assert tracks["support"] == {
        "track": "support", "members": 2, "answered": 2, "very_share": 1.0, "pilot_share": 1.0,
        "counts": {"very": 2, "somewhat": 0, "not": 0, "no-longer-use": 0},
    }  # fmt: skip
    assert tracks["analyst"]["counts"] == {"very": 0, "somewhat": 1, "not": 0, "no-longer-use": 1}
    assert tracks["analyst"]["very_share"] == 0.0
    pilot_row = found["pilot"]
    assert (pilot_row["members"], pilot_row["answered"], pilot_row["very_share"]) == (4, 4, 0.5)
    # half the pilot is very disappointed: Ellis's 40 % is met, the playbook's "most" is not
    assert (found["benchmark"], found["share"]) == (0.4, 0.5)
    assert found["meets_benchmark"] is True and found["most"] is False
    assert found["benefits"] == [
        {"track": "support", "answer": "very", "benefit": "triage in half the time"},
        {"track": "support", "answer": "very", "benefit": "drafts that stay in the building"},
    ]
    # play 4's exit reads the same answers: two of four is not most of the pilot
    play = pilot.lead.playbook.play("pilot")
    refs = [ref for ref in play.exit if ref.check == "pilot-would-resist-losing"]
    (checked,) = run_checks(refs, context_for(pilot.lead.state(), pilot.lead.clock()))
    assert checked.result.outcome is Outcome.FAIL and "2 of 4" in checked.result.reason
    # dora changes her mind: now most of the pilot would be very disappointed
    answer_survey(pilot.people["dora"], "very", "private data stays private")
    assert survey_results(pilot.lead).most is True
    (checked,) = run_checks(refs, context_for(pilot.lead.state(), pilot.lead.clock()))
    assert checked.result.outcome is Outcome.PASS


def cli(*args: str, env: dict[str, str] | None = None, code: int = 0) -> str:
    result = runner.invoke(app, list(args), env=env)
    out = result.stdout + result.stderr
    assert result.exit_code == code, f"{args}: exit {result.exit_code}: {out}"
    assert "Traceback" not in out
    return out


def test_the_survey_commands(pilot: Pilot, monkeypatch: pytest.MonkeyPatch) -> None:
    # the commands run on the real clock: use on yesterday and today
    today = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    pilot.use(Use(p, when.strftime("%Y-%m-%dT%H:%M")) for p in ("bob", "dora")
              for when in (yesterday, today))  # fmt: skip
    assert "Opened survey ellis-1" in cli("open", "--closes", "14d")
    # no answer yet: no share to hold beside the benchmark (it said "- of answers, which is
    # below Ellis's 40 % benchmark", read as a result)
    shown = " ".join(cli("results").split())
    assert "Very disappointed: no answers yet" in shown and "below Ellis" not in shown, shown
    # on an 80-column terminal the table's headers fold, never cut: "very disapp…",
    # "somewh… disapp…" told no answer's column from the next
    with monkeypatch.context() as narrow:
        narrow.setenv("COLUMNS", "80")  # the terminal the CLI prints on
        table = cli("results")
    assert "…" not in table, table
    bob, pia = pilot.env["bob"], pilot.env["pia"]
    # a benefit is printed by `survey results`: a control character in it is refused by name
    escape = cli("answer", "--answer", "very", "--benefit", "fast\x1b[2J\x07", env=bob, code=2)
    assert "the benefit holds a control character" in " ".join(escape.split())
    assert "It replaces your answer" not in cli(
        "answer", "--answer", "very", "--benefit", "faster triage:\n\tdrafts", env=bob
    )
    out = cli("answer", "--answer", "very", "--benefit", "faster triage", env=bob)
    assert "Recorded your answer to ellis-1: very disappointed" in out and "signed by bob" in out
    out = cli("answer", "--answer", "very", "--benefit", "faster still", env=bob)
    assert "It replaces your answer of fact #" in out
    assert "pia used it on 0 days" in cli("answer", "--answer", "very", env=pia, code=3)
    refused = cli("answer", "--answer", "very", "--on-behalf-of", "dora", code=3)
    assert "lena cannot answer for dora" in refused
    assert "no answer 'maybe'" in cli("answer", "--answer", "maybe", env=bob, code=2)
    shown = cli("results")
    assert "40.0 %" in shown and "50.0 %" in shown and "faster still" in shown
    assert "faster triage" not in shown  # replaced
    data = json.loads(cli("results", "--json"))
    assert data["pilot"]["counts"]["very"] == 1 and data["survey"] == "ellis-1"


def test_results_of_a_survey_too_old_to_count_say_so_and_what_to_run(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A survey opened more than 28 days ago: play 4's check no longer counts it (until play 4
    exits), and its results, in the CLI and its JSON, say so in the check's own words, with
    the command that opens the next; while it counts, nothing is said."""
    from inhouse.cli._common import state as cli_state
    from inhouse.program import Program

    def opened(program: str | None = None) -> Program:
        found = Program.open(pilot.folder, clock=pilot.clock)
        cli_state.opened.append(found)  # closed by the command, as its own would be
        return found

    monkeypatch.setattr("inhouse.cli.survey.open_program", opened)
    pilot.clock.now = at("2026-11-03T09:00")
    open_survey(pilot.lead, CLOSES)
    _regulars(pilot, "bob")
    pilot.clock.now = at("2026-11-12T12:00")
    answer_survey(pilot.people["bob"], "very")
    pilot.clock.now = at("2026-12-01T09:00")  # 28 days: it still counts
    assert survey_results(pilot.lead).too_old is None
    assert "Too old to count" not in cli("results")
    pilot.clock.now = at("2026-12-02T09:00")
    found = survey_results(pilot.lead)
    refs = [r for r in pilot.lead.playbook.play("pilot").exit
            if r.check == "pilot-would-resist-losing"]  # fmt: skip
    (checked,) = run_checks(refs, context_for(pilot.lead.state(), pilot.lead.clock()))
    assert found.too_old == checked.result.reason  # the check's own rule and words
    assert "more than 28 days before today (2026-12-02)" in found.too_old
    shown = " ".join(cli("results").split())
    assert "Too old to count: play 4 no longer counts it: the latest survey (ellis-1" in shown
    assert "`inhouse survey open --closes DATE`" in shown
    assert "very disappointed" in shown.lower()  # its answers are still shown, labelled
    assert json.loads(cli("results", "--json"))["too_old"] == found.too_old


def test_results_of_an_older_survey_say_play_four_reads_only_the_latest(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bob was very disappointed in ellis-1 and not in ellis-2. `survey results --survey
    ellis-1` shows ellis-1's kinder answers, and says first that play 4's check reads only
    ellis-2 (its JSON too); the latest survey's results say nothing of the kind."""
    from inhouse.cli._common import state as cli_state
    from inhouse.program import Program

    def opened(program: str | None = None) -> Program:
        found = Program.open(pilot.folder, clock=pilot.clock)
        cli_state.opened.append(found)  # closed by the command, as its own would be
        return found

    monkeypatch.setattr("inhouse.cli.survey.open_program", opened)
    _regulars(pilot, "bob")
    pilot.clock.now = at("2026-11-12T09:00")
    first = open_survey(pilot.lead, at("2026-11-13T17:00"))
    answer_survey(pilot.people["bob"], "very", "triage in half the time")
    pilot.clock.now = at("2026-11-14T09:00")
    latest = open_survey(pilot.lead, CLOSES)
    answer_survey(pilot.people["bob"], "not")
    shown = " ".join(cli("results", "--survey", "ellis-1").split())
    assert (
        "Not what play 4 judges: play 4's check (pilot-would-resist-losing) reads only the "
        f"latest survey a rollout lead opened, ellis-2 (fact #{latest.fact}, opened 2026-11-14); "
        "these are ellis-1's answers, which it does not count" in shown
    )
    assert "triage in half the time" in shown  # ellis-1's answers are still shown, labelled
    data = json.loads(cli("results", "--survey", "ellis-1", "--json"))
    assert (data["survey"], data["fact"], data["judged"]) == ("ellis-1", first.fact, "ellis-2")
    assert "reads only the latest survey" in data["not_judged"]
    # the survey the check reads says nothing of the kind
    assert "Not what play 4 judges" not in cli("results")
    assert "Not what play 4 judges" not in cli("results", "--survey", "ellis-2")
    assert json.loads(cli("results", "--json"))["not_judged"] is None
    # and the check reads ellis-2 indeed: bob's "very" in ellis-1 counts for nothing
    refs = [r for r in pilot.lead.playbook.play("pilot").exit
            if r.check == "pilot-would-resist-losing"]  # fmt: skip
    (checked,) = run_checks(refs, context_for(pilot.lead.state(), pilot.lead.clock()))
    assert checked.result.reason.startswith("0 of 4 pilot members would be very disappointed")
