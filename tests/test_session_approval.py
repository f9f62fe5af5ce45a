"""A dashboard session's host cannot decide a handoff in its person's name (issue: the host holds
every signed-in person's session key for the session's length).

omar signs in once to the dashboard lena hosts, to look at the board. While his session lasts,
her server holds a key that acts for him. A handoff decision through a session now needs omar's
own approval of exactly that event (``inhouse web approve``, :mod:`inhouse.identity.approval`):
without it the program refuses to write it, an acceptance appended around the API does not
count (the handoff stays offered), and an approval that is not his, is for another event or is
used twice stops the log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import ApprovalNeeded, IdentityError, NotAllowed
from inhouse.identity import SigningKey
from inhouse.identity.approval import approval_statement, sign_approval
from inhouse.identity.delegation import delegation_statement, read_delegation, sign_delegation
from inhouse.program import Program
from inhouse.program.audit import verify_chain
from inhouse.program.events import EventKind, append
from tests.conftest import Clock
from tests.people import enrol
from tests.test_engine import HERE, LOCK, lock_baseline, measured, reproduce, through_play_one

pytestmark = pytest.mark.usefixtures("on_database")


@pytest.fixture
def cast(_isolated: Path, clock: Clock) -> Iterator[dict[str, Program]]:
    """Play 2's handoff offered to omar, whose verify passed; omar signed in to lena's
    dashboard (``session``: the key her server holds, ``delegation``: what he signed)."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    through_play_one(lena)
    omar.request_access(reason="I want the triage model")
    lena.start_play(None, 2)
    lock_baseline(lena)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(omar)
    lena.offer_handoff(None, 2, to="omar")
    yield {"lena": lena, "omar": omar}
    lena.close()


def _session(lena: Program, omar: Program) -> tuple[Program, SigningKey, dict[str, Any]]:
    key = SigningKey.generate()
    statement = delegation_statement(
        program=lena.state().program_id, person="omar", key_id=omar.key.key_id,
        session_key=key.public_key, nonce="n-1", issued=lena.clock(),
        expires=lena.clock() + timedelta(hours=2),
    )  # fmt: skip
    delegation = sign_delegation(omar.key, statement, now=lena.clock())
    return lena.delegated(key, delegation), key, delegation


def _approval(
    signer: SigningKey, delegation: dict[str, Any], kind: str, payload: dict[str, Any], now: Any,
    nonce: str = "a-1",
) -> dict[str, Any]:  # fmt: skip
    statement = approval_statement(read_delegation(delegation), kind=kind, payload=payload,
                                   nonce=nonce, issued=now)  # fmt: skip
    return sign_approval(signer, statement, payload, now=now) if signer else statement


def _acceptance(lena: Program) -> dict[str, Any]:
    """The acceptance omar's session writes: what he approves, the rules it judges by too."""
    from inhouse.program.checks import EXIT_RULES
    from inhouse.program.evaluation import exit_results

    checked = exit_results(lena.playbook.play(2), lena.state(), lena.clock())
    cited = sorted({f.id for item in checked for f in item.result.evidence})
    return {"play": "baseline", "evidence_hash": lena.state().handoffs["baseline"].offer_hash,
            "evidence": cited, "comment": "ok", "rules": EXIT_RULES}  # fmt: skip


def _fresh(program: Program) -> Program:
    return Program.open(program.folder, clock=program.clock)


def test_a_session_alone_writes_no_handoff_decision(cast: dict[str, Program]) -> None:
    lena, omar = cast["lena"], cast["omar"]
    as_omar, _, _ = _session(lena, omar)
    head = lena.state().head_seq
    with pytest.raises(ApprovalNeeded, match="omar agrees to this with their own key") as need:
        as_omar.accept_handoff(None, 2, comment="ok")
    assert need.value.kind == EventKind.HANDOFF_ACCEPTED
    assert need.value.payload["play"] == "baseline" and "approval" not in need.value.payload
    with pytest.raises(ApprovalNeeded):
        as_omar.reject_handoff(None, 2, comment="not now")
    assert lena.state().head_seq == head and lena.state().handoffs["baseline"].status == "offered"


