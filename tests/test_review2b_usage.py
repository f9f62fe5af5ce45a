"""Review of lefts3's usage confirmation (4c16ed9d): what it left open, as a forgery test.

A confirmation binds the tokens it showed since 4c16ed9d; one an older inhouse wrote, of a day
the gateway had not signed yet, bound the requests alone (its ``tokens`` named no such day).
Two confirmations of a day count as the wider of the two, and one that named no figure was the
widest, so such a day stayed open to the reseal that commit closed for new confirmations.
Exit rule 19 (``CONFIRMED_BOUND``) reads a figure a confirmation names none of as none: the
day waits for its person's word again, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from inhouse.gateway.rollup import rollup_usage
from inhouse.pilot.usage_confirm import (
    COLLECTOR,
    attributed_use,
    awaiting_confirmation,
    confirm_usage,
)
from inhouse.program import Provenance
from inhouse.program.checks import CONFIRMED_BOUND
from inhouse.program.counting import build_context, forget
from inhouse.program.playchecks.measure import signed_totals
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot, Use, start_pilot
from tests.test_redteam_gateway_rows import DAY, _counted, _reseal_tokens_of

pytestmark = pytest.mark.usefixtures("on_database")


def _older_confirmation(folder: Path, clock: Clock) -> Pilot:
    """bob sends one request on 3 November and confirms the day, not signed yet, with an
    inhouse from before 4c16ed9d: his requests bound, no tokens."""
    made = start_pilot(folder, clock, {"bob": ("support", "support")})
    made.confirms = False
    made.use([Use("bob", f"{DAY}T10:00")])
    made.on("2026-11-04")
    made.people["bob"].record_fact(
        None,
        "usage.confirmed",
        {"person": "bob", "days": [DAY], "prompts": [], "left_out": [], "requests": {DAY: 1},
         "tokens": {}},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )  # fmt: skip
    return made


@pytest.fixture
def confirmed_by_an_older_inhouse(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    """:func:`_older_confirmation`, in a program today's inhouse runs (rule 19 in force)."""
    made = _older_confirmation(_isolated, clock)
    yield made
    made.lead.close()


def test_tokens_resealed_into_a_day_an_older_inhouse_confirmed_do_not_count(
    confirmed_by_an_older_inhouse: Pilot,
) -> None:
    """lena, on the gateway's host, rewrites bob's one row of 3 November with a million
    output tokens, seals it again and rolls up: one request, as he confirmed, and play 6's
    signed totals count the million tokens on his word."""
    pilot = confirmed_by_an_older_inhouse
    real = _reseal_tokens_of(pilot, "bob", 1_000_000)
    rollup_usage(pilot.lead)
    requests, tokens = _counted(pilot)
    assert requests <= 1 and tokens <= real, (requests, tokens, real)
    # bob is asked about the day again: what he would answer for now says the million
    use = attributed_use(pilot.people["bob"])
    assert use.days == [date(2026, 11, 3)], use
    assert use.figures[date(2026, 11, 3)][1] > 1_000_000
    assert awaiting_confirmation(pilot.lead) == {"bob": [date(2026, 11, 3)]}


def test_a_day_an_older_inhouse_confirmed_counts_once_confirmed_again(
    confirmed_by_an_older_inhouse: Pilot,
) -> None:
    """Honest: the gateway signs bob's day as he sent it. His older confirmation bound no
    tokens, so the day waits for his word again; he confirms it once with today's inhouse,
    which binds its tokens, and it counts, and nobody asks him again."""
    pilot = confirmed_by_an_older_inhouse
    rollup_usage(pilot.lead)
    assert _counted(pilot) == (0, 0)
    assert awaiting_confirmation(pilot.lead) == {"bob": [date(2026, 11, 3)]}
    fact = confirm_usage(pilot.people["bob"])
    assert fact.payload["requests"] == {"2026-11-03": 1}
    requests, tokens = _counted(pilot)
    assert (requests, tokens) == (1, fact.payload["tokens"]["2026-11-03"]) and tokens > 0
    assert attributed_use(pilot.people["bob"]).empty
    assert awaiting_confirmation(pilot.lead) == {}


def test_in_a_log_before_rule_19_an_older_confirmation_counts_as_it_did(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program whose log shows only rules before 19 (every event an older inhouse's): bob's
    older confirmation counts his day as it did, and nobody asks him about it again."""
    from inhouse.program import engine, handoffs, people, waivers

    for module in (engine, handoffs, people, waivers):
        monkeypatch.setattr(module, "EXIT_RULES", CONFIRMED_BOUND - 1)
    pilot = _older_confirmation(_isolated, clock)
    try:
        assert pilot.lead.state().rules_seen < CONFIRMED_BOUND
        rollup_usage(pilot.lead)
        requests, tokens = _counted(pilot)
        assert requests == 1 and tokens > 0, (requests, tokens)
        assert awaiting_confirmation(pilot.lead) == {}
        assert attributed_use(pilot.people["bob"]).empty
    finally:
        pilot.lead.close()


@pytest.mark.parametrize("rules", [CONFIRMED_BOUND - 1, CONFIRMED_BOUND])
def test_an_exit_judged_on_the_day_before_rule_19_keeps_it(
    confirmed_by_an_older_inhouse: Pilot, rules: int
) -> None:
    """A play whose exit says rules below 19 and was judged on the gateway's signed day keeps
    the reading it was judged by (bob's older word covers the day's tokens), for every check;
    one judged by rule 19 reads the day as waiting for his word again."""
    pilot = confirmed_by_an_older_inhouse
    rollup_usage(pilot.lead)
    state = pilot.lead.state()
    [daily] = [f for f in state.facts if f.kind == "usage.daily"]
    # what the fold keeps of such an exit (play 6's, judged on the day and nothing else)
    state.first_exited["measure"] = (pilot.clock(), state.head_seq)
    state.first_judged["measure"] = frozenset({daily.id})
    state.first_rules["measure"] = rules
    forget(state)
    found = signed_totals(build_context(state, pilot.clock()).facts, DAY, DAY)
    counted = (found.requests, found.tokens_in + found.tokens_out)
    if rules < CONFIRMED_BOUND:
        assert counted[0] == 1 and counted[1] > 0, counted
    else:
        assert counted == (0, 0), counted
