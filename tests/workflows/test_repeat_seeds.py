"""``repeat: N`` where a version samples at a seed sent: each attempt of a case sends a seed of its
own, derived from the run's seed and the attempt's number, so N attempts are N draws.

Before, every attempt sent the one seed: at temperature 0.7 and ``seed: 11`` the model drew the
same answer N times, and a case "passing 3 of 3" (``min-pass``) was one sample, the lottery the
docs say ``repeat`` catches. At temperature 0 (each answer the model's most likely one, whatever
the seed) and with no seed (the server draws each request's own), the seed goes as before.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from inhouse.workflows.runner import attempt_seed, seed_of_attempt, seeds_each_attempt
from inhouse.workflows.spec import parse_workflow
from tests.workflows.conftest import SUMMARY


def _summary(text: str = SUMMARY, repeat: int = 3) -> Any:
    return parse_workflow(f"{text}repeat: {repeat}\n", where="workflows/summary.yaml")


def test_each_attempt_at_a_written_seed_above_0_draws_its_own() -> None:
    workflow = _summary()
    sent = [seed_of_attempt(workflow, None, attempt) for attempt in range(3)]
    assert sent[0] == 11  # the first sends the run's seed, as a case run once always did
    assert len(set(sent)) == 3, sent
    # derived as the docs say, so anyone works each out again from the run's recorded seed
    digest = hashlib.sha256(b"11:2").digest()
    assert sent[2] == int.from_bytes(digest[:8], "big") % (2**31 - 1)
    assert seeds_each_attempt(workflow, 11)


def test_a_drawn_seed_derives_the_attempts_of_its_own() -> None:
    """A colleague's run sends a seed drawn for it (exit rule 35): its attempts derive from
    that seed, never from the version's."""
    workflow = _summary()
    drawn = [seed_of_attempt(workflow, 4242, attempt) for attempt in range(3)]
    written = {seed_of_attempt(workflow, None, attempt) for attempt in range(3)}
    assert drawn[0] == 4242 and len(set(drawn)) == 3
    assert not set(drawn) & written
    assert drawn == [attempt_seed(4242, attempt) for attempt in range(3)]


@pytest.mark.parametrize(
    ("before", "after"),
    [("temperature: 0.7", "temperature: 0"), ("  seed: 11\n", "")],
)
def test_at_0_or_without_a_seed_every_attempt_sends_what_the_run_sends(
    before: str, after: str
) -> None:
    workflow = _summary(SUMMARY.replace(before, after))
    assert [seed_of_attempt(workflow, None, attempt) for attempt in range(3)] == [None] * 3
    assert not seeds_each_attempt(workflow, workflow.spec.parameters.seed)
