"""Red team of the gateway as a source of evidence, what its host hides: lena runs the gateway's
host (she enrolled its key there), so the usage log's rows are hers to drop before its rollup
signs them. Play 5's ``agent-boundaries`` fails while the gateway's signed usage shows tools
offered through a key bound to no agent; the signed facts are all it reads, and what the
gateway signed before stands (tests/test_outsider_later.py), but rows the rollup never read
leave nothing behind. Left open as a strict xfail: see its reason."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from inhouse.db.schema import gateway_usage
from inhouse.gateway import issue_key
from inhouse.gateway.rollup import rollup_usage
from inhouse.program import Program
from inhouse.program.checks import Outcome
from tests.pilot.gateway_days import Pilot, Use
from tests.test_outsider_later import SHELL, _judge, lena, pilot  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("on_database")


@pytest.mark.xfail(
    strict=True,
    reason=(
        "hole left open: the gateway's host is its operator's (lena enrolled its key there), "
        "and agent-boundaries reads only what the gateway's key signed. She runs her release "
        "bot on her own gateway key, offering a shell tool, and the gateway answers and seals "
        "the rows; before its rollup runs (its timer is hers) she deletes them (or re-seals "
        "them without tools, with the MAC key she holds), and the day is signed clean: the "
        "check passes. Once signed, the day's tools stand; before, nothing outside the host saw "
        "them. Closing it needs tool use witnessed by someone other than the host's operator "
        "(the key's holder, or a second gateway replica's own key signing as it serves): a "
        "design decision, as for the drift review the operator signs"
    ),
)
def test_tools_offered_through_her_own_key_and_dropped_before_the_rollup_still_fail(
    pilot: Pilot,  # noqa: F811
    lena: Program,  # noqa: F811
) -> None:
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    pilot.use([Use("lena", "2026-11-05T10:00", tools=[SHELL])])  # answered, sealed
    with lena.store.engine.begin() as conn:  # on the host, before the rollup's timer fires
        conn.execute(delete(gateway_usage).where(gateway_usage.c.person == "lena"))
    rollup_usage(lena)
    result = _judge(lena, "agent-boundaries")
    assert result.outcome is Outcome.FAIL, result.reason
