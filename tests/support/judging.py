"""Play 5's people, and its `ticket-resolved-without-builder` judged as the check sees a
program now, or as the reach guards see it once play 5 has exited (its earlier rules apply)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from inhouse.program import Program, Provenance
from inhouse.program.checks import Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.support.queue import accept_owner, name_owner
from tests.conftest import Clock
from tests.locks import lock_payload
from tests.people import enrol


def judge_ticket(program: Program, *, exited: bool = False) -> Result:
    """The check's result now; with ``exited``, as judged for a grant made after play 5's
    exit (``support`` among the exited plays)."""
    ctx = context_for(program.state(), program.clock()).with_params({"reopen_days": 14})
    if exited:
        mark = (program.clock(), program.state().head_seq)
        ctx = dataclasses.replace(ctx, exited={**ctx.exited, "support": mark})
    return evaluate("ticket-resolved-without-builder", ctx)


def support_world(
    request: pytest.FixtureRequest, folder: Path, clock: Clock
) -> tuple[Program, Program, Program, Program, Program]:
    """lena leads; omar built the baseline (he signed its lock); sam owns the support queue (he
    took it on with his own key); pia and bea use the tool. Returns lena, omar, sam, pia, bea."""
    lena = Program.init(folder, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    omar = enrol(lena, "omar", team="platform", roles=["play-owner"])
    omar.record_fact(None, "baseline.lock", lock_payload("omar"),
                     provenance=Provenance.MEASURED, collector="inhouse baseline lock")  # fmt: skip
    sam = enrol(lena, "sam", team="ops")
    name_owner(lena, "sam")
    accept_owner(sam)
    pia = enrol(lena, "pia", team="sales")
    bea = enrol(lena, "bea", team="legal")
    return lena, omar, sam, pia, bea
