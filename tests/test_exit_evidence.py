"""An exit names the facts it was judged on: the accepting event (``play.exited``) records the ids
of the facts its exit checks cited, beside their hash, and the fold keeps them only where each
is a fact in the log by the exit. An earlier rule kept for a play that exited spares only those
(``CheckContext.spared``); an exit recorded before exits named them keeps every fact by its mark.

The forgery: whoever accepts writes the list, and through the Python API may append the exit
themselves. A list naming facts recorded since, events that are no fact, or no ids at all must
never reach further than the exit's mark."""

from __future__ import annotations

from typing import Any

import pytest

from inhouse.program import Program
from inhouse.program.audit import verify_chain
from inhouse.program.evaluation import context_for, evidence_hash, exit_results
from inhouse.program.events import EventKind, read_events
from inhouse.program.state import fold
from tests.locks import HERE
from tests.test_engine import (  # noqa: F401
    LOCK,
    cast,
    lock_baseline,
    measured,
    omar,
    program,
    prove,
    reproduce,
    through_play_one,
)

pytestmark = pytest.mark.usefixtures("on_database")

#: play 1's id
PROVE = "prove-value"


def _exits(who: Program) -> list[dict[str, Any]]:
    return [e.payload for e in read_events(who.store) if e.kind == EventKind.PLAY_EXITED]


def _refolded(who: Program) -> Any:
    """The log folded afresh, as another machine (or `inhouse audit verify`) folds it."""
    return fold(read_events(who.store), lead_key=who.settings.lead_key)


def test_an_exit_names_the_facts_it_was_judged_on(program: Program) -> None:  # noqa: F811
    """Play 1 exits on its verdict: the exit event names it, the fold keeps it, the context
    offers it, and the log verifies."""
    prove(program)
    (verdict,) = [f for f in program.state().facts if f.kind == "trial.verdict"]
    judged = exit_results(program.playbook.play(1), program.state(), program.clock())
    cited = sorted({f.id for item in judged for f in item.result.evidence})
    assert verdict.id in cited
    program.offer_handoff(None, 1, to="lena")
    program.accept_handoff(None, 1, comment="I can build on this")
    (exit_,) = _exits(program)
    assert exit_["evidence"] == cited
    assert exit_["evidence_hash"] == evidence_hash(judged)  # the hash as it always was
    for state in (program.state(), _refolded(program)):
        assert state.first_judged[PROVE] == frozenset(cited)
    ctx = context_for(program.state(), program.clock())
    assert ctx.judged_on(PROVE) == frozenset(cited)
    assert ctx.spared(PROVE, verdict)
    assert verify_chain(program.store, lead_key=program.settings.lead_key).ok


def _offered(who: Program) -> tuple[int, str]:
    """Play 1 proven and offered to lena herself: its verdict's id, and the hash she accepts."""
    prove(who)
    (verdict,) = [f for f in who.state().facts if f.kind == "trial.verdict"]
    digest = who.offer_handoff(None, 1, to="lena")
    return verdict.id, digest


def _another_fact(who: Program) -> Any:
    """A fact recorded after the exit (a second hypothesis)."""
    who.record_hypothesis(None, "summaries locally", aim="replace-dependency",
                              target="OpenAI")  # fmt: skip
    return who.state().facts[-1]


def _exit_by_hand(who: Program, digest: str, **extra: Any) -> int:
    """lena accepts and exits play 1 around the API (`Program._append`), the exit event
    carrying ``extra``: the event's seq."""
    who._append(
        EventKind.HANDOFF_ACCEPTED, "lena", {"play": PROVE, "evidence_hash": digest,
                                             "comment": ""}
    )  # fmt: skip
    event = who._append(
        EventKind.PLAY_EXITED, "lena", {"play": PROVE, "evidence_hash": digest, **extra}
    )
    return event.seq


