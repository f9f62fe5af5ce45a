"""Per-key limits: requests per minute (a sliding window), tokens per day (UTC) and requests in
flight at once.

Kept in memory by each gateway process; the daily token counts are seeded from the usage log on
start, so a restart does not reset a key's day. The day is the gateway clock's, as the usage
log's is. Replicas share the limits through Redis (:mod:`inhouse.gateway.shared`, a subclass of
:class:`Limiter`); the gateway calls the ``a``-prefixed coroutines, which that subclass takes to
Redis, and this class answers from memory.

The tokens per day are never overshot, even by requests in flight at once: before a request is
forwarded it **reserves** what it may cost — its prompt at most (:func:`prompt_token_bound`)
plus the completion it may generate, whose ``max_tokens`` is lowered to what is left of the
day when the client asked for more or for no limit — and when it ends it **settles**: the
reservation is released and what the runtime reported (or the gateway counted) is spent.
"""

from __future__ import annotations

import math
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from inhouse.errors import RateLimited, TokenBudgetSpent, TooManyConcurrent
from inhouse.gateway.keys import GatewayKey
from inhouse.gateway.usage import Clock, utcnow

__all__ = ["Limiter", "prompt_token_bound", "retry_seconds"]

#: tokens a chat template may add around each message (role markers, separators), and once
#: around the whole prompt (start of text, the assistant's turn): generous, since a bound must
#: not be under the runtime's count
_PER_MESSAGE = 16
_PER_PROMPT = 16
_ONE_DAY = timedelta(days=1)


def retry_seconds(after: float) -> int:
    """The seconds a refused client waits before a retry may be let through, as ``Retry-After``
    gives them (RFC 9110: a whole number): ``after`` rounded up, at least 1."""
    return max(1, math.ceil(after))


def prompt_token_bound(texts: list[str], messages: int) -> int:
    """An upper bound on the prompt tokens of a request: a tokenizer makes at most one token
    per UTF-8 byte (byte fallback), plus what a chat template adds."""
    return sum(len(text.encode("utf-8", "surrogatepass")) for text in texts) + (
        _PER_MESSAGE * messages + _PER_PROMPT
    )