def test_with_his_approval_the_session_records_his_acceptance(cast: dict[str, Program]) -> None:
    lena, omar = cast["lena"], cast["omar"]
    as_omar, _, delegation = _session(lena, omar)
    payload = _acceptance(lena)
    approval = _approval(omar.key, delegation, EventKind.HANDOFF_ACCEPTED, payload, lena.clock())
    with as_omar.approving(approval):
        as_omar.accept_handoff(None, 2, comment="ok")
    fresh = _fresh(lena)
    try:
        assert fresh.state().handoffs["baseline"].decided_by == "omar"
        assert "baseline" in fresh.state().exited
        assert verify_chain(fresh.store, lead_key=fresh.settings.lead_key).ok
    finally:
        fresh.close()


def test_an_acceptance_appended_without_approval_does_not_count(cast: dict[str, Program]) -> None:
    """The host appends omar's acceptance (and the exit beside it) with his session key around
    the API, as a log from before approvals holds one: kept, verified, never counted."""
    lena, omar = cast["lena"], cast["omar"]
    _, key, delegation = _session(lena, omar)
    payload = _acceptance(lena)
    accepted = append(lena.store, EventKind.HANDOFF_ACCEPTED, "omar",
                      {**payload, "delegation": delegation}, at=lena.clock(), key=key)  # fmt: skip
    append(lena.store, EventKind.PLAY_EXITED, "omar",
           {"play": "baseline", "evidence_hash": payload["evidence_hash"],
            "delegation": delegation}, at=lena.clock(), key=key)  # fmt: skip
    fresh = _fresh(lena)
    try:
        state = fresh.state()
        assert state.tampered is None
        assert state.handoffs["baseline"].status == "offered" and "baseline" not in state.exited
        assert verify_chain(fresh.store, lead_key=fresh.settings.lead_key).ok
        warnings = fresh.status()["warnings"]
        assert any(f"event {accepted.seq}: omar's acceptance" in w and "does not count" in w
                   for w in warnings), warnings  # fmt: skip
        # omar decides again, with his own key: it counts
        omar_now = fresh.using(omar.key)
        omar_now.accept_handoff(None, 2, comment="yes, really")
        assert fresh.state().handoffs["baseline"].decided_by == "omar"
    finally:
        fresh.close()


@pytest.mark.parametrize("forgery", ["session-signed", "another-event", "used-twice", "late"])
def test_an_approval_that_is_not_his_for_this_event_is_set_aside_and_reported(
    cast: dict[str, Program], clock: Clock, forgery: str
) -> None:
    """Signed by omar's session, whose delegation holds: whoever wrote it (the dashboard's host
    holds the session key, omar his own key and could make a session of his own), it never
    counts, and ``audit verify`` reports it. It no longer stops the log: omar, a member, could
    then freeze the program for everyone with one event (tests/test_fold_no_freeze.py)."""
    lena, omar = cast["lena"], cast["omar"]
    _, key, delegation = _session(lena, omar)
    payload = _acceptance(lena)
    kind = EventKind.HANDOFF_ACCEPTED
    if forgery == "session-signed":  # the host signs the approval with the session key
        statement = _approval(None, delegation, kind, payload, lena.clock())  # type: ignore[arg-type]
        from inhouse.identity.approval import _material

        approval = {"statement": statement, "signature": key.sign(_material(statement))}
        saying = "does not carry a valid signature of omar's key"
    elif forgery == "another-event":  # he approved a rejection; the host writes an acceptance
        rejected = {"play": "baseline", "comment": "not yet"}
        approval = _approval(omar.key, delegation, EventKind.HANDOFF_REJECTED, rejected, clock.now)
        saying = "approval is for another event"
    elif forgery == "used-twice":  # his honest rejection's approval, replayed after a re-offer
        rejected = {"play": "baseline", "comment": "not yet"}
        approval = _approval(omar.key, delegation, EventKind.HANDOFF_REJECTED, rejected, clock.now)
        append(lena.store, EventKind.HANDOFF_REJECTED, "omar",
               {**rejected, "delegation": delegation, "approval": approval}, at=clock.now,
               key=key)  # fmt: skip
        lena.offer_handoff(None, 2, to="omar")
        kind, payload = EventKind.HANDOFF_REJECTED, rejected
        saying = "approval was used already"
    else:  # approved at the start of the session, written after the approval's window
        approval = _approval(omar.key, delegation, kind, payload, clock.now)
        clock.advance(minutes=30)
        saying = "its approval holds from"
    forged = append(lena.store, kind, "omar",
                    {**payload, "delegation": delegation, "approval": approval},
                    at=clock.now, key=key)  # fmt: skip
    fresh = _fresh(lena)
    try:
        state = fresh.state()
        assert state.tampered is None
        ((seq, problem),) = state.unauthorized
        assert seq == forged.seq and saying in problem, problem
        assert state.handoffs["baseline"].status != "accepted" or kind != EventKind.HANDOFF_ACCEPTED
        report = verify_chain(fresh.store, lead_key=fresh.settings.lead_key)
        assert not report.ok and report.first_bad_seq == forged.seq
    finally:
        fresh.close()