def test_an_exit_event_without_facts_folds_and_verifies_as_before(
    request: pytest.FixtureRequest,
) -> None:
    """An exit written before exits named their facts (no ``evidence``), in a log an older
    inhouse wrote (no event says its rules): it loads, verifies and exits the play as it did,
    and an earlier rule spares every fact by its mark."""
    from tests.test_exit_rules_floor import _older_inhouse

    with pytest.MonkeyPatch.context() as older:
        _older_inhouse(older)
        program: Program = request.getfixturevalue("program")
        verdict, digest = _offered(program)
    seq = _exit_by_hand(program, digest)
    later = _another_fact(program)
    for state in (program.state(), _refolded(program)):
        assert state.first_exited[PROVE][1] == seq - 1  # its mark: the acceptance before it
        assert PROVE not in state.first_judged
    ctx = context_for(program.state(), program.clock())
    assert ctx.judged_on(PROVE) is None
    facts = {f.id: f for f in program.state().facts}
    hypothesis = next(f for f in program.state().facts if f.id < seq and f.id != verdict)
    assert ctx.spared(PROVE, facts[verdict])
    assert ctx.spared(PROVE, hypothesis)  # every fact by the mark, as before
    assert not ctx.spared(PROVE, later)
    assert verify_chain(program.store, lead_key=program.settings.lead_key).ok


def test_a_forged_list_of_facts_reaches_nothing_beyond_the_exit(
    program: Program,  # noqa: F811
) -> None:
    """lena writes the exit herself, its list naming the next events (facts she records
    right after it), an event that is no fact, a number the log never reached, strings and
    booleans: the fold keeps only her verdict, and a fact recorded since is not spared."""
    verdict, digest = _offered(program)
    head = program.state().head_seq
    offer_seq = head  # the offer: an event, no fact
    forged = [verdict, head + 3, head + 4, offer_seq, 10**9, str(verdict), True, -1, None]
    seq = _exit_by_hand(program, digest, evidence=forged)
    later = _another_fact(program)
    assert later.id in forged  # the id she named before it was recorded
    for state in (program.state(), _refolded(program)):
        assert state.first_exited[PROVE][1] == seq - 1  # its mark: the acceptance before it
        assert state.first_judged[PROVE] == frozenset({verdict})
    ctx = context_for(program.state(), program.clock())
    assert not ctx.spared(PROVE, later)
    assert verify_chain(program.store, lead_key=program.settings.lead_key).ok


def test_an_exit_whose_list_is_no_list_is_judged_on_nothing(program: Program) -> None:  # noqa: F811
    """A list that is no list (a string of ids) names no fact: the earlier rule spares none,
    never every fact by the mark (the rule for exits written before exits named them)."""
    verdict, digest = _offered(program)
    _exit_by_hand(program, digest, evidence=f"{verdict}")
    ctx = context_for(program.state(), program.clock())
    assert ctx.judged_on(PROVE) == frozenset()
    facts = {f.id: f for f in program.state().facts}
    assert not ctx.spared(PROVE, facts[verdict])


def test_an_exit_naming_no_facts_after_one_that_did_is_judged_on_nothing(
    program: Program,  # noqa: F811
    omar: Program,  # noqa: F811
) -> None:
    """The forgery: play 1 exits through inhouse, its exit naming the facts it was judged on;
    omar, who receives play 2, accepts it and appends its exit himself, without the list, so
    that it reads as an exit from before exits named their facts (an earlier rule kept for it
    sparing every fact by its mark). Every exit this inhouse writes names them: after one that
    did, an exit naming none is read as naming none, and ``status`` says so. Play 2 still
    exited (its checks held); nothing of it is spared."""
    through_play_one(program)
    omar.request_access(reason="I want the triage model")
    program.start_play(None, 2)
    lock_baseline(program)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(omar)
    digest = program.offer_handoff(None, 2, to="omar")
    omar._append(EventKind.HANDOFF_ACCEPTED, "omar",
                 {"play": "baseline", "evidence_hash": digest, "comment": ""})  # fmt: skip
    seq = omar._append(
        EventKind.PLAY_EXITED, "omar", {"play": "baseline", "evidence_hash": digest}
    ).seq
    for state in (program.state(), _refolded(program)):
        assert state.first_exited["baseline"][1] == seq - 1  # its mark: the acceptance
        assert state.first_judged["baseline"] == frozenset()
        assert PROVE in state.first_judged  # the honest exit keeps what it named
    ctx = context_for(program.state(), program.clock())
    assert ctx.judged_on("baseline") == frozenset()
    lock = next(f for f in program.state().facts if f.kind == "baseline.lock")
    assert not ctx.spared("baseline", lock)
    warnings = " ".join(program.status()["warnings"])
    assert f"play baseline's exit (event {seq}, by omar) names none of the facts" in warnings
    assert verify_chain(program.store, lead_key=program.settings.lead_key).ok