class Limiter:
    def __init__(self, tokens_used: dict[str, int] | None = None, *, clock: Clock = utcnow) -> None:
        self._clock = clock
        #: the UTC day :meth:`_today` last computed, and the instant it ends (a clock reading
        #: before that is the same day: one comparison per call, not a strftime)
        self._today_cached = ""
        self._today_ends: datetime | None = None
        #: with the real clock (utcnow), the cached day's start and end in seconds since the
        #: epoch
        self._today_span = (0.0, 0.0)
        self._day = self._today()
        self._tokens: dict[str, int] = dict(tokens_used or {})
        #: tokens reserved by requests in flight, per key
        self._reserved: dict[str, int] = {}
        self._recent: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}

    def admit(self, key: GatewayKey) -> None:
        """Count one request against ``key``; raise :class:`~inhouse.errors.RateLimited` (a 429)
        when a limit is reached."""
        limits = key.limits
        if limits.tokens_per_day is not None:
            self._roll_day()
            used = self._tokens.get(key.id, 0) + self._reserved.get(key.id, 0)
            if used >= limits.tokens_per_day:
                raise TokenBudgetSpent(
                    f"key {key.prefix}… ({key.person}) used {used} of its "
                    f"{limits.tokens_per_day} tokens today (UTC); it resets at midnight UTC"
                )
        if limits.rpm is not None:
            now = time.monotonic()
            window = self._recent.setdefault(key.id, deque())
            while window and now - window[0] >= 60.0:
                window.popleft()
            if len(window) >= limits.rpm:
                # whole seconds, rounded up, as Retry-After says them: "retry in 0 s" beside a
                # Retry-After of 1 was a retry refused again
                retry = retry_seconds(60.0 - (now - window[0]))
                raise RateLimited(
                    f"key {key.prefix}… ({key.person}) reached its limit of {limits.rpm} "
                    f"requests per minute; retry in {retry} s",
                    retry_after=retry,
                )
            window.append(now)

    def prune(self) -> None:
        """Forget the per-minute windows with no request in the last minute: a key revoked (or
        one only used once) kept its window for as long as the process lived, one per key ever
        used. Such a window counts nothing (its next admission would empty it first), so
        forgetting it lets no request through that keeping it would refuse."""
        now = time.monotonic()
        for key_id in [
            k for k, window in self._recent.items() if not window or now - window[-1] >= 60.0
        ]:
            del self._recent[key_id]

    async def aadmit(self, key: GatewayKey, request_id: str = "") -> None:
        """:meth:`admit`, where the limits may be shared with other replicas (which may decide
        it with the request's reservation, :meth:`areserve` under the same ``request_id``)."""
        self.admit(key)

    async def areserve(
        self, key: GatewayKey, endpoint: str, body: dict[str, Any], prompt: int, request_id: str
    ) -> int:
        """:meth:`reserve`, where the budget may be shared; ``request_id`` names the
        reservation, which :meth:`settle` releases."""
        return self.reserve(key, endpoint, body, prompt)

    def hold(self, key: GatewayKey, most: int) -> None:
        """Count one request in flight for ``key``; a 429 when it already has ``most``. Pair
        with :meth:`release`."""
        held = self._in_flight.get(key.id, 0)
        if held >= most:
            raise TooManyConcurrent(
                f"key {key.prefix}… ({key.person}) already has {held} requests in flight, the "
                f"most one key may have at once (gateway.key_concurrency); retry when one ends"
            )
        self._in_flight[key.id] = held + 1

    def release(self, key: GatewayKey) -> None:
        left = self._in_flight.get(key.id, 1) - 1
        if left > 0:
            self._in_flight[key.id] = left
        else:
            self._in_flight.pop(key.id, None)

    def reserve(self, key: GatewayKey, endpoint: str, body: dict[str, Any], prompt: int) -> int:
        """Reserve what the request may cost against ``key``'s tokens per day: ``prompt`` (an
        upper bound) plus the completion, whose ``max_tokens`` is lowered in ``body`` to what
        is left; a 429 when not even one completion token is left. Returns the reservation
        (0 for a key without a daily limit, whose body is left alone)."""
        limit = key.limits.tokens_per_day
        if limit is None:
            return 0
        self._roll_day()
        used = self._tokens.get(key.id, 0) + self._reserved.get(key.id, 0)
        room = limit - used - prompt
        choices = body.get("n") if isinstance(body.get("n"), int) else 1
        choices = max(1, choices or 1)
        per_choice = room // choices if endpoint != "embeddings" else 0
        if room < 0 or (endpoint != "embeddings" and per_choice < 1):
            raise TokenBudgetSpent(
                f"key {key.prefix}… ({key.person}) has {max(limit - used, 0)} of its {limit} "
                f"tokens left today (UTC, some held by requests in flight), and this request "
                f"may use {prompt} for its prompt and at least one for its answer; it resets at "
                "midnight UTC"
            )
        completion = 0
        if endpoint != "embeddings":
            field = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
            asked = body.get(field)
            if not isinstance(asked, int) or isinstance(asked, bool):
                asked = 16 if endpoint == "completions" else None  # OpenAI's default there
            if asked is None or asked > per_choice:
                body[field] = asked = per_choice
            completion = asked * choices
        reserved = prompt + completion
        self._reserved[key.id] = self._reserved.get(key.id, 0) + reserved
        return reserved

    def settle(self, key_id: str, reserved: int, tokens: int, request_id: str = "") -> None:
        """A request ended: release its reservation and spend what it used."""
        self._roll_day()
        if reserved:
            left = self._reserved.get(key_id, 0) - reserved
            if left > 0:
                self._reserved[key_id] = left
            else:
                self._reserved.pop(key_id, None)
        self.spend(key_id, tokens)

    def spend(self, key_id: str, tokens: int) -> None:
        self._roll_day()
        self._tokens[key_id] = self._tokens.get(key_id, 0) + tokens

    def _today(self) -> str:
        if self._clock is utcnow:
            # the real clock: the cached day's bounds in seconds since the epoch, so a request
            # reads time.time() rather than building a datetime (each of its four looks at the
            # day did, ~4k instructions apiece: issue 16); a reading outside them (midnight
            # passed, or the system's clock stepped back) computes the day anew
            seconds = time.time()
            start, end = self._today_span
            if start <= seconds < end:
                return self._today_cached
            day = self._day_of(datetime.fromtimestamp(seconds, UTC))
            ends = self._today_ends
            assert ends is not None  # an aware reading: its day's end was cached
            self._today_span = ((ends - _ONE_DAY).timestamp(), ends.timestamp())
            return day
        return self._day_of(self._clock())

    def _day_of(self, now: datetime) -> str:
        ends = self._today_ends
        # a clock a test moves backwards leaves the cached day too: only a reading inside it
        # (after its midnight, before the next) takes the cached answer; a naive reading (local
        # time) is never cached
        if ends is not None and now.tzinfo is not None and ends - _ONE_DAY <= now < ends:
            return self._today_cached
        utc = now.astimezone(UTC)
        midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
        self._today_ends = midnight + _ONE_DAY if now.tzinfo is not None else None
        self._today_cached = utc.strftime("%Y-%m-%d")
        return self._today_cached

    def _roll_day(self) -> None:
        today = self._today()
        if today != self._day:
            self._day = today
            self._tokens.clear()
