"""Replicas that agree (issue 16): several gateways, one real Redis (127.0.0.1:6379), one limit.

Two gateways in-process (each a whole gateway with its own spool) or ``inhouse gateway serve``
processes share a key's requests per minute and tokens per day; a key revoked through one is
refused by the other within a second (pub/sub, with the keys refresh set to a minute so only
the news can do it); Redis going away mid-test (a door in front of the real server, shut by the
test: the server itself is shared by other tests) leaves each replica its share of the limit,
said by /healthz and /metrics, and it comes back. The upstream is the stand-in: these tests are
about the gateway's arithmetic, not a model's answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import func, select
from typer.testing import CliRunner

from inhouse.baseline.lock import lock_baseline, read_lock
from inhouse.cli.app import app as cli
from inhouse.db import open_store
from inhouse.db.schema import gateway_usage, usage_daily
from inhouse.gateway import Gateway, build_gateway, read_gateway_settings, revoke_key
from inhouse.gateway.keys import list_keys
from inhouse.location import database_url
from inhouse.program import Program
from inhouse.program.config import read_config
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream, spawn_standin
from tests.gateway.conftest import REDIS
from tests.gateway.harness import (
    LEAD,
    auth,
    chat,
    digest_of,
    error_of,
    key_for,
    listening,
    make_program,
    model_file,
    one_runtime,
    served,
    usage_rows,
    wait_for,
    weights_root,
)
from tests.runtimes.standin import free_port

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=4)


def _program(folder: Path, url: str, **gateway: Any) -> Any:
    settings = {"keys_refresh_seconds": 60, "replicas": 2, **gateway}
    settings = {name: value for name, value in settings.items() if value is not None}
    return one_runtime(folder, url, gateway=settings)


@contextlib.asynccontextmanager
async def replica(folder: Path, name: str) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    """One more gateway for the program at ``folder``, with a spool of its own."""
    settings = read_gateway_settings(folder, read_config(folder))
    settings = settings.model_copy(update={"spool_dir": f".inhouse/gateway/spool-{name}"})
    gateway = build_gateway(folder, settings=settings)
    async with (
        gateway,
        listening(gateway) as url,
        httpx.AsyncClient(base_url=url, trust_env=False) as client,
    ):
        yield gateway, client
    gateway.store.close()


async def _ask(
    client: httpx.AsyncClient, key: str, model: str = "tiny", **extra: Any
) -> httpx.Response:
    return await client.post("/v1/chat/completions", json=chat(model, **extra), headers=auth(key))


class RedisDoor:
    """A TCP door in front of the real Redis, which the test shuts and opens again: Redis gone
    for the gateways behind it, while the shared server keeps serving everyone else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._server: asyncio.Server | None = None
        self._open: list[asyncio.StreamWriter] = []

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def shut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._open:
            writer.transport.abort()
        self._open = []
        await self._server.wait_closed()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 6379)
        self._open += [writer, up_writer]

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))


@pytest.mark.parametrize("tokens_per_day", [None, 10**9])
def test_two_replicas_let_a_per_minute_limit_through_once(
    _isolated: Path, prefix: str, tokens_per_day: int | None
) -> None:
    """With a daily budget too, the admission is decided with the reservation in one script:
    the per-minute limit holds the same."""

    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, redis_url=REDIS, redis_prefix=prefix)
            key = key_for(program, rpm=4, tokens_per_day=tokens_per_day)
            async with replica(_isolated, "a") as (_, a), replica(_isolated, "b") as (_, b):
                # a bound on the answer: without one a request reserves the rest of the day, and
                # another replica may see that reservation for a round trip after it ended
                bound = {} if tokens_per_day is None else {"max_tokens": 8}
                replies = [await _ask((a, b)[i % 2], key, **bound) for i in range(8)]
                codes = [r.status_code for r in replies]
                # each replica answered two: without sharing, each would answer four
                assert codes == [200, 200, 200, 200, 429, 429, 429, 429]
                refusal = error_of(replies[-1])
                assert refusal["code"] == "rate_limit_exceeded"
                assert (
                    "limit of 4 requests per minute (every replica together)"
                    in (refusal["message"])
                )

    asyncio.run(run())


