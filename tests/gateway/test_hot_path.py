"""The stream hot path made cheaper (issue 16) still does what it did: a spool written by the
older encoder replays, every record field survives the spool, each event is still checked
(framed with LF or CRLF, one data line or several) and the per-key day still rolls at UTC
midnight with its cached answer. The figures are in ``benchmarks/gateway``."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from inhouse.db import open_store
from inhouse.db.schema import gateway_usage
from inhouse.errors import RuntimeBadResponse, TokenBudgetSpent
from inhouse.gateway.calls import Call
from inhouse.gateway.keys import GatewayKey, KeyLimits
from inhouse.gateway.limits import Limiter
from inhouse.gateway.relay import _Events
from inhouse.gateway.routing import Node
from inhouse.gateway.sse import event_end
from inhouse.gateway.usage import Spool, UsageRecord, UsageWriter, new_request_id

NODE = Node(runtime="faulty", url="http://127.0.0.1:9", model_id="tiny", digest="sha256:0")
KEY = GatewayKey(
    id="k", person="lena", agent=None, prefix="ih_", created="2026-01-01", revoked=None
)


class _Written:
    """What the relay wrote to the client."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def part(self, data: bytes) -> None:
        self.parts.append(data)


def _relayed(event: bytes, *, split: bool) -> tuple[int, bytes]:
    """One event through the stream relay, read whole (the usual read's fast path) or in two
    reads (the general path): the call's status and what went out."""
    call = Call(started=0.0, endpoint="chat/completions", key=KEY)
    call.node = NODE
    written = _Written()
    events = _Events(call, [], written)  # type: ignore[arg-type]
    for read in [event[:3], event[3:]] if split else [event]:
        events(read)
    return call.status, b"".join(written.parts)


def _old_line(fields: dict[str, object]) -> bytes:
    """A spool line as the gateway wrote it before orjson: ``json.dumps`` of every field,
    ASCII-escaped."""
    return (json.dumps(fields, separators=(",", ":")) + "\n").encode()


def test_a_spool_written_by_the_older_encoder_replays_into_the_database(_isolated: Path) -> None:
    store = open_store(f"sqlite:///{_isolated / 'u.db'}")
    folder = _isolated / "spool"
    folder.mkdir()
    ids = [new_request_id() for _ in range(2)]
    old = {
        "request_id": ids[0], "at": "2026-03-01T09:00:00.5+00:00", "person": "zoë",
        "key_id": "k_1", "endpoint": "chat/completions", "model": "tiny", "status": 200,
        "agent": "triage", "digest": "sha256:ab", "prompt_id": None, "workflow_id": "wf-1",
        "stream": True, "tokens_in": 7, "tokens_out": 16, "ttft_ms": 21.25,
        "latency_ms": 52.5, "overhead_ms": 1.5, "policy": ["redact:email", "estimated:tokens"],
        "upstream": "http://127.0.0.1:8080", "body": None,
        "tool_calls": [{"name": "read_file", "arguments": {"path": "/srv/docs/ä"}}],
    }  # fmt: skip
    assert b"zo\\u00eb" in _old_line(old)  # the older lines were ASCII-escaped
    second = {**old, "request_id": ids[1], "status": 502, "tool_calls": None, "policy": []}
    (folder / "20260301T090000000000-1-000001.jsonl").write_bytes(
        _old_line(old) + _old_line(second)
    )

    async def run() -> None:
        writer = UsageWriter(store, Spool(folder), flush_seconds=10)
        assert await writer.start() == 2
        await writer.stop()

    asyncio.run(run())
    with store.engine.connect() as conn:
        rows = {r.request_id: r._mapping for r in conn.execute(select(gateway_usage)).all()}
    first = rows[ids[0]]
    assert (first["person"], first["agent"], first["day"], first["tokens_out"]) == (
        "zoë", "triage", "2026-03-01", 16,
    )  # fmt: skip
    assert json.loads(first["policy"]) == ["redact:email", "estimated:tokens"]
    assert json.loads(first["tool_calls"]) == old["tool_calls"]
    assert rows[ids[1]]["status"] == 502 and rows[ids[1]]["tool_calls"] is None
    store.close()


