"""The periodic review: the cadence from [review], scheduled by a lead, held by the people the
cadence names with a decision for every model the last drift review saw served (an Ollama
stand-in with the recorded /api/tags shape: the blessed llama3.2 and an unpinned gemma3), the
refusals (nothing recorded), review-held on time and overdue, the status warning, and the
forgeries: a hand-typed review, one made through the Python API without the roles, and
attendees who never confirmed with their own key (a colleague listed, an alias on the recorder's
laptop, a confirmation signed for them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.baseline.lock import Lock, LockedModel, LockedRuntime, lock_fact_payload, write_lock
from inhouse.cli.app import app
from inhouse.errors import ConfigError, InvalidInput, NotAllowed, UnknownPerson
from inhouse.gateway.rollup import service_program
from inhouse.identity.machine import machine_fingerprint
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result
from inhouse.program.evaluation import exit_results
from inhouse.program.status import build_status
from inhouse.support.drift import record_drift_review
from inhouse.support.review import (
    COLLECTOR,
    attend_review,
    hold_review,
    review_status,
    schedule_review,
)
from tests.conftest import Clock
from tests.people import enrol, enrol_cli, lead_env, vouch_for_gateway_host
from tests.runtimes.standin import StandIn, fixture

runner = CliRunner()
LLAMA = "sha256:a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72"
CADENCE = '[review]\nevery_days = 30\nroles = ["rollout-lead", "support-owner"]\n'
KEEP = ["llama3.2:latest=keep:answers the support team well", "gemma3=retire:nobody blessed it"]


def judge(program: Program, now: object = None) -> Result:
    play = next(p for p in program.playbook.plays if p.id == "support")
    for item in exit_results(play, program.state(), now or program.clock()):  # type: ignore[arg-type]
        if item.ref.check == "review-held":
            return item.result
    raise AssertionError("play 5 has no review-held check")


@pytest.fixture
def ollama() -> Iterator[StandIn]:
    with StandIn() as server:
        server.json("GET", "/api/tags", fixture("ollama-0.12.6_api_tags.json"))
        server.json("GET", "/api/ps", {"models": []})
        server.json("GET", "/api/version", fixture("ollama-0.12.6_api_version.json"))
        yield server


def reviewed(
    folder: Path, clock: Clock, ollama: StandIn, cadence: str = CADENCE, *, drift: bool = True
) -> Program:
    """lena leads, sam owns support; the lock blesses llama3.2 on an Ollama node that also
    serves gemma3; a drift review recorded it, with the gateway's key (``drift=False``: the
    gateway's key enrolled on its host, no drift review yet). vic (ops), signed in and never a
    lead, has vouched for the gateway's host: with the organisation's sign-in set up, what the
    gateway signs counts only then (docs/gateway.md, "Whose host")."""
    program = Program.init(folder, "Acme", "lena", clock=clock)
    config = folder / "inhouse.toml"
    config.write_text(
        config.read_text()
        + f'\n[runtimes.gpu1]\nfamily = "ollama"\nurl = "{ollama.url}"\n\n[gateway]\n\n{cadence}'
    )
    lock = Lock(
        owner="lena", runtime=LockedRuntime(name="gpu1", family="ollama", version="0.12.6"),
        models=[LockedModel(name="llama3.2:latest", digest=LLAMA)], python="3.12",
        inhouse="0.1.0",
    )  # fmt: skip
    lock = lock.model_copy(update={"lock_hash": lock.computed_hash()})
    write_lock(folder, lock)
    program.record_fact(
        None, "baseline.lock", lock_fact_payload(lock), provenance=Provenance.MEASURED,
        collector="inhouse baseline lock",
    )  # fmt: skip
    if drift:
        record_drift_review(program)
    else:
        service_program(program)  # the gateway's key, enrolled on its host
    vouch_for_gateway_host(enrol(program, "vic", team="ops"))
    return program


def test_the_cadence_is_data_and_only_a_lead_schedules(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    program = reviewed(_isolated, clock, ollama, cadence="")
    with pytest.raises(ConfigError, match=r"no \[review\] table"):
        schedule_review(program)
    config = _isolated / "inhouse.toml"
    text = config.read_text()
    config.write_text(text + '[review]\nevery_days = 0\nroles = ["boss"]\n')
    with pytest.raises(ConfigError, match=r"review\.every_days") as bad:
        schedule_review(program)
    assert "review.roles" in str(bad.value)
    config.write_text(text + CADENCE)
    sam = enrol(program, "sam", team="support", roles=["support-owner"])
    with pytest.raises(NotAllowed, match="only a rollout lead schedules"):
        schedule_review(sam)
    fact = schedule_review(program)
    assert fact.payload == {"every_days": 30, "roles": ["rollout-lead", "support-owner"]}
    assert (fact.collector, fact.by) == (COLLECTOR, "lena")


def test_holding_is_refused_without_the_roles_or_a_decision_for_every_item(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    program = reviewed(_isolated, clock, ollama)
    sam = enrol(program, "sam", team="support", roles=["support-owner"])
    with pytest.raises(InvalidInput, match="no periodic review is scheduled"):
        hold_review(program, ["lena", "sam"], KEEP)
    schedule_review(program)
    facts = len(program.state().facts)
    with pytest.raises(InvalidInput, match="nobody among lena holds support-owner"):
        hold_review(program, ["lena"], KEEP)
    with pytest.raises(InvalidInput, match="no decision for gemma3: every served model"):
        hold_review(program, ["lena", "sam"], KEEP[:1])
    with pytest.raises(InvalidInput, match=r"'mistral' is not an inventory item"):
        hold_review(program, ["lena", "sam"], [*KEEP, "mistral=keep:why not"])
    with pytest.raises(InvalidInput, match="cannot read decision 'gemma3=drop'"):
        hold_review(program, ["lena", "sam"], ["gemma3=drop"])
    with pytest.raises(UnknownPerson, match="'ghost' is not a person"):
        hold_review(program, ["lena", "sam", "ghost"], KEEP)
    with pytest.raises(NotAllowed, match="sam records the review, so sam attended"):
        hold_review(sam, ["lena"], KEEP)
    assert len(program.state().facts) == facts  # every refusal left the log as it was
    held = hold_review(sam, ["lena", "sam"], KEEP, notes="gemma3 goes")
    assert held.payload["next_due"] == (clock.now.date() + timedelta(days=30)).isoformat()
    assert [d["item"] for d in held.payload["decisions"]] == ["llama3.2:latest", "gemma3"]
    pending = judge(program)
    assert pending.outcome is Outcome.FAIL
    assert f"lena has not confirmed (each runs `inhouse review attend {held.id}`" in pending.reason
    attend_review(program, held.id, comment="gemma3 goes, agreed")
    result = judge(program)
    assert result.outcome is Outcome.PASS and "by lena, sam" in result.reason


def test_a_review_not_held_within_the_cadence_is_overdue_on_the_check_and_status(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    program = reviewed(_isolated, clock, ollama)
    sam = enrol(program, "sam", team="support", roles=["support-owner"])
    schedule_review(program)
    due = clock.now.date() + timedelta(days=30)
    pending = judge(program)
    assert pending.outcome is Outcome.FAIL and f"none held since (due {due})" in pending.reason
    clock.advance(days=31)
    late = judge(program)
    assert late.outcome is Outcome.FAIL and f"overdue since {due}" in late.reason
    warnings = build_status(program.playbook, program.state(), clock.now)["warnings"]
    assert f"a review is overdue since {due}" in " ".join(warnings)
    assert review_status(program).overdue

    hold_review(program, ["lena", "sam"], KEEP)
    attend_review(sam)
    assert judge(program).outcome is Outcome.PASS
    warnings = build_status(program.playbook, program.state(), clock.now)["warnings"]
    assert not any("review is overdue" in w for w in warnings)
    clock.advance(days=31)
    again = judge(program)
    next_due = date.fromisoformat(str(review_status(program).due))
    assert again.outcome is Outcome.FAIL and f"overdue since {next_due}" in again.reason


def test_a_hand_typed_or_api_made_review_does_not_count(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    program = reviewed(_isolated, clock, ollama)
    enrol(program, "sam", team="support", roles=["support-owner"])
    schedule_review(program)
    decisions = [
        {"item": "llama3.2:latest", "decision": "keep", "reason": "fine"},
        {"item": "gemma3", "decision": "keep", "reason": "fine"},
    ]
    program.attest(None, "review.held", {"attendees": ["lena", "sam"], "decisions": decisions},
                   "we met on Tuesday")  # fmt: skip
    typed = judge(program)
    assert typed.outcome is Outcome.INCONCLUSIVE and "a person's word" in typed.reason
    # the Python API, bypassing hold_review: the lead alone, then without every decision
    program.record_fact(None, "review.held", {"attendees": ["lena"], "decisions": decisions},
                        provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip
    alone = judge(program)
    assert alone.outcome is not Outcome.PASS
    assert "does not count: nobody among lena held support-owner when it was held" in alone.reason
    program.record_fact(None, "review.held",
                        {"attendees": ["lena", "sam"], "decisions": decisions[:1]},
                        provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip
    assert "does not count: no decision for gemma3" in judge(program).reason


def scheduled(folder: Path, clock: Clock, ollama: StandIn) -> tuple[Program, Program, Program]:
    """:func:`reviewed`, with sam (support owner) and pia (legal) enrolled on their own laptops
    and the review scheduled: the program and sam's and pia's."""
    program = reviewed(folder, clock, ollama)
    sam = enrol(program, "sam", team="support", roles=["support-owner"])
    pia = enrol(program, "pia", team="legal")
    schedule_review(program)
    return program, sam, pia


def test_a_review_nobody_confirmed_leaves_it_overdue(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    """A review the lead records alone (sam listed, never confirming) clears neither the status
    warning nor `review status`'s overdue: the due date moves only with a review that counts."""
    program = reviewed(_isolated, clock, ollama)
    sam = enrol(program, "sam", team="support", roles=["support-owner"])
    schedule_review(program)
    due = clock.now.date() + timedelta(days=30)
    clock.advance(days=31)
    hold_review(program, ["lena", "sam"], KEEP)
    warnings = build_status(program.playbook, program.state(), clock.now)["warnings"]
    assert f"a review is overdue since {due}" in " ".join(warnings)
    assert review_status(program).overdue and judge(program).outcome is Outcome.FAIL
    attend_review(sam)
    warnings = build_status(program.playbook, program.state(), clock.now)["warnings"]
    assert not any("review is overdue" in w for w in warnings)
    assert not review_status(program).overdue and judge(program).outcome is Outcome.PASS


