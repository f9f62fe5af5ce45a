"""Red team of play 5's periodic review (third round): governance theater, a review that
decided nothing. ``inhouse review hold`` refuses a review with no drift review to decide on, and
asks a decision for every item of the latest one; the check read "the drift review it saw" by
the review's own time (its recorder's clock) and asked nothing when it found none. So the lead,
around the API (a few lines with her own key), recorded a review before any drift review
existed, or set her clock back before the first one, with no decision at all; the support
owner, shown it, confirmed attending; and review-held passed on a review that decided nothing.
Now a review counts only where it saw a drift review: one recorded before it in the log, and
dated by its time."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.evaluation import context_for
from inhouse.support.drift import record_drift_review
from inhouse.support.queue import accept_owner, name_owner
from inhouse.support.review import COLLECTOR as REVIEWS
from inhouse.support.review import attend_review, hold_review, schedule_review
from tests.conftest import Clock
from tests.people import enrol
from tests.runtimes.standin import StandIn, fixture
from tests.support.test_review import CADENCE, KEEP, reviewed
from tests.support.test_review import judge as review_judged


@pytest.fixture
def node() -> Iterator[StandIn]:
    """An Ollama node (a stand-in with Ollama 0.12.6's recorded answers), as in
    tests/support/test_review.py: it serves the blessed llama3.2 and an unpinned gemma3."""
    with StandIn() as server:
        server.json("GET", "/api/tags", fixture("ollama-0.12.6_api_tags.json"))
        server.json("GET", "/api/ps", {"models": []})
        server.json("GET", "/api/version", fixture("ollama-0.12.6_api_version.json"))
        yield server


def _hollow(lena: Program) -> int:
    """A review.held lena records with her own key around ``inhouse review hold``: she and sam
    attended, and it decides nothing."""
    held = lena.record_fact(
        None,
        "review.held",
        {"attendees": ["lena", "sam"], "decisions": []},
        provenance=Provenance.MEASURED,
        collector=REVIEWS,
    )
    return held.id


def _locked(folder: Path, clock: Clock, ollama: StandIn) -> Program:
    """tests/support/test_review.py's ``reviewed`` world without its drift review: lena leads;
    the lock blesses llama3.2 on an Ollama node that also serves gemma3; the gateway's key is
    enrolled and vic vouched for its host. No drift review yet."""
    return reviewed(folder, clock, ollama, CADENCE, drift=False)


def _support(lena: Program) -> Program:
    sam = enrol(lena, "sam", team="support")
    name_owner(lena, "sam")
    accept_owner(sam)
    return sam


def test_a_review_recorded_before_any_drift_review_decided_nothing(
    _isolated: Path, clock: Clock, node: StandIn
) -> None:
    """No drift review in the log at all when lena records the review; the gateway's comes
    after, so versions-pinned can pass. The review saw nothing to decide: no review."""
    lena = _locked(_isolated, clock, node)
    sam = _support(lena)
    schedule_review(lena)
    clock.advance(hours=1)
    # `inhouse review hold` refuses: there is nothing to decide on
    before = len(lena.state().facts)
    with pytest.raises(InvalidInput, match="no drift review to decide on"):
        hold_review(lena, ["lena", "sam"], [])
    assert len(lena.state().facts) == before
    held = _hollow(lena)
    attend_review(sam, held)
    clock.advance(hours=1)
    record_drift_review(lena)  # the gateway's, afterwards: versions-pinned has its review
    result = review_judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "it saw no drift review (none recorded before it and dated by its time" in result.reason
    # a play 5 exit judged on that review keeps it (the reading before)
    ctx = context_for(lena.state(), lena.clock())
    mark = (lena.clock(), lena.state().head_seq)
    kept = evaluate("review-held", dataclasses.replace(ctx, exited={"support": mark}))
    assert kept.outcome is Outcome.PASS, kept.reason

    # honest: now that the gateway reviewed drift, a review that decides on what it found
    clock.advance(hours=1)
    again = hold_review(lena, ["lena", "sam"], KEEP)
    attend_review(sam, again.id)
    assert review_judged(lena).outcome is Outcome.PASS, review_judged(lena).reason


def test_a_review_dated_back_before_the_first_drift_review_decided_nothing(
    _isolated: Path, clock: Clock, node: StandIn
) -> None:
    """The gateway's drift review is in the log when lena records her review: she sets her
    clock back (not past her own last event, the schedule) and records one that decides
    nothing. By its date it saw no drift review, and a review that saw none decided nothing."""
    lena = _locked(_isolated, clock, node)
    sam = _support(lena)
    schedule_review(lena)
    clock.advance(days=1)
    record_drift_review(lena)  # the gateway's key, on its host
    clock.advance(hours=-23)  # lena's clock, an hour after her schedule
    held = _hollow(lena)
    clock.advance(days=1)
    attend_review(sam, held)
    result = review_judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "it saw no drift review (none recorded before it and dated by its time" in result.reason

    # honest: `inhouse review hold` with a decision for every item, sam confirms
    clock.advance(hours=1)
    again = hold_review(lena, ["lena", "sam"], KEEP)
    attend_review(sam, again.id)
    assert review_judged(lena).outcome is Outcome.PASS, review_judged(lena).reason