def test_the_program_refuses_a_bad_approval_before_writing_anything(
    cast: dict[str, Program],
) -> None:
    """An approval for another comment, or another person's, is refused by the program itself:
    nothing is appended that would stop the log."""
    lena, omar = cast["lena"], cast["omar"]
    as_omar, _, delegation = _session(lena, omar)
    payload = {**_acceptance(lena), "comment": "something else"}
    other = _approval(omar.key, delegation, EventKind.HANDOFF_ACCEPTED, payload, lena.clock())
    head = lena.state().head_seq
    with pytest.raises(NotAllowed, match="approval is for another event"), \
            as_omar.approving(other):  # fmt: skip
        as_omar.accept_handoff(None, 2, comment="ok")
    with pytest.raises(IdentityError, match="made for someone else"):
        _approval(lena.key, delegation, EventKind.HANDOFF_ACCEPTED, _acceptance(lena),
                  lena.clock())  # fmt: skip
    assert lena.state().head_seq == head


def test_the_person_signs_only_the_event_shown_to_them(cast: dict[str, Program]) -> None:
    """The dashboard shows omar one event and asks him to sign a statement for another: his
    CLI refuses, having computed the digest of what it shows itself."""
    lena, omar = cast["lena"], cast["omar"]
    _, _, delegation = _session(lena, omar)
    real = _acceptance(lena)
    shown = {**real, "comment": "harmless"}
    statement = approval_statement(read_delegation(delegation), kind=EventKind.HANDOFF_ACCEPTED,
                                   payload=real, nonce="a-9", issued=lena.clock())  # fmt: skip
    with pytest.raises(IdentityError, match="agree to something else than it shows"):
        sign_approval(omar.key, statement, shown, now=lena.clock())


def test_a_key_on_the_roster_is_never_a_session_key(cast: dict[str, Program]) -> None:
    """lena enrols a second key of her own and revokes it; omar signs in to her dashboard, whose
    challenge names that key as the session's. Taken for an enrolled key wherever a key is looked
    up, its unapproved acceptance would count as omar's own: the log stops at it."""
    lena, omar = cast["lena"], cast["omar"]
    spare = SigningKey.generate()
    lena.join(str(lena.invite("lena")), spare, at_machine="lena-vm")
    lena.revoke_key(spare.key_id)
    statement = delegation_statement(
        program=lena.state().program_id, person="omar", key_id=omar.key.key_id,
        session_key=spare.public_key, nonce="n-2", issued=lena.clock(),
        expires=lena.clock() + timedelta(hours=2),
    )  # fmt: skip
    delegation = sign_delegation(omar.key, statement, now=lena.clock())
    forged = append(lena.store, EventKind.HANDOFF_ACCEPTED, "omar",
                    {**_acceptance(lena), "delegation": delegation}, at=lena.clock(),
                    key=spare)  # fmt: skip
    fresh = _fresh(lena)
    try:
        problem, seq = fresh.state().tampered  # type: ignore[misc]
        assert seq == forged.seq and "a key enrolled on the roster" in problem, problem
    finally:
        fresh.close()


def test_what_the_approver_reads_cannot_be_repainted() -> None:
    """The dashboard's host writes the comment: escape codes in it would move the terminal's
    cursor and paint "REJECT" over an acceptance. Every control character is written out, and
    the event's kind comes last."""
    from inhouse.web.login import describe

    comment = "\x1b[2K\x1b[1F  REJECT the handoff of play baseline\u202e"
    lines = describe(EventKind.HANDOFF_ACCEPTED, {"play": "baseline", "comment": comment})
    assert lines[0] == "ACCEPT the handoff of play baseline"
    assert not any(ch in line for line in lines for ch in ("\x1b", "\u202e"))
    assert "\\u001b[2K" in lines[1] and lines[-1] == "the event: handoff.accepted"


