"""Per-key limits: requests per minute (a sliding window) and tokens per day (UTC).

Kept in memory by each gateway process; the daily token counts are seeded from the usage log on
start, so a restart does not reset a key's day. The day is the gateway clock's, as the usage
log's is. Several replicas each enforce the limit on their
own share of the traffic (documented in docs/gateway.md).
"""

from __future__ import annotations

import time
from collections import deque
from datetime import UTC

from inhouse.errors import RateLimited, TokenBudgetSpent
from inhouse.gateway.keys import GatewayKey
from inhouse.gateway.usage import Clock, utcnow

__all__ = ["Limiter"]


class Limiter:
    def __init__(self, tokens_used: dict[str, int] | None = None, *, clock: Clock = utcnow) -> None:
        self._clock = clock
        self._day = self._today()
        self._tokens: dict[str, int] = dict(tokens_used or {})
        self._recent: dict[str, deque[float]] = {}

    def admit(self, key: GatewayKey) -> None:
        """Count one request against ``key``; raise :class:`~inhouse.errors.RateLimited` (a 429)
        when a limit is reached."""
        limits = key.limits
        if limits.tokens_per_day is not None:
            self._roll_day()
            used = self._tokens.get(key.id, 0)
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
                retry = 60.0 - (now - window[0])
                raise RateLimited(
                    f"key {key.prefix}… ({key.person}) reached its limit of {limits.rpm} "
                    f"requests per minute; retry in {retry:.0f} s"
                )
            window.append(now)

    def spend(self, key_id: str, tokens: int) -> None:
        self._roll_day()
        self._tokens[key_id] = self._tokens.get(key_id, 0) + tokens

    def _today(self) -> str:
        return self._clock().astimezone(UTC).strftime("%Y-%m-%d")

    def _roll_day(self) -> None:
        today = self._today()
        if today != self._day:
            self._day = today
            self._tokens.clear()
