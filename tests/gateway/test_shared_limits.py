"""The shared limiter's bookkeeping at the seams where a settle waits, rides on a decision, or
is held back while Redis is away, against the real Redis (127.0.0.1:6379) with a slowed script
to open each window: a decision waits for every settle on its way, tokens spent while a probe
is on its way are not stranded, a cancelled decision hands the settles it carried on, and a
script whose answer was lost after Redis ran it is counted once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis

from inhouse.errors import RateLimited
from inhouse.gateway import shared
from inhouse.gateway.keys import GatewayKey, KeyLimits
from inhouse.gateway.shared import SharedLimiter
from tests.gateway.conftest import REDIS


def _key(key_id: str, **limits: Any) -> GatewayKey:
    return GatewayKey(id=key_id, person="pia", agent=None, prefix="ih_test", created="x",
                      revoked=None, limits=KeyLimits(**limits))  # fmt: skip


def _redis_state(limiter: SharedLimiter, key_id: str) -> tuple[int, int]:
    """The key's spent tokens today and its reservations held, as Redis has them."""
    with redis.Redis.from_url(REDIS) as client:
        spent = int(client.get(limiter._spent(limiter._today(), key_id)) or 0)
        return spent, int(client.zcard(limiter._name("held", key_id)))


def _slowed(limiter: SharedLimiter, script: str, seconds: float) -> None:
    real: Callable[..., Awaitable[Any]] = getattr(limiter, script)

    async def slow(**call: Any) -> Any:
        await asyncio.sleep(seconds)
        return await real(**call)

    setattr(limiter, script, slow)


def test_a_decision_waits_for_every_settle_on_its_way(prefix: str) -> None:
    """X and Y hold 60 and 30 of a 100-token day. Y ends (its settle goes on its way), then X
    ends while Y's is still on its way; D, begun after both ended, must find 100 free, though
    the flusher sent X's settle on its own after D began to wait."""

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        key = _key("k1", tokens_per_day=100)
        await limiter.aadmit(key, "X")
        x = await limiter.areserve(key, "embeddings", {}, 60, "X")
        await limiter.aadmit(key, "Y")
        y = await limiter.areserve(key, "embeddings", {}, 30, "Y")
        _slowed(limiter, "_settle", 0.05)
        limiter.settle("k1", y, 0, "Y")
        await asyncio.sleep(0.01)  # Y's settle is on its way
        limiter.settle("k1", x, 0, "X")
        await limiter.aadmit(key, "D")
        assert await limiter.areserve(key, "embeddings", {}, 90, "D") == 90
        await limiter.stop()

    asyncio.run(run())


def test_tokens_spent_while_a_probe_is_on_its_way_are_not_stranded(prefix: str) -> None:
    """Redis comes back: the probe sends what was spent while it was away. A request that ends
    while the probe waits on Redis adds to what is to be sent; it must reach Redis before the
    limits are shared again, not stay behind until the next outage."""

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        day = limiter._today()
        limiter.up, limiter.last_error = False, "ConnectionError: as if Redis had gone"
        limiter._unsent[(day, "k2")] = 5
        _slowed(limiter, "_settle", 0.05)
        probing = asyncio.ensure_future(limiter.probe())
        await asyncio.sleep(0.01)
        limiter.settle("k2", 0, 7, "Z")  # a request ends while the probe is on its way
        await probing
        assert limiter.up
        assert _redis_state(limiter, "k2") == (12, 0)
        assert limiter._unsent == {}
        await limiter.stop()

    asyncio.run(run())


