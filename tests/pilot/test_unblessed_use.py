"""Use of weights no recorded lock blessed is not the baseline's use in play 4: the rollup sets
it aside (tests/gateway/test_recorded_lock.py), and so do the adoption report and the library
prompts' use that the gateway's key signs, from the same rows.

The forgery: a lead lets the pilot in early (a waiver) and the gateway routes ``inhouse.lock``
as it stands while the log records no lock, so the members' requests are answered on weights
nobody verified; the lock recorded afterwards blesses other weights. Without the rule, those
days make the members "independent" in ``pilot.adoption`` and the prompt they sent counts as a
shared prompt used (an enablement step rests on it), though the rollup signs none of it.
Requests go through the real gateway to a stand-in upstream (tests/pilot/gateway_days.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.baseline.lock import COLLECTOR, Lock, LockedModel, LockedRuntime, lock_fact_payload
from inhouse.gateway.rollup import rollup_usage
from inhouse.pilot.adoption import record_adoption
from inhouse.pilot.library_views import record_prompt_usage
from inhouse.program import Provenance
from tests.conftest import Clock
from tests.gateway.harness import LEAD, digest_of, model_file
from tests.pilot.gateway_days import Pilot, Use, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "support")}
DAYS = ("2026-11-03", "2026-11-04", "2026-11-05")


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    made = start_pilot(_isolated, clock, TEAMS)
    for person in TEAMS:
        made.enable(person, "2026-11-02T10:00")
    yield made
    made.lead.close()


def _record_lock(pilot: Pilot, digest: str) -> None:
    """The lead records a lock blessing ``tiny`` at ``digest`` (what `baseline lock` records)."""
    lock = Lock(
        owner=LEAD,
        runtime=LockedRuntime(name="local", family="openai"),
        models=[LockedModel(name="tiny", digest=digest)],
        python="3.11",
        inhouse="0.1.0",
    )
    lock = lock.model_copy(update={"lock_hash": lock.computed_hash()})
    pilot.lead.record_fact(
        None, "baseline.lock", lock_fact_payload(lock), provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )  # fmt: skip


def test_use_of_weights_no_recorded_lock_blessed_makes_nobody_independent(
    pilot: Pilot, _isolated: Path
) -> None:
    """bob uses the weights inhouse.lock routes on three days, before any lock is recorded;
    the lock recorded then blesses other weights. The rollup signs none of it, and the adoption
    report measures none of it either, saying why."""
    prompt = pilot.share_prompt("pia", "triage")
    pilot.use(Use("bob", f"{day}T10:00", prompt=prompt) for day in DAYS)
    pilot.on("2026-11-06")
    _record_lock(pilot, digest_of(model_file(_isolated, "verified.gguf", seed=7)))
    assert rollup_usage(pilot.lead).recorded == []  # the rollup's rule, as before

    report, fact = record_adoption(pilot.lead)
    assert fact is not None
    (bob,) = [m for m in fact.payload["members"] if m["person"] == "bob"]
    assert (bob["active_days"], bob["independent"]) == (0, False)
    (note,) = [n for n in report.notes if "no recorded lock blessed" in n]
    assert "3 answered requests on weights no recorded lock blessed that day" in note
    assert "2026-11-03 bob on sha256:" in note


def test_a_library_prompt_sent_on_weights_no_recorded_lock_blessed_is_not_used(
    pilot: Pilot, _isolated: Path
) -> None:
    """Nor does the library prompt bob sent on those weights count as used (his
    ``used-shared-prompt`` step would rest on that ``prompt.usage``): its rows are named."""
    prompt = pilot.share_prompt("pia", "triage")
    pilot.use(Use("bob", f"{day}T10:00", prompt=prompt) for day in DAYS)
    pilot.on("2026-11-06")
    _record_lock(pilot, digest_of(model_file(_isolated, "verified.gguf", seed=7)))
    notes: list[str] = []
    assert record_prompt_usage(pilot.lead, notes) == []
    (note,) = notes
    assert "3 answered requests on weights no recorded lock blessed that day" in note


def test_use_of_the_weights_the_recorded_lock_blessed_counts(pilot: Pilot, _isolated: Path) -> None:
    """The honest way: the recorded lock blesses the weights bob used; his days count."""
    prompt = pilot.share_prompt("pia", "triage")
    pilot.use(Use("bob", f"{day}T10:00", prompt=prompt) for day in DAYS)
    pilot.on("2026-11-06")
    _record_lock(pilot, digest_of(_isolated / "weights.gguf"))

    report, fact = record_adoption(pilot.lead)
    assert fact is not None
    (bob,) = [m for m in fact.payload["members"] if m["person"] == "bob"]
    assert (bob["active_days"], bob["independent"]) == (3, True)
    assert not [n for n in report.notes if "no recorded lock blessed" in n]
    (used,) = record_prompt_usage(pilot.lead)
    assert (used["prompt"], used["people"]) == ("triage", ["bob"])
