"""Limits and news shared by the replicas of one gateway, through Redis.

Several gateway processes (``inhouse gateway serve --workers N``, or several hosts against one
database) must agree on two things a single process keeps in memory:

* **Limits.** A key's requests per minute and tokens per day count the traffic of every replica.
  :class:`SharedLimiter` keeps them in Redis, each decision one atomic Lua script on the
  Redis server's own clock: the per-minute window is a sorted set of request ids (a sliding
  window, as in memory), the day's spend a counter per key and day, and the reservations of
  requests in flight a sorted set per key whose entries expire on their own (a replica killed
  mid-request does not hold a key's budget for ever). The settles of the requests that
  finished in one turn of the event loop (their reservations given back, their tokens counted)
  go to Redis together (up to 64 in a script) at the next turn, or ride on a decision made
  before it. Each such batch is numbered, and Redis applies a number once: a script whose
  answer is lost (a timeout, a cancelled call, Redis gone mid-call) is sent again under the
  same number, so its tokens are counted once whether or not it ran the first time;
  and a key with a daily budget has its admission decided with its reservation, in one
  script. So a request costs one round trip to Redis, where it cost three.
* **News.** A revoked or newly fetched key, or a new lock, is announced on a pub/sub channel
  (:func:`announce`); every replica's :class:`Listener` reloads at once instead of at its next
  refresh (``keys_refresh_seconds``, still there as the fallback).

When Redis cannot be reached the limits are never silently multiplied by the number of replicas:
each replica enforces its **share**, the limit divided by ``replicas`` (rounded down), from its
own memory, which shadows every shared decision so the share counts what this replica let
through before Redis went away. ``/healthz`` says ``degraded`` and the gauge
``inhouse_gateway_limits_mode{mode="share"}`` is 1 until Redis answers again (probed every
second); the tokens spent meanwhile are added to the shared count then. Several replicas
without Redis at all (``workers`` above 1 and no ``redis_url``) enforce their shares the same
way, by design.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aredis
from redis.exceptions import RedisError

from inhouse.errors import RateLimited, TokenBudgetSpent
from inhouse.gateway.keys import GatewayKey, KeyLimits
from inhouse.gateway.limits import Limiter, retry_seconds
from inhouse.gateway.usage import Clock, utcnow

__all__ = ["NEWS", "Listener", "SharedLimiter", "Told", "announce", "redacted_url"]

log = logging.getLogger("inhouse.gateway")

#: what a replica is told on the channel: keys changed (revoked, fetched), or the lock
NEWS = ("keys", "lock")
#: a shared day counter outlives its day by this much (a late settle still lands)
_DAY_TTL_MS = 2 * 86_400_000


def _settles(keys: int, args: int) -> str:
    """Lua that applies the batch of settles a script carries after its own ``keys`` KEYS and
    ``args`` ARGV: first the batch's bitmap (KEYS) and its bit there (ARGV; -1: no batch); then
    for each settle, KEYS the reservations and the day's spend, ARGV the reservation's member
    ('' for none; ending in ':', every reservation of that request) and the tokens spent.

    A replica's settles ride on its next decision, so a request that ended before another
    began has given its reservation back by then, without a round trip of its own. A batch is
    applied once: its bit is set when it is, and a batch sent again (its first script timed
    out, or was cancelled, after Redis may have run it) whose bit is set is skipped, so a
    settle is never counted twice."""
    return f"""
