"""Red team of the gateway as a source of evidence: lena runs the gateway's host (she enrolled
its key there), so she holds the MAC key its usage rows are sealed with. A person's day counts
only where they confirmed it (``inhouse usage confirm``); what they confirmed was a day, not its
figures, so rows she sealed into that day after they answered counted as theirs.

Real gateway requests (in-process, on loopback) to a stand-in upstream, as
tests/pilot/gateway_days.py sends them; the forged rows are made the way the gateway makes its
own (:class:`~inhouse.gateway.usage.UsageRecord`, sealed with the key its host holds, and
written with :func:`~inhouse.gateway.usage.insert_usage`, as the spool's replay writes them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from inhouse.db.schema import gateway_usage
from inhouse.gateway.rollup import gateway_mac_key, rollup_usage
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.pilot.usage_confirm import attributed_use, awaiting_confirmation, confirm_usage
from inhouse.program.counting import build_context
from inhouse.program.playchecks.measure import signed_totals
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot, Use, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

DAY = "2026-11-03"


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    """bob sends one request on 3 November, the gateway signs the day, and he confirms it."""
    made = start_pilot(_isolated, clock, {"bob": ("support", "support")})
    made.signs = True  # the gateway's host rolls up after the batch, then bob confirms
    made.use([Use("bob", f"{DAY}T10:00")])
    made.on("2026-11-04")
    yield made
    made.lead.close()


def _seal_more_of(pilot: Pilot, person: str, copies: int, tokens_out: int) -> None:
    """On the gateway's host: ``copies`` rows sealed in ``person``'s name on their confirmed
    day, each a copy of a real row of theirs under a new request id, with ``tokens_out``."""
    lead = pilot.lead
    key = gateway_mac_key(lead.folder)  # the key file on the host she runs
    u = gateway_usage.c
    with lead.store.engine.connect() as conn:
        row = conn.execute(select(gateway_usage).where(u.person == person)).mappings().first()
    assert row is not None
    forged = []
    for _ in range(copies):
        record = UsageRecord(
            request_id=new_request_id(), at=row["at"], person=row["person"],
            key_id=row["key_id"], endpoint=row["endpoint"], model=row["model"],
            status=row["status"], agent=row["agent"], digest=row["digest"],
            stream=bool(row["stream"]), tokens_in=row["tokens_in"], tokens_out=tokens_out,
            ttft_ms=row["ttft_ms"], latency_ms=row["latency_ms"],
            overhead_ms=row["overhead_ms"], upstream=row["upstream"],
        )  # fmt: skip
        record.seal(key)
        forged.append(record)
    assert insert_usage(lead.store, forged) == copies


def _counted(pilot: Pilot) -> tuple[int, int]:
    """The answered requests and tokens of 3 November the checks count (play 6's reading)."""
    ctx = build_context(pilot.lead.state(), pilot.clock())
    found = signed_totals(ctx.facts, DAY, DAY)
    return found.requests, found.tokens_in + found.tokens_out


def test_rows_sealed_into_a_confirmed_day_after_it_was_confirmed_do_not_count(
    pilot: Pilot,
) -> None:
    """bob read "1 request" for 3 November and confirmed it. lena, on the gateway's host, seals
    40 more rows in his name that day, each with a million output tokens, and rolls up again:
    the gateway's key signs 41 requests, and play 6's signed totals (its report's answered
    requests, tokens and the spend avoided priced from them) counted all of them on his word.
    They count only up to what he confirmed; he is asked about the day again."""
    confirmed = _counted(pilot)
    assert confirmed[0] == 1
    _seal_more_of(pilot, "bob", copies=40, tokens_out=1_000_000)
    rollup_usage(pilot.lead)
    daily = [f for f in pilot.lead.state().facts if f.kind == "usage.daily"]
    assert daily[-1].payload["people"]["bob"]["requests"] == 41  # signed by the gateway's key
    requests, tokens = _counted(pilot)
    assert requests <= confirmed[0] and tokens <= confirmed[1], (requests, tokens)
    why = [u.why for u in build_context(pilot.lead.state(), pilot.clock()).uncounted]
    assert any("more requests or tokens that day than they confirmed" in w for w in why), why
    # his next `inhouse usage confirm` (and `inhouse status`) asks him about the day again
    assert attributed_use(pilot.people["bob"]).days == [date(2026, 11, 3)]
    assert awaiting_confirmation(pilot.lead) == {"bob": [date(2026, 11, 3)]}


def test_use_of_a_day_after_it_was_confirmed_counts_once_confirmed_again(pilot: Pilot) -> None:
    """Honest: bob confirmed 3 November at lunch, then used the gateway again that afternoon.
    The day's new figures wait for his word; once he confirms them, both requests count."""
    pilot.confirms = False
    pilot.use([Use("bob", f"{DAY}T15:00")])
    pilot.on("2026-11-04")
    assert _counted(pilot)[0] == 0  # the day re-signed with 2: more than he confirmed
    use = attributed_use(pilot.people["bob"])
    assert use.days == [date(2026, 11, 3)] and use.requests[date(2026, 11, 3)][0] == 2
    fact = confirm_usage(pilot.people["bob"])
    assert fact.payload["requests"] == {DAY: 2}
    assert _counted(pilot)[0] == 2


@pytest.fixture
def unsigned(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    """bob sends one request on 3 November and confirms the day before the gateway's host
    signed it (`inhouse gateway rollup` runs later)."""
    made = start_pilot(_isolated, clock, {"bob": ("support", "support")})
    made.use([Use("bob", f"{DAY}T10:00")])
    made.on("2026-11-04")
    yield made
    made.lead.close()


def _reseal_tokens_of(pilot: Pilot, person: str, tokens_out: int) -> int:
    """On the gateway's host: ``person``'s one row of the day rewritten with ``tokens_out`` and
    sealed again with the key its host holds (as many requests as before); returns the tokens
    (in and out) the row had."""
    key = gateway_mac_key(pilot.lead.folder)
    u = gateway_usage.c
    with pilot.lead.store.engine.begin() as conn:
        row = conn.execute(select(gateway_usage).where(u.person == person)).mappings().one()
        record = UsageRecord(
            request_id=row["request_id"], at=row["at"], person=row["person"],
            key_id=row["key_id"], endpoint=row["endpoint"], model=row["model"],
            status=row["status"], agent=row["agent"], digest=row["digest"],
            stream=bool(row["stream"]), tokens_in=row["tokens_in"], tokens_out=tokens_out,
            ttft_ms=row["ttft_ms"], latency_ms=row["latency_ms"],
            overhead_ms=row["overhead_ms"], upstream=row["upstream"],
        )  # fmt: skip
        record.seal(key)
        conn.execute(
            gateway_usage.update()
            .where(u.request_id == row["request_id"])
            .values(tokens_out=tokens_out, mac=record.mac)
        )
    return int(row["tokens_in"]) + int(row["tokens_out"])


def test_tokens_sealed_into_a_day_confirmed_before_it_was_signed_do_not_count(
    unsigned: Pilot,
) -> None:
    """bob confirmed 3 November before the gateway signed it: "1 request". His confirmation
    bound the requests (the usage log's) but not the tokens, so lena, on the gateway's host,
    rewrote his one row with a million output tokens, sealed it again and rolled up: one
    request, as he confirmed, and play 6's signed totals counted the million tokens on his
    word. A confirmation binds every figure it showed: the tokens count only up to what he
    answered for, and he is asked about the day again."""
    confirmed = [f for f in unsigned.lead.state().facts if f.kind == "usage.confirmed"]
    assert [f.payload["days"] for f in confirmed] == [[DAY]]
    real = _reseal_tokens_of(unsigned, "bob", 1_000_000)
    rollup_usage(unsigned.lead)
    daily = [f for f in unsigned.lead.state().facts if f.kind == "usage.daily"]
    assert daily[-1].payload["people"]["bob"]["requests"] == 1  # signed by the gateway's key
    assert daily[-1].payload["people"]["bob"]["tokens_out"] == 1_000_000
    requests, tokens = _counted(unsigned)
    assert requests <= 1 and tokens <= real, (requests, tokens, real)
    assert attributed_use(unsigned.people["bob"]).days == [date(2026, 11, 3)]
    assert awaiting_confirmation(unsigned.lead) == {"bob": [date(2026, 11, 3)]}


def test_a_day_confirmed_before_it_was_signed_counts_once_signed_as_it_was_shown(
    unsigned: Pilot,
) -> None:
    """Honest: bob confirmed 3 November before the rollup; the gateway then signs the figures
    he was shown (his request and its tokens), which count without asking him again."""
    use = attributed_use(unsigned.people["bob"])
    assert use.empty
    confirmed = [f for f in unsigned.lead.state().facts if f.kind == "usage.confirmed"][-1]
    assert confirmed.payload["requests"] == {DAY: 1}
    rollup_usage(unsigned.lead)
    requests, tokens = _counted(unsigned)
    assert (requests, tokens) == (1, confirmed.payload["tokens"][DAY]) and tokens > 0
    assert attributed_use(unsigned.people["bob"]).empty
    assert awaiting_confirmation(unsigned.lead) == {}
