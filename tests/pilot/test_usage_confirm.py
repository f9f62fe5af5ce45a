"""``inhouse usage confirm``: a member's own word on the days the gateway's figures give them.
The gateway's host is its operator's (a lead), who could seal rows in anyone's name; a person's
day counts for plays 4 and 6 only where they confirmed it with a key of their own, from a
machine of their own (docs/gateway.md). Real gateway requests (in-process, on loopback) to a
**stand-in upstream**, as tests/pilot/gateway_days.py sends them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inhouse.gateway.rollup import rollup_usage
from inhouse.identity import SigningKey
from inhouse.pilot.usage_confirm import attributed_use, confirm_usage
from inhouse.program import Program, Provenance
from inhouse.program.counting import build_context
from inhouse.program.state import ProgramState
from tests.clitools import cli
from tests.conftest import Clock
from tests.people import sign_in_as
from tests.pilot.gateway_days import Pilot, Use, at, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "support")}


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    """bob and pia send requests on 3 and 4 November; nobody has confirmed yet."""
    made = start_pilot(_isolated, clock, TEAMS)
    made.confirms = False
    made.use(Use(p, f"2026-11-0{d}T10:00") for p in TEAMS for d in (3, 4))
    made.on("2026-11-05")
    rollup_usage(made.lead)
    yield made
    made.lead.close()


def _counted_days(lead: Program, person: str) -> list[str]:
    facts = build_context(lead.state(), lead.clock()).facts.of("usage.daily")
    return sorted(str(f.payload["day"]) for f in facts if person in f.payload["people"])


def test_a_member_confirms_their_days_and_leaves_one_out(pilot: Pilot) -> None:
    folder = ["--program", str(pilot.folder)]
    assert _counted_days(pilot.lead, "bob") == []  # signed, not yet his word
    why = [u.why for u in build_context(pilot.lead.state(), pilot.clock()).uncounted]
    assert any(
        w.startswith("not confirmed by bob, pia for 2026-11-03 (`inhouse usage confirm` on their")
        for w in why
    ), why
    shown = cli("usage", "confirm", "--show", *folder, env=pilot.env["bob"])
    assert "To confirm for bob: days 2026-11-03, 2026-11-04" in shown
    out = cli("usage", "confirm", "--except", "2026-11-04", *folder, env=pilot.env["bob"],
              input="y\n")  # fmt: skip
    assert "Confirmed your use" in out and "left out 2026-11-04" in out
    pilot.clock.now = datetime.now(UTC)  # the command signs at the machine's time
    assert _counted_days(pilot.lead, "bob") == ["2026-11-03"]
    assert _counted_days(pilot.lead, "pia") == []  # nobody confirms for her
    # nothing left to confirm: said, and nothing recorded
    before = len(pilot.lead.state().facts)
    out = cli("usage", "confirm", *folder, env=pilot.env["bob"], code=2)
    assert "nothing to confirm" in out
    assert len(pilot.lead.state().facts) == before


def test_the_command_shows_what_it_would_sign_and_records_nothing_without_a_yes(
    pilot: Pilot,
) -> None:
    """The favour: bob never used the gateway; the lead, who runs its host, drove requests with
    his key on 3 and 4 November (or sealed rows in his name), then asked him to "just type
    `inhouse usage confirm`". It used to sign every day the figures give him at once, showing
    nothing before. Now it lists each day with the requests through his keys and asks; no answer
    (no terminal) and "no" record nothing, and his days stay uncounted. His "yes" signs exactly
    what it showed."""
    folder = ["--program", str(pilot.folder)]
    before = len(pilot.lead.state().facts)
    out = cli("usage", "confirm", *folder, env=pilot.env["bob"], code=3)  # typed, not answered
    assert "2026-11-03: 1 request through your keys, the last at 10:00 UTC" in out, out
    assert "2026-11-04: 1 request through your keys" in out
    # no answer (a script, no terminal) is told apart from a no, and told how to answer
    assert "not confirmed, nothing recorded for bob: the question got no answer" in out, out
    assert "in a terminal" in out and "answer y" in out
    out = cli("usage", "confirm", *folder, env=pilot.env["bob"], code=3, input="n\n")
    assert "not confirmed, nothing recorded for bob: confirm only the use you made" in out
    assert "got no answer" not in out
    assert "Did you yourself use the gateway on each of these days" in out
    assert len(pilot.lead.state().facts) == before
    pilot.clock.now = datetime.now(UTC)
    assert _counted_days(pilot.lead, "bob") == []
    # --show lists the same lines, and signs nothing either
    shown = cli("usage", "confirm", "--show", *folder, env=pilot.env["bob"])
    assert "2026-11-04: 1 request through your keys" in shown
    # honest: pia used it on both days, reads them, and says yes
    out = cli("usage", "confirm", *folder, env=pilot.env["pia"], input="y\n")
    assert "2026-11-03: 1 request through your keys" in out and "Confirmed your use" in out
    pilot.clock.now = datetime.now(UTC)  # the command signs at the machine's time
    assert _counted_days(pilot.lead, "pia") == ["2026-11-03", "2026-11-04"]


def test_what_is_signed_is_what_was_shown(pilot: Pilot) -> None:
    """A day the figures gain while bob reads the question is not in what he answers for."""
    from inhouse.pilot.usage_confirm import OwnUse

    asked: list[OwnUse] = []

    def agree(use: OwnUse) -> bool:
        asked.append(use)
        # while he reads: a request with his key on the 5th reaches the usage log
        pilot.use([Use("bob", "2026-11-05T08:00")])
        return True

    fact = confirm_usage(pilot.people["bob"], leave_out=[datetime(2026, 11, 4).date()],
                         agree=agree)  # fmt: skip
    assert [str(d) for d in asked[0].days] == fact.payload["days"] == ["2026-11-03"]
    # the 5th is in the figures now, and waits for a question of its own
    assert "2026-11-05" in [str(d) for d in attributed_use(pilot.people["bob"]).days]
    assert asked[0].lines()[0].startswith("2026-11-03: 1 request through your keys")


def test_the_question_names_each_prompt_version_and_who_wrote_it(pilot: Pilot) -> None:
    """pia's prompt, pinned with bob's key on a day he used the gateway: his day covers the
    lead's requests with his key that day (the count shows them); the version is asked about
    on its own, named with its author, and "no" records neither."""
    pilot.clock.now = at("2026-11-04T11:00")
    pilot.share_prompt("pia", "triage")
    pilot.use([Use("bob", "2026-11-04T12:00", prompt="triage@1")])
    pilot.on("2026-11-05")
    folder = ["--program", str(pilot.folder)]
    out = cli("usage", "confirm", *folder, env=pilot.env["bob"], code=3, input="n\n")
    assert "2026-11-04: 2 requests through your keys, the last at 12:00 UTC" in out, out
    assert "triage@1: a library prompt sent to you, written by pia" in out
    pilot.clock.now = datetime.now(UTC)
    assert _counted_days(pilot.lead, "bob") == []


def test_bad_input_and_someone_elses_confirmation_are_refused(pilot: Pilot) -> None:
    folder = ["--program", str(pilot.folder)]
    before = len(pilot.lead.state().facts)
    out = cli("usage", "confirm", "--except", "yesterday", *folder, env=pilot.env["bob"], code=2)
    assert "--except 'yesterday' is not a day" in out
    out = cli("usage", "confirm", "--except", "2026-11-01", *folder, env=pilot.env["bob"], code=2)
    assert "--except 2026-11-01: not a day the gateway's figures give bob" in out
    out = cli("usage", "confirm", "--on-behalf-of", "pia", *folder, env=pilot.env["bob"], code=3)
    assert "bob cannot confirm pia's use" in out
    assert len(pilot.lead.state().facts) == before
    # signed around the command by bob, in pia's name: it is bob's, and counts for nobody
    pilot.people["bob"].record_fact(
        None, "usage.confirmed", {"person": "pia", "days": ["2026-11-03", "2026-11-04"]},
        provenance=Provenance.MEASURED, collector="inhouse usage confirm",
    )  # fmt: skip
    assert _counted_days(pilot.lead, "pia") == []


def test_a_confirmation_signed_with_a_key_made_on_the_gateways_host_is_nobodys(
    pilot: Pilot,
) -> None:
    """ "Set it up on the gateway box with me": pia adds a machine of hers there (`inhouse
    person invite pia` on her laptop, `inhouse join` on the box, which the lead runs, and
    `inhouse sign-in login` once), so the lead holds that key file. Its confirmation of pia's
    days counts for nobody; pia's own, from her laptop, does."""
    lead = pilot.lead
    assert lead.state().people["gateway"].service
    host = next(k.machine for k in lead.state().keys.values() if k.person == "gateway")
    made_there = SigningKey.generate()
    lead.join(str(pilot.people["pia"].invite("pia")), made_there, at_machine=host)
    there = lead.using(made_there)
    sign_in_as(there)
    fact = confirm_usage(there)  # the lead, with the key file on her host
    assert fact.by == "pia"
    assert _counted_days(lead, "pia") == []
    why = [u.why for u in build_context(lead.state(), lead.clock()).uncounted
           if u.fact.id == fact.id]  # fmt: skip
    assert why and "enrolled on the gateway's host" in why[0], why
    # pia herself, from her own laptop's key
    cli("usage", "confirm", "--program", str(pilot.folder), env=pilot.env["pia"], input="y\n")
    pilot.clock.now = datetime.now(UTC)  # the command signs at the machine's time
    assert _counted_days(lead, "pia") == ["2026-11-03", "2026-11-04"]


