"""Exit rule 39 (:data:`~inhouse.program.checks.MARKED_SERVICE`) at play 4's gateway evidence: a
gateway key that a marked rollout lead's key enrolled after its mark speaks for nobody.

The pilot is real (tests/pilot/gateway_days.py): bob, pia and oli, each signed in with an
account of their own, keyed and onboarded, send requests through the gateway, whose own key,
enrolled on its host, bob vouched for. lena leads the program. She reruns ravi's trial on her
``--trust-python``: her key records that it is about to run his code (``code.trusted``, the
real record the runner makes), and his code, running in her inhouse with her key at hand,
enrols "a second gateway" on a host ravi names, with a key it writes where ravi reads it. ravi
(signed in, no lead, on his own laptop) vouches for its host with the key he kept, and signs
with it the adoption report play 4 reads. Before rule 39 it counted: lena's key is marked by
rule 36, but the service's key never ran anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from inhouse.checks.function import record_trusted
from inhouse.identity import SigningKey
from inhouse.pilot.adoption import record_adoption
from inhouse.program import Program, Provenance
from inhouse.program.checks import MARKED_SERVICE, Outcome
from inhouse.program.counting import build_context, forget, marked_keys
from inhouse.program.people import PeopleMixin
from tests.conftest import ENROL_SERVICE_HERE, OTHER_COMPUTER, Clock
from tests.people import confirm_own_use, enrol, vouch_for_gateway_host
from tests.pilot.gateway_days import Pilot, Use, exit_check, signed_in_pilot

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "analyst"), "oli": ("ops", "analyst")}
CHECK = "pilot-independent-use"


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    """The pilot, each member enabled on 2 November and using the gateway with their own key
    on the 3rd, 4th and 5th (each confirming their own use): all three reach it on their own."""
    with signed_in_pilot(_isolated, clock, TEAMS) as made:
        for name in TEAMS:
            made.enable(name, "2026-11-02T12:00")
        made.use(Use(name, f"2026-11-0{day}T10:00") for day in (3, 4, 5) for name in TEAMS)
        yield made


def _report() -> dict[str, object]:
    """The adoption report ravi signs as "the gateway": the one the real gateway would."""
    return {
        "as_of": "2026-11-06",
        "window_days": 28,
        "min_days": 3,
        "members": [
            {"person": name, "active_days": 3, "independent": True, "reason": "3 days"}
            for name in TEAMS
        ],
    }


def _ravis_gateway(pilot: Pilot, monkeypatch: pytest.MonkeyPatch) -> tuple[Program, SigningKey]:
    """lena runs ravi's code on her --trust-python (her key's ``code.trusted``); the code
    enrols a gateway key on a host ravi names, and keeps the key; ravi vouches for its host
    with it. Returns ravi's program and the key he kept."""
    ravi = enrol(pilot.lead, "ravi", team="eng", machine="ravi-laptop")
    record_trusted(
        pilot.lead, None, ["ravis_checks:looks_fine"], "trials/tickets.yaml",
        "inhouse prove tickets",
    )  # fmt: skip
    kept = SigningKey.generate()
    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)
    monkeypatch.setenv(OTHER_COMPUTER, "gateway-box")
    pilot.lead.enrol_service("gateway", kept)  # the code, with lena's key at hand
    monkeypatch.delenv(OTHER_COMPUTER)
    vouch_for_gateway_host(ravi, kept)
    return ravi, kept


