"""The gateway's clock seam: every usage record's time and day come from the clock the gateway
was built with, so a test moves requests onto other days without touching rows; the per-key
token budget rolls over on that clock's midnight too. The upstream is the stand-in (exact token
counts, no model needed)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from inhouse.usage import totals
from tests.conftest import Clock
from tests.gateway.harness import (
    auth,
    chat,
    error_of,
    in_process,
    key_for,
    one_runtime,
    usage_rows,
    weights_root,
)

_program = one_runtime


def test_usage_rows_carry_the_gateway_clocks_time_and_day(
    _isolated: Path, on_database: str, clock: Clock
) -> None:
    async def run() -> None:
        async with StandinUpstream(
            StandinTiming(0, 0, 2), model="tiny", root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated, clock=clock) as (gateway, client):
                for hours in (0, 50, 1):  # 2 Nov 09:00, 4 Nov 11:00, 4 Nov 12:00
                    clock.advance(hours=hours)
                    reply = await client.post(
                        "/v1/chat/completions", json=chat("tiny"), headers=auth(key)
                    )
                    assert reply.status_code == 200
                await gateway.usage.flush()
            rows = usage_rows(program)
            assert [(r["day"], r["at"]) for r in rows] == [
                ("2026-11-02", "2026-11-02T09:00:00+00:00"),
                ("2026-11-04", "2026-11-04T11:00:00+00:00"),
                ("2026-11-04", "2026-11-04T12:00:00+00:00"),
            ]
            # what plays 4 to 6 read: two days of use, not one
            by_day = totals(program.store, "day")
            assert [(t.day, t.requests) for t in by_day] == [("2026-11-02", 1), ("2026-11-04", 2)]
            program.close()

    asyncio.run(run())


def test_the_daily_token_budget_resets_on_the_gateway_clocks_midnight(
    _isolated: Path, clock: Clock
) -> None:
    async def run() -> None:
        async with StandinUpstream(
            StandinTiming(0, 0, 4), model="tiny", root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            # room for one request's reservation (its prompt's bound, 37, and a token to answer
            # with), not two: the limit is never overshot (tests/gateway/test_fair_share.py)
            key = key_for(program, tokens_per_day=40)
            async with in_process(_isolated, clock=clock) as (gateway, client):

                async def post() -> Any:
                    return await client.post(
                        "/v1/chat/completions", json=chat("tiny"), headers=auth(key)
                    )

                assert (await post()).status_code == 200  # what is left cannot hold another
                spent = await post()
                assert error_of(spent)["code"] == "tokens_per_day_exceeded"
                clock.advance(days=1)
                assert (await post()).status_code == 200
                await gateway.usage.flush()
            days = [(r["day"], r["status"]) for r in usage_rows(program)]
            assert days == [("2026-11-02", 200), ("2026-11-02", 429), ("2026-11-03", 200)]
            program.close()

    asyncio.run(run())


def test_the_real_clocks_record_time_is_what_datetime_writes() -> None:
    """The real clock's ``at`` is made without ``datetime.isoformat`` (too costly per
    request): for any instant it must read back as the very instant ``datetime`` makes of it,
    and its first ten characters must be its UTC day."""
    import random
    from datetime import UTC, datetime

    from inhouse.gateway.usage import UsageRecord, _utc_text

    rng = random.Random(16)
    instants = [0.0, 0.5, 86_399.9999996, 1_764_748_799.9999995, 4_102_444_800.25]
    instants += [rng.uniform(0, 4.2e9) for _ in range(20_000)]
    for instant in instants:
        text = _utc_text(instant)
        expected = datetime.fromtimestamp(instant, UTC)
        assert datetime.fromisoformat(text) == expected, (instant, text)
        assert text[:10] == expected.strftime("%Y-%m-%d")
    before = datetime.now(UTC)
    at = datetime.fromisoformat(UsageRecord.now())
    assert before <= at <= datetime.now(UTC)
