"""Play 4's adoption report is of now until the play exits, and not re-judged stale after: the
walk of play 4 on the real engine, a week and more without a new report (the check fails,
naming the command; recording again renews it), then the handoff, then weeks with no report at
all, while play 4 stays exited (its exit is re-judged each day with the checks loaded then, and
the reach guards hold widening beyond the pilot to it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.pilot.adoption import record_adoption
from inhouse.program import Program
from inhouse.program.guards import play_has_exited
from inhouse.support.queue import accept_owner, name_owner
from tests.conftest import Clock
from tests.engine import Engine, needs_engine
from tests.pilot.test_play_four_walk import walk_play_four

pytestmark = needs_engine


def _independent_use(lena: Program) -> dict[str, str]:
    play = next(p for p in lena.status()["plays"] if p["id"] == "pilot")
    row = next(r for r in play["exit"] or [] if r["check"] == "pilot-independent-use")
    return {"outcome": row["outcome"], "reason": row["reason"]}


@pytest.mark.usefixtures("real_model")
def test_an_old_report_fails_until_play_four_exits_and_not_after(
    engine: Engine, _isolated: Path, clock: Clock
) -> None:
    lena, people = walk_play_four(engine, _isolated, clock)
    assert _independent_use(lena)["outcome"] == "pass"
    clock.advance(days=8)
    stale = _independent_use(lena)
    assert stale["outcome"] == "fail"
    assert "more than 7 days before today" in stale["reason"]
    assert "`inhouse pilot adoption --record`" in stale["reason"]
    _, renewed = record_adoption(lena)  # the same measurement, recorded again
    assert renewed is not None
    assert _independent_use(lena)["outcome"] == "pass"

    name_owner(lena, "sam")
    accept_owner(people["sam"])
    lena.offer_handoff(None, "pilot", to="sam", comment="findings, champions, the library")
    people["sam"].accept_handoff(None, "pilot", comment="I take the queue")
    clock.advance(days=40)  # no report since: the exit it was made on stays made
    assert _independent_use(lena)["outcome"] == "pass"
    pilot = lena.playbook.play("pilot")
    assert play_has_exited(pilot, lena.state(), clock(), lena.playbook)