def test_a_gateway_her_marked_key_enrolled_signs_nothing_that_counts(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forgery: what ravi signs with the gateway key his code enrolled through lena's
    marked key does not count for play 4, and says why and the way out."""
    _, kept = _ravis_gateway(pilot, monkeypatch)
    pilot.on("2026-11-06")
    report = pilot.lead.using(kept).record_fact(
        None, "pilot.adoption", _report(), provenance=Provenance.MEASURED,
        collector="inhouse pilot adoption",
    )  # fmt: skip
    context = build_context(pilot.lead.state(), pilot.clock())
    assert report.id not in {f.id for f in context.facts}, "ravi's gateway's report counts"
    [why] = [" ".join(u.why.split()) for u in context.uncounted if u.fact.id == report.id]
    assert f"signed by the gateway service's key {kept.key_id}, which was enrolled by lena's" in why
    assert f"exit rule {MARKED_SERVICE}" in why and "ravis_checks:looks_fine" in why, why
    assert f"`inhouse person revoke-key {kept.key_id}`" in why, why
    outcome, reason = exit_check(pilot, CHECK)
    assert outcome is not Outcome.PASS, reason
    # status names it, whoever asks, with the way out
    [line] = [line for line in marked_keys(pilot.lead.state()) if kept.key_id in line]
    assert f"exit rule {MARKED_SERVICE}" in line, line
    # the real gateway's key, enrolled before her mark, signs on: revoking ravi's is all, not
    # a rotation of the real gateway's key on its host
    [real] = [
        k for k, r in pilot.lead.state().keys.items() if r.person == "gateway" and k != kept.key_id
    ]
    said = " ".join(line.split())
    assert f"the gateway's key {real}, which no marked key enrolled, signs on" in said, said
    assert "inhouse gateway rollup" not in said, said


def test_the_gateway_enrolled_before_her_mark_still_counts(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The honest path beside it: the program's own gateway, enrolled on its host before lena's
    key ran anything, records the adoption report after her mark, and play 4's check passes
    on it; its key is not named among the marked."""
    _ravis_gateway(pilot, monkeypatch)
    pilot.on("2026-11-06")
    _, fact = record_adoption(pilot.lead)
    assert fact is not None and fact.by == "gateway"
    outcome, reason = exit_check(pilot, CHECK)
    assert outcome is Outcome.PASS, reason
    marked = [" ".join(line.split()) for line in marked_keys(pilot.lead.state())]
    assert not any(f"service's key {fact.key} was enrolled" in line for line in marked), marked


@pytest.mark.parametrize("rules", [MARKED_SERVICE - 1, MARKED_SERVICE])
def test_an_exit_judged_on_its_report_before_rule_39_keeps_it(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch, rules: int
) -> None:
    """A play 4 whose exit says rules below 39 and was judged on the marked gateway's report
    keeps it (rule 39 only takes facts away); one judged by rule 39 does not."""
    _, kept = _ravis_gateway(pilot, monkeypatch)
    pilot.on("2026-11-06")
    report = pilot.lead.using(kept).record_fact(
        None, "pilot.adoption", _report(), provenance=Provenance.MEASURED,
        collector="inhouse pilot adoption",
    )  # fmt: skip
    state = pilot.lead.state()
    # what the fold keeps of such an exit (play 4's, judged on the report)
    state.first_exited["pilot"] = (pilot.clock(), state.head_seq)
    state.first_judged["pilot"] = frozenset({report.id})
    state.first_rules["pilot"] = rules
    forget(state)
    counted = report.id in {f.id for f in build_context(state, pilot.clock()).facts}
    assert counted is (rules < MARKED_SERVICE)


def test_days_the_marked_gateway_signed_first_are_signed_by_the_real_one(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The block beside the forgery: ravi, holding the gateway key lena's marked key enrolled,
    signs each day the real gateway will sign, with the figures its summary tables hold (the
    usage tables are the program's store, which a member reads), before its rollup runs.
    Rule 39 sets his facts aside; the real gateway's ``inhouse gateway rollup`` must not take
    those days for signed, or no day of the pilot counts and play 4 never exits."""
    from inhouse.gateway import rollup

    with signed_in_pilot(_isolated, clock, TEAMS) as made:
        for name in TEAMS:
            made.enable(name, "2026-11-02T12:00")
        _, kept = _ravis_gateway(made, monkeypatch)
        made.use(Use(name, f"2026-11-0{day}T10:00") for day in (3, 4, 5) for name in TEAMS)
        with monkeypatch.context() as writer:  # ravi's rollup, signed with the key he kept
            writer.setattr(rollup, "service_program", lambda program: program.using(kept))
            assert rollup.rollup_usage(made.lead).recorded
        made.on("2026-11-06")
        signed = rollup.rollup_usage(made.lead)  # the real gateway's, on its host
        assert {r["day"] for r in signed.recorded} == {"2026-11-03", "2026-11-04", "2026-11-05"}
        context = build_context(made.lead.state(), made.clock())
        counted = {str(f.payload["day"]) for f in context.facts.of("usage.daily")}
        assert {"2026-11-03", "2026-11-04", "2026-11-05"} <= counted, counted


def test_what_members_confirm_is_the_real_gateways_figures_not_the_marked_ones(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other block: after the real gateway signs each day, ravi signs each again with the
    key he kept, every member's figures cut to one request. Rule 39 sets his facts aside, so
    what ``inhouse usage confirm`` shows a member and binds their word to must be the real
    gateway's figures: bound to his, their word covers less than the counted figures give
    them, and their use never counts (asked again, shown his figures again)."""
    from inhouse.pilot.usage_confirm import attributed_use, awaiting_confirmation

    with signed_in_pilot(_isolated, clock, TEAMS) as made:
        for name in TEAMS:
            made.enable(name, "2026-11-02T12:00")
        _, kept = _ravis_gateway(made, monkeypatch)
        made.signs, made.confirms = True, False
        made.use(Use(name, f"2026-11-0{day}T10:00") for day in (3, 4, 5) for name in TEAMS)
        real = [f for f in made.lead.state().facts if f.kind == "usage.daily"]
        assert len(real) == 3
        for fact in real:  # ravi's, signed after the real gateway's
            people = {
                name: {**figures, "requests": 1, "tokens_in": 1, "tokens_out": 1, "own": 1}
                for name, figures in fact.payload["people"].items()
            }
            made.lead.using(kept).record_fact(
                None, "usage.daily", {**fact.payload, "people": people},
                provenance=Provenance.MEASURED, collector="inhouse gateway rollup",
            )  # fmt: skip
        made.on("2026-11-06")
        shown = attributed_use(made.people["bob"]).figures
        figures = {f.payload["day"]: f.payload["people"]["bob"] for f in real}
        assert shown == {
            date.fromisoformat(day): (each["requests"], each["tokens_in"] + each["tokens_out"])
            for day, each in figures.items()
        }, shown
        confirm_own_use(*made.people.values())
        assert awaiting_confirmation(made.lead) == {}


def test_prompt_use_the_marked_gateway_signed_first_is_signed_by_the_real_one(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same block for prompt use: ravi signs, with the key he kept, the ``prompt.usage``
    the real gateway will sign (as ``inhouse pilot prompts usage --record`` does, reading the
    usage tables of the program's store); the real gateway's record must still sign it."""
    from inhouse.pilot.library_views import record_prompt_usage

    with signed_in_pilot(_isolated, clock, TEAMS) as made:
        for name in TEAMS:
            made.enable(name, "2026-11-02T12:00")
        prompt = made.share_prompt("pia", "triage")
        _, kept = _ravis_gateway(made, monkeypatch)
        made.use(Use(name, "2026-11-03T10:00", prompt=prompt) for name in TEAMS)
        with monkeypatch.context() as writer:  # ravi's, signed with the key he kept
            writer.setattr(Program, "as_service", lambda program, name: program.using(kept))
            assert record_prompt_usage(made.lead)
        made.on("2026-11-04")
        assert record_prompt_usage(made.lead), "the real gateway signed no prompt use"
        context = build_context(made.lead.state(), made.clock())
        assert context.facts.of("prompt.usage"), "no prompt use counts"


def test_an_adoption_report_the_marked_gateway_signed_first_is_recorded_by_the_real_one(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same block for play 4's adoption report: ravi signs, with the key he kept, the report
    the real gateway would record now; ``inhouse pilot adoption --record`` on its host must
    still record it, and play 4's check pass on it."""
    _, kept = _ravis_gateway(pilot, monkeypatch)
    pilot.on("2026-11-06")
    with monkeypatch.context() as writer:  # ravi's, signed with the key he kept
        writer.setattr(Program, "as_service", lambda program, name: program.using(kept))
        _, forged = record_adoption(pilot.lead)
    assert forged is not None and forged.key == kept.key_id
    _, fact = record_adoption(pilot.lead)
    assert fact is not None, "the real gateway recorded no adoption report"
    outcome, reason = exit_check(pilot, CHECK)
    assert outcome is Outcome.PASS, reason