def test_a_cancelled_decision_hands_the_settles_it_carried_on(
    prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A's settle rides on B's decision; B is cancelled on its way. A's 40 tokens must still
    be counted and its reservation given back."""
    monkeypatch.setattr(shared, "_SETTLE_SECONDS", 60.0)  # only a decision carries settles

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        key = _key("k3", tokens_per_day=1000)
        await limiter.aadmit(key, "A")
        reserved = await limiter.areserve(key, "embeddings", {}, 40, "A")
        limiter.settle("k3", reserved, 40, "A")
        _slowed(limiter, "_decide", 0.05)
        await limiter.aadmit(key, "B")
        deciding = asyncio.ensure_future(limiter.areserve(key, "embeddings", {}, 10, "B"))
        await asyncio.sleep(0.01)
        deciding.cancel()
        await asyncio.gather(deciding, return_exceptions=True)
        await limiter.stop()  # sends what is still queued
        assert _redis_state(limiter, "k3") == (40, 0)

    asyncio.run(run())


def test_settles_carried_by_a_refused_decision_are_counted_once(
    prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B's decision carries A's settle and is refused (over the minute): the script ran, so
    A's 40 tokens are in Redis once, not sent again as if the decision had failed."""
    monkeypatch.setattr(shared, "_SETTLE_SECONDS", 60.0)  # only a decision carries settles

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        key = _key("k4", rpm=1, tokens_per_day=1000)
        await limiter.aadmit(key, "A")
        reserved = await limiter.areserve(key, "embeddings", {}, 40, "A")
        limiter.settle("k4", reserved, 40, "A")
        await limiter.aadmit(key, "B")
        with pytest.raises(RateLimited):
            await limiter.areserve(key, "embeddings", {}, 10, "B")
        limiter.settle("k4", 0, 0, "B")
        await limiter.stop()  # sends what is still queued
        assert _redis_state(limiter, "k4") == (40, 0)
        assert limiter._unsent == {}

    asyncio.run(run())


def _answer_lost(limiter: SharedLimiter, script: str, fault: str) -> list[int]:
    """Stand-in for a lost answer: the real script runs in Redis, then the call fails as if
    its answer never came (``timeout``: redis-py's TimeoutError; ``cancelled``: the caller is
    cancelled while it waits). Returns a list counting the calls that ran."""
    real: Callable[..., Awaitable[Any]] = getattr(limiter, script)
    ran: list[int] = []

    async def lost(**call: Any) -> Any:
        await real(**call)
        ran.append(1)
        if fault == "timeout":
            raise redis.exceptions.TimeoutError("Timeout reading from 127.0.0.1:6379")
        await asyncio.sleep(60)  # the caller is cancelled here

    setattr(limiter, script, lost)
    return ran


def test_a_settle_whose_answer_was_lost_is_counted_once(prefix: str) -> None:
    """A's settle goes on its own; Redis runs it, but the answer is lost (a timeout). The
    replica cannot know it ran, so it sends it again when Redis answers: its 40 tokens must be
    counted once, not twice, and its reservation given back."""

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        key = _key("k5", tokens_per_day=1000)
        await limiter.aadmit(key, "A")
        reserved = await limiter.areserve(key, "embeddings", {}, 40, "A")
        real = limiter._settle
        ran = _answer_lost(limiter, "_settle", "timeout")
        limiter.settle("k5", reserved, 40, "A")
        for _ in range(100):  # the flusher sends it at the loop's next turn
            if not limiter.up:
                break
            await asyncio.sleep(0.01)
        assert ran == [1] and not limiter.up  # it ran, and the replica took Redis for gone
        assert _redis_state(limiter, "k5") == (40, 0)
        limiter._settle = real
        await limiter.probe()  # Redis answers: the batch is sent again under its number
        assert limiter.up and limiter._retry == [] and limiter._unsent == {}
        assert _redis_state(limiter, "k5") == (40, 0)
        await limiter.stop()

    asyncio.run(run())


@pytest.mark.parametrize("fault", ["cancelled", "timeout"])
def test_a_decision_cut_short_after_redis_ran_it_counts_once_and_holds_nothing(
    prefix: str, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """A's settle rides on B's decision; Redis runs the script (A's 40 tokens counted, B's 10
    reserved), but B's call is cut short before its answer (B cancelled, or a timeout). A's
    tokens must be counted once, and B's reservation, which this replica never learnt of,
    given back, not held until it expires."""
    monkeypatch.setattr(shared, "_SETTLE_SECONDS", 60.0)  # only a decision carries settles

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        key = _key("k6", tokens_per_day=1000)
        await limiter.aadmit(key, "A")
        reserved = await limiter.areserve(key, "embeddings", {}, 40, "A")
        limiter.settle("k6", reserved, 40, "A")
        real = limiter._decide
        ran = _answer_lost(limiter, "_decide", fault)
        await limiter.aadmit(key, "B")
        deciding = asyncio.ensure_future(limiter.areserve(key, "embeddings", {}, 10, "B"))
        for _ in range(100):
            if ran:
                break
            await asyncio.sleep(0.01)
        assert _redis_state(limiter, "k6") == (40, 1)  # it ran: A counted, B reserved
        deciding.cancel()
        outcome = (await asyncio.gather(deciding, return_exceptions=True))[0]
        if fault == "cancelled":
            assert isinstance(outcome, asyncio.CancelledError)
        else:  # Redis taken for gone: B was decided from this replica's share instead
            assert outcome == 10 and not limiter.up
        limiter._decide = real
        limiter.settle("k6", 10 if fault == "timeout" else 0, 0, "B")
        await limiter.probe()  # Redis answers (nothing to do when it was never taken for gone)
        await limiter.stop()  # sends what is still to be sent
        assert _redis_state(limiter, "k6") == (40, 0)
        assert limiter._retry == [] and limiter._unsent == {}

    asyncio.run(run())


def test_batches_past_one_bitmap_go_on_counting(prefix: str) -> None:
    """A replica's batch numbers run into a second bitmap after 2**20: a batch there is
    applied (once) as in the first."""

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        limiter._batches = (1 << shared._GENERATION_BITS) - 1  # the first bitmap's last bit
        for tokens in (3, 4):
            await limiter._send_settles(limiter._number([(limiter._today(), "k7", "", tokens)]))
        assert _redis_state(limiter, "k7") == (7, 0)
        with redis.Redis.from_url(REDIS) as client:
            assert len(list(client.scan_iter(f"{prefix}:applied:*"))) == 2
        await limiter.stop()

    asyncio.run(run())


def test_a_decision_after_a_cut_short_one_still_carries_the_settles_queued_before_it(
    prefix: str,
) -> None:
    """B's decision is cut short after Redis reserved its 10 (its release waits to be sent);
    X then ends, giving back its 60, before D begins. D must find the whole day free: the
    release goes first, on its own, and D carries X's settle (found by a review: D carried
    only the release and was refused)."""

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        key = _key("k8", tokens_per_day=100)
        await limiter.aadmit(key, "X")
        x = await limiter.areserve(key, "embeddings", {}, 60, "X")
        real = limiter._decide
        ran = _answer_lost(limiter, "_decide", "cancelled")
        await limiter.aadmit(key, "B")
        deciding = asyncio.ensure_future(limiter.areserve(key, "embeddings", {}, 10, "B"))
        for _ in range(100):
            if ran:
                break
            await asyncio.sleep(0.01)
        limiter._decide = real
        deciding.cancel()
        await asyncio.sleep(0)  # B takes its cancellation; nothing else has run yet
        assert deciding.cancelled() and limiter._retry
        limiter.settle("k8", x, 0, "X")  # X ends before D begins
        await limiter.aadmit(key, "D")
        assert await limiter.areserve(key, "embeddings", {}, 90, "D") == 90
        limiter.settle("k8", 0, 0, "B")
        await limiter.stop()

    asyncio.run(run())


def test_a_reservation_whose_request_ended_while_redis_was_away_is_given_back_when_it_answers(
    prefix: str,
) -> None:
    """X holds 60 of a 100-token day in Redis; Redis goes away, X ends (it spent nothing).
    When Redis answers, X's reservation must be given back at once, not count until it expires
    (six minutes by default) and refuse D meanwhile."""

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        key = _key("k10", tokens_per_day=100)
        await limiter.aadmit(key, "X")
        x = await limiter.areserve(key, "embeddings", {}, 60, "X")
        assert _redis_state(limiter, "k10") == (0, 1)
        limiter.up, limiter.last_error = False, "ConnectionError: as if Redis had gone"
        limiter.settle("k10", x, 0, "X")  # X ends while Redis is away
        await limiter.probe()  # Redis answers
        assert limiter.up and _redis_state(limiter, "k10") == (0, 0)
        await limiter.aadmit(key, "D")
        assert await limiter.areserve(key, "embeddings", {}, 90, "D") == 90
        await limiter.stop()

    asyncio.run(run())


def test_a_decision_is_not_kept_waiting_by_requests_that_end_after_it_began(prefix: str) -> None:
    """Other requests end every millisecond and Redis takes five to answer: a decision waits
    for the settles on their way when it began, not for every one sent after it (found by a
    review: the flusher kept starting sends, and the decision waited for each)."""

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        _slowed(limiter, "_settle", 0.005)
        ending = True

        async def others() -> None:
            while ending:
                limiter.settle("other", 0, 1, "")
                await asyncio.sleep(0.001)

        task = asyncio.ensure_future(others())
        await asyncio.sleep(0.05)
        async with asyncio.timeout(5.0):
            await limiter.aadmit(_key("k11", rpm=1000), "")
        ending = False
        await task
        await limiter.stop()

    asyncio.run(run())


def test_a_decision_waiting_for_a_late_admission_still_carries_what_ended_before_it(
    prefix: str,
) -> None:
    """L was refused before its admission was decided (counted late, its script slowed); X
    then ends, giving back its 60, and D begins. While D waits for L's admission the flusher
    must not take X's settle away from it: D finds 100 free (found by a review)."""

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        key = _key("k12", rpm=1000, tokens_per_day=100)
        await limiter.aadmit(key, "X")
        x = await limiter.areserve(key, "embeddings", {}, 60, "X")
        _slowed(limiter, "_admit", 0.01)
        _slowed(limiter, "_settle", 0.05)
        await limiter.aadmit(key, "L")
        limiter.settle("k12", 0, 0, "L")  # refused before its decision: counted late
        limiter.settle("k12", x, 0, "X")  # X ends before D begins
        await limiter.aadmit(key, "D")
        assert await limiter.areserve(key, "embeddings", {}, 90, "D") == 90
        await limiter.stop()

    asyncio.run(run())


def test_settles_queued_while_a_cancelled_decision_waited_are_still_sent(prefix: str) -> None:
    """D waits for a late admission (slowed); meanwhile B ends, and the flusher leaves B's
    settle to D. D is cancelled: B's 7 tokens must reach Redis all the same, without waiting
    for another decision or for the gateway to stop."""

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        key = _key("k13", rpm=1000, tokens_per_day=1000)
        _slowed(limiter, "_admit", 0.2)
        await limiter.aadmit(key, "L")
        limiter.settle("k13", 0, 0, "L")  # refused before its decision: counted late (slowed)
        deciding = asyncio.ensure_future(limiter.aadmit(_key("k14", rpm=1000), "D"))
        await asyncio.sleep(0.02)  # D waits for L's admission
        limiter.settle("k13", 0, 7, "B")  # B ends: left to D
        await asyncio.sleep(0.02)
        assert limiter._queue
        deciding.cancel()
        await asyncio.gather(deciding, return_exceptions=True)
        for _ in range(50):
            if _redis_state(limiter, "k13")[0] == 7:
                break
            await asyncio.sleep(0.02)
        assert _redis_state(limiter, "k13")[0] == 7 and not limiter._queue
        await limiter.stop()

    asyncio.run(run())


def test_an_absurd_token_count_does_not_cost_the_settles_beside_it(prefix: str) -> None:
    """A runtime reports 10**20 tokens for A (more than Redis's 64-bit INCRBY takes); B's 7
    ride in the same batch. The script must not fail half-way after marking the batch applied:
    B's tokens are counted, and A's as the most one settle counts."""

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        limiter.settle("k15", 0, 10**20, "A")
        limiter.settle("k16", 0, 7, "B")
        await limiter.stop()  # sends them together
        assert limiter.up
        assert _redis_state(limiter, "k15")[0] == shared._MOST_TOKENS
        assert _redis_state(limiter, "k16")[0] == 7

    asyncio.run(run())


def test_a_decision_is_not_kept_waiting_by_requests_cut_short_after_it_began(
    prefix: str,
) -> None:
    """Other decisions are cut short every millisecond (each leaves a batch that gives back
    what its request may hold, to be sent before the next decision), and Redis takes five to
    answer: a decision sends the ones left before it began, not every one left after it
    (before, it sent them one by one as they came and never ended). Those it leaves are sent
    all the same."""

    async def run() -> None:
        limiter = SharedLimiter(REDIS, replicas=2, prefix=prefix)
        await limiter.start()
        _slowed(limiter, "_settle", 0.005)
        cutting = True
        cut = 0

        async def others() -> None:
            nonlocal cut
            while cutting:
                cut += 1
                limiter._release("other", f"cut{cut}")
                await asyncio.sleep(0.001)

        task = asyncio.ensure_future(others())
        await asyncio.sleep(0.05)
        async with asyncio.timeout(5.0):
            await limiter.aadmit(_key("k12", rpm=1000), "")
        cutting = False
        await task
        async with asyncio.timeout(10.0):
            while limiter._retry:
                await asyncio.sleep(0.01)
        await limiter.stop()

    asyncio.run(run())


def test_a_per_minute_refusal_says_the_seconds_retry_after_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slot freeing in 0.3 s: the refusal said "retry in 0 s" while its Retry-After said 1
    (a whole number, rounded up, per RFC 9110), and a client that believed the words was
    refused again. Both say 1 now; never 0, never negative."""
    from inhouse.gateway import limits
    from inhouse.gateway.limits import Limiter

    now = [1000.0]
    monkeypatch.setattr(limits.time, "monotonic", lambda: now[0])
    limiter = Limiter()
    key = _key("k1", rpm=1)
    limiter.admit(key)
    now[0] += 59.7
    with pytest.raises(RateLimited) as refused:
        limiter.admit(key)
    assert refused.value.retry_after == 1
    assert "retry in 1 s" in str(refused.value)