def test_an_attendee_counts_only_by_their_own_confirmation_from_their_own_machine(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    program, sam, pia = scheduled(_isolated, clock, ollama)
    # the lead lists sam, a real colleague, who never confirms: not held
    held = hold_review(program, ["lena", "sam"], KEEP)
    listed = judge(program)
    assert listed.outcome is Outcome.FAIL
    assert "does not count: nobody but lena confirmed attending" in listed.reason
    assert f"sam has not confirmed (each runs `inhouse review attend {held.id}`" in listed.reason

    # a confirmation the lead signs for sam, as hers or on his behalf, is not sam's
    program.record_fact(None, "review.attended", {"review": held.id, "person": "sam"},
                        provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip
    program.attest("sam", "review.attended", {"review": held.id, "person": "sam"}, "he came")
    signed_for = judge(program)
    assert signed_for.outcome is Outcome.INCONCLUSIVE
    assert "only sam's own signed review.attended counts" in signed_for.reason
    assert "nobody but lena confirmed attending" in signed_for.reason

    # the "support owner" is an alias whose key the lead enrolled from her own laptop
    max_ = enrol(program, "max", roles=["support-owner"], machine=machine_fingerprint())
    alias = hold_review(program, ["lena", "max"], KEEP)
    attend_review(max_, alias.id)
    aside = judge(program)
    assert aside.outcome is not Outcome.PASS
    assert f"the review held {clock.now:%Y-%m-%d} does not count" in aside.reason
    assert "max confirmed with keys all enrolled from a machine lena" in aside.reason
    assert review_status(program).to_dict()["held"]["set_aside"] == ["max"]

    # the roles are judged on who confirmed: pia did, the support owner did not
    both = hold_review(program, ["lena", "sam", "pia"], KEEP)
    attend_review(pia, both.id)
    roles = judge(program)
    assert roles.outcome is not Outcome.PASS
    assert (
        "nobody who attended by their own signature (lena, pia) held support-owner when it was "
        f"held: sam has not confirmed (each runs `inhouse review attend {both.id}`"
    ) in roles.reason

    # sam confirms with his own key, from his own laptop: held
    attend_review(sam, both.id, comment="the queue is fine")
    result = judge(program)
    assert result.outcome is Outcome.PASS and "by lena, pia, sam" in result.reason
    came = review_status(program).to_dict()["held"]
    assert (came["id"], came["confirmed"], came["unconfirmed"]) == (both.id, ["pia", "sam"], [])


def test_only_a_listed_attendee_confirms_and_nothing_is_recorded_otherwise(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    program, sam, pia = scheduled(_isolated, clock, ollama)
    with pytest.raises(InvalidInput, match="no review held to confirm"):
        attend_review(sam)
    held = hold_review(program, ["lena", "sam"], KEEP)
    facts = len(program.state().facts)
    with pytest.raises(NotAllowed, match=rf"pia is not listed as an attendee of review #{held.id}"):
        attend_review(pia, held.id)
    with pytest.raises(InvalidInput, match=rf"lena recorded review #{held.id}"):
        attend_review(program, held.id)
    with pytest.raises(InvalidInput, match=r"fact #1 is not a review held"):
        attend_review(sam, 1)
    assert len(program.state().facts) == facts
    fact = attend_review(sam)  # the latest review held
    assert (fact.by, fact.payload["person"], fact.payload["review"]) == ("sam", "sam", held.id)
    with pytest.raises(InvalidInput, match=rf"sam already confirmed attending review #{held.id}"):
        attend_review(sam, held.id)
    assert judge(program).outcome is Outcome.PASS


def test_a_review_of_one_is_not_a_review(_isolated: Path, clock: Clock, ollama: StandIn) -> None:
    program = reviewed(_isolated, clock, ollama, cadence=CADENCE.replace(', "support-owner"', ""))
    enrol(program, "sam", team="support")
    program.change_roles(None, "lena", add=["support-owner"])  # she holds every role it asks
    schedule_review(program)
    with pytest.raises(InvalidInput, match="a review of one is not a review"):
        hold_review(program, ["lena"], KEEP)
    program.record_fact(None, "review.held", {"attendees": ["lena"], "decisions": [
        {"item": "llama3.2:latest", "decision": "keep", "reason": "fine"},
        {"item": "gemma3", "decision": "retire", "reason": "unpinned"},
    ]}, provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip
    alone = judge(program)
    assert alone.outcome is Outcome.FAIL
    assert "nobody but lena confirmed attending (a review of one is not a review)" in alone.reason


def test_the_review_commands(_isolated: Path, clock: Clock, ollama: StandIn) -> None:
    program = reviewed(_isolated, clock, ollama)
    sam = enrol_cli(program, "sam", _isolated.parent / "keys", roles=["support-owner"])
    lena = lead_env(program)

    def run(*args: str, env: dict[str, str], code: int = 0, answer: str = "y\n") -> str:
        result = runner.invoke(app, ["review", *args], env=env, input=answer)
        assert result.exit_code == code, result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        return result.stdout + result.stderr

    assert "only a rollout lead" in run("schedule", env=sam, code=NotAllowed.exit_code)
    assert "Scheduled a review every 30 days" in run("schedule", env=lena)
    refused = run(
        "hold", "--attendee", "sam", *decisions_args(), env=sam, code=InvalidInput.exit_code
    )
    assert "holds rollout-lead" in refused
    out = run(
        "hold", "--attendee", "sam", "--attendee", "lena", *decisions_args(),
        "--notes", "all agreed to retire the baseline", env=sam,
    )  # fmt: skip
    assert "2 decisions, next due" in out
    held = program.state().facts[-1].id
    assert f"attended: lena, each with their own key: `inhouse review attend {held}`" in out
    shown = run("status", env=lena)
    assert f"Review #{held}: recorded by sam; confirmed: nobody yet; not confirmed: lena" in shown
    pia = enrol_cli(program, "pia", _isolated.parent / "keys")
    refused = run("attend", str(held), env=pia, code=NotAllowed.exit_code)
    assert f"pia is not listed as an attendee of review #{held}" in refused
    # it shows the review as recorded and signs only on a yes: a colleague asked to "just run
    # it" for a review they never sat in (the recorder listed them) reads it first
    before = len(program.state().facts)
    for answer, why in (("", "the question got no answer"), ("n\n", "confirm only a review")):
        unread = run("attend", str(held), env=lena, code=NotAllowed.exit_code, answer=answer)
        assert f"not confirmed, nothing recorded for lena: {why}" in unread
        assert f"review #{held}, held " in unread and "recorded by sam" in unread
        assert "attendees it lists: sam, lena" in unread and "decided: " in unread
        # the recorder's notes too: confirming the review vouches for what they say
        assert "its notes: all agreed to retire the baseline" in unread, unread
    # and the comment the key signs beside it, typed as told
    unread = run("attend", str(held), "--comment", "I agree", env=lena, code=3, answer="")
    assert "your comment: I agree" in unread, unread
    assert len(program.state().facts) == before
    out = run("attend", str(held), "--comment", "agreed on gemma3", env=lena)
    assert f"lena confirmed attending review #{held}" in out
    status = json.loads(run("status", "--json", env=lena))
    assert status["held"]["attendees"] == ["sam", "lena"] and not status["overdue"]
    assert (status["held"]["confirmed"], status["held"]["unconfirmed"]) == (["lena"], [])
    assert "your own key" in run("attend", "--help", env=lena)


def decisions_args() -> list[str]:
    return [arg for text in KEEP for arg in ("--decision", text)]


def test_a_schedule_asking_for_fewer_roles_asks_no_fewer(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    """The cadence names only a lead (an empty list is refused outright): the check still asks
    for the support owner, who never attended. (A red team passed it with `roles = []`.)"""
    from inhouse.support.review import attend_review, hold_review, schedule_review

    (_isolated / "a").mkdir()
    empty = reviewed(
        _isolated / "a", clock, ollama, cadence="[review]\nevery_days = 30\nroles = []"
    )
    with pytest.raises(ConfigError, match="roles"):
        schedule_review(empty)
    empty.close()
    (_isolated / "b").mkdir()
    lead_only = '[review]\nevery_days = 30\nroles = ["rollout-lead"]'
    program = reviewed(_isolated / "b", clock, ollama, cadence=lead_only)
    request_close = program.close
    enrol(program, "sam", team="support", roles=["support-owner"])  # never attends
    pia = enrol(program, "pia", team="legal")
    schedule_review(program)
    held = hold_review(program, ["lena", "pia"], KEEP)
    attend_review(pia, held.id)
    result = judge(program)
    request_close()
    assert result.outcome is Outcome.FAIL, result.reason
    assert "held support-owner when it was held" in result.reason


def api_review(program: Program, attendees: list[str]) -> int:
    """A ``review.held`` recorded through the Python API (what `hold_review` would refuse
    without the roles on today's roster): its fact id."""
    decisions = [
        {"item": "llama3.2:latest", "decision": "keep", "reason": "fine"},
        {"item": "gemma3", "decision": "retire", "reason": "unpinned"},
    ]
    fact = program.record_fact(
        None, "review.held", {"attendees": attendees, "decisions": decisions},
        provenance=Provenance.MEASURED, collector=COLLECTOR,
    )  # fmt: skip
    return fact.id


def test_a_role_given_after_the_review_does_not_reach_back_over_it(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    """The forgery: the support owner (sam) never came; the lead held the review with pia, a
    colleague from legal, who confirmed, and then makes pia support owner. The review is judged
    by the roles its attendees held when it was held: pia was no support owner then."""
    program, _sam, pia = scheduled(_isolated, clock, ollama)
    held = api_review(program, ["lena", "pia"])
    attend_review(pia, held)
    before = judge(program)
    assert before.outcome is Outcome.FAIL and "support-owner" in before.reason
    program.change_roles(None, "pia", add=["support-owner"])
    forged = judge(program)
    program.close()
    assert forged.outcome is Outcome.FAIL, forged.reason
    assert (
        f"the review held {clock.now:%Y-%m-%d} does not count: nobody among lena, pia held "
        "support-owner when it was held (pia was given support-owner after it)"
    ) in forged.reason


def test_a_role_taken_away_after_the_review_does_not_undo_it(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    program, sam, _pia = scheduled(_isolated, clock, ollama)
    hold_review(program, ["lena", "sam"], KEEP)
    attend_review(sam)
    assert judge(program).outcome is Outcome.PASS
    program.change_roles(None, "pia", add=["support-owner"])
    program.change_roles(None, "sam", remove=["support-owner"])
    result = judge(program)
    program.close()
    assert result.outcome is Outcome.PASS, result.reason
    assert "by lena, sam" in result.reason


def test_a_role_given_back_after_the_review_was_not_held_at_it(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    """pia was support owner once, lost the role, attended a review without it, and was given it
    back afterwards: her first grant came before the review, yet she held no role at it."""
    program, _sam, pia = scheduled(_isolated, clock, ollama)
    program.change_roles(None, "pia", add=["support-owner"])
    program.change_roles(None, "pia", remove=["support-owner"])
    held = api_review(program, ["lena", "pia"])
    attend_review(pia, held)
    program.change_roles(None, "pia", add=["support-owner"])
    result = judge(program)
    program.close()
    assert result.outcome is Outcome.FAIL, result.reason
    assert "nobody among lena, pia held support-owner when it was held" in result.reason


def test_a_reviews_notes_and_comments_are_plain_text(
    _isolated: Path, clock: Clock, ollama: StandIn
) -> None:
    """The notes and an attendee's comment are stored and printed to whoever reads the record:
    a control character (an escape sequence, a bell) is refused by name, nothing recorded;
    notes over several lines, with a tab, are notes."""
    program, sam, _pia = scheduled(_isolated, clock, ollama)
    facts = len(program.state().facts)
    with pytest.raises(InvalidInput, match="the notes holds a control character"):
        hold_review(program, ["lena", "sam"], KEEP, notes="all fine\x1b[2J\x07")
    assert len(program.state().facts) == facts
    held = hold_review(program, ["lena", "sam"], KEEP, notes="1. gemma3\n\tkept\r\n")
    with pytest.raises(InvalidInput, match="the comment holds a control character"):
        attend_review(sam, held.id, comment="\x1b]0;owned\x07")
    assert len(program.state().facts) == facts + 1
    assert attend_review(sam, held.id, comment="the queue is fine").payload["review"] == held.id