def test_an_exit_judged_before_the_rule_keeps_the_use_it_was_judged_on(pilot: Pilot) -> None:
    """A program already running: play 4 exited under the rules before this one (its exit says
    rules 1, or nothing), judged on the gateway's days as they were. That exit keeps them; what
    it was not judged on, and any exit judged by this rule, needs the members' confirmation."""
    from dataclasses import replace

    lead = pilot.lead
    state = lead.state()
    mark = state.head_seq  # the days of 3 and 4 November are signed by then
    daily = [f.id for f in state.facts if f.kind == "usage.daily"]
    assert daily and max(daily) <= mark

    def days(exited: ProgramState, person: str) -> list[str]:
        facts = build_context(exited, lead.clock()).facts.of("usage.daily")
        return sorted(str(f.payload["day"]) for f in facts if person in f.payload["people"])

    when = lead.clock()
    before = replace(state, first_exited={"pilot": (when, mark)}, first_rules={"pilot": 1})
    assert days(before, "bob") == ["2026-11-03", "2026-11-04"]  # kept as it was judged
    named = replace(before, first_judged={"pilot": frozenset(daily[:1])})
    assert len(days(named, "bob")) == 1  # an exit that names its facts keeps those only
    today = replace(before, first_rules={"pilot": 2})
    assert days(today, "bob") == []  # judged by this rule: nothing spared
    assert days(replace(state, first_exited={}), "bob") == []


