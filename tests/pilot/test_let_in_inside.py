"""People let into the pilot by a gateway key (a pilot never listed takes its first such people
as its members) are inside the program for good: their access requests are not widening demand
(play 5's trigger), nor their use "use beyond the pilot" (play 6's trigger and the
``people_beyond_pilot`` indicator). Before, only roles, ``pilot.member`` facts and owners made
someone an insider, so a lead who let the pilot in by keys alone had its own members count as
outsiders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inhouse.program import Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from tests.people import enrol, vouch_for_gateway_host


def _let_in_by_key(_isolated: Path, clock: Any) -> tuple[Any, Any]:
    """lena's program, whose pilot was never listed: zed, a real colleague on his own laptop,
    signed in, is let into the pilot by a gateway key (no role; the unlisted pilot's first
    place, `inhouse keys issue zed` while no pilot user exists). He is a pilot participant:
    the reach guard itself says so."""
    from inhouse.program import Program
    from inhouse.program.guards import Reach
    from tests.people import hold_gateway_key

    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    zed = enrol(lena, "zed", team="sales")
    hold_gateway_key(lena, zed)  # the pilot's first place (waivers on the record, as tests do)
    state = lena.state()
    assert "zed" in state.let_in  # one of the pilot by being let in
    assert lena.reach_of("zed") is Reach.PILOT
    return lena, zed


def _as_of_exit(lena: Any, play: str, when: Any) -> Any:
    """The context every check sees, with ``play`` first exited at ``when`` (stands in for the
    walk to that play's handoff, which the hole does not depend on)."""
    from dataclasses import replace

    ctx = build_context(lena.state(), lena.clock())
    return replace(ctx, exited={**ctx.exited, play: (when, lena.state().head_seq)})


def test_a_pilot_member_let_in_by_key_counts_as_use_beyond_the_pilot(
    _isolated: Path, clock: Any
) -> None:
    """zed's use after play 5 exits is a pilot member's, not use beyond the pilot."""
    from datetime import timedelta

    from inhouse.gateway.rollup import service_program
    from tests.people import confirm_own_use

    lena, zed = _let_in_by_key(_isolated, clock)
    exit_at = clock.now + timedelta(days=2)
    clock.advance(days=3)
    day = clock.now.date().isoformat()
    service_program(lena).record_fact(None, "usage.daily", {"day": day, "people": {
        "zed": {"requests": 9, "tokens_in": 300, "tokens_out": 400}}},
        provenance=Provenance.MEASURED, collector="inhouse gateway rollup")  # fmt: skip
    vouch_for_gateway_host(zed)  # he uses the gateway: what it signs counts
    confirm_own_use(zed)  # and says so, with his own key
    result = evaluate("use-beyond-pilot", _as_of_exit(lena, "support", exit_at))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "zed was let into the pilot by a gateway key before" in result.reason, result.reason
    lena.close()


def test_a_pilot_member_let_in_by_key_counts_as_widening_demand(
    _isolated: Path, clock: Any
) -> None:
    """zed's access request after play 4 exits is a pilot member's, not someone outside asking
    in."""
    from datetime import timedelta

    lena, zed = _let_in_by_key(_isolated, clock)
    exit_at = clock.now + timedelta(hours=1)
    clock.advance(hours=2)
    zed.request_access(reason="more seats for sales")
    result = evaluate("widening-requested", _as_of_exit(lena, "pilot", exit_at))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "zed was let into the pilot by a gateway key before" in result.reason, result.reason
    lena.close()
