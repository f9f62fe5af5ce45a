"""Review 3 of walk456, redteam4b and signinfollow: what is left open, pinned."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from inhouse.errors import NotAllowed
from inhouse.indicators.lagging import _estimates, record_minutes_saved
from inhouse.program import Program, Provenance
from inhouse.program.counting import build_context
from tests.conftest import Clock
from tests.people import enrol

SPEC = {"workflow": "ticket-summary", "content_hash": "c" * 12, "model": "m",
        "model_digest": "sha256:" + "b" * 64}  # fmt: skip


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: a workflow's 'authors' are whoever signed a workflow.spec of it, so "
    "the judged lead signs a spec version of omar's workflow and her minutes-saved estimate is "
    "the one play 6's report reads (the latest of its authors'), overriding his; the report "
    "labels it 'their word, not measured', and play 6's exit asks only that a lagging figure be "
    "there (reference prices are a lead's word too). Whether an estimate must come from someone "
    "other than the judged lead, or only from the first author, is a product decision",
)
def test_the_lead_becomes_an_author_by_signing_a_spec_and_her_estimate_is_read(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support")
    omar.record_fact(None, "workflow.spec", {**SPEC, "author": "omar"},
                     provenance=Provenance.MEASURED, collector="inhouse workflow test")  # fmt: skip
    record_minutes_saved(omar, "ticket-summary", 5)
    lena.record_fact(None, "workflow.spec", {**SPEC, "content_hash": "d" * 12, "author": "lena"},
                     provenance=Provenance.MEASURED, collector="inhouse workflow test")  # fmt: skip
    with contextlib.suppress(NotAllowed):  # refused: the hole is closed at the command
        record_minutes_saved(lena, "ticket-summary", 500)
    read = _estimates(build_context(lena.state(), lena.clock()))["ticket-summary"]
    assert (read.by, read.payload["minutes"]) == ("omar", 5)
    lena.close()
