"""Red team of plays 5 and 6 (rt56q): what one person can do alone to play 5's support checks
that no rule here closes yet. The lagging figures of play 6's report, which one person typed
alone, are closed in tests/indicators/test_reported_lagging.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.program.checks import Outcome
from inhouse.support.queue import confirm_fix, open_ticket, resolve_ticket
from tests.conftest import Clock
from tests.support.judging import judge_ticket, support_world


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: one pilot user alone holds play 5's exit check back for everyone. "
    "The typical component is the one that drew the most it-broke tickets, counted per ticket, "
    "and each typical component needs a resolution its opener confirmed: bea files two it-broke "
    "tickets on the gateway (nobody else hit it), lets sam resolve them and never confirms the "
    "fix, so ticket-resolved-without-builder fails though pia's baseline ticket was resolved "
    "and confirmed; play 5's exit no longer holds today and the reach guard refuses every "
    "widening beyond the pilot until a lead waives it. Counting hits per person alone does not "
    "close it (one ticket of hers ties, and a tie makes both typical); closing it needs a "
    "product decision: an opener's silence for reopen_days read as no objection, or the "
    "typical component needing one confirmed resolution among the typical ones, not each",
)
def test_one_user_who_never_confirms_her_fixes_holds_play_five_back(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, _, sam, pia, bea = support_world(request, _isolated, clock)
    baseline = open_ticket(pia, "install fails", category="it-broke", component="baseline")
    clock.advance(hours=1)
    resolve_ticket(sam, baseline.id, note="fixed the install script")
    clock.advance(hours=1)
    confirm_fix(pia, baseline.id)
    assert judge_ticket(lena).outcome is Outcome.PASS  # support works: pia's fix, confirmed
    for n in range(2):  # bea's tickets, resolved by sam; she never confirms a fix
        ticket = open_ticket(bea, f"gateway 502 ({n})", category="it-broke", component="gateway")
        clock.advance(hours=1)
        resolve_ticket(sam, ticket.id, note="restarted the gateway")
        clock.advance(hours=1)
    result = judge_ticket(lena)
    assert result.outcome is Outcome.PASS, result.reason
