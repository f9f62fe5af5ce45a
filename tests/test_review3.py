"""Review 3 of walk456, redteam4b and signinfollow: what is left open, pinned."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from inhouse.errors import NotAllowed
from inhouse.indicators.lagging import MINUTES_KIND, _estimates, record_minutes_saved
from inhouse.program import Program, Provenance
from inhouse.program.counting import build_context
from tests.conftest import Clock
from tests.people import enrol

SPEC = {"workflow": "ticket-summary", "content_hash": "c" * 12, "model": "m",
        "model_digest": "sha256:" + "b" * 64}  # fmt: skip


def test_the_lead_becomes_an_author_by_signing_a_spec_and_her_estimate_is_read(
    _isolated: Path, clock: Clock
) -> None:
    """The judged lead signed a spec version of omar's workflow, so she was one of its
    'authors', and her minutes-saved estimate was the one play 6's report read (the latest of
    its authors'), overriding his. A workflow's author is the signer of its first spec (the
    one who built it); a later spec's signer edited it: her estimate is refused, naming omar,
    and one she records around the command is never read."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support")
    omar.record_fact(None, "workflow.spec", {**SPEC, "author": "omar"},
                     provenance=Provenance.MEASURED, collector="inhouse workflow test")  # fmt: skip
    record_minutes_saved(omar, "ticket-summary", 5)
    lena.record_fact(None, "workflow.spec", {**SPEC, "content_hash": "d" * 12, "author": "lena"},
                     provenance=Provenance.MEASURED, collector="inhouse workflow test")  # fmt: skip
    with pytest.raises(NotAllowed, match="counts only from its author, omar"):
        record_minutes_saved(lena, "ticket-summary", 500)
    # around the command: her signed attestation is in the log, and the report reads his
    lena.attest(None, MINUTES_KIND, {"workflow": "ticket-summary", "minutes": 500}, "mine")
    read = _estimates(build_context(lena.state(), lena.clock()))["ticket-summary"]
    assert (read.by, read.payload["minutes"]) == ("omar", 5)
    # the author's own later estimate is the one read
    record_minutes_saved(omar, "ticket-summary", 7)
    read = _estimates(build_context(lena.state(), lena.clock()))["ticket-summary"]
    assert (read.by, read.payload["minutes"]) == ("omar", 7)
    lena.close()


def test_play_three_s_owner_is_no_author_of_a_workflow_she_never_published(
    _isolated: Path, clock: Clock
) -> None:
    """Play 3's owner's estimate counted beside its authors': the lead, owning play 3, put a
    number on a workflow omar built. Only its author's counts, before and after hers."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support")
    omar.record_fact(None, "workflow.spec", {**SPEC, "author": "omar"},
                     provenance=Provenance.MEASURED, collector="inhouse workflow test")  # fmt: skip
    lena.attest(None, MINUTES_KIND, {"workflow": "ticket-summary", "minutes": 90}, "mine")
    # lena owning play 3 (started, the way a program's lead often does)
    ctx = replace(build_context(lena.state(), lena.clock()), owners={"workflow": "lena"})
    assert "ticket-summary" not in _estimates(ctx)
    lena.close()