def test_status_asks_each_member_to_confirm_the_days_the_gateway_gives_them(pilot: Pilot) -> None:
    """Each member's next step names the days awaiting their word, until they give it."""
    from inhouse.next_steps import next_steps

    def asked(person: str) -> list[str]:
        steps = {s["person"]: s["steps"] for s in next_steps(pilot.lead, pilot.lead.status())}
        return [step["text"] for step in steps.get(person, []) if "usage confirm" in step["text"]]

    assert asked("bob") == [
        "confirm your use of the gateway (2 days, 2026-11-03 to 2026-11-04) from your own "
        "machine: `inhouse usage confirm` (it counts only where you confirmed it)"
    ]
    assert len(asked("pia")) == 1
    cli("usage", "confirm", "--except", "2026-11-04", "--program", str(pilot.folder),
        env=pilot.env["bob"], input="y\n")  # fmt: skip
    pilot.clock.now = datetime.now(UTC)  # the command signs at the machine's time
    assert asked("bob") == []  # a day left out is his word too
    assert len(asked("pia")) == 1


@pytest.mark.parametrize(
    "said",
    [
        {"person": "bob", "days": ["not-a-day"]},
        {"person": "bob", "days": "2026-11-03"},  # a string, not a list: iterated by character
        {"person": "bob", "days": [], "prompts": [{"prompt": "x"}]},
        # a day well formed beside a prompt that is not: the whole confirmation says nothing
        {"person": "bob", "days": ["2026-11-03"], "prompts": [{"prompt": "x"}]},
        {"person": "bob", "days": [], "left_out": [3]},
    ],
)
def test_a_malformed_confirmation_takes_no_status_down(
    pilot: Pilot, said: dict[str, object]
) -> None:
    """bob appends a ``usage.confirmed`` of his own around the API (the fold checks signatures,
    not shapes). It confirms nothing: everyone's `inhouse status` still lists what waits on
    them, and bob's `usage confirm --show` still shows his days (it took both down)."""
    from inhouse.next_steps import next_steps
    from inhouse.program.events import EventKind

    pilot.people["bob"]._append(
        EventKind.FACT_RECORDED, "bob",
        {"kind": "usage.confirmed", "version": 1, "payload": said,
         "provenance": Provenance.MEASURED.value, "collector": "inhouse usage confirm"},
    )  # fmt: skip
    steps = {s["person"]: s["steps"] for s in next_steps(pilot.lead, pilot.lead.status())}
    asked = [s["text"] for s in steps.get("bob", []) if "usage confirm" in s["text"]]
    assert asked and "2 days, 2026-11-03 to 2026-11-04" in asked[0], asked
    shown = cli("usage", "confirm", "--show", "--program", str(pilot.folder), env=pilot.env["bob"])
    assert "To confirm for bob: days 2026-11-03, 2026-11-04" in shown
    assert _counted_days(pilot.lead, "bob") == []