def test_a_token_budget_spent_on_one_replica_is_spent_on_the_other(
    _isolated: Path, prefix: str
) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, redis_url=REDIS, redis_prefix=prefix)
            key = key_for(program, tokens_per_day=200)
            async with replica(_isolated, "a") as (_, a), replica(_isolated, "b") as (_, b):
                answered = 0
                while (await _ask(a, key)).status_code == 200:
                    answered += 1
                    assert answered < 50, "the budget never ran out"
                assert answered >= 2  # the budget held several requests before it ran out
                await asyncio.sleep(0.1)  # the last settle reaches Redis
                other = await _ask(b, key)
                assert other.status_code == 429, other.text  # b has no budget of its own
                assert error_of(other)["code"] == "tokens_per_day_exceeded"
                assert "every replica together" in error_of(other)["message"]

    asyncio.run(run())


def test_a_request_refused_before_its_limits_were_decided_still_counts_per_minute(
    _isolated: Path, prefix: str
) -> None:
    """For a key with a daily budget the per-minute admission is decided with the reservation,
    after the data rules; a request the rules refuse still counts against the minute, on every
    replica, as it did when the admission came first. Sending refused requests gets nobody
    more than the limit."""

    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            weights = model_file(_isolated)
            runtimes = {"local": {"family": "openai", "url": upstream.url,
                                  "model_path": str(weights)}}  # fmt: skip
            program = make_program(
                _isolated, runtimes, {"tiny": digest_of(weights)},
                extra={"data_rules": {"default": "block"}},
                gateway={"keys_refresh_seconds": 60, "replicas": 2, "redis_url": REDIS,
                         "redis_prefix": prefix},
            )  # fmt: skip
            key = key_for(program, rpm=3, tokens_per_day=10**9)
            card = chat("tiny", "my card is 4111 1111 1111 1111")
            async with replica(_isolated, "a") as (_, a), replica(_isolated, "b") as (_, b):
                blocked = await a.post("/v1/chat/completions", json=card, headers=auth(key))
                assert blocked.status_code == 451, blocked.text
                codes = [(await _ask((b, a)[i % 2], key, max_tokens=8)).status_code
                         for i in range(4)]  # fmt: skip
                assert codes == [200, 200, 429, 429]  # the refused one took the third slot

    asyncio.run(run())


