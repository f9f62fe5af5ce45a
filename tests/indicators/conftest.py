"""The findings tests' casts: a signed-in pilot (bob in support, pia and oli analysts), and lena
leading, omar building at his laptop, pia opening findings at hers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.program import Program
from inhouse.program.checks import Result, evaluate
from inhouse.program.evaluation import context_for
from tests.conftest import OTHER_COMPUTER, Clock
from tests.people import enrol
from tests.pilot.gateway_days import Pilot, signed_in_pilot

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "analyst"), "oli": ("ops", "analyst")}


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    with signed_in_pilot(_isolated, clock, TEAMS) as made:
        yield made


def judge_findings(program: Program) -> Result:
    """``findings-fed-back`` over a quarter."""
    ctx = context_for(program.state(), program.clock()).with_params({"period_days": 92})
    return evaluate("findings-fed-back", ctx)


@pytest.fixture
def cast(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Program]]:
    """lena leads; omar builds (the closer judged); pia, on her own laptop, opens findings."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    omar = enrol(lena, "omar", team="platform", roles=["play-owner"])
    pia = enrol(lena, "pia", team="sales")
    monkeypatch.setenv(OTHER_COMPUTER, "omar-laptop")  # omar builds at his own laptop
    yield {"lena": lena, "omar": omar, "pia": pia}
    lena.close()