def test_a_malformed_daily_figure_takes_no_status_down(pilot: Pilot) -> None:
    """A ``usage.daily`` signed with the gateway's key around the API, its day no date, and a
    ``prompt.usage`` without a version: each member's next step and `usage confirm --show`
    still come, from the figures that are well formed."""
    from inhouse.next_steps import next_steps
    from inhouse.program.events import EventKind

    gateway = pilot.lead.as_service("gateway")
    for kind, payload in (
        ("usage.daily", {"day": "someday", "people": {"bob": {"requests": 1}}}),
        ("prompt.usage", {"prompt": "x", "people": ["bob"], "uses": 1}),
    ):
        gateway._append(
            EventKind.FACT_RECORDED, "gateway",
            {"kind": kind, "version": 1, "payload": payload,
             "provenance": Provenance.MEASURED.value, "collector": "inhouse gateway"},
        )  # fmt: skip
    steps = {s["person"]: s["steps"] for s in next_steps(pilot.lead, pilot.lead.status())}
    asked = [s["text"] for s in steps.get("bob", []) if "usage confirm" in s["text"]]
    assert asked and "2 days, 2026-11-03 to 2026-11-04" in asked[0], asked
    shown = cli("usage", "confirm", "--show", "--program", str(pilot.folder), env=pilot.env["bob"])
    assert "To confirm for bob: days 2026-11-03, 2026-11-04" in shown


