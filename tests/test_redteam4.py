"""Red team of play 4: one person alone, lena, the rollout lead, who also runs the gateway's
host (the organisation's gateway, vouched for by a real colleague who uses it) and the
dashboard, and holds every key the tool lets a lead hold. She wants play 4's exit (and so play
5's trigger) to pass without her colleagues really using the tool.

The pilot's members are real colleagues, each signed in with an account of their own. The
cheapest way to speak for one of them is to have their signing key made where she can read it:
"set it up on the gateway box with me, it is where the models are" (`ssh gw`, `inhouse join`,
`inhouse sign-in login` once). From then on the key file lies on her host, and everything play 4
asks of the member (their team, their enablement, their key fetch, their survey answer, their
access request) is hers to sign. The log can tell it: the key was enrolled from the machine she
enrolled the gateway's own key from.

On the way, the one-machine rule itself: "the first, by name, stands for it", with "first" read
from enrolments, let five colleagues sat down in turn at one laptop of hers count as five
members (or three askers as three) when they joined in reverse name order. The first to enrol
from a machine stands for it now, whatever the names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from inhouse.errors import NotAllowed
from inhouse.identity import SigningKey, load_key
from inhouse.identity.machine import machine_fingerprint
from inhouse.pilot.roster import state_team
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.program.counting import build_context
from inhouse.program.playchecks.pilot import members, set_aside
from tests.conftest import OTHER_COMPUTER, Clock
from tests.people import enrol, enrol_cli, sign_in_as
from tests.pilot.gateway_days import Pilot, exit_check, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

#: four real colleagues on their own laptops, on four teams
FOUR = {
    "bob": ("support", "support"),
    "pia": ("legal", "support"),
    "dora": ("finance", "analyst"),
    "carl": ("sales", "analyst"),
}


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    """Four members; the gateway's key enrolled by lena on its own host (tests.conftest names
    that machine ``gateway-host``) and vouched for by bob, who uses it."""
    made = start_pilot(_isolated, clock, FOUR)
    try:
        yield made
    finally:
        made.lead.close()


def _gateway_host(monkeypatch: pytest.MonkeyPatch) -> str:
    """The fingerprint a key enrolled on the gateway's host records (as the service's was)."""
    with monkeypatch.context() as patch:
        patch.setenv(OTHER_COMPUTER, "gateway-host")
        return machine_fingerprint()


def _add(pilot: Pilot, name: str, team: str, *, machine: str) -> Program:
    """``name`` joins (signed in with an account of their own) from ``machine``, says their
    team with that key, and lena adds them to the pilot."""
    env = enrol_cli(
        pilot.lead, name, pilot.folder.parent / "keys", team=team, roles=["pilot-user"],
        machine=machine,
    )  # fmt: skip
    person = pilot.lead.using(load_key(Path(env["INHOUSE_KEY"])))
    state_team(person, team)
    pilot.lead.record_fact(
        None,
        "pilot.member",
        {"person": name, "track": "analyst", "action": "added"},
        provenance=Provenance.MEASURED,
        collector="inhouse pilot",
    )
    return person


def test_a_member_whose_key_was_made_on_the_gateway_s_host_is_no_member(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """eve joined on the gateway's host, after lena enrolled the gateway's key there: her key
    file lies where lena runs things, and whatever eve "says" from then on, lena can sign.
    Before, eve was the fifth member and the pilot had its size; she is set aside now, saying
    why and what counts instead (a key enrolled from a machine of her own)."""
    _add(pilot, "eve", "hr", machine=_gateway_host(monkeypatch))
    ctx = build_context(pilot.lead.state(), pilot.clock())
    assert "eve" not in members(ctx)
    assert "gateway's host" in set_aside(ctx)["eve"]
    outcome, reason = exit_check(pilot, "pilot-size")
    assert outcome is Outcome.FAIL, reason
    assert "eve" in reason and "gateway's host" in reason and "machine of their own" in reason


def test_a_member_set_aside_on_the_gateway_s_host_is_told_where_to_sign_in(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What counts instead: eve joins from a machine of her own and signs in. On a SQLite log
    (a file on lena's machine, which sign-in needs and has no outbox for) she cannot sign in
    from there: said so, not "`inhouse sign-in login` on their own machine"."""
    _add(pilot, "eve", "hr", machine=_gateway_host(monkeypatch))
    said = set_aside(build_context(pilot.lead.state(), pilot.clock()))["eve"]
    assert "eve counts once they join from a machine of their own" in said
    if pilot.lead.store.dialect == "sqlite":
        log = pilot.lead.store.engine.url.database
        assert (
            "`inhouse sign-in login` where the log is, on this machine: this program's log is "
            f"SQLite, a file on this machine ({log})"
        ) in said
        assert "on their own machine)" not in said
    else:
        assert said.endswith("`inhouse sign-in login` on their own machine)"), said


