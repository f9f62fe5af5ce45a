"""The outsider, with evidence that travels: envelopes carried between machines and programs.

Same lena as tests/test_outsider_later.py (one laptop, one account at the organisation's
identity provider, full control of her machine, the program folder, its database, the Python
API and the CLI; she leads the program). What crosses machines is a signed envelope (DSSE,
:mod:`inhouse.identity.envelopes`): its signature says whose it is, and whoever carries the
file chooses only whether, and when, it is imported. A real colleague's envelope is theirs; the
walk asks what lena can make it count for that they did not do.

What the walk found: the fold dates an import no earlier than the log's floor as of the import,
so a colleague's envelope held back counted as made when she imported it: an outsider's access
request from while the pilot ran became widening demand once play 4 exited, a member's workflow
run from before they joined bore out their enablement step, a verify sealed before a re-lock
confirmed the fix it "fed back", and a confirmation held back for months closed a finding
"within the period" (all closed: those rules read when it was sealed, ``Fact.made``).
An enrolment envelope with a stray field was enrolled by the fold and not by the chain's
verifier, which stopped the whole log at that key's first event (closed). Refused as they were:
an envelope edited (payload, time) or sealed for another program, one imported twice, one for
another lock, one signed by a revoked key (now said so), an alias's envelopes (never signed in:
tests/test_outsider.py). Not a hole for one person: a copy of the program folder is the same
program (its id is its first event's hash), so a colleague's act in a copy imports into the
original, as the act it is.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.baseline.lock import LockedModel, lock_fact_payload, read_lock
from inhouse.errors import IdentityError, InvalidInput
from inhouse.identity import fact_predicate_type, seal
from inhouse.indicators import open_finding
from inhouse.pilot.enablement import progress, step_done
from inhouse.pilot.roster import add_member
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result
from inhouse.program.evaluation import context_for, run_checks
from inhouse.program.facts import FACT_KINDS
from tests.conftest import Clock
from tests.locks import HERE
from tests.people import enrol
from tests.pilot.gateway_days import Pilot
from tests.pilot.world import World, make_world
from tests.test_outsider_later import _judge, _relock, lena, pilot  # noqa: F401


def _sealed(person: Program, kind: str, payload: dict[str, Any], collector: str,
            at: datetime) -> dict[str, Any]:  # fmt: skip
    """``person``'s measured ``kind`` fact, sealed with their own key at ``at`` into an envelope
    (what their own checkout's outbox holds: ``inhouse evidence export`` carries it)."""
    fact = {"kind": kind, "version": FACT_KINDS[kind].version, "payload": payload,
            "provenance": Provenance.MEASURED.value, "collector": collector}  # fmt: skip
    return seal(
        person.key,
        program_id=person.state().program_id,
        predicate_type=fact_predicate_type(kind, FACT_KINDS[kind].version),
        predicate={"fact": fact, "at": at.isoformat(), "machine": f"{person.whoami().name}-laptop"},
    )


def _judge_after(
    lead: Program, check: str, play: str, mark: tuple[datetime, int], *also: str
) -> Result:
    """``check`` judged now, with ``play``'s exit in the log at ``mark`` (its time and event),
    and the plays ``also`` exited now."""
    ctx = context_for(lead.state(), lead.clock())
    now = (lead.clock(), lead.state().head_seq)
    ctx = dataclasses.replace(ctx, exited={**ctx.exited, play: mark, **dict.fromkeys(also, now)})
    refs = [ref for p in lead.playbook.plays for ref in [*p.trigger, *p.exit]]
    (checked,) = run_checks([ref for ref in refs if ref.check == check][:1], ctx)
    return checked.result


def _others_write(made: Pilot) -> None:
    """Two colleagues signed in with accounts of their own write (the log moves on)."""
    for name in ("pia", "oli"):
        made.people[name].record_hypothesis(None, f"{name} on", aim="replace-dependency",
                                             target="OpenAI")  # fmt: skip


def _request(carl: Program, at: datetime) -> dict[str, Any]:
    return _sealed(carl, "access.request", {"person": "carl", "reason": "sales wants it"},
                   "inhouse access", at)  # fmt: skip


def test_a_request_sealed_before_the_pilot_exited_and_carried_in_after_is_no_widening(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """carl, a real colleague in sales, signed in with his own account, asked to get in from
    his own checkout while the pilot ran (the pilot's own demand, as widening-requested says),
    and gave lena the file. She holds it back until play 4 has exited and two colleagues have
    written since, then imports it: the log dates it no earlier than its floor (after the exit),
    but it was sealed before, and is no wider demand."""
    carl = enrol(lena, "carl", team="sales")
    envelope = _request(carl, lena.clock())
    pilot.clock.advance(days=1)
    mark = (lena.clock(), lena.state().head_seq)
    pilot.clock.advance(days=1)
    _others_write(pilot)
    pilot.clock.advance(minutes=30)
    assert "access.request by carl" in lena.import_evidence([envelope])[0]
    result = _judge_after(lena, "widening-requested", "pilot", mark)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "carl asked before play 4 (pilot) exited" in result.reason
    assert "carl's request was sealed on their machine before the exit and imported" in (
        result.reason
    )


def test_a_play_five_that_exited_on_a_request_carried_in_late_keeps_its_pass(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """A program whose play 5 (support) started and exited on such a request, counted by its
    import's time before this rule, keeps the pass, saying what today's rule asks."""
    carl = enrol(lena, "carl", team="sales")
    envelope = _request(carl, lena.clock())
    pilot.clock.advance(days=1)
    mark = (lena.clock(), lena.state().head_seq)
    pilot.clock.advance(days=1)
    _others_write(pilot)
    pilot.clock.advance(minutes=30)
    lena.import_evidence([envelope])
    result = _judge_after(lena, "widening-requested", "pilot", mark, "support")
    assert result.outcome is Outcome.PASS
    assert "note: play 5 (support) exited before a request was judged by when it was sealed" in (
        result.reason
    )


def test_a_request_sealed_after_the_pilot_exited_is_widening_however_late_it_comes(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """The honest path: carl asks from his own checkout after play 4 exited, and lena imports
    his file a day later, once: it counts."""
    carl = enrol(lena, "carl", team="sales")
    pilot.clock.advance(days=1)
    mark = (lena.clock(), lena.state().head_seq)
    pilot.clock.advance(hours=1)
    envelope = _request(carl, lena.clock())
    pilot.clock.advance(days=1)
    _others_write(pilot)
    pilot.clock.advance(minutes=30)
    assert "access.request by carl" in lena.import_evidence([envelope])[0]
    assert "already imported" in lena.import_evidence([envelope])[0]
    result = _judge_after(lena, "widening-requested", "pilot", mark)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("carl asked")


def _edited(envelope: dict[str, Any], edit: Any) -> dict[str, Any]:
    """``envelope`` with its statement changed by ``edit`` and its signature left as it was."""
    statement = json.loads(base64.b64decode(envelope["payload"]))
    edit(statement)
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    return {**envelope, "payload": base64.b64encode(payload).decode()}


def test_a_colleague_s_envelope_edited_or_for_another_lock_or_program_counts_for_nothing(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """bob, who stood lena's lock up at his laptop, gave her his checkout's verify of it. She
    re-locks, then tries to make his envelope count for the new lock: edited to name it (or
    re-dated), its signature no longer holds; carried in as it is, it verifies the lock it
    names, an earlier one; one of his from another program (sealed for its id) is refused with
    the whole file, the good envelope beside it too. Imported twice, it is in once."""
    bob = pilot.people["bob"]
    lock = read_lock(lena.folder)
    assert lock is not None
    models = [{"name": m.name, "digest": m.digest} for m in lock.models]
    verify = {"lock_hash": lock.lock_hash, "passed": True, "models": models, **HERE}
    pilot.clock.advance(hours=1)
    envelope = _sealed(bob, "baseline.verify", verify, "inhouse baseline verify", lena.clock())
    relock = _relock(lena, python="3.13")

    def to_new_lock(statement: dict[str, Any]) -> None:
        statement["predicate"]["fact"]["payload"]["lock_hash"] = relock.lock_hash

    def later(statement: dict[str, Any]) -> None:
        statement["predicate"]["at"] = (lena.clock() + timedelta(days=1)).isoformat()

    for edit in (to_new_lock, later):
        with pytest.raises(IdentityError, match=r"no valid signature by key .*: the envelope was"):
            lena.import_evidence([_edited(envelope, edit)])
    foreign = _sealed(bob, "baseline.verify", verify, "inhouse baseline verify", lena.clock())
    predicate = json.loads(base64.b64decode(foreign["payload"]))["predicate"]
    foreign = seal(bob.key, program_id="f" * 64,
                   predicate_type=fact_predicate_type("baseline.verify", 1),
                   predicate=predicate)  # fmt: skip
    before = lena.state().head_seq
    with pytest.raises(IdentityError, match="#2: signed for another program"):
        lena.import_evidence([envelope, foreign])
    assert lena.state().head_seq == before
    assert "baseline.verify by bob" in lena.import_evidence([envelope])[0]
    assert lena.import_evidence([envelope]) == ["file #1: already imported, skipped"]
    result = _judge_after(lena, "second-person-verified", "pilot", (lena.clock(), 0))
    assert result.outcome is Outcome.FAIL
    assert "2 passing verifies are for an earlier lock" in result.reason


def test_an_envelope_from_a_revoked_key_is_refused_naming_the_revocation(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """bob's laptop was handed back and lena revoked its key; an envelope it sealed, before or
    after (a revoked key may be in anyone's hands), carries nothing in, and the refusal says
    the key was revoked, not that its enrolment is missing (importing that again would not
    help)."""
    bob = pilot.people["bob"]
    envelope = _request(bob, lena.clock())
    lena.revoke_key(bob.key.key_id)
    with pytest.raises(IdentityError, match=r"bob's, which lena revoked on .*: a revoked key"):
        lena.import_evidence([envelope])


# -- play 4: an enablement step borne out by a run from before the member joined ------------------


def _run(bob: Program, at: datetime) -> dict[str, Any]:
    """bob's passing run of the ticket-summary workflow, sealed at ``at`` in his own checkout."""
    payload = {"workflow": "ticket-summary", "content_hash": "sha256:0123456789", "passed": True,
               "pass_rate": 1.0, "cases": 1, **HERE}  # fmt: skip
    return _sealed(bob, "workflow.run", payload, "inhouse workflow test", at)


def _summarised(world: World) -> Any:
    return next(s for s in progress(world.lead, "bob")[0].steps if s.id == "summarise-a-ticket")


@pytest.fixture
def world(_isolated: Path, clock: Clock) -> Iterator[World]:
    """lena's pilot world (tests/pilot/world.py), its plays waived, with bob (support) and
    carol (legal) enrolled and signed in with accounts of their own."""
    made = make_world(_isolated, clock)
    try:
        made.waive()
        made.enrol("bob", "support")
        made.enrol("carol", "legal")
        yield made
    finally:
        made.lead.close()


def _others_write_in(world: World) -> None:
    for name in ("lena", "carol"):
        world.people[name].record_hypothesis(None, f"{name} on", aim="replace-dependency",
                                             target="OpenAI")  # fmt: skip


def test_a_run_sealed_before_the_member_joined_and_carried_in_after_is_no_enablement_step(
    world: World,
) -> None:
    """bob, a real colleague, ran the ticket-summary workflow's tests in his own checkout days
    before lena added him to the pilot (play 3's rerun, say) and gave her the file. She adds
    him, lets the log move on, then imports his run: the log dates it after he joined, but it
    was sealed before, and shows him nothing new: his ``ran-workflow`` step is not met."""
    envelope = _run(world.people["bob"], world.clock())
    world.clock.advance(days=2)
    add_member(world.lead, "bob", track="support")
    world.clock.advance(hours=1)
    _others_write_in(world)
    world.clock.advance(minutes=30)
    assert "workflow.run by bob" in world.lead.import_evidence([envelope])[0]
    step = _summarised(world)
    assert not step.met, step.detail
    assert "no passing run of workflow ticket-summary signed by bob since" in step.detail
    with pytest.raises(InvalidInput, match="summarise-a-ticket"):
        step_done(world.people["bob"], "summarise-a-ticket")


def test_a_run_sealed_after_the_member_joined_is_their_step_however_late_it_comes(
    world: World,
) -> None:
    """The honest path: bob runs it in his own checkout after joining the pilot; lena imports
    his file the next day, once: the step is met."""
    add_member(world.lead, "bob", track="support")
    world.clock.advance(hours=1)
    envelope = _run(world.people["bob"], world.clock())
    world.clock.advance(days=1)
    _others_write_in(world)
    world.clock.advance(minutes=30)
    assert "workflow.run by bob" in world.lead.import_evidence([envelope])[0]
    assert _summarised(world).met


# -- play 6: a fix confirmed by a verify from before it ------------------------------------------


def _fix_with_an_earlier_verify(
    made: Pilot,
    lead: Program,
    *,
    sealed_after: bool = False,
    log_moves_on: bool = True,
    held_days: int = 1,
) -> Any:
    """pia (a real colleague) finds answers too slow; lena re-locks to a smaller model, naming
    the finding, and imports bob's verify of that lock, sealed on his laptop before the re-lock
    (a lock she had him try; a week before the finding, or, without ``log_moves_on``, after
    it, while nobody else wrote, so the log keeps its time) or after it (``sealed_after``).
    Returns the finding."""
    bob = made.people["bob"]
    lock = read_lock(lead.folder)
    assert lock is not None
    smaller = [LockedModel(name="tiny", digest="sha256:" + "e" * 64)]
    planned = lock.model_copy(update={"models": smaller})
    planned = planned.model_copy(update={"lock_hash": planned.computed_hash()})
    verify = {"lock_hash": planned.lock_hash, "passed": True,
              "models": [{"name": "tiny", "digest": smaller[0].digest}], **HERE}  # fmt: skip
    if not log_moves_on:
        finding = open_finding(made.people["pia"], "answers are too slow", target="baseline")
        made.clock.advance(hours=1)
    early = _sealed(bob, "baseline.verify", verify, "inhouse baseline verify", lead.clock())
    if log_moves_on:
        made.clock.advance(days=7)
        finding = open_finding(made.people["pia"], "answers are too slow", target="baseline")
    made.clock.advance(hours=1)
    relock = _relock(lead, models=smaller)
    assert relock.lock_hash == planned.lock_hash
    lead.record_fact(None, "baseline.lock", {**lock_fact_payload(relock), "closes": [finding.id]},
                     provenance=Provenance.MEASURED, collector="inhouse baseline lock")  # fmt: skip
    made.clock.advance(hours=1)
    late = _sealed(bob, "baseline.verify", verify, "inhouse baseline verify", lead.clock())
    made.clock.advance(days=held_days)
    if log_moves_on:
        _others_write(made)
    made.clock.advance(minutes=30)
    assert "baseline.verify by bob" in lead.import_evidence([late if sealed_after else early])[0]
    return finding


@pytest.mark.parametrize("log_moves_on", [True, False], ids=["re-dated", "kept-its-time"])
def test_a_verify_sealed_before_the_fix_and_carried_in_after_confirms_nothing(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
    log_moves_on: bool,
) -> None:
    """bob's verify of the smaller lock, sealed before the re-lock that answers pia's finding
    (a week before the finding, or after it while nobody else wrote), carried in after: its
    place in the log is after the fix (and the log may date it so), but nobody took the fix
    into their hands since it was fed back, so the finding stays open, awaiting confirmation."""
    finding = _fix_with_an_earlier_verify(pilot, lena, log_moves_on=log_moves_on)
    result = _judge(lena, "findings-fed-back")
    assert result.outcome is not Outcome.PASS, result.reason
    assert "awaiting confirmation by someone other than lena" in result.reason
    assert "bob sealed it on their machine on" in result.reason
    assert f"#{finding.id}" in result.reason


def test_a_verify_sealed_after_the_fix_confirms_it_however_late_it_comes(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """The honest path: bob verifies the re-lock on his laptop after it was recorded, and lena
    imports his file the next day: the finding is fed back."""
    _fix_with_an_earlier_verify(pilot, lena, sealed_after=True)
    result = _judge(lena, "findings-fed-back")
    assert result.outcome is Outcome.PASS, result.reason


def test_an_enrolment_envelope_with_a_stray_field_does_not_stop_the_log(
    lena: Program,  # noqa: F811
) -> None:
    """zed's enrolment envelope carries a field no enrolment has ("fact"), which the import
    took as an enrolment and the chain's verifier did not: the first event zed's key signed
    stopped the whole log there (anyone who sends the lead a file could stop her program).
    Both read an envelope's kind from its predicate type now: zed is enrolled, and asks."""
    from inhouse.identity import ENROLMENT_TYPE, SigningKey
    from inhouse.program.people import parse_invitation

    invitation = parse_invitation(str(lena.invite("zed", team="ops")))
    key = SigningKey.generate()
    odd = seal(key, program_id=lena.state().program_id, predicate_type=ENROLMENT_TYPE,
               predicate={"name": "zed", "token_hash": invitation.token_hash,
                          "machine": "zed-laptop", "fact": {},
                          "join_proof": invitation.join_proof(key.key_id)})  # fmt: skip
    assert lena.import_evidence([odd])[0].endswith(f"enrolled zed (key {key.key_id})")
    asked = lena.using(key).request_access(reason="ops wants it")
    assert lena.state().tampered is None
    assert asked.by == "zed"


def test_a_confirmation_held_back_past_the_period_closes_nothing_in_it(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    """bob confirmed the re-lock on his laptop the day after it, and lena carried his file in
    a hundred days later: the log dates it today, but the finding was fed back then, not
    within the last 92 days that findings-fed-back asks about."""
    _fix_with_an_earlier_verify(pilot, lena, sealed_after=True, held_days=100)
    result = _judge(lena, "findings-fed-back")
    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith("1 finding, none closed by a change in the last 92 days")