@pytest.mark.parametrize("tokens_out", [16, 2**70])  # 2**70: past orjson, json writes it
def test_every_field_survives_the_spool_line(tokens_out: int) -> None:
    record = UsageRecord(
        request_id=new_request_id(), at=UsageRecord.now(), person="zoë 😀", key_id="k_1",
        endpoint="chat/completions", model="tiny", status=200, agent="triage",
        digest="sha256:ab", prompt_id="p-1", workflow_id=None, stream=True, tokens_in=3,
        tokens_out=tokens_out, ttft_ms=None, latency_ms=0.125, overhead_ms=0.0625,
        policy=["block:card"], upstream=None, body='{"a": "\\u00e9"}',
        tool_calls=[{"name": "t", "arguments": {"n": [1, 2.5, None, True]}}],
    )  # fmt: skip
    line = record.line()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert UsageRecord.from_line(line) == record
    # the row the database gets does not share the record's lists
    row = record.row()
    assert row["policy"] == '["block:card"]' and row["stream"] == 1
    assert row["day"] == record.at[:10]
    # the bulk writes' values are the row's, in the table's column order
    columns = [column.name for column in gateway_usage.columns]
    assert record.values() == tuple(row[name] for name in columns)


def test_event_framing_lf_crlf_and_a_crlf_ending_before_an_lf_one() -> None:
    assert event_end(b'data: {"a":1}\n\ndata: {') == 15
    assert event_end(b'data: {"a":1}\r\n\r\ndata: {"b":2}\n\n') == 17
    assert event_end(b'data: {"a":1}\n\n', 15) == -1
    two = b'data: {"a":1}\n\ndata: {"b":2}\n\n'
    assert event_end(two, event_end(two)) == len(two)
    assert event_end(b'data: {"a":1}\r\n') == -1


@pytest.mark.parametrize(
    "event",
    [
        b'data: {"choices":[]}\n\n',
        b'data:{"choices":[]}\r\n\r\n',
        b'id: 7\ndata: {"choices":\ndata: []}\n\n',  # data over two lines, with a field first
        b": ping\n\n",
        b'data: {"x": NaN}\n\n',  # read as Python's json reads it, as before
    ],
)
@pytest.mark.parametrize("split", [False, True])
def test_a_json_event_passes_the_check(event: bytes, split: bool) -> None:
    assert _relayed(event, split=split) == (200, event)


@pytest.mark.parametrize(
    ("event", "said"),
    [
        (b"data: <html>upstream hiccup</html>\n\n", "not JSON: '<html>upstream hiccup</html>'"),
        (b'data: {"choices":[]}\r\n\r\n'.replace(b"}", b""), "not JSON"),
        (b'id: 7\ndata: {"choices":\ndata: ]}\n\n', "not JSON"),  # broken across two lines
        (b"data: [1, 2]\n\n", "not a JSON object"),
        (b'data: "text"\n\n', "not a JSON object"),
    ],
)
@pytest.mark.parametrize("split", [False, True])
def test_an_event_that_is_not_a_json_object_is_refused(
    event: bytes, said: str, split: bool
) -> None:
    with pytest.raises(RuntimeBadResponse, match=said):
        _relayed(event, split=split)


@pytest.mark.parametrize("split", [False, True])
def test_the_runtime_s_error_event_is_told_apart(split: bool) -> None:
    event = b'data: {"error": {"message": "overloaded"}}\n\n'
    assert _relayed(event, split=split) == (502, event)


def test_the_cached_day_rolls_at_utc_midnight_and_follows_a_clock_moved_back() -> None:
    now = [datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)]
    limiter = Limiter(clock=lambda: now[0])
    key = GatewayKey(id="k_1", person="lena", agent=None, prefix="ih_x", created="",
                     revoked=None, limits=KeyLimits(tokens_per_day=10))  # fmt: skip
    limiter.spend("k_1", 10)
    with pytest.raises(TokenBudgetSpent):
        limiter.admit(key)
    now[0] += timedelta(seconds=1)  # midnight UTC: a new day, the budget is back
    limiter.admit(key)
    limiter.spend("k_1", 10)
    now[0] -= timedelta(days=2)  # a clock set back: its own day, not the cached one
    assert limiter._today() == "2026-02-28"
    # a clock in another zone counts the UTC day: 00:30 in Paris is 23:30 UTC the day before
    now[0] = datetime(2026, 3, 2, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert limiter._today() == "2026-03-01"
    now[0] = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)  # same day, now from the cache
    assert limiter._today() == "2026-03-01"
    now[0] = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    assert limiter._today() == "2026-03-02"