def test_settles_ride_on_the_next_decision_and_none_is_lost(
    _isolated: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request's settle (its reservation given back, its tokens spent) is carried by the
    replica's next decision instead of a round trip of its own; what no decision carries is
    sent on its own, or at the latest when the gateway stops. Redis's day count ends equal to
    the tokens the usage log recorded, and no reservation is left held."""
    from inhouse.gateway import shared

    monkeypatch.setattr(shared, "_SETTLE_SECONDS", 60.0)  # only a decision can carry them

    def redis_state(gateway: Gateway, key_id: str) -> tuple[int, int]:
        limiter = gateway.limiter
        assert isinstance(limiter, shared.SharedLimiter)
        with redis.Redis.from_url(REDIS) as client:
            spent = int(client.get(limiter._spent(limiter._today(), key_id)) or 0)
            return spent, int(client.zcard(limiter._name("held", key_id)))

    async def ask(client: httpx.AsyncClient, key: str) -> int:
        # a bound on the answer: without one a request reserves the rest of the day
        sent = chat("tiny", max_tokens=8)
        return (await client.post("/v1/chat/completions", json=sent, headers=auth(key))).status_code

    def spent_in_log(program: Program) -> int:
        return sum(r["tokens_in"] + r["tokens_out"] for r in usage_rows(program))

    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, redis_url=REDIS, redis_prefix=prefix,
                               key_concurrency=16)  # fmt: skip
            key = key_for(program, tokens_per_day=1_000_000)
            key_id = list_keys(program.store)[0].id
            async with replica(_isolated, "a") as (gateway, a):
                for _ in range(3):
                    assert await ask(a, key) == 200
                await gateway.usage.flush()
                before_last = spent_in_log(program)
                # the first two settles rode on the later decisions; the third waits
                spent, held = redis_state(gateway, key_id)
                assert held == 1 and 0 < spent < before_last
                replies = await asyncio.gather(*(ask(a, key) for _ in range(8)))
                assert replies == [200] * 8
                assert await ask(a, key) == 200
                spent, held = redis_state(gateway, key_id)
                assert held == 1  # every settle but the last one's has been carried
            # stopping sent the rest
            await asyncio.sleep(0)
            assert redis_state(gateway, key_id) == (spent_in_log(program), 0)

    asyncio.run(run())


def test_a_settle_no_decision_carries_is_sent_on_its_own(_isolated: Path, prefix: str) -> None:
    from inhouse.gateway import shared

    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, redis_url=REDIS, redis_prefix=prefix)
            key = key_for(program, tokens_per_day=1_000_000)
            key_id = list_keys(program.store)[0].id
            async with replica(_isolated, "a") as (gateway, a):
                limiter = gateway.limiter
                assert isinstance(limiter, shared.SharedLimiter)
                assert (await _ask(a, key)).status_code == 200
                await asyncio.sleep(0.2)  # nothing else comes: the flusher sends it
                with redis.Redis.from_url(REDIS) as client:
                    assert client.zcard(limiter._name("held", key_id)) == 0
                    assert int(client.get(limiter._spent(limiter._today(), key_id)) or 0) > 0

    asyncio.run(run())


def test_a_key_revoked_through_one_replica_is_refused_by_the_other_within_a_second(
    _isolated: Path, prefix: str
) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            # keys are re-read once a minute: only the news can make the second replica refuse
            program = _program(_isolated, upstream.url, redis_url=REDIS, redis_prefix=prefix)
            key = key_for(program)
            async with replica(_isolated, "a") as (ga, a), replica(_isolated, "b") as (gb, b):
                for gateway in (ga, gb):
                    assert gateway.listener is not None
                    deadline = time.monotonic() + 30  # how long "never" is, under load
                    while not gateway.listener.listening:
                        assert time.monotonic() < deadline, "the replica never subscribed"
                        await asyncio.sleep(0.02)
                assert (await _ask(a, key)).status_code == 200
                assert (await _ask(b, key)).status_code == 200
                revoke_key(program, LEAD, key[:11])
                revoked = time.monotonic()
                while (reply := await _ask(b, key)).status_code != 401:
                    assert reply.status_code == 200
                    assert time.monotonic() - revoked < 1.0, "still answered after a second"
                    await asyncio.sleep(0.02)
                assert error_of(reply)["code"] == "invalid_api_key"
                assert (await _ask(a, key)).status_code == 401
                assert gb.listener is not None and gb.listener.heard >= 1

    asyncio.run(run())


def test_a_key_revoked_with_no_replica_listening_says_none_heard_it(
    _isolated: Path, prefix: str
) -> None:
    """Redis took the news but no gateway was subscribed: `keys revoke` said "Told the running
    gateway replicas ... they refuse it now", a reassurance about replicas that do not exist
    (or do not reach Redis). Redis counts who heard it; the command says so."""
    program = _program(_isolated, "http://127.0.0.1:9", redis_url=REDIS, redis_prefix=prefix)
    key = key_for(program)
    program.close()
    reply = CliRunner().invoke(cli, ["keys", "revoke", key[:11]])
    assert reply.exit_code == 0, reply.output
    said = " ".join(reply.stdout.split())
    assert "Told the running gateway replicas" not in said, said
    assert "No gateway replica heard it on Redis (none runs, or none reaches Redis)" in said
    assert "at its next refresh (keys_refresh_seconds, 60 s)" in said


def test_a_key_revoked_under_a_redis_url_redis_cannot_read_still_warns(_isolated: Path) -> None:
    """A ``redis_url`` redis cannot read is a config error now; announcing the news it still
    ends in the warning it gave, naming the setting, not in silence."""
    program = _program(_isolated, "http://127.0.0.1:9")
    key = key_for(program)
    program.close()
    with (_isolated / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write('redis_url = "localhost:6379"\n')  # the [gateway] table is the last
    assert read_config(_isolated)["gateway"]["redis_url"] == "localhost:6379"
    reply = CliRunner().invoke(cli, ["keys", "revoke", key[:11]])
    assert reply.exit_code == 0, reply.output
    assert "revoked." in reply.stdout
    warning = " ".join(reply.stderr.split())
    assert "could not tell the running gateway replicas" in warning, warning
    assert "gateway.redis_url: not a Redis URL" in warning
    assert "at its next refresh (keys_refresh_seconds, 60 s)" in warning


def test_a_key_revoked_with_redis_unreachable_is_revoked_and_warns(
    _isolated: Path, prefix: str
) -> None:
    """`inhouse keys revoke` says when it could not tell the replicas, and how soon they will
    refuse the key anyway; the key is revoked all the same."""
    closed = f"redis://127.0.0.1:{free_port()}/0"
    program = _program(_isolated, "http://127.0.0.1:9", redis_url=closed, redis_prefix=prefix)
    key = key_for(program)
    program.close()
    reply = CliRunner().invoke(cli, ["keys", "revoke", key[:11]])
    assert reply.exit_code == 0, reply.output
    assert "revoked." in reply.stdout
    warning = reply.stderr.replace("\n", " ")
    assert "could not tell the running gateway replicas: Redis at" in warning
    assert (
        "each replica refuses the key at its next refresh (keys_refresh_seconds, 60 s)" in warning
    )
    store = open_store(database_url(_isolated))
    try:
        (revoked,) = [k for k in list_keys(store) if k.prefix == key[:11]]
    finally:
        store.close()
    assert revoked.revoked is not None


def _two_model_program(folder: Path, tiny: str, spare: str, **gateway: Any) -> Any:
    """A program whose lock blesses ``tiny`` (runtime local) and ``spare`` (runtime spare), and
    whose [baseline] manifest blesses ``tiny`` alone: `baseline lock` drops ``spare``."""
    tiny_file, spare_file = model_file(folder), model_file(folder, "spare.gguf", seed=1)
    runtimes = {
        "local": {"family": "openai", "url": tiny, "model_path": str(tiny_file)},
        "spare": {"family": "openai", "url": spare, "model_path": str(spare_file)},
    }
    settings = {"keys_refresh_seconds": 60, "replicas": 2, **gateway}
    manifest = {"owner": LEAD, "runtime": "local", "models": ["tiny"]}
    return make_program(
        folder, runtimes, {"tiny": digest_of(tiny_file), "spare": digest_of(spare_file)},
        gateway=settings, extra={"baseline": manifest},
    )  # fmt: skip


async def _subscribed(*gateways: Gateway) -> None:
    for gateway in gateways:
        assert gateway.listener is not None
        deadline = time.monotonic() + 30  # how long "never" is, under load
        while not gateway.listener.listening:
            assert time.monotonic() < deadline, "the replica never subscribed"
            await asyncio.sleep(0.02)


def test_a_model_a_re_lock_drops_is_refused_by_every_replica_within_a_second(
    _isolated: Path, prefix: str
) -> None:
    async def run() -> None:
        async with (
            StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as tiny,
            StandinUpstream(
                FAST, model="spare", root=weights_root(_isolated, "spare.gguf")
            ) as spare,
        ):
            # the lock is re-read once a minute: only the news can make the replicas refuse
            program = _two_model_program(_isolated, tiny.url, spare.url, redis_url=REDIS,
                                         redis_prefix=prefix)  # fmt: skip
            key = key_for(program)
            async with replica(_isolated, "a") as (ga, a), replica(_isolated, "b") as (gb, b):
                await _subscribed(ga, gb)
                for client in (a, b):
                    reply = await _ask(client, key, "spare")
                    assert reply.status_code == 200, reply.text
                result = await asyncio.to_thread(lock_baseline, program, LEAD)
                relocked = time.monotonic()
                assert result.written and [m.name for m in result.lock.models] == ["tiny"]
                assert result.told is not None and result.told.sent
                for client in (b, a):
                    while (reply := await _ask(client, key, "spare")).status_code == 200:
                        assert time.monotonic() - relocked < 1.0, "still served after a second"
                        await asyncio.sleep(0.02)
                    assert reply.status_code == 403, reply.text
                    assert error_of(reply)["code"] == "model_not_allowed"
                    assert "'spare' is not a blessed model" in error_of(reply)["message"]
                    assert (await _ask(client, key)).status_code == 200  # tiny is still served
                assert ga.router.lock.lock_hash == gb.router.lock.lock_hash == result.lock.lock_hash
                assert gb.listener is not None and gb.listener.heard >= 1

    asyncio.run(run())


def test_a_re_lock_with_redis_unreachable_is_recorded_and_warns(
    _isolated: Path, prefix: str
) -> None:
    async def run() -> None:
        closed = f"redis://127.0.0.1:{free_port()}/0"
        async with (
            StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as tiny,
            StandinUpstream(
                FAST, model="spare", root=weights_root(_isolated, "spare.gguf")
            ) as spare,
        ):
            program = _two_model_program(_isolated, tiny.url, spare.url, redis_url=closed,
                                         redis_prefix=prefix)  # fmt: skip
            program.close()
            # the CLI, as lena (her key is the one on this machine), from the program folder
            reply = await asyncio.to_thread(CliRunner().invoke, cli, ["baseline", "lock"])
        assert reply.exit_code == 0, reply.output
        assert "could not tell the running gateway replicas: Redis at" in reply.stderr
        assert "each replica routes it at its next refresh (keys_refresh_seconds, 60 s)" in (
            reply.stderr.replace("\n", " ")
        )
        assert "Recorded baseline.lock" in reply.stdout
        lock = read_lock(_isolated)
        assert lock is not None and [m.name for m in lock.models] == ["tiny"]
        opened = Program.open(_isolated)
        try:
            fact = opened.state().live_facts(opened.clock()).latest("baseline.lock")
        finally:
            opened.close()
        assert fact is not None and fact.payload["lock_hash"] == lock.lock_hash

    asyncio.run(run())


def test_redis_stopped_mid_test_leaves_each_replica_its_share_and_says_so(
    _isolated: Path, prefix: str
) -> None:
    async def run() -> None:
        door = RedisDoor()
        await door.open()
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, redis_url=door.url, redis_prefix=prefix)
            key = key_for(program, rpm=6)
            async with replica(_isolated, "a") as (ga, a), replica(_isolated, "b") as (gb, b):
                assert (await a.get("/healthz")).json()["limits"]["mode"] == "shared"
                assert [(await _ask(a, key)).status_code for _ in range(2)] == [200, 200]
                await door.shut()
                # a's share is 3 of the 6, and it already let 2 through; b's share is untouched
                codes_a = [(await _ask(a, key)).status_code for _ in range(3)]
                codes_b = [(await _ask(b, key)).status_code for _ in range(4)]
                assert codes_a == [200, 429, 429]
                assert codes_b == [200, 200, 200, 429]  # 6 in all: never 2x the limit
                refusal = error_of(await _ask(b, key))
                assert "share (1/2) while Redis cannot be reached" in refusal["message"]
                for client in (a, b):
                    health = (await client.get("/healthz")).json()
                    assert health["status"] == "degraded"
                    assert health["limits"]["mode"] == "share"
                    # the error's kind, not its text (hosts, Redis's words): that is logged
                    assert health["limits"]["last_error"].isidentifier()
                    metrics = (await client.get("/metrics")).text
                    assert 'inhouse_gateway_limits_mode{mode="share"} 1.0' in metrics
                    assert 'inhouse_gateway_limits_mode{mode="shared"} 0.0' in metrics
                await door.open()  # Redis is back: probed every second
                deadline = time.monotonic() + 30  # how long "never" is, under load
                while ga.limiter.mode != "shared" or gb.limiter.mode != "shared":  # type: ignore[attr-defined]
                    assert time.monotonic() < deadline, "the replicas never went back to Redis"
                    await asyncio.sleep(0.05)
                assert (await a.get("/healthz")).json()["status"] == "ok"
                # shared again: Redis counted 2 of the 6, so a may answer though its share is spent
                assert (await _ask(a, key)).status_code == 200
        await door.shut()

    asyncio.run(run())


def test_replicas_left_unset_on_two_hosts_still_keep_one_limit_while_redis_is_away(
    _isolated: Path, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two hosts, one gateway process each (`--workers 1`), `replicas` left at its default
    (`workers`, 1): while Redis was away each replica enforced 1/1 of every limit, so the two
    let twice the limit through, though the docs promise a limit never silently multiplied.
    Now each replica tells Redis it answers, every second, and a share is taken of the larger
    of `replicas` and the replicas Redis last counted; the count above the setting is said."""

    async def run() -> None:
        door = RedisDoor()
        await door.open()
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, redis_url=door.url, redis_prefix=prefix,
                               replicas=None)  # fmt: skip
            key = key_for(program, rpm=4)
            async with replica(_isolated, "a") as (_, a), replica(_isolated, "b") as (_, b):

                async def counted() -> bool:
                    healths = [(await c.get("/healthz")).json()["limits"] for c in (a, b)]
                    return all(h.get("replicas_seen") == 2 for h in healths)

                deadline = time.monotonic() + 10  # each says so every second
                while not await counted() and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                await door.shut()
                codes_a = [(await _ask(a, key)).status_code for _ in range(3)]
                codes_b = [(await _ask(b, key)).status_code for _ in range(3)]
                assert codes_a == [200, 200, 429]
                assert codes_b == [200, 200, 429]  # 4 in all: the limit, not twice it
                refusal = error_of(await _ask(b, key))
                assert "share (1/2) while Redis cannot be reached" in refusal["message"]
                health = (await a.get("/healthz")).json()["limits"]
                assert (health["replicas"], health["share"]) == (1, "1/2"), health
        await door.shut()

    asyncio.run(run())
    said = [r.getMessage() for r in caplog.records if r.name.startswith("inhouse")]
    assert any("2 gateway processes share Redis" in line and "replicas = 1" in line
               for line in said), said  # fmt: skip