def test_an_exit_says_which_rules_judged_it(program: Program) -> None:  # noqa: F811
    """The exit event says the rules it was judged by (``rules``): a rule kept for exits judged
    before it (play 6's own-key use) spares nothing of an exit that says it was judged by it,
    while a rule with no number keeps what it did. An exit written before exits said so
    counts as judged by none of them, and so does one whose number is no whole number above
    0 (its writer types it: a larger one only takes sparing away)."""
    from inhouse.program.checks import EXIT_RULES, OWN_USE

    verdict, _ = _offered(program)
    program.accept_handoff(None, 1, comment="I can build on this")
    (exit_,) = _exits(program)
    assert exit_["rules"] == EXIT_RULES >= OWN_USE
    for state in (program.state(), _refolded(program)):
        assert state.first_rules[PROVE] == EXIT_RULES
    ctx = context_for(program.state(), program.clock())
    facts = {f.id: f for f in program.state().facts}
    assert ctx.spared(PROVE, facts[verdict])
    assert not ctx.spared(PROVE, facts[verdict], rule=OWN_USE)
    assert verify_chain(program.store, lead_key=program.settings.lead_key).ok


@pytest.mark.parametrize("said", [None, "1", True, -1, 0, 1.0])
def test_an_exit_that_says_no_rules_keeps_the_earlier_ones(
    request: pytest.FixtureRequest,
    said: Any,
) -> None:
    """An exit that says no rules, or none the fold can read, in a log that shows none in force
    (written by an inhouse from before exits said them) counts as judged by none: the earlier
    rule spares what it was judged on, as before (where the log shows them, it is read as
    judged by them: tests/test_exit_rules_floor.py)."""
    from inhouse.program.checks import OWN_USE
    from tests.test_exit_rules_floor import _older_inhouse

    with pytest.MonkeyPatch.context() as older:
        _older_inhouse(older)
        program: Program = request.getfixturevalue("program")
        verdict, digest = _offered(program)
    _exit_by_hand(program, digest, evidence=[verdict], **({} if said is None else {"rules": said}))
    ctx = context_for(program.state(), program.clock())
    assert ctx.exit_rules.get(PROVE, 0) == 0
    facts = {f.id: f for f in program.state().facts}
    assert ctx.spared(PROVE, facts[verdict], rule=OWN_USE)


def test_an_exit_saying_no_rules_after_one_that_did_is_judged_by_them(
    program: Program,  # noqa: F811
    omar: Program,  # noqa: F811
) -> None:
    """The forgery: play 1 exits through inhouse, its exit saying the rules that judged it;
    omar appends play 2's exit himself, naming its facts but no rules, so that it reads as an
    exit judged before play 6's own-key rule (which would keep the earlier one for its facts).
    Every exit this inhouse writes says them: after one that did, an exit saying none is read
    as judged by those."""
    from inhouse.program.checks import EXIT_RULES, OWN_USE

    through_play_one(program)
    omar.request_access(reason="I want the triage model")
    program.start_play(None, 2)
    lock_baseline(program)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(omar)
    digest = program.offer_handoff(None, 2, to="omar")
    lock = next(f for f in program.state().facts if f.kind == "baseline.lock")
    omar._append(EventKind.HANDOFF_ACCEPTED, "omar",
                 {"play": "baseline", "evidence_hash": digest, "comment": ""})  # fmt: skip
    omar._append(EventKind.PLAY_EXITED, "omar",
                 {"play": "baseline", "evidence_hash": digest, "evidence": [lock.id]})  # fmt: skip
    for state in (program.state(), _refolded(program)):
        assert state.first_rules == {PROVE: EXIT_RULES, "baseline": EXIT_RULES}
    ctx = context_for(program.state(), program.clock())
    assert ctx.spared("baseline", lock)  # the facts it names, for the rules before it
    assert not ctx.spared("baseline", lock, rule=OWN_USE)