def test_an_uncounted_acceptance_leaves_no_later_exit_dropped(cast: dict[str, Program]) -> None:
    """The host appends omar's acceptance alone (no exit beside it); omar then accepts through
    the same session with his approval: his acceptance and the exit it writes both count."""
    lena, omar = cast["lena"], cast["omar"]
    as_omar, key, delegation = _session(lena, omar)
    payload = _acceptance(lena)
    append(lena.store, EventKind.HANDOFF_ACCEPTED, "omar", {**payload, "delegation": delegation},
           at=lena.clock(), key=key)  # fmt: skip
    approval = _approval(omar.key, delegation, EventKind.HANDOFF_ACCEPTED, payload, lena.clock())
    with as_omar.approving(approval):
        as_omar.accept_handoff(None, 2, comment="ok")
    fresh = _fresh(lena)
    try:
        assert fresh.state().handoffs["baseline"].status == "accepted"
        assert "baseline" in fresh.state().exited
    finally:
        fresh.close()


def test_the_approver_reads_everything_the_fact_records() -> None:
    """An expiry or an 'on behalf of' decides whether a survey answer counts and for how long:
    the approver sees them, not only the answer."""
    from inhouse.web.login import describe

    lines = describe(EventKind.FACT_RECORDED, {
        "kind": "survey.response", "version": 1, "provenance": "measured",
        "collector": "inhouse survey", "expires": "2026-11-02T09:01:00+00:00",
        "on_behalf_of": "pia", "payload": {"person": "omar", "answer": "very"}})  # fmt: skip
    assert "expires: 2026-11-02T09:01:00+00:00" in lines and "on_behalf_of: pia" in lines
    assert "answer: very" in lines and lines[-1] == "the event: fact.recorded"


def test_a_program_from_before_approvals_is_not_left_blocked(cast: dict[str, Program]) -> None:
    """Before approvals, omar accepted play 2 in the dashboard (the exit beside it) and then
    started play 3 with his own key. That acceptance no longer counts, so play 3's start is held
    back as a botched handoff; once omar accepts again with his own key, as status asks, play 2
    exits and play 3's start is no longer held back."""
    lena, omar = cast["lena"], cast["omar"]
    _, key, delegation = _session(lena, omar)
    payload = _acceptance(lena)
    append(lena.store, EventKind.HANDOFF_ACCEPTED, "omar", {**payload, "delegation": delegation},
           at=lena.clock(), key=key)  # fmt: skip
    append(lena.store, EventKind.PLAY_EXITED, "omar",
           {"play": "baseline", "evidence_hash": payload["evidence_hash"],
            "delegation": delegation}, at=lena.clock(), key=key)  # fmt: skip
    append(lena.store, EventKind.PLAY_STARTED, "omar",
           {"play": "workflow", "owner": "omar", "waivers": []}, at=lena.clock(),
           key=omar.key)  # fmt: skip
    fresh = _fresh(lena)
    try:

        def guards() -> set[str]:  # (play 3's own trigger is not met in this cast either)
            held = fresh.state().held_back.get("workflow")
            return set() if held is None else {guard for guard, _, _ in held.blockers}

        assert "botched-handoff" in guards() and "baseline" not in fresh.state().exited
        fresh.using(omar.key).accept_handoff(None, 2, comment="again, with my own key")
        assert "baseline" in fresh.state().exited and "botched-handoff" not in guards()
    finally:
        fresh.close()


def test_the_approver_reads_every_field_of_a_handoff_decision() -> None:
    """The digest omar's key signs covers every field of the acceptance, but his CLI showed only
    its play, evidence and comment: lena's host could add a field (here ``rules``, and one of
    her own) that he signs without reading. Every field is shown, an empty one too."""
    from inhouse.web.login import describe

    lines = describe(EventKind.HANDOFF_ACCEPTED, {
        "play": "baseline", "evidence_hash": "", "comment": "ok", "rules": 7,
        "waived": "eval-suite", "note": ""})  # fmt: skip
    assert "rules: 7" in lines and "waived: eval-suite" in lines and 'note: ""' in lines
    assert 'its exit evidence as it stands now: ""' in lines