def test_a_replica_that_answers_nothing_while_redis_is_away_still_says_so(
    _isolated: Path, prefix: str
) -> None:
    """Redis stopped; b gets no request. b's /healthz said "ok" and "shared" for as long as no
    request came its way (only a limits decision found Redis gone), while its news channel had
    already lost it: a load balancer or a monitor asking b saw nothing wrong. Now the lost news
    connection puts b on its share at once, says so, and b goes back to shared once Redis is."""

    async def run() -> None:
        door = RedisDoor()
        await door.open()
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, redis_url=door.url, redis_prefix=prefix)
            key = key_for(program, rpm=6)
            async with replica(_isolated, "b") as (gb, b):
                assert gb.listener is not None
                await asyncio.wait_for(_until(lambda: gb.listener.listening), 10)  # type: ignore[union-attr]
                assert (await b.get("/healthz")).json()["status"] == "ok"
                await door.shut()
                await asyncio.wait_for(_until(lambda: gb.limiter.mode == "share"), 10)  # type: ignore[attr-defined]
                health = (await b.get("/healthz")).json()
                assert health["status"] == "degraded", health
                assert health["limits"]["mode"] == "share", health
                assert health["limits"]["last_error"].isidentifier(), health
                metrics = (await b.get("/metrics")).text
                assert 'inhouse_gateway_limits_mode{mode="share"} 1.0' in metrics
                await door.open()  # Redis is back: probed every second
                await asyncio.wait_for(_until(lambda: gb.limiter.mode == "shared"), 10)  # type: ignore[attr-defined]
                assert (await b.get("/healthz")).json()["status"] == "ok"
                assert (await _ask(b, key)).status_code == 200
        await door.shut()

    asyncio.run(run())