def test_inhouse_status_builds_the_context_once(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`inhouse status` judges the board and each person's next steps (the open survey's, the
    days to confirm) at one moment: the checks' context, the costliest part of a status on a
    long log, is built once (each next step at its own microsecond rebuilt it)."""
    import inhouse.program.counting as counting

    started = datetime.now(UTC)
    built: list[datetime] = []
    real = counting._build

    def counted(state: ProgramState, now: datetime) -> counting.CheckContext:
        built.append(now)
        return real(state, now)

    monkeypatch.setattr(counting, "_build", counted)
    out = cli("status", "--program", str(pilot.folder), env=pilot.env["bob"])
    assert "inhouse usage confirm" in out  # the usage step was asked for
    assert len([now for now in built if now >= started]) == 1, built


def test_unconfirmed_days_hide_no_governance_theater(pilot: Pilot) -> None:
    """bob's and pia's days are signed and confirmed by nobody: a support queue set up now is
    set up before any use the checks count, which the warning says."""
    pilot.lead.attest(
        None, "support.queue", {"queue": "#help", "owner": "lead"}, comment="set up"
    )  # fmt: skip
    assert _counted_days(pilot.lead, "bob") == [] and _counted_days(pilot.lead, "pia") == []
    warnings = pilot.lead.status()["warnings"]
    assert any("governance theater" in w for w in warnings), warnings
    # bob's own word on his days, from his own machine: the queue came after real use
    cli("usage", "confirm", "--program", str(pilot.folder), env=pilot.env["bob"], input="y\n")
    pilot.clock.now = datetime.now(UTC)  # the command signs at the machine's time
    warnings = pilot.lead.status()["warnings"]
    assert not any("governance theater" in w for w in warnings), warnings


def test_status_asks_each_member_to_confirm_the_prompt_versions_too(pilot: Pilot) -> None:
    """A library prompt version the gateway's signed figures give bob counts for nobody until
    he confirms it: his next step names it beside his days (it named days only, so with his
    days confirmed and the version left out, `inhouse status` asked him nothing)."""
    from datetime import date

    from inhouse.next_steps import next_steps
    from inhouse.pilot.library_views import record_prompt_usage

    def asked(person: str) -> list[str]:
        steps = {s["person"]: s["steps"] for s in next_steps(pilot.lead, pilot.lead.status())}
        return [step["text"] for step in steps.get(person, []) if "usage confirm" in step["text"]]

    pilot.clock.now = at("2026-11-05T09:00")
    pilot.share_prompt("pia", "triage")
    pilot.use([Use("bob", "2026-11-05T10:00", prompt="triage@1")])
    pilot.on("2026-11-06")
    rollup_usage(pilot.lead)
    record_prompt_usage(pilot.lead)  # the gateway's key signs who was sent each version
    assert asked("bob") == [
        "confirm your use of the gateway (3 days, 2026-11-03 to 2026-11-05; library prompt "
        "triage@1) from your own machine: `inhouse usage confirm` (it counts only where you "
        "confirmed it)"
    ]
    confirm_usage(pilot.people["bob"], leave_out_prompts=[("triage", 1)])
    assert [d for d in attributed_use(pilot.people["bob"]).days if d <= date(2026, 11, 5)] == []
    assert asked("bob") == []  # left out on the record: not asked again (test below)


def test_a_prompt_version_left_out_is_not_asked_about_again(pilot: Pilot) -> None:
    """bob left triage@1 out (`--except-prompt`: he says he was not sent it) and `inhouse
    status` asked him about it every time after, with no way to answer but to confirm what he
    said he did not use. Left out on the record, it is not asked about again, and counts for
    nobody; a use of it the gateway dates later is a new claim, asked about again. Only his own
    word settles it: pia's, leaving it out for herself, does not."""

    from inhouse.next_steps import next_steps
    from inhouse.pilot.library_views import record_prompt_usage
    from inhouse.program.counting import confirmed_prompts

    def asked(person: str) -> list[str]:
        steps = {s["person"]: s["steps"] for s in next_steps(pilot.lead, pilot.lead.status())}
        return [step["text"] for step in steps.get(person, []) if "usage confirm" in step["text"]]

    bob = pilot.people["bob"]
    pilot.clock.now = at("2026-11-05T09:00")
    pilot.share_prompt("pia", "triage")
    pilot.use([Use("bob", "2026-11-05T10:00", prompt="triage@1")])
    pilot.use([Use("pia", "2026-11-05T10:00", prompt="triage@1")])
    pilot.on("2026-11-06")
    rollup_usage(pilot.lead)
    record_prompt_usage(pilot.lead)
    # someone else's word settles nothing of bob's: pia leaves the version out for herself
    confirm_usage(pilot.people["pia"], leave_out_prompts=[("triage", 1)])
    assert asked("pia") == []
    assert any("triage@1" in text for text in asked("bob")), asked("bob")
    confirm_usage(bob, leave_out_prompts=[("triage", 1)])
    assert asked("bob") == []
    assert attributed_use(bob).prompts == []
    counted = build_context(pilot.lead.state(), pilot.lead.clock()).facts
    assert confirmed_prompts(counted.of("usage.confirmed"), "bob") == {}
    [said] = [f for f in counted.of("usage.confirmed") if f.by == "bob"]
    assert said.payload["left_out_prompts"] == [
        {"prompt": "triage", "version": 1, "last": "2026-11-05"}
    ]
    # a use the gateway dates later is asked about again
    pilot.use([Use("bob", "2026-11-06T10:00", prompt="triage@1")])
    pilot.on("2026-11-07")
    rollup_usage(pilot.lead)
    record_prompt_usage(pilot.lead)
    assert any("triage@1" in text for text in asked("bob")), asked("bob")
    assert attributed_use(bob).prompts == [("triage", 1)]