def test_the_real_clock_s_day_rolls_at_utc_midnight_and_follows_the_clock_set_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the real clock the day is kept as seconds since the epoch (issue 16): the budget
    comes back at midnight UTC, and a system clock stepped back reads its own day."""
    from inhouse.gateway import limits

    seconds = [datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC).timestamp()]
    monkeypatch.setattr(limits.time, "time", lambda: seconds[0])
    limiter = Limiter()
    key = GatewayKey(id="k_1", person="lena", agent=None, prefix="ih_x", created="",
                     revoked=None, limits=KeyLimits(tokens_per_day=10))  # fmt: skip
    assert limiter._today() == "2026-03-01"
    limiter.spend("k_1", 10)
    with pytest.raises(TokenBudgetSpent):
        limiter.admit(key)
    seconds[0] += 0.5  # still the same day, from the cache
    with pytest.raises(TokenBudgetSpent):
        limiter.admit(key)
    seconds[0] += 0.5  # midnight UTC: a new day, the budget is back
    limiter.admit(key)
    assert limiter._today() == "2026-03-02"
    limiter.spend("k_1", 10)
    seconds[0] -= 2 * 86_400  # the system's clock stepped back: its own day, not the cached one
    assert limiter._today() == "2026-02-28"


def test_the_upstream_deadline_ends_its_block_as_a_timeout_and_lets_a_shutdown_through() -> None:
    """The request's deadline (a cheaper ``asyncio.timeout``, issue 16): past it the block
    ends as ``TimeoutError`` and says it expired; a cancellation from elsewhere (a shutdown)
    stays a cancellation, deadline or not; a block done in time leaves no timer behind."""
    from inhouse.gateway.app import _Deadline

    async def expired() -> bool:
        with pytest.raises(TimeoutError), _Deadline(0.01) as deadline:
            await asyncio.sleep(5)
        return deadline.expired()

    async def in_time() -> bool:
        with _Deadline(0.05) as deadline:
            await asyncio.sleep(0)
        await asyncio.sleep(0.1)  # its timer was cancelled: this sleep is not cut short
        return deadline.expired()

    held: list[_Deadline] = []

    async def shut_down() -> None:
        with _Deadline(5.0) as deadline:
            held.append(deadline)
            await asyncio.sleep(5)

    async def main() -> None:
        assert await expired()
        assert not await in_time()
        for both in (False, True):
            task = asyncio.get_running_loop().create_task(shut_down())
            await asyncio.sleep(0.01)
            task.cancel()
            if both:  # the deadline passes too, in the same turn, after the shutdown's
                held[-1]._on_deadline()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())


def test_a_record_s_times_are_milliseconds_to_the_microsecond_as_round_gave_them() -> None:
    """The record's ``ttft_ms``, ``latency_ms`` and ``overhead_ms`` are taken without
    ``round(x, 3)`` (issue 16): for 20,000 random durations from a microsecond to an hour they
    read exactly what ``round(seconds * 1000, 3)`` gave, three decimals at most."""
    import random

    rng = random.Random(16)
    for _ in range(20_000):
        seconds = rng.random() * rng.choice([1e-6, 1e-3, 0.1, 10.0, 3600.0])
        call = Call(started=0.0, endpoint="chat/completions", key=KEY, request_id="r")
        call.ttft = seconds
        record = call.record(seconds * 2, seconds / 3, "2026-01-01T00:00:00.000000+00:00")
        assert record.ttft_ms == round(seconds * 1000, 3)
        assert record.latency_ms == round(seconds * 2 * 1000, 3)
        assert record.overhead_ms == round(seconds / 3 * 1000, 3)
        assert len(repr(record.latency_ms).partition(".")[2]) <= 3 or "e" in repr(record.latency_ms)