def test_a_member_who_enrolled_elsewhere_too_counts(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The honest side: a member with a key from a laptop of their own counts, whatever else
    they enrolled (one key on the gateway's host, as its admin might, takes nothing away)."""
    eve = _add(pilot, "eve", "hr", machine="eve-laptop")
    text = eve.invite("eve")  # eve adds a machine by inviting herself
    second = SigningKey.generate()
    eve.join(str(text), second, at_machine=_gateway_host(monkeypatch))
    sign_in_as(eve.using(second))
    ctx = build_context(pilot.lead.state(), pilot.clock())
    assert "eve" in members(ctx), set_aside(ctx)
    outcome, reason = exit_check(pilot, "pilot-size")
    assert outcome is Outcome.PASS, reason


def test_a_member_enrolled_on_a_machine_before_a_service_was_enrolled_there_counts(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine is whoever enrolled from it first: lena enrolling a service "from" a
    colleague's machine afterwards (its id is the enroller's to state) sets nobody aside."""
    made = start_pilot(_isolated, clock, {**FOUR, "eve": ("hr", "analyst")})
    try:
        ctx = build_context(made.lead.state(), made.clock())
        assert "eve" in members(ctx)
        with monkeypatch.context() as patch:
            patch.setenv(OTHER_COMPUTER, "eve-host")
            from inhouse.program.people import PeopleMixin
            from tests.conftest import ENROL_SERVICE_HERE

            patch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)
            made.lead.as_service("relay")
        ctx = build_context(made.lead.state(), made.clock())
        assert "eve" in members(ctx), set_aside(ctx)
    finally:
        made.lead.close()


def test_access_asked_with_keys_made_on_the_gateway_s_host_is_no_demand(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Play 4's trigger: three colleagues who joined on the gateway's host "ask" for access;
    lena, who runs it, holds their keys, so it is her asking three times."""
    host = _gateway_host(monkeypatch)
    for name in ("zoe", "yan", "xia"):
        person = enrol(pilot.lead, name, team="ops", machine=host)
        person.request_access(reason="I want in")
    refs = [r for r in pilot.lead.playbook.play("pilot").trigger if r.check == "demand-spreading"]
    from inhouse.program.evaluation import context_for, run_checks

    (checked,) = run_checks(refs, context_for(pilot.lead.state(), pilot.lead.clock()))
    assert checked.result.outcome is Outcome.FAIL, checked.result.reason
    assert "gateway's host" in checked.result.reason


def _demand(pilot: Pilot) -> tuple[Outcome, str]:
    from inhouse.program.evaluation import context_for, run_checks

    refs = [r for r in pilot.lead.playbook.play("pilot").trigger if r.check == "demand-spreading"]
    (checked,) = run_checks(refs, context_for(pilot.lead.state(), pilot.lead.clock()))
    return checked.result.outcome, checked.result.reason


def test_three_who_asked_at_one_machine_in_reverse_name_order_are_one(pilot: Pilot) -> None:
    """One machine is one person: three colleagues who each join and ask for access at one
    laptop of lena's (one she never enrolled from) are one asker. The first to enrol there
    stands for it, not the first by name: zoe, yan and xia joined in that order, and each
    of them, compared only with those before them by name who enrolled there earlier than
    they did, counted before, three people."""
    for name in ("zoe", "yan", "xia"):
        enrol(pilot.lead, name, team="ops", machine="lenas-spare-laptop").request_access(
            reason="I want in"
        )
    outcome, reason = _demand(pilot)
    assert outcome is Outcome.FAIL, reason
    assert "access requested by 1 distinct person" in reason
    assert "xia" in reason and "yan" in reason


def test_five_members_who_joined_at_one_machine_in_reverse_name_order_are_one(
    pilot: Pilot,
) -> None:
    """The same for the pilot: five colleagues lena sat down in turn at one laptop of hers,
    each joining, signing in and saying their team there, make one member whatever order
    they joined in (before: in reverse name order, each counted, and the pilot had its size
    and lena five keys to speak for it)."""
    for name, team in (("zed", "hr"), ("yvo", "ops"), ("xan", "it"), ("wes", "risk"),
                       ("ven", "audit")):  # fmt: skip
        _add(pilot, name, team, machine="lenas-spare-laptop")
    ctx = build_context(pilot.lead.state(), pilot.clock())
    assert set(members(ctx)) == {"bob", "pia", "dora", "carl", "zed"}, set_aside(ctx)
    assert {"yvo", "xan", "wes", "ven"} <= set(set_aside(ctx))


def test_a_pilot_that_exited_keeps_the_members_it_exited_on(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program whose play 4 exited before these rules keeps the members it exited on (its
    exit, and the reach the guards let through on it, is not re-judged at upgrade); a member
    listed after the exit is judged by today's rule."""
    from dataclasses import replace

    _add(pilot, "eve", "hr", machine=_gateway_host(monkeypatch))
    ctx = build_context(pilot.lead.state(), pilot.clock())
    mark = max(f.id for f in ctx.facts.of("pilot.member"))
    exited = replace(ctx, exited={**ctx.exited, "pilot": (pilot.clock(), mark)})
    assert "eve" in members(exited)
    _add(pilot, "fay", "ops", machine=_gateway_host(monkeypatch))
    ctx = build_context(pilot.lead.state(), pilot.clock())
    exited = replace(ctx, exited={**ctx.exited, "pilot": (pilot.clock(), mark)})
    assert "eve" in members(exited)
    # fay is set aside: eve, spared, enrolled there first, and the host is a lead's
    assert "fay" not in members(exited) and "fay" in set_aside(exited)


def test_a_prompt_from_a_key_made_on_the_gateway_s_host_is_no_second_author(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library "seeded by more than one author": lena's prompt, and one signed with the key
    a colleague made on the gateway's host (which lena, running it, holds). One author."""
    from inhouse.pilot.library import add_prompt
    from tests.pilot.gateway_days import PROMPT

    eve = enrol(pilot.lead, "eve", team="hr", machine=_gateway_host(monkeypatch))
    add_prompt(pilot.lead, "triage", PROMPT, where="triage.yaml")
    add_prompt(eve, "summary", PROMPT, where="summary.yaml")
    outcome, reason = exit_check(pilot, "prompt-library-seeded")
    assert outcome is Outcome.FAIL, reason
    assert "eve" in reason and "the gateway's host" in reason
    # bob, on his own laptop, is a second author
    add_prompt(pilot.people["bob"], "refund", PROMPT, where="refund.yaml")
    outcome, reason = exit_check(pilot, "prompt-library-seeded")
    assert outcome is Outcome.PASS, reason


def test_a_newcomer_whose_key_was_made_on_the_gateway_s_host_widens_nothing(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Play 5's trigger after play 4 exited: "someone outside the program" asks to get in, with
    a key made on the gateway's host. Lena, who runs it, holds that key: nobody new asked."""
    from dataclasses import replace

    from inhouse.program.playchecks.support import widening_requested

    exited = {"pilot": (pilot.clock(), max(e.seq for e in pilot.lead.events()))}
    pilot.clock.advance(days=1)
    enrol(pilot.lead, "neo", team="ops", machine=_gateway_host(monkeypatch)).request_access(
        reason="I heard about it"
    )
    ctx = build_context(pilot.lead.state(), pilot.clock())
    result = widening_requested(replace(ctx, exited={**ctx.exited, **exited}))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "neo" in result.reason and "the gateway's host" in result.reason
    # one on a laptop of their own is someone new
    enrol(pilot.lead, "ola", team="ops", machine="ola-laptop").request_access(reason="me too")
    ctx = build_context(pilot.lead.state(), pilot.clock())
    result = widening_requested(replace(ctx, exited={**ctx.exited, **exited}))
    assert result.outcome is Outcome.PASS, result.reason


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: lena has eve join on a box of hers first (`ssh box`, `inhouse join`, "
    "`inhouse sign-in login` once), and only then enrols the gateway's key there. A machine is "
    "whoever enrolled from it first, so the box is eve's and she counts, while lena holds the "
    "key file made there. Counting the host against its earlier keys too would let a lead set "
    "any member aside after reading their answer, by enrolling a gateway replica's key under "
    "that member's machine id (a fingerprint is the enroller's to state); telling the two "
    "apart needs a fingerprint the enroller cannot state, or the host's admin on the record",
)
def test_a_member_who_joined_on_the_box_before_the_gateway_was_enrolled_there_is_no_member(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setenv(OTHER_COMPUTER, "relay-host")
        box = machine_fingerprint()
    _add(pilot, "eve", "hr", machine=box)  # eve joins on lena's box
    pilot.lead.enrol_service("relay", SigningKey.generate())  # on its host: the same box
    ctx = build_context(pilot.lead.state(), pilot.clock())
    assert "eve" not in members(ctx)


def test_use_the_gateway_s_host_wrote_for_members_who_only_fetched_a_key_is_not_theirs(
    pilot: Pilot,
) -> None:
    from inhouse.gateway.rollup import gateway_mac_key
    from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
    from inhouse.pilot.adoption import record_adoption
    from inhouse.pilot.usage_confirm import attributed_use, confirm_usage
    from tests.pilot.gateway_days import at

    for person in FOUR:
        pilot.enable(person, "2026-11-02T10:00")
    key = gateway_mac_key(pilot.folder)  # on the gateway's host, which lena runs
    for person in ("bob", "pia", "dora"):  # nobody of them sent a request
        for day in (3, 4, 5):
            record = UsageRecord(
                request_id=new_request_id(), at=f"2026-11-0{day}T10:00:00+00:00",
                person=person, key_id="k_made_up", endpoint="chat/completions", model="tiny",
                status=200, tokens_in=10, tokens_out=5,
            )  # fmt: skip
            record.seal(key)
            insert_usage(pilot.lead.store, [record])
    pilot.clock.now = at("2026-11-06T23:00")
    record_adoption(pilot.lead)
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert not outcome.satisfied, reason
    assert "not confirmed by bob, dora, pia" in reason and "inhouse usage confirm" in reason
    # lena cannot confirm for them: the command refuses, and one signed around it is hers
    with pytest.raises(NotAllowed, match="cannot confirm bob's use"):
        confirm_usage(pilot.lead, person="bob")
    days = ["2026-11-03", "2026-11-04", "2026-11-05"]
    pilot.lead.record_fact(
        None, "usage.confirmed", {"person": "bob", "days": days},
        provenance=Provenance.MEASURED, collector="inhouse usage confirm",
    )  # fmt: skip
    # bob, asked, sees the days the gateway gives him and leaves them all out
    bob = pilot.people["bob"]
    assert attributed_use(bob).days == [date(2026, 11, d) for d in (3, 4, 5)]
    confirm_usage(bob, leave_out=[date(2026, 11, d) for d in (3, 4, 5)])
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert not outcome.satisfied and "not confirmed by bob, dora, pia" in reason, reason
    # and once pia confirms the days the figures give her, they count for her
    confirm_usage(pilot.people["pia"])
    report = build_context(pilot.lead.state(), pilot.clock()).facts.latest("pilot.adoption")
    assert report is not None
    rows = {row["person"]: row for row in report.payload["members"]}
    assert rows["pia"]["independent"] and not rows["bob"]["independent"], rows
