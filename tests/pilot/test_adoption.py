"""Adoption from real use: pilot members send requests through the real gateway with their own
keys on days a test clock picks (a stand-in upstream answers; see ``gateway_days``), and
``inhouse pilot adoption`` says who reaches the tool on their own, on real SQLite and
PostgreSQL. The ``pilot.adoption`` fact counts only when the gateway's own key signed it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli._common import Typer
from inhouse.cli.pilot_adoption import register
from inhouse.pilot.adoption import adoption_report, record_adoption
from inhouse.program import Provenance
from inhouse.program.checks import Outcome
from inhouse.program.collectors import measured_kinds
from inhouse.program.counting import why_uncounted
from inhouse.program.evaluation import context_for, run_checks
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot, Use, commands_on_the_tests_clock, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

TEAMS = {
    "bob": ("support", "support"),
    "pia": ("legal", "support"),
    "dora": ("finance", "analyst"),
}


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    made = start_pilot(_isolated, clock, TEAMS)
    yield made
    made.lead.close()


def _member(pilot: Pilot, person: str, as_of: date | None = None) -> dict[str, object]:
    report = adoption_report(pilot.lead, as_of)
    return next(m.to_dict() for m in report.members if m.person == person)


def test_use_on_a_single_day_does_not_count(pilot: Pilot) -> None:
    pilot.enable("bob", "2026-11-02T10:00")
    pilot.use(Use("bob", f"2026-11-05T{hour}:00") for hour in (10, 11, 15))
    pilot.on("2026-11-20")
    bob = _member(pilot, "bob")
    assert (bob["active_days"], bob["independent"]) == (1, False)
    assert bob["reason"] == "used it on 1 day in 28; 3 needed"
    # nobody else used it: no day, no reason to guess
    assert _member(pilot, "dora")["reason"] == (
        "no request answered through their own key in the last 28 days"
    )


def test_use_only_on_the_onboarding_day_does_not_count(pilot: Pilot) -> None:
    pilot.enable("pia", "2026-11-02T09:30")
    pilot.enable("bob", "2026-11-02T10:00")
    pilot.use(
        [
            Use("pia", "2026-11-02T10:00"),
            Use("pia", "2026-11-02T14:00"),
            # bob had his key before he was onboarded: three days, but after his enablement
            # only the onboarding day itself
            Use("bob", "2026-10-31T10:00"),
            Use("bob", "2026-11-01T10:00"),
            Use("bob", "2026-11-02T11:00"),
        ]
    )
    pilot.on("2026-11-10")
    pia = _member(pilot, "pia")
    assert not pia["independent"]
    assert "used it only on the day they were onboarded (2026-11-02)" in str(pia["reason"])
    bob = _member(pilot, "bob")
    assert (bob["active_days"], bob["days_on_their_own"], bob["independent"]) == (3, 0, False)
    assert (
        bob["reason"] == "used it after enablement only on the day they were onboarded (2026-11-02)"
    )
    pilot.use([Use("bob", "2026-11-03T09:00")])
    bob = _member(pilot, "bob")
    assert (bob["active_days"], bob["days_on_their_own"], bob["independent"]) == (4, 1, True)


def test_use_before_enablement_finished_does_not_count(pilot: Pilot) -> None:
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in ("dora", "pia") for d in (3, 4, 5))
    pilot.enable("dora", "2026-11-05T12:00")
    pilot.on("2026-11-06")
    dora = _member(pilot, "dora")
    assert (dora["active_days"], dora["independent"]) == (3, False)
    assert dora["reason"] == "no use since enablement finished (2026-11-05 12:00 UTC)"
    pia = _member(pilot, "pia")  # never finished her track
    assert pia["reason"] == "enablement (support) not finished"
    # a request answered after enablement finished, the same day: that day is her own
    pilot.use([Use("dora", "2026-11-05T13:00")])
    dora = _member(pilot, "dora")
    assert (dora["active_days"], dora["days_on_their_own"], dora["independent"]) == (3, 1, True)
    assert (
        dora["reason"]
        == "used it on 3 days in 28 (at least 3), 1 of them after enablement finished"
    )


def test_stickiness_last_active_and_prompts_per_member_and_role(pilot: Pilot) -> None:
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    triage, summary = pilot.share_prompt("bob", "triage"), pilot.share_prompt("pia", "summary")
    pilot.use(
        [
            Use("bob", "2026-11-03T10:00", prompt=triage),
            Use("bob", "2026-11-04T10:00", prompt=summary),
            Use("bob", "2026-11-04T16:00", prompt=summary),
            Use("bob", "2026-11-06T10:00"),
            Use("bob", "2026-11-09T10:00"),
            Use("bob", "2026-11-10T10:00", model="not-blessed", status=403),  # refused: not use
            Use("pia", "2026-11-04T10:00", prompt=triage),
            Use("pia", "2026-11-05T10:00"),
        ]
    )
    pilot.on("2026-11-20")
    report = adoption_report(pilot.lead).to_dict()
    assert (report["since"], report["as_of"]) == ("2026-10-24", "2026-11-20")
    rows = {m["person"]: m for m in report["members"]}
    assert {p: (m["active_days"], m["independent"]) for p, m in rows.items()} == {
        "bob": (4, True),
        "dora": (0, False),
        "pia": (2, False),
    }
    assert rows["bob"]["stickiness"] == round(4 / 28, 4)
    assert rows["bob"]["last_active"] == "2026-11-09"  # the refused request is not use
    assert (rows["bob"]["prompts_used"], rows["pia"]["prompts_used"]) == (2, 1)
    roles = {r["track"]: r for r in report["roles"]}
    support = roles["support"]
    # DAU/MAU: 6 member-days over 28 days, two members active in the window
    assert (support["members"], support["active"], support["independent"]) == (2, 2, 1)
    assert support["stickiness"] == round(6 / (28 * 2), 4)
    assert (support["last_active"], support["prompts_used"]) == ("2026-11-09", 2)
    assert roles["analyst"] == {
        "track": "analyst", "members": 1, "active": 0, "independent": 0, "active_days": 0,
        "stickiness": 0.0, "last_active": None, "prompts_used": 0,
    }  # fmt: skip
    assert report["pilot"]["members"] == 3 and report["pilot"]["stickiness"] == round(6 / 56, 4)
    # the window ends on the report's day: a month later only bob's last day is inside it
    later = _member(pilot, "bob", date(2026, 12, 6))
    assert (later["active_days"], later["last_active"]) == (1, "2026-11-09")


def _independent_use(pilot: Pilot) -> tuple[Outcome, str]:
    lead = pilot.lead
    play = lead.playbook.play("pilot")
    refs = [ref for ref in play.exit if ref.check == "pilot-independent-use"]
    (checked,) = run_checks(refs, context_for(lead.state(), lead.clock()))
    return checked.result.outcome, checked.result.reason


def test_an_old_report_fails_the_check_and_recording_again_renews_it(pilot: Pilot) -> None:
    """A report recorded in a good month, and none since, does not speak for the pilot of now:
    the check asks for one as of the last week. An unchanged measurement is recorded again
    once the last is half that old, so a timer (or the lead) renews it."""
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in ("bob", "pia") for d in (3, 4, 5))
    pilot.on("2026-11-06")
    assert record_adoption(pilot.lead)[1] is not None
    pilot.on("2026-11-08")
    assert record_adoption(pilot.lead)[1] is None  # unchanged, and recent
    pilot.on("2026-11-15")
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.FAIL
    assert "is as of 2026-11-06, more than 7 days before today (2026-11-15)" in reason
    _, again = record_adoption(pilot.lead)
    assert again is not None and again.payload["as_of"] == "2026-11-15"
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.PASS and "2 of 3 pilot members" in reason


def test_the_adoption_fact_counts_signed_by_the_gateway_not_by_the_lead(pilot: Pilot) -> None:
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in ("bob", "pia") for d in (3, 4, 5))
    pilot.on("2026-11-06")
    report, fact = record_adoption(pilot.lead)
    assert fact is not None and report.independent == ["bob", "pia"]
    state = pilot.lead.state()
    assert (fact.by, fact.collector) == ("gateway", "inhouse pilot adoption")
    assert state.people["gateway"].service
    assert why_uncounted(fact, state, measured_kinds()) is None
    assert fact.payload["members"][0] == {
        "person": "bob", "active_days": 3, "independent": True,
        "reason": "used it on 3 days in 28 (at least 3), 3 of them after enablement finished",
    }  # fmt: skip
    # nothing changed: nothing new to record, the next day either
    pilot.on("2026-11-07")
    assert record_adoption(pilot.lead)[1] is None
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.PASS and "2 of 3 pilot members" in reason
    # the cheapest forgery: the lead signs the same kind of report, with dora independent too
    forged = dict(fact.payload, members=[
        dict(row, independent=True) for row in fact.payload["members"]
    ])  # fmt: skip
    typed = pilot.lead.record_fact(
        None,
        "pilot.adoption",
        forged,
        provenance=Provenance.MEASURED,
        collector="inhouse pilot adoption",
    )
    assert why_uncounted(typed, pilot.lead.state(), measured_kinds()) == (
        "signed by lena, not by the gateway's own service key"
    )
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.PASS and "2 of 3" in reason  # still the gateway's measurement
    # a member signing it for themselves is no better
    mine = pilot.people["dora"].record_fact(
        None, "pilot.adoption", forged, provenance=Provenance.MEASURED,
        collector="inhouse pilot adoption",
    )  # fmt: skip
    assert "not by the gateway's own service key" in str(
        why_uncounted(mine, pilot.lead.state(), measured_kinds())
    )
    # real use changes the measurement, and the next record says so
    pilot.use(Use("dora", f"2026-11-0{d}T10:00") for d in (7, 8, 9))
    pilot.on("2026-11-09")
    _, again = record_adoption(pilot.lead)
    assert again is not None and again.by == "gateway"
    assert [row["independent"] for row in again.payload["members"]] == [True, True, True]


def test_only_a_lead_enrols_the_gateway_key_that_signs_adoption(
    _isolated: Path, clock: Clock
) -> None:
    """A pilot whose gateway key nobody enrolled yet (``start_pilot`` with members enrols it,
    and a member vouches for its host): a member asking for adoption cannot enrol it."""
    from inhouse.errors import NotAllowed
    from tests.people import enrol

    pilot = start_pilot(_isolated, clock, {})
    try:
        bob = enrol(pilot.lead, "bob", team="support", roles=["pilot-user"])
        assert "gateway" not in pilot.lead.state().people
        with pytest.raises(NotAllowed, match="a rollout lead runs this once"):
            record_adoption(bob)
        assert "gateway" not in pilot.lead.state().people
    finally:
        pilot.lead.close()


runner = CliRunner()


def test_the_adoption_command_shows_members_and_roles_and_records(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands_on_the_tests_clock(pilot, monkeypatch)
    app = Typer()

    @app.callback()
    def _root() -> None:
        """The pilot group's stand-in: `inhouse pilot` mounts the same command."""

    register(app)
    pilot.enable("bob", "2026-11-02T10:00")
    triage = pilot.share_prompt("bob", "triage")
    pilot.use(Use("bob", f"2026-11-0{d}T10:00", prompt=triage) for d in (3, 4, 5))
    pilot.on("2026-11-20")

    def run(*args: str) -> str:
        result = runner.invoke(app, ["adoption", "--as-of", "2026-11-20", *args])
        assert result.exit_code == 0, result.output
        return result.output

    data = json.loads(run("--json"))
    assert [(m["person"], m["independent"]) for m in data["members"]] == [
        ("bob", True), ("dora", False), ("pia", False),
    ]  # fmt: skip
    shown = run()
    assert "bob" in shown and "support" in shown and "1 of 3 members" in shown
    assert "no request answered" in shown
    recorded = run("--record")
    assert "Recorded pilot.adoption" in recorded and "signed by gateway" in recorded
    assert "unchanged" in run("--record")
    far = runner.invoke(app, ["adoption", "--as-of", "0001-01-01"])  # no window before it
    assert far.exit_code == 2 and "Traceback" not in far.output, far.output
    assert "--as-of '0001-01-01': the year is not 1900 to 9998" in " ".join(far.output.split())