def test_news_redis_will_not_carry_leaves_the_limits_shared(
    _isolated: Path, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis answers the limits but refuses this user the news channel (an ACL without it; a
    proxy without pub/sub; a pub/sub connection Redis closes). The news connection's failure
    was taken for Redis gone: the limits went to the share, the probe found Redis and shared
    them again, and the next failed subscription a second later sent them back, a warning each
    way, for as long as it lasted. Now the failure is checked on the limits' own connection:
    they stay shared, and the log says once that the news cannot be heard."""
    user = f"inhouse-test-{uuid.uuid4().hex[:12]}"
    with redis.Redis.from_url(REDIS) as admin:
        admin.acl_setuser(user, enabled=True, passwords=["+secret"], keys=["*"],
                          commands=["+@all"], reset_channels=True)  # fmt: skip
    try:

        async def run() -> None:
            url = f"redis://{user}:secret@127.0.0.1:6379/0"
            async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as up:
                program = _program(_isolated, up.url, redis_url=url, redis_prefix=prefix)
                key = key_for(program, rpm=6)
                async with replica(_isolated, "b") as (gb, b):
                    listener = gb.listener
                    assert listener is not None
                    told: list[BaseException] = []
                    original = listener.on_lost
                    assert original is not None

                    def on_lost(err: BaseException) -> Any:
                        told.append(err)
                        return original(err)

                    listener.on_lost = on_lost
                    await asyncio.wait_for(_until(lambda: len(told) >= 3), 20)
                    assert "NOPERM" in str(told[0]).upper() or "permission" in str(told[0])
                    health = (await b.get("/healthz")).json()
                    assert health["limits"]["mode"] == "shared", health
                    assert health["replica"]["news"] is False, health
                    assert (await _ask(b, key)).status_code == 200
                    assert gb.limiter.local_decisions == 0  # type: ignore[attr-defined]

        asyncio.run(run())
    finally:
        with redis.Redis.from_url(REDIS) as admin:
            admin.acl_deluser(user)
    said = [r.getMessage() for r in caplog.records if r.name.startswith("inhouse")]
    assert not [line for line in said if "unreachable" in line], said
    assert len([line for line in said if "cannot hear the replicas' news" in line]) == 1, said


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.05)


def test_a_replica_that_cannot_reach_redis_from_the_start_enforces_its_share(
    _isolated: Path, prefix: str
) -> None:
    async def run() -> None:
        closed = f"redis://127.0.0.1:{free_port()}/0"
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, redis_url=closed, redis_prefix=prefix)
            key = key_for(program, rpm=4)
            async with replica(_isolated, "a") as (_, a):
                codes = [(await _ask(a, key)).status_code for _ in range(3)]
                assert codes == [200, 200, 429]
                health = (await a.get("/healthz")).json()
                assert health["status"] == "degraded"
                assert health["limits"]["mode"] == "share" and health["limits"]["replicas"] == 2

    asyncio.run(run())


def test_a_share_s_429_says_when_to_retry_in_retry_after(_isolated: Path, prefix: str) -> None:
    """A 429 decided on this replica's share (Redis unreachable, or several workers with no
    Redis at all, where every decision is a share's) lost its Retry-After: the share's refusal
    was raised again with the reason added and without the seconds, so OpenAI's clients
    retried at once into the same refusal. The per-minute one says when a slot frees, the
    daily one midnight UTC, as one process does."""

    async def run() -> None:
        closed = f"redis://127.0.0.1:{free_port()}/0"
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, redis_url=closed, redis_prefix=prefix)
            per_minute = key_for(program, rpm=2)  # a share of 1
            per_day = key_for(program, tokens_per_day=80)  # a share of 40
            async with replica(_isolated, "a") as (_, a):
                assert (await _ask(a, per_minute)).status_code == 200
                refused = await _ask(a, per_minute)
                assert refused.status_code == 429, refused.text
                assert "share (1/2)" in error_of(refused)["message"]
                assert 1 <= int(refused.headers["retry-after"]) <= 60, refused.headers
                assert (await _ask(a, per_day)).status_code == 200
                spent = await _ask(a, per_day)
                assert error_of(spent)["code"] == "tokens_per_day_exceeded", spent.text
                assert "share (1/2)" in error_of(spent)["message"]
                midnight = 86400 - time.time() % 86400
                assert abs(int(spent.headers["retry-after"]) - midnight) <= 5, spent.headers

    asyncio.run(run())


def test_without_redis_a_single_gateway_keeps_its_limits_in_memory(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, replicas=None)
            key = key_for(program, rpm=2)
            async with replica(_isolated, "a") as (_, a):
                codes = [(await _ask(a, key)).status_code for _ in range(3)]
                assert codes == [200, 200, 429]
                health = (await a.get("/healthz")).json()
                assert health["status"] == "ok" and health["limits"]["mode"] == "local"

    asyncio.run(run())


def test_workers_share_the_port_and_one_limit(_isolated: Path, prefix: str) -> None:
    with spawn_standin(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
        program = _program(_isolated, upstream.url, redis_url=REDIS, redis_prefix=prefix,
                           replicas=None)  # fmt: skip
        key = key_for(program, rpm=6)
        program.close()
        with served(_isolated, _isolated / "gateway.log", "--workers", "2") as gateway:
            pids: set[int] = set()
            for _ in range(60):  # a new connection each time: the kernel spreads them
                with httpx.Client(trust_env=False) as client:
                    health = client.get(f"{gateway.url}/healthz").json()
                pids.add(health["replica"]["pid"])
                assert health["limits"] == {**health["limits"], "mode": "shared", "replicas": 2}
                if len(pids) == 2:
                    break
            assert len(pids) == 2, "one worker took every connection"
            codes = []
            for _ in range(12):
                with httpx.Client(trust_env=False, timeout=10) as client:
                    reply = client.post(
                        f"{gateway.url}/v1/chat/completions", json=chat("tiny"), headers=auth(key)
                    )
                codes.append(reply.status_code)
            assert sorted(codes) == [200] * 6 + [429] * 6
        spools = sorted(p.name for p in (_isolated / ".inhouse/gateway/spool").iterdir())
        assert spools == ["worker-0", "worker-1"]


def _load(url: str, key: str, answered: list[str], stop: threading.Event) -> None:
    with httpx.Client(base_url=url, headers=auth(key), timeout=10, trust_env=False) as client:
        while not stop.is_set():
            try:
                with client.stream("POST", "/v1/chat/completions",
                                   json=chat("tiny", stream=True)) as reply:  # fmt: skip
                    text = "".join(reply.iter_text())
                    if reply.status_code == 200 and "data: [DONE]" in text:
                        answered.append(reply.headers["x-inhouse-request-id"])
            except httpx.HTTPError:
                time.sleep(0.01)  # that replica is gone: keep trying until told to stop


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_replicas_on_postgresql_log_every_answer_once_through_a_kill_9(
    _isolated: Path, on_database: str, prefix: str
) -> None:
    with spawn_standin(
        StandinTiming(ttft_ms=5, tpot_ms=2, tokens=8), model="tiny", root=weights_root(_isolated)
    ) as upstream:
        program = _program(_isolated, upstream.url, redis_url=REDIS, redis_prefix=prefix,
                           flush_seconds=30, batch_size=7)  # fmt: skip
        key = key_for(program)
        program.close()
        answered: list[str] = []
        stop = threading.Event()
        with (
            served(_isolated, _isolated / "a.log", "--spool-dir", "spool-a") as a,
            served(_isolated, _isolated / "b.log", "--spool-dir", "spool-b") as b,
        ):
            loaders = [
                threading.Thread(target=_load, args=((a, b)[i % 2].url, key, answered, stop))
                for i in range(6)
            ]
            for loader in loaders:
                loader.start()
            wait_for(lambda: len(answered) >= 80, timeout=60, what="load")
            a.kill()  # kill -9: what it answered is only in its spool
            wait_for(lambda: len(answered) >= 120, timeout=60, what="load on b alone")
            a.start()  # replays its spool
            wait_for(lambda: len(answered) >= 160, timeout=60, what="load on both again")
            stop.set()
            for loader in loaders:
                loader.join(15)
        complete = list(answered)
        store = open_store(database_url(_isolated))
        try:
            with store.engine.connect() as conn:
                counts: dict[str, int] = dict(
                    conn.execute(
                        select(gateway_usage.c.request_id, func.count()).group_by(
                            gateway_usage.c.request_id
                        )
                    ).all()
                )
                answered_rows = conn.execute(
                    select(func.count()).where(gateway_usage.c.status < 400)
                ).scalar_one()
                daily = conn.execute(
                    select(func.sum(usage_daily.c.requests)).where(usage_daily.c.answered == 1)
                ).scalar_one()
        finally:
            store.close()
    assert "postgresql" in store.engine.url.drivername
    missing = [rid for rid in complete if rid not in counts]
    assert missing == [], f"{len(missing)} answered requests not in the usage log"
    assert set(counts.values()) == {1}
    assert daily == answered_rows  # the daily rollup counts every answered row once