def test_the_approver_reads_a_fact_whatever_its_shape() -> None:
    """A fact whose payload is no object, an empty field, its schema's version: each is part of
    the digest signed, so each is shown."""
    from inhouse.web.login import describe

    lines = describe(EventKind.FACT_RECORDED, {
        "kind": "survey.response", "version": 2, "payload": "yes"})  # fmt: skip
    assert "payload: yes" in lines and "version: 2" in lines
    lines = describe(EventKind.FACT_RECORDED, {
        "kind": "survey.response", "version": 1,
        "payload": {"person": "omar", "answer": "very", "benefit": ""}})  # fmt: skip
    assert 'benefit: ""' in lines


def test_the_approver_tells_an_empty_field_from_an_absent_one_and_text_from_a_number() -> None:
    """Every field's value is part of the digest signed, and the host shapes them: an empty
    comment and none at all, the text "(none)" and none, rules 4 and the text "4" (which the
    fold reads as no rules), a list of facts and text that looks like one. Each reads apart,
    in the terminal and on the dashboard's approval page (the same lines)."""
    from markupsafe import escape

    from inhouse.web.login import describe
    from inhouse.web.render import render_page

    def said(**fields: object) -> list[str]:
        return describe(EventKind.HANDOFF_ACCEPTED, {"play": "baseline", **fields})

    readings = [
        said(),
        said(comment=""),
        said(comment="(none)"),
        said(comment='""'),
        said(rules=4),
        said(rules="4"),
        said(evidence=[3, 5]),
        said(evidence="[3, 5]"),
        said(note=None),
        said(note="null"),
        said(note="None"),
        said(note=" ok"),
        said(note="ok"),
    ]
    assert len({tuple(lines) for lines in readings}) == len(readings), readings
    assert "comment: (none)" in readings[0] and 'comment: ""' in readings[1]
    assert "rules: 4" in readings[4] and 'rules: "4"' in readings[5]
    assert "evidence: [3, 5]" in readings[6] and "note: ok" in readings[12]
    assert readings[0][0] == "ACCEPT the handoff of play baseline"
    lines = describe(EventKind.FACT_RECORDED, {"kind": "survey.response", "version": 1})
    assert "payload: (none)" in lines
    assert "payload: null" in describe(
        EventKind.FACT_RECORDED, {"kind": "survey.response", "version": 1, "payload": None}
    )
    for lines in readings[:2]:
        page = render_page(
            "approval",
            {"command": "inhouse web approve x", "says": lines, "expires": "2026-11-02T09:01:00",
             "recorded": False, "back": "/"},
            viewer=None, csrf="", path="/approvals/x",
        )  # fmt: skip
        assert f"<li>{escape(lines[1])}</li>" in page, page


@pytest.mark.parametrize("back", [6, 9, 14])
def test_the_person_signs_no_window_that_opened_minutes_before_now(
    cast: dict[str, Program], back: int
) -> None:
    """The forgery: lena's server proposes omar's acceptance with a window that opened minutes
    before he approves (or that has ended), so the event her server writes with it may be dated
    back before his approval, up to a quarter of an hour, as far as the log lets it. His CLI
    signs a window that opens now, within the clocks' skew, and has not ended; the same
    statement proposed now is signed."""
    lena, omar = cast["lena"], cast["omar"]
    _, _, delegation = _session(lena, omar)
    payload = _acceptance(lena)
    now = lena.clock()

    def statement(issued: Any) -> dict[str, str]:
        return approval_statement(read_delegation(delegation), kind=EventKind.HANDOFF_ACCEPTED,
                                  payload=payload, nonce="a-7", issued=issued)  # fmt: skip

    with pytest.raises(IdentityError, match=r"opens at .* this machine's clock says"):
        sign_approval(omar.key, statement(now - timedelta(minutes=back)), payload, now=now)
    assert sign_approval(omar.key, statement(now - timedelta(minutes=4)), payload, now=now)
    assert sign_approval(omar.key, statement(now + timedelta(minutes=4)), payload, now=now)