def test_the_adoption_commands_reasons_are_whole_at_80_columns(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an 80-column terminal the "why" column, the table's eighth, was cut to a sliver:
    each member's reason, a sentence, read a few letters a line or ended in "…". Each is
    printed whole below the table, wrapped at the terminal's width."""

    commands_on_the_tests_clock(pilot, monkeypatch)
    monkeypatch.setenv("COLUMNS", "80")  # the terminal the CLI prints on
    app = Typer()

    @app.callback()
    def _root() -> None:
        """The pilot group's stand-in: `inhouse pilot` mounts the same command."""

    register(app)
    pilot.enable("bob", "2026-11-02T10:00")
    pilot.use(Use("bob", f"2026-11-0{d}T10:00") for d in (3, 4, 5))
    pilot.on("2026-11-20")
    result = runner.invoke(app, ["adoption", "--as-of", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 80, result.stdout
    flat = " ".join(result.output.split())
    for member in adoption_report(pilot.lead, date(2026, 11, 20)).members:
        assert f"{member.person}: {' '.join(member.reason.split())}" in flat, flat


def test_the_adoption_command_says_the_signed_report_is_too_old_to_count(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report recorded in a good month and none since: the command's figures are of now,
    but what play 4 counts is the latest signed report, and the command says, by the check's
    own rule, that the check no longer counts it and what to run."""
    commands_on_the_tests_clock(pilot, monkeypatch)
    app = Typer()

    @app.callback()
    def _root() -> None:
        """The pilot group's stand-in: `inhouse pilot` mounts the same command."""

    register(app)
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in ("bob", "pia") for d in (3, 4, 5))
    pilot.on("2026-11-06")
    _, fact = record_adoption(pilot.lead)
    assert fact is not None

    def run(*args: str) -> str:
        result = runner.invoke(app, ["adoption", *args])
        assert result.exit_code == 0, result.output
        return result.output

    pilot.on("2026-11-10")  # recent: it counts, and nothing is said
    assert "Too old to count" not in run()
    assert json.loads(run("--json"))["counted"] == {
        "fact": fact.id, "as_of": "2026-11-06", "too_old": None
    }  # fmt: skip
    pilot.on("2026-11-15")
    shown = " ".join(run().split())
    assert "Too old to count: play 4 no longer counts the latest signed report" in shown
    assert "is as of 2026-11-06, more than 7 days before today (2026-11-15)" in shown
    assert "`inhouse pilot adoption --record`" in shown
    counted = json.loads(run("--json"))["counted"]
    assert counted["fact"] == fact.id and "more than 7 days" in counted["too_old"]
    _, check_reason = _independent_use(pilot)
    assert counted["too_old"] == check_reason  # the check's own words, not a second rule
    assert "Too old to count" not in run("--record")  # recorded again: it counts