local batch = tonumber(ARGV[{args} + 1])
if batch >= 0 and redis.call('SETBIT', KEYS[{keys} + 1], batch, 1) == 0 then
  redis.call('PEXPIRE', KEYS[{keys} + 1], {_DAY_TTL_MS})
  for j = 0, (#KEYS - {keys} - 1) / 2 - 1 do
    local held = KEYS[{keys} + 2 * j + 2]
    local member = ARGV[{args} + 2 * j + 2]
    local spent = tonumber(ARGV[{args} + 2 * j + 3])
    if string.sub(member, -1) == ':' then
      for _, m in ipairs(redis.call('ZRANGE', held, 0, -1)) do
        if string.sub(m, 1, #member) == member then redis.call('ZREM', held, m) end
      end
    elseif member ~= '' then
      redis.call('ZREM', held, member)
    end
    if spent > 0 then
      redis.call('INCRBY', KEYS[{keys} + 2 * j + 3], spent)
      redis.call('PEXPIRE', KEYS[{keys} + 2 * j + 3], {_DAY_TTL_MS})
    end
  end
end
"""


_NOW = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
"""


def _used(spent: str, held: str) -> str:
    """Lua: ``used``, the day's spend plus the reservations still held (expired ones dropped)."""
    return f"""
redis.call('ZREMRANGEBYSCORE', {held}, '-inf', now)
local used = tonumber(redis.call('GET', {spent}) or '0')
for _, member in ipairs(redis.call('ZRANGE', {held}, 0, -1)) do
  used = used + tonumber(string.match(member, ':(%d+)$'))
end
"""


def _window(window: str, member: str, rpm: str) -> str:
    """Lua: the sliding minute; {2, ms until a slot frees, 0} when it is full, else ``member``
    joins it."""
    return f"""
local rpm = tonumber({rpm})
if rpm >= 0 then
  redis.call('ZREMRANGEBYSCORE', {window}, '-inf', now - 60000)
  if redis.call('ZCARD', {window}) >= rpm then
    local oldest = redis.call('ZRANGE', {window}, 0, 0, 'WITHSCORES')
    local wait = 60000
    if oldest[2] then wait = 60000 - (now - tonumber(oldest[2])) end
    return {{2, wait, 0}}
  end
  redis.call('ZADD', {window}, now, {member})
  redis.call('PEXPIRE', {window}, 61000)
end
"""


def _reservation(held: str, budget: str, request_id: str, first: int) -> str:
    """Lua: reserve the prompt bound and the completion under ``budget`` (ARGV from ``first``:
    prompt bound, choices, completion asked, 1 when the endpoint generates, ms to live);
    {0, used, completion per choice} reserved, {3, used, 0} when it cannot fit."""
    return f"""
local prompt = tonumber(ARGV[{first}])
local choices = tonumber(ARGV[{first + 1}])
local generates = ARGV[{first + 3}] == '1'
local room = {budget} - used - prompt
if room < 0 then return {{3, used, 0}} end
local asked = tonumber(ARGV[{first + 2}])
local completion = 0
if generates then
  local per_choice = math.floor(room / choices)
  if per_choice < 1 then return {{3, used, 0}} end
  if asked < 0 or asked > per_choice then asked = per_choice end
  completion = asked * choices
end
local ttl = tonumber(ARGV[{first + 4}])
redis.call('ZADD', {held}, now + ttl, {request_id} .. ':' .. (prompt + completion))
redis.call('PEXPIRE', {held}, ttl + 1000)
return {{0, used, asked}}
"""


# Every decision answers {outcome, figure, completion per choice}: 0 admitted (or reserved),
# 1 out of tokens (figure: used), 2 over the rpm (figure: ms until a slot frees), 3 this
# request cannot fit (figure: used).

#: KEYS: the per-minute window, the day's spend, the reservations; then a batch (_settles).
#: ARGV: a window member, rpm (-1: none), tokens per day (-1: none); then a batch.
_ADMIT = (
    _settles(3, 3)
    + _NOW
    + "local budget = tonumber(ARGV[3])\nif budget >= 0 then\n"
    + _used("KEYS[2]", "KEYS[3]")
    + "if used >= budget then return {1, used, 0} end\nend\n"
    + _window("KEYS[1]", "ARGV[1]", "ARGV[2]")
    + "return {0, 0, 0}\n"
)

#: KEYS: the day's spend, the reservations; then a batch (_settles).
#: ARGV: request id, tokens per day, prompt bound, choices, completion asked (-1: as much as is
#: left), 1 when the endpoint generates, ms the reservation may live; then a batch.
_RESERVE = (
    _settles(2, 7)
    + _NOW
    + _used("KEYS[1]", "KEYS[2]")
    + _reservation("KEYS[2]", "tonumber(ARGV[2])", "ARGV[1]", 3)
)

#: _ADMIT and _RESERVE in one script, for a key with a daily budget.
#: KEYS: the per-minute window, the day's spend, the reservations; then a batch (_settles).
#: ARGV: a window member, rpm (-1: none), tokens per day, request id, prompt bound, choices,
#: completion asked (-1: as much as is left), 1 when the endpoint generates, ms the reservation
#: may live; then a batch.
_DECIDE = (
    _settles(3, 9)
    + _NOW
    + "local budget = tonumber(ARGV[3])\n"
    + _used("KEYS[2]", "KEYS[3]")
    + "if used >= budget then return {1, used, 0} end\n"
    + _window("KEYS[1]", "ARGV[1]", "ARGV[2]")
    + _reservation("KEYS[3]", "budget", "ARGV[4]", 5)
)
#: a batch alone (_settles), when no decision came to carry it
_SETTLE = _settles(0, 0) + "return 0"
#: each replica that answers says so every second (KEYS[1]: the replicas' sorted set, ARGV:
#: this replica's name, how long a name counts without a word, in ms), by Redis's clock, not
#: the hosts': how many replicas spoke lately
_BEAT = (
    _NOW
    + """
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])
"""
)
#: a replica that has not spoken for this long is no longer counted among the replicas
_BEAT_MS = 10_000
#: at most this many settles ride on one script
_CARRY = 64
#: the most tokens one settle counts
_MOST_TOKENS = 2**53
#: a replica's batches are numbered; their bits lie in bitmaps of this many (128 KiB each),
#: each of which expires two days after its last batch
_GENERATION_BITS = 20

#: one settle: day, key id, the reservation's member ('' none; 'id:' all the request's), tokens
Settle = tuple[str, str, str, int]
#: settles sent together under one number (-1: none yet, or nothing to send)
Batch = tuple[int, list[Settle]]
#: what a decision carries when there is nothing to carry
_NO_BATCH: Batch = (-1, [])
#: settles no decision carried are sent on their own after this long: at the event loop's next
#: turn (the settles of every request that finished in this one go together). Longer would
#: save round trips but keep a finished request's reservation from the other replicas, which
#: a request without max_tokens holds for the rest of the day.
_SETTLE_SECONDS = 0.0


def redacted_url(url: str) -> str:
    """``url`` without its password, for /healthz and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _client(url: str, timeout: float) -> aredis.Redis:
    return aredis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=0
    )


class SharedLimiter(Limiter):
    """:class:`Limiter` whose rate and token limits hold across replicas (through Redis at
    ``url``; ``None``: no Redis, each replica enforces its share). Requests in flight at once
    (``key_concurrency``) stay per process: they protect this process's slots."""

    def __init__(
        self,
        url: str | None,
        *,
        replicas: int,
        prefix: str = "inhouse:gateway",
        timeout: float = 0.5,
        reservation_seconds: float = 360.0,
        tokens_used: dict[str, int] | None = None,
        clock: Clock = utcnow,
    ) -> None:
        super().__init__(tokens_used, clock=clock)
        self.url = url
        self.replicas = replicas
        self.prefix = prefix
        self._seed = dict(tokens_used or {})
        self._ttl_ms = int(reservation_seconds * 1000)
        self._redis = _client(url, timeout) if url is not None else None
        #: Redis answered the last call (False: each replica enforces its share)
        self.up = False
        self.last_error: str | None = None
        #: decisions taken from this replica's share since start (Redis down or absent)
        self.local_decisions = 0
        #: reservations held in Redis, by request id: their members there
        self._held: dict[str, str] = {}
        #: tokens spent while Redis was away, per (day, key id): added when it is back
        self._unsent: dict[tuple[str, str], int] = {}
        #: reservations made in Redis whose requests ended while it was away (day, key id,
        #: member): given back when it answers, not left to count until they expire. Only
        #: requests in flight when Redis went away have one, so this stays small
        self._unreleased: list[Settle] = []
        #: settles not sent yet: the next decision carries them, or the flusher sends them on
        #: their own
        self._queue: list[Settle] = []
        #: this replica's name in its batches' bitmaps, and its next batch's number
        self._replica = secrets.token_hex(6)
        self._batches = 0
        #: batches sent whose script may or may not have run (it timed out, Redis went away,
        #: the call was cancelled): sent again under their own number, which Redis skips if
        #: it has applied them
        self._retry: list[Batch] = []
        self._flusher: asyncio.Task[None] | None = None
        #: batches on their way on their own: a decision waits for them (ordered after them)
        self._sends: set[asyncio.Future[None]] = set()
        #: decisions waiting for those: the flusher leaves the queue to them meanwhile
        self._deciding = 0
        #: stop() sends what is left itself: no flusher is started any more
        self._stopping = False
        #: requests whose admission waits for their reservation, to be decided with it in one
        #: script (a key with a daily budget): request id -> key
        self._deferred: dict[str, GatewayKey] = {}
        #: admissions counted after the fact (a deferred request refused before its decision)
        self._late: set[asyncio.Task[None]] = set()
        #: replicas that spoke to Redis lately, this one among them, as last counted (kept
        #: while Redis is away): a share is never larger than 1/this
        self.seen = 0
        self._said_seen = 0
        self._beat: Any = None
        self._admit: Any = None
        self._decide: Any = None
        self._reserve: Any = None
        self._settle: Any = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (a Redis that does not answer leaves the replica on its share, and
        :meth:`probe` keeps trying) and seed today's shared spend from the usage log where
        Redis has none yet."""
        if self._redis is None:
            return
        self._admit = self._redis.register_script(_ADMIT)
        self._decide = self._redis.register_script(_DECIDE)
        self._reserve = self._redis.register_script(_RESERVE)
        self._settle = self._redis.register_script(_SETTLE)
        self._beat = self._redis.register_script(_BEAT)
        await self.probe()

    async def stop(self) -> None:
        self._stopping = True
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self._settled()
        if self._late:
            await asyncio.gather(*list(self._late), return_exceptions=True)
        while (self._queue or self._retry) and self.up:
            await self._send_settles(self._take())
        if self._redis is not None:
            if self.up:  # counted no more: one started again in its place is not two
                with contextlib.suppress(RedisError, OSError):
                    await self._redis.zrem(self._name("replicas"), self._replica)
            await self._redis.aclose()

    async def probe(self) -> None:
        """Ping Redis when it is down; once it answers, send what was spent meanwhile and use
        the shared limits again. While it answers, count the replicas that do (:attr:`seen`).
        Run every second by the gateway."""
        if self._redis is None:
            return
        if self.up:
            await self._count()
            return
        try:
            await self._redis.ping()
            day = self._today()
            for key_id, tokens in self._seed.items():  # the usage log's figure, first replica
                await self._redis.set(self._spent(day, key_id), tokens, nx=True, px=_DAY_TTL_MS)
            self._seed = {}
            # settles go on landing in _unsent while this waits on Redis: send until none is
            # left, and only then (no wait in between) use the shared limits again. Each batch
            # is numbered before it is sent, and kept until Redis has answered for it: one
            # whose answer is lost is sent again under its number, never counted twice
            while self._retry or self._unsent or self._unreleased:
                unsent, self._unsent = self._unsent, {}
                settles = [(when, key_id, "", tokens) for (when, key_id), tokens in unsent.items()]
                settles += self._unreleased
                self._unreleased = []
                while settles:
                    self._retry.append(self._number(settles[:_CARRY]))
                    settles = settles[_CARRY:]
                batch = self._retry.pop(0)
                try:
                    await self._settle(keys=self._batch_keys(batch), args=self._batch_args(batch))
                except BaseException:  # it may have run: sent again, first, under its number
                    self._retry.insert(0, batch)
                    raise
        except (RedisError, OSError) as err:
            self._down(err)
            return
        if self.last_error is not None:
            log.warning("shared limits: Redis at %s answers; limits are shared again",
                        redacted_url(self.url or ""))  # fmt: skip
        self.up, self.last_error = True, None
        await self._count()

    async def _count(self) -> None:
        """Say this replica answers, and count those that did lately: ``replicas`` (default
        ``workers``) counts one host's processes unless it is set for every host, and a share
        of 1/1 on each of three hosts let three times the limit through while Redis was away.
        The share is taken of the larger of the two, and a count above the setting is said
        once."""
        if self._beat is None:  # not started
            return
        try:
            seen = int(await self._beat(keys=[self._name("replicas")],
                                        args=[self._replica, _BEAT_MS]))  # fmt: skip
        except (RedisError, OSError) as err:
            self._down(err)
            return
        self.seen = seen
        if seen > self.replicas and seen > self._said_seen:
            self._said_seen = seen
            log.warning("shared limits: %d gateway processes share Redis at %s, but replicas = "
                        "%d: while Redis cannot be reached each enforces 1/%d of every limit; "
                        "set gateway.replicas to the processes on all hosts together",
                        seen, redacted_url(self.url or ""), self.replicas, seen)  # fmt: skip

    async def lost(self, err: BaseException) -> None:
        """Redis was lost elsewhere (the news channel, which pings it every quiet second): ask
        it on the limits' own connection, and where it does not answer either, use this
        replica's share at once and probe until Redis answers again. A replica that made no
        decision since Redis went away still said "shared" and ``ok`` on ``/healthz``, for as
        long as no request came its way. The news connection alone failing (a subscription
        Redis refuses this user, a pub/sub connection Redis closed, a proxy without pub/sub)
        is not Redis gone: taken for it, the limits went to the share and back every second,
        a warning each way, for as long as the news could not be heard."""
        if not self.up or self._redis is None:
            return
        try:
            await self._redis.ping()
        except (RedisError, OSError) as lost:
            if self.up:  # a decision may have found it first
                self._down(lost)

    def _down(self, err: BaseException) -> None:
        if self.up or self.last_error is None:
            log.warning("shared limits: Redis at %s unreachable (%s): each replica enforces "
                        "1/%d of every limit", redacted_url(self.url or ""), err,
                        self.share_of)  # fmt: skip
        self.up = False
        self.last_error = f"{type(err).__name__}: {err}"
        self._hold_back(self._queue)  # never sent: their tokens go when Redis is back
        self._queue = []

    # -- state -------------------------------------------------------------------------------

    @property
    def share_of(self) -> int:
        """What a share divides each limit by: ``replicas``, or the replicas Redis last counted
        where they were more."""
        return max(self.replicas, self.seen)

    @property
    def mode(self) -> str:
        """``shared`` (Redis answers) or ``share`` (each replica its share of the limit)."""
        return "shared" if self.up else "share"

    def describe(self) -> dict[str, Any]:
        """What /healthz says about the limits."""
        return {
            "mode": self.mode,
            "redis": redacted_url(self.url) if self.url else None,
            "replicas": self.replicas,
            # those that spoke to Redis lately (None: no Redis); the share takes the larger
            "replicas_seen": self.seen if self._redis is not None else None,
            "share": f"1/{self.share_of}",
            # the error's kind only: its text (hosts, the server's words) is in the log
            "last_error": None if self.last_error is None else self.last_error.split(":", 1)[0],
            "local_decisions": self.local_decisions,
        }

    def _name(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _spent(self, day: str, key_id: str) -> str:
        return self._name("spent", day, key_id)

    def _share(self, key: GatewayKey) -> GatewayKey:
        """``key`` with this replica's share of its limits (rounded down: never above)."""
        limits = key.limits
        n = self.share_of
        share = KeyLimits(
            rpm=None if limits.rpm is None else limits.rpm // n,
            tokens_per_day=None if limits.tokens_per_day is None else limits.tokens_per_day // n,
            models=limits.models,
        )
        return dataclasses.replace(key, limits=share)

    def _shared_now(self, key: GatewayKey) -> bool:
        limits = key.limits
        return self.up and (limits.rpm is not None or limits.tokens_per_day is not None)

    def _why_share(self) -> str:
        if self._redis is None:
            return f"this replica's share (1/{self.share_of}: several replicas, no redis_url)"
        return f"this replica's share (1/{self.share_of}) while Redis cannot be reached"

    # -- the limits --------------------------------------------------------------------------

    async def aadmit(self, key: GatewayKey, request_id: str = "") -> None:
        """:meth:`admit` through Redis. For a key with a daily budget the admission is put
        off to :meth:`areserve` and decided with the reservation in one script (one round trip
        instead of two); a request refused before that (a data rule, a bad prompt) is counted
        against the per-minute limit when it is settled, as it would have been here."""
        limits = key.limits
        if limits.rpm is None and limits.tokens_per_day is None:
            return
        if self._shared_now(key):
            if limits.tokens_per_day is not None and request_id:
                self._deferred[request_id] = key
                return
            await self._settled()
            carried = self._take()
            try:
                verdict = await self._admit(
                    keys=[
                        self._name("rpm", key.id),
                        self._spent(self._today(), key.id),
                        self._name("held", key.id),
                        *self._batch_keys(carried),
                    ],
                    args=[
                        secrets.token_hex(8),
                        -1 if limits.rpm is None else limits.rpm,
                        -1 if limits.tokens_per_day is None else limits.tokens_per_day,
                        *self._batch_args(carried),
                    ],
                )
            except (RedisError, OSError) as err:
                self._lost(carried)
                self._down(err)
            except BaseException:  # cancelled, perhaps after Redis ran it: sent again
                self._lost(carried)
                self._kick()
                raise
            else:
                self._refuse(key, int(verdict[0]), int(verdict[1]))
                self._note(key)
                return
        self._admit_share(key)

    def _admit_share(self, key: GatewayKey) -> None:
        self.local_decisions += 1
        try:
            self.admit(self._share(key))
        except (RateLimited, TokenBudgetSpent) as err:
            # its Retry-After too: a share's 429 without it was retried at once, into the same
            # refusal, by every OpenAI client (several workers with no Redis always decide here)
            raise type(err)(f"{err} [{self._why_share()}]", retry_after=err.retry_after) from None

    @staticmethod
    def _refuse(key: GatewayKey, outcome: int, figure: int) -> None:
        """Raise what an admission's outcome from Redis says (1: no tokens left, 2: over the
        per-minute limit, ``figure`` ms until a slot frees); nothing for the others."""
        limits = key.limits
        if outcome == 1:
            raise TokenBudgetSpent(
                f"key {key.prefix}… ({key.person}) used {figure} of its "
                f"{limits.tokens_per_day} tokens today (UTC, every replica together); "
                "it resets at midnight UTC"
            )
        if outcome == 2:
            retry = retry_seconds(figure / 1000)
            raise RateLimited(
                f"key {key.prefix}… ({key.person}) reached its limit of {limits.rpm} "
                f"requests per minute (every replica together); retry in {retry} s",
                retry_after=retry,
            )

    async def _settled(self) -> None:
        """Wait for the settles this replica sent on their own; the ones still queued ride on
        this decision. So a request that ended before this one began has given back its
        reservation when this one is decided, as in memory, unless another decision still on
        its way carries it: then it counts a moment longer, which can only refuse early, never
        let more through."""
        # While a decision waits the flusher takes nothing from the queue (the decision carries
        # it): a flusher that went on sending what ends meanwhile could keep it waiting for
        # ever under steady load. Batches whose fate a failure left unknown go first, on their
        # own (a decision carries one batch, and this one's is the queue). Admissions counted
        # after the fact come first too, those begun before this decision; and only the
        # batches to be sent again that were left before it began: decisions cut short after
        # it began, one a millisecond, would otherwise keep it sending theirs for ever (what
        # they hold counts a moment longer, which can only refuse early). The last check and
        # the decision's _take() have no wait between them. A done send is never waited on
        # (asyncio.wait returns at once), and none is cancelled with this decision.
        late = set(self._late)
        owed = {batch[0] for batch in self._retry}
        self._deciding += 1
        try:
            while True:
                if pending := [t for t in (*self._sends, *late) if not t.done()]:
                    await asyncio.wait(pending)
                elif owed and self.up and (batch := self._owed(owed)) is not None:
                    self._send(batch)
                else:
                    break
        finally:  # cancelled too: the queue the flusher left must not wait for the next one
            self._deciding -= 1
            if not self._deciding and (self._queue or self._retry):
                self._kick()  # what this decision leaves: sent at the loop's next turn

    def _owed(self, owed: set[int]) -> Batch | None:
        """Take the first batch to be sent again whose number is in ``owed`` (a batch sent
        again and lost again comes back under its number, and is owed still)."""
        for index, batch in enumerate(self._retry):
            if batch[0] in owed:
                return self._retry.pop(index)
        return None

    def _take(self) -> Batch:
        """The batch the next script carries: the queue's oldest settles under a new number
        (a decision carries what ended before it: :meth:`_settled` sent the batches to be sent
        again that were left before it began), else one to be sent again."""
        if self._queue:
            carried, self._queue = self._queue[:_CARRY], self._queue[_CARRY:]
            return self._number(carried)
        if self._retry:
            return self._retry.pop(0)
        return _NO_BATCH

    def _number(self, settles: list[Settle]) -> Batch:
        number, self._batches = self._batches, self._batches + 1
        return number, settles

    def _batch_keys(self, batch: Batch) -> list[str]:
        number, settles = batch
        keys = [self._name("applied", self._replica, str(max(number, 0) >> _GENERATION_BITS))]
        for day, key_id, _, _ in settles:
            keys += (self._name("held", key_id), self._spent(day, key_id))
        return keys

    @staticmethod
    def _batch_args(batch: Batch) -> list[str | int]:
        number, settles = batch
        args: list[str | int] = [number & ((1 << _GENERATION_BITS) - 1) if number >= 0 else -1]
        for _, _, member, tokens in settles:
            args += (member, tokens)
        return args

    def _lost(self, batch: Batch) -> None:
        """A batch Redis may or may not have applied: sent again under its number (by the
        next decision, the flusher, or the probe once Redis answers)."""
        if batch[1]:
            self._retry.append(batch)

    def _hold_back(self, settles: list[Settle]) -> None:
        """Settles never sent, while Redis is away: their tokens are sent once it answers,
        summed per key and day, and their reservations given back then."""
        for day, key_id, member, tokens in settles:
            if tokens:
                self._unsent[(day, key_id)] = self._unsent.get((day, key_id), 0) + tokens
            if member:
                self._unreleased.append((day, key_id, member, 0))

    def _release(self, key_id: str, request_id: str) -> None:
        """Give back whatever reservation ``request_id`` may hold in Redis: its script was
        cut short (cancelled, or its answer lost) after Redis may have run it, so this replica
        does not know it. Sent with the next batch, or when Redis answers again."""
        self._lost(self._number([(self._today(), key_id, f"{request_id}:", 0)]))
        self._kick()

    def _kick(self) -> None:
        """Have the flusher send what waits, at the event loop's next turn."""
        if self._flusher is None and self.up and not self._stopping:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later())

    def _note(self, key: GatewayKey) -> None:
        """Remember a shared admission here too, so a share taken later counts it."""
        if key.limits.rpm is None:
            return
        now = time.monotonic()
        window = self._recent.setdefault(key.id, deque())
        while window and now - window[0] >= 60.0:
            window.popleft()
        window.append(now)

    async def areserve(
        self, key: GatewayKey, endpoint: str, body: dict[str, Any], prompt: int, request_id: str
    ) -> int:
        limit = key.limits.tokens_per_day
        if limit is None:
            return 0
        deferred = self._deferred.pop(request_id, None) is not None
        if self._shared_now(key):
            await self._settled()
            carried = self._take()
            generates = endpoint != "embeddings"
            field = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
            asked = body.get(field) if generates else None
            if not isinstance(asked, int) or isinstance(asked, bool):
                asked = 16 if endpoint == "completions" else None  # OpenAI's default there
            n = body.get("n") if isinstance(body.get("n"), int) else 1
            choices = max(1, n or 1)
            wanted = [prompt, choices, -1 if asked is None else asked, 1 if generates else 0,
                      self._ttl_ms]  # fmt: skip
            spent_key, held_key = self._spent(self._today(), key.id), self._name("held", key.id)
            try:
                if deferred:  # admission and reservation in one script
                    rpm = key.limits.rpm
                    outcome, used, granted = await self._decide(
                        keys=[self._name("rpm", key.id), spent_key, held_key,
                              *self._batch_keys(carried)],
                        args=[secrets.token_hex(8), -1 if rpm is None else rpm, limit,
                              request_id, *wanted, *self._batch_args(carried)],
                    )  # fmt: skip
                else:
                    outcome, used, granted = await self._reserve(
                        keys=[spent_key, held_key, *self._batch_keys(carried)],
                        args=[request_id, limit, *wanted, *self._batch_args(carried)],
                    )
            except (RedisError, OSError) as err:  # it may have run: carried settles and all
                self._lost(carried)
                self._down(err)
                self._release(key.id, request_id)  # sent when Redis answers again
            except BaseException:  # cancelled, perhaps after Redis ran it
                self._lost(carried)
                self._release(key.id, request_id)
                raise
            else:  # the script ran, carried settles and all: a refusal from here on is final
                outcome, used = int(outcome), int(used)
                if deferred:
                    self._refuse(key, outcome, used)  # out of tokens, or over the rpm
                    self._note(key)  # in the window, even if it cannot fit below
                if outcome == 3:
                    raise TokenBudgetSpent(
                        f"key {key.prefix}… ({key.person}) has {max(limit - used, 0)} of its "
                        f"{limit} tokens left today (UTC, every replica together, some held by "
                        f"requests in flight), and this request may use {prompt} for its prompt "
                        "and at least one for its answer; it resets at midnight UTC"
                    )
                completion = 0
                if generates:
                    body[field] = int(granted)
                    completion = int(granted) * choices
                reserved = prompt + completion
                self._held[request_id] = f"{request_id}:{reserved}"
                return reserved
        if deferred:  # its admission was put off to this decision, which Redis cannot take
            self._admit_share(key)
        self.local_decisions += 1
        try:
            return self.reserve(self._share(key), endpoint, body, prompt)
        except TokenBudgetSpent as err:
            raise TokenBudgetSpent(
                f"{err} [{self._why_share()}]", retry_after=err.retry_after
            ) from None

    def settle(self, key_id: str, reserved: int, tokens: int, request_id: str = "") -> None:
        # a runtime's absurd count (it is parsed from the answer) must not fail the script that
        # carries other requests' settles: Redis's INCRBY takes 64-bit integers, Lua's numbers
        # are exact to 2**53
        tokens = min(tokens, _MOST_TOKENS)
        late = self._deferred.pop(request_id, None) if request_id else None
        if late is not None:  # refused before its admission was decided: it counts all the same
            self._count_late(late)
        member = self._held.pop(request_id, None) if request_id else None
        # this replica's own count (its share, should Redis go away) spends either way
        super().settle(key_id, 0 if member is not None else reserved, tokens)
        if self._redis is None or (member is None and not tokens):
            return
        day = self._today()
        if not self.up:
            self._hold_back([(day, key_id, member or "", tokens)])
            return
        self._queue.append((day, key_id, member or "", tokens))
        self._kick()

    def _count_late(self, key: GatewayKey) -> None:
        """Count a request whose admission was put off and never decided (it was refused
        before): against the per-minute limit in Redis (its verdict does not matter any more),
        and in this replica's own window."""
        self._note(key)
        if key.limits.rpm is None or not self.up:
            return
        task = asyncio.get_running_loop().create_task(self._admit_late(key))
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    async def _admit_late(self, key: GatewayKey) -> None:
        limits = key.limits
        try:
            await self._admit(
                keys=[self._name("rpm", key.id), self._spent(self._today(), key.id),
                      self._name("held", key.id), *self._batch_keys(_NO_BATCH)],
                args=[secrets.token_hex(8), -1 if limits.rpm is None else limits.rpm,
                      -1 if limits.tokens_per_day is None else limits.tokens_per_day,
                      *self._batch_args(_NO_BATCH)],
            )  # fmt: skip
        except (RedisError, OSError) as err:
            self._down(err)

    async def _flush_later(self) -> None:
        """Send the settles no decision carried at the event loop's next turn."""
        try:
            await asyncio.sleep(_SETTLE_SECONDS)
            while (self._queue or self._retry) and self.up and not self._deciding:
                # shielded: stopping waits for it in _settled, never cuts it
                await asyncio.shield(self._send(self._take()))
        finally:
            self._flusher = None

    def _send(self, batch: Batch) -> asyncio.Future[None]:
        """Send ``batch`` on its own; decisions wait for it (:meth:`_settled`)."""
        sending = asyncio.ensure_future(self._send_settles(batch))
        self._sends.add(sending)
        sending.add_done_callback(self._sends.discard)
        return sending

    async def _send_settles(self, batch: Batch) -> None:
        try:
            await self._settle(keys=self._batch_keys(batch), args=self._batch_args(batch))
        except BaseException as err:  # it may have run; sent again under its number
            self._lost(batch)
            if not isinstance(err, RedisError | OSError):
                raise
            self._down(err)


class Listener:
    """Hears the news on ``{prefix}:news`` and runs ``on_news`` for each item (``keys``,
    ``lock``); reconnects on its own, and on every (re)connection runs it for every item, since
    what was said while it was away is lost."""

    def __init__(
        self,
        url: str,
        prefix: str,
        on_news: Callable[[str], Awaitable[None]],
        *,
        timeout: float,
        on_lost: Callable[[BaseException], Awaitable[None]] | None = None,
    ) -> None:
        self.url = url
        self.channel = f"{prefix}:news"
        self.on_news = on_news
        self.timeout = timeout
        #: told each time the connection to Redis fails (the shared limits' `lost`)
        self.on_lost = on_lost
        #: subscribed right now
        self.listening = False
        self.heard = 0
        self._closing = False
        #: the log said the news cannot be heard, since the last subscription
        self._said_lost = False

    def close(self) -> None:
        """Stop at the next chance, even if a cancellation is lost on the way (on Python 3.11
        a cancel that meets an expiring ``asyncio.timeout`` inside redis-py can come out as a
        timeout, which the reconnect loop would otherwise take for Redis being away)."""
        self._closing = True

    async def run(self) -> None:
        """Listen until cancelled, or until :meth:`close` is called."""
        first = True
        while not self._closing:
            client = aredis.Redis.from_url(
                self.url, socket_connect_timeout=self.timeout, health_check_interval=0
            )
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    # sent, not yet taken: Redis answers a subscription it refuses (NOPERM)
                    # on the connection's next read, so listening waits for that read
                    await pubsub.subscribe(self.channel)
                    while not self._closing:
                        message = await pubsub.get_message(timeout=1.0)
                        if not self.listening:
                            self.listening, self._said_lost = True, False
                            if not first:  # what was said while it was away is lost
                                for news in NEWS:
                                    await self._tell(news)
                            first = False
                        if message is None:  # a quiet second: a dead connection shows here
                            await pubsub.ping()
                        elif message.get("type") == "message":
                            data = message["data"]
                            news = data.decode() if isinstance(data, bytes) else str(data)
                            self.heard += 1
                            await self._tell(news)
            except (RedisError, OSError) as err:
                if self.listening:
                    log.warning("gateway news: lost Redis at %s (%s)", redacted_url(self.url),
                                err)  # fmt: skip
                elif not self._said_lost and not self._closing:
                    # never subscribed (a subscription this user may not make, say): once, not
                    # every second, and never in silence
                    log.warning("gateway news: cannot hear the replicas' news on Redis at %s "
                                "(%s); keys and the lock are read again every "
                                "keys_refresh_seconds meanwhile", redacted_url(self.url),
                                err)  # fmt: skip
                self._said_lost = True
                self.listening = False
                first = False
                if self.on_lost is not None and not self._closing:
                    await self.on_lost(err)
                if not self._closing:
                    await asyncio.sleep(1.0)
            finally:
                self.listening = False
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose()

    async def _tell(self, news: str) -> None:
        if news not in NEWS:
            log.warning("gateway news: ignored %r", news[:80])
            return
        try:
            await self.on_news(news)
        except Exception:  # one failed reload must not stop the listening
            log.exception("gateway news: reloading %s failed", news)


@dataclasses.dataclass(frozen=True)
class Told:
    """What :func:`announce` did. ``sent``: the news is on the channel. Not sent with no
    ``problem``: the gateway shares no Redis (nothing to tell; each replica re-reads at its
    refresh). Not sent with a ``problem``: Redis is configured but did not take the message, so
    the replicas see the change only at their next refresh, ``refresh_seconds`` at most."""

    sent: bool
    problem: str | None = None
    refresh_seconds: float | None = None
    #: the replicas that heard it (Redis's count of subscribers): 0 when none runs
    heard: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def announce(folder: Path, news: str) -> Told:
    """Tell every replica of the gateway of the program at ``folder`` that ``news`` changed
    (``keys`` or ``lock``), when it shares Redis. Never raises for Redis: a Redis that cannot be
    reached is reported in the answer (the change itself is already made; the replicas' own
    refresh picks it up)."""
    import redis

    from inhouse.errors import InhouseError
    from inhouse.gateway.config import GatewaySettings, read_gateway_settings
    from inhouse.program.config import read_config

    if news not in NEWS:
        raise ValueError(f"unknown gateway news {news!r}")
    config: dict[str, Any] = {}
    try:
        config = read_config(folder)
        settings = read_gateway_settings(folder, config)
    except InhouseError as err:
        # an invalid [gateway] table (a redis_url redis cannot read) was a warning before the
        # table was checked; it stays one, naming the problem, not a silence
        refresh = GatewaySettings.model_fields["keys_refresh_seconds"].default
        try:
            written = config["gateway"]["keys_refresh_seconds"]
        except (KeyError, TypeError):
            written = None
        if isinstance(written, int | float) and not isinstance(written, bool) and written > 0:
            refresh = float(written)
        return Told(sent=False, problem=str(err), refresh_seconds=refresh)
    if settings.redis_url is None:
        return Told(sent=False, refresh_seconds=settings.keys_refresh_seconds)
    try:
        with redis.Redis.from_url(
            settings.redis_url,
            socket_timeout=settings.redis_timeout,
            socket_connect_timeout=settings.redis_timeout,
        ) as client:
            heard = int(client.publish(f"{settings.redis_prefix}:news", news))
    except (RedisError, OSError, ValueError) as err:  # ValueError: a URL redis cannot use
        problem = f"Redis at {redacted_url(settings.redis_url)} did not answer ({err})"
        return Told(sent=False, problem=problem, refresh_seconds=settings.keys_refresh_seconds)
    return Told(sent=True, refresh_seconds=settings.keys_refresh_seconds, heard=heard)
